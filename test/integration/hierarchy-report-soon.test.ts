/**
 * What is stored goes up at once, coalesced: a unit collector and its county, in process, with the
 * default link configuration (parent.scanInterval 30 s, parent.interval 5 s). A burst of changes
 * asks for one producer pass and goes up in one batch, not one request each.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import {
  enrollNode,
  makeNode,
  metric,
  receivedReports,
  run,
  startNode,
  stopAndRemove,
  unitIncident,
  createSignedIncident,
  type ChainNode,
} from '../support/collector-chain.js';

describe('reports go up at once, a burst in one batch', () => {
  let unit: ChainNode;
  let county: ChainNode;

  beforeAll(async () => {
    // `parent: {}`: the defaults, not the quick rounds the chain helper sets for other tests.
    county = await makeNode('county', '某县保密局', 'county', { parent: {} });
    unit = await makeNode('unit', '甲单位', 'unit', { parent: {} });
    await startNode(county);
    await startNode(unit);
    await enrollNode(unit, county);
    // The first round with the new parent: after it the link idles for parent.interval, and only
    // a nudge sends sooner.
    await eventually(async () => (await metric(unit, 'smew_hierarchy_parent_link_up')) === 1, {
      what: 'the first round with the county',
      timeoutMs: 30_000,
    });
  }, 120_000);

  afterAll(async () => {
    await stopAndRemove([unit, county].filter(Boolean));
  });

  it('150 incidents stored at once: one pass, one batch, all at the county long before a round', async () => {
    const N = 150;
    const batchesBefore = (await metric(unit, 'smew_hierarchy_batches_sent_total')) ?? 0;
    const started = Date.now();
    for (let i = 0; i < N; i++)
      await createSignedIncident(run(unit).store, unitIncident(`inc-burst-${i}`, `突发 ${i}`));
    for (let i = 0; i < N; i++) run(unit).hierarchy.reportSoon();
    const arrived = await eventually(
      async () => {
        const found = (await receivedReports(county, 'incident')).filter((r) =>
          String(r.report.data.id).startsWith('inc-burst-'),
        );
        return found.length >= N ? found : undefined;
      },
      { what: `${N} incidents at the county`, timeoutMs: 60_000 },
    );
    const took = Date.now() - started;
    expect(arrived).toHaveLength(N);
    // Well inside parent.interval (5 s) and parent.scanInterval (30 s): not a round's doing.
    expect(took).toBeLessThan(5_000);
    // One pass queued them all; the link sends up to 200 a batch. A second may carry what a round
    // already under way took first.
    expect(
      ((await metric(unit, 'smew_hierarchy_batches_sent_total')) ?? 0) - batchesBefore,
    ).toBeLessThanOrEqual(2);
  }, 120_000);
});
