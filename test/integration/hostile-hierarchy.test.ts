/**
 * Hostile hierarchy reports (issue 14 items 2 and 11), against real collectors over HTTP, every
 * refusal counted on /metrics by reason.
 *
 * Item 2: a child collector may speak only for its own subtree. The test holds the keys of a
 * county-level child (enrolled at a real city the way `smew collector enroll` does) and of the
 * unit collectors below it, and sends what a hostile child could sign: certificates for units
 * held elsewhere, for levels not below it, for a collector recorded elsewhere, and annual figures
 * of another unit. Run on SQLite and PostgreSQL (the parent's store reads recorded paths).
 *
 * Item 11: forged, re-keyed and replayed messages in both directions — a child's batch at a real
 * parent, and a parent's receipt at a real child (the parent here is a test server holding the
 * parent key) — change nothing and are counted.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnrollmentToken } from '../../collector/auth/enrollment-tokens.js';
import {
  HIERARCHY_VERSION,
  sign,
  type Batch,
  type ChildCert,
  type CollectorLevel,
  type Report,
  type ReportRecord,
} from '../../collector/hierarchy/messages.js';
import { ownReport } from '../../collector/hierarchy/reports.js';
import { loadOrCreateCollectorIdentity } from '../../collector/identity.js';
import { eventually } from '../support/eventually.js';
import { enrollAgent, signedEnrollBody } from '../support/collector-harness.js';
import { makeNode, run, startNode, stopAndRemove, type ChainNode } from '../support/collector-chain.js';
import { collectorKey, type CollectorKey } from '../support/hierarchy-keys.js';
import { metricSample } from '../support/metrics.js';
import { createTestSchema, postgresAvailable, type TestSchema } from '../support/postgres.js';

const pgReady = await postgresAvailable();
const now = () => new Date().toISOString();

/** `issuer`'s certificate for `child` at `unit` and `level`. */
function certFor(issuer: CollectorKey, child: CollectorKey, unit: string, level: CollectorLevel): ChildCert {
  return sign(
    {
      v: HIERARCHY_VERSION,
      kind: 'smew.hierarchy.child' as const,
      parent: issuer.id,
      child: child.id,
      unit,
      level,
      childAlg: child.alg,
      publicKey: child.publicKey,
      enrolledAt: now(),
    },
    issuer,
  );
}

/** A report raised by `key` for `unit` at `level`. */
function reportBy(
  key: CollectorKey,
  unit: string,
  level: CollectorLevel,
  seq: number,
  type: Report['type'],
  data: Record<string, unknown>,
): Report {
  return ownReport({ identity: key, unit, level }, seq, now(), type, `${type}:${seq}`, data);
}

function batchOf(
  sender: CollectorKey,
  parent: string,
  records: ReportRecord[],
  options: { ts?: string; child?: string } = {},
): Batch {
  return sign(
    {
      v: HIERARCHY_VERSION,
      kind: 'smew.hierarchy.batch' as const,
      child: options.child ?? sender.id,
      parent,
      ts: options.ts ?? now(),
      records,
    },
    sender,
  );
}

async function postJson(
  url: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Enrolls `key` as a direct child of `parent` over HTTP, signed, as `smew collector enroll` does. */
async function enrollChildKey(parent: ChainNode, key: CollectorKey, unit: string, level: CollectorLevel) {
  const { token } = await createEnrollmentToken(run(parent).store, { unit, kind: 'collector' });
  const signer = { keys: { alg: key.alg, publicKey: key.publicKey, privateKey: '' }, sign: key.sign };
  const answer = await postJson(`${run(parent).httpUrl}/api/v1/hierarchy/enroll`, {
    ...(await signedEnrollBody(run(parent).httpUrl, signer, token)),
    unit,
    level,
  });
  expect(answer.status).toBe(200);
}

const dialects = [
  { name: 'SQLite', ready: true },
  { name: 'PostgreSQL', ready: pgReady },
] as const;

describe.each(dialects)('a child collector speaks only for its subtree ($name)', ({ name, ready }) => {
  let city: ChainNode;
  let schema: TestSchema | undefined;
  const county = collectorKey(); // 某县保密局, a direct child of the city
  const otherCounty = collectorKey(); // 另县保密局, its sibling
  const unitA = collectorKey(); // 甲单位, below 某县保密局
  const unitB = collectorKey(); // 乙单位, below 另县保密局
  let linkSeq = 0;
  let seq = 100;

  const send = async (sender: CollectorKey, ...records: Omit<ReportRecord, 'linkSeq'>[]) => {
    const batch = batchOf(
      sender,
      run(city).collectorId,
      records.map((r) => ({ ...r, linkSeq: ++linkSeq })),
    );
    return postJson(`${run(city).httpUrl}/api/v1/hierarchy/reports`, batch);
  };
  const refusedFor = (reason: string) =>
    metricSample(run(city).httpUrl, `smew_hierarchy_child_refused_total{reason="${reason}"}`);
  const rejectedReasons = (answer: { body: Record<string, unknown> }) =>
    (answer.body.rejected as { reason: string }[]).map((r) => r.reason);

  beforeAll(async () => {
    if (!ready) return;
    const store = name === 'PostgreSQL' ? { store: { url: (schema = await createTestSchema()).url } } : {};
    city = await makeNode(`hostile-city-${name}`, '某市保密局', 'city', store);
    await startNode(city);
    await enrollChildKey(city, county, '某县保密局', 'county');
    await enrollChildKey(city, otherCounty, '另县保密局', 'county');
    // Each county announces its own unit collector, as an honest county does.
    const a = await send(county, {
      report: reportBy(county, '某县保密局', 'county', ++seq, 'collector.enrolled', {
        cert: certFor(county, unitA, '甲单位', 'unit'),
      }),
      chain: [],
    });
    const b = await send(otherCounty, {
      report: reportBy(otherCounty, '另县保密局', 'county', ++seq, 'collector.enrolled', {
        cert: certFor(otherCounty, unitB, '乙单位', 'unit'),
      }),
      chain: [],
    });
    expect([rejectedReasons(a), rejectedReasons(b)]).toEqual([[], []]);
  }, 60_000);
  afterAll(async () => {
    if (city) await stopAndRemove([city]);
    await schema?.drop();
  });

  it.runIf(ready)('takes what a county says of itself and of the unit it enrolled', async () => {
    const answer = await send(
      county,
      { report: reportBy(county, '某县保密局', 'county', ++seq, 'incident', { id: 'i-1' }), chain: [] },
      {
        report: reportBy(unitA, '甲单位', 'unit', ++seq, 'incident', { id: 'i-2' }),
        chain: [certFor(county, unitA, '甲单位', 'unit')],
      },
    );
    expect(answer).toMatchObject({ status: 200, body: { rejected: [] } });
    expect((answer.body.accepted as unknown[]).length).toBe(2);
    const scoped = await run(city).store.hierarchy.listSubordinates({ units: ['某县保密局'] });
    expect(scoped.map((s) => s.unit).sort()).toEqual(['某县保密局', '甲单位']);
  });

  it.runIf(ready)('refuses a subordinate that takes a unit held outside the county’s subtree', async () => {
    const before = await refusedFor('unit');
    // The city's own agents sit in 市局机要科: a unit held here, though no collector has it.
    await enrollAgent(run(city), { unit: '市局机要科' });
    for (const unit of ['乙单位', '另县保密局', '某市保密局', '市局机要科']) {
      const intruder = collectorKey();
      const answer = await send(county, {
        report: reportBy(county, '某县保密局', 'county', ++seq, 'collector.enrolled', {
          cert: certFor(county, intruder, unit, 'unit'),
        }),
        chain: [],
      });
      expect(rejectedReasons(answer)).toEqual([expect.stringMatching(new RegExp(`unit ${unit}`))]);
      expect(await run(city).store.hierarchy.getSubordinate(intruder.id)).toBeUndefined();
    }
    expect(await refusedFor('unit')).toBe(before + 4);
    // The county's users still see only its subtree.
    const scoped = await run(city).store.hierarchy.listSubordinates({ units: ['某县保密局'] });
    expect(scoped.map((s) => s.unit).sort()).toEqual(['某县保密局', '甲单位']);
  });

  it.runIf(ready)(
    'refuses incidents and notice results from a made-up collector of another unit',
    async () => {
      const forged = collectorKey();
      const answer = await send(
        county,
        {
          report: reportBy(forged, '乙单位', 'unit', 1, 'incident', { id: 'forged' }),
          chain: [certFor(county, forged, '乙单位', 'unit')],
        },
        {
          report: reportBy(forged, '乙单位', 'unit', 2, 'notice.result', {
            notice: 'nt-1',
            result: '无异常',
          }),
          chain: [certFor(county, forged, '乙单位', 'unit')],
        },
      );
      expect(rejectedReasons(answer)).toHaveLength(2);
      expect(await run(city).store.hierarchy.listReports({ origin: forged.id, limit: 10 })).toEqual([]);
    },
  );

  it.runIf(ready)('refuses levels that do not sit strictly below the sender', async () => {
    const before = await refusedFor('level');
    const high = collectorKey();
    const answers = [
      await send(county, {
        report: reportBy(county, '某县保密局', 'county', ++seq, 'collector.enrolled', {
          cert: certFor(county, high, '丙县保密局', 'county'),
        }),
        chain: [],
      }),
      await send(county, {
        report: reportBy(county, '某县保密局', 'city', ++seq, 'incident', { id: 'i-3' }),
        chain: [],
      }),
      await send(county, {
        report: reportBy(high, '丁市保密局', 'city', 1, 'incident', { id: 'i-4' }),
        chain: [certFor(county, high, '丁市保密局', 'city')],
      }),
    ];
    expect(answers.map((a) => rejectedReasons(a).length)).toEqual([1, 1, 1]);
    expect(await refusedFor('level')).toBe(before + 3);
  });

  it.runIf(ready)('refuses a path that moves a recorded collector, or claims a direct child', async () => {
    const moved = await send(county, {
      report: reportBy(unitA, '丙单位', 'unit', ++seq, 'incident', { id: 'i-5' }),
      chain: [certFor(county, unitA, '丙单位', 'unit')],
    });
    expect(rejectedReasons(moved)).toEqual([expect.stringMatching(/recorded here as 甲单位/)]);
    expect(await refusedFor('path')).toBeGreaterThanOrEqual(1);
    const stolen = await send(county, {
      report: reportBy(county, '某县保密局', 'county', ++seq, 'collector.enrolled', {
        cert: certFor(county, otherCounty, '另县保密局', 'unit'),
      }),
      chain: [],
    });
    expect(rejectedReasons(stolen)).toHaveLength(1);
    expect(await run(city).store.hierarchy.getSubordinate(otherCounty.id)).toMatchObject({
      direct: true,
      unit: '另县保密局',
    });
  });

  it.runIf(ready)('refuses annual figures of another unit, and audits every refusal', async () => {
    const answer = await send(county, {
      report: reportBy(county, '某县保密局', 'county', ++seq, 'annual', { unit: '另县保密局', year: 2025 }),
      chain: [],
    });
    expect(rejectedReasons(answer)).toEqual([expect.stringMatching(/annual figures of 另县保密局/)]);
    // A self-inspection (第58条) or open 整改 items speak for one unit as the figures do.
    for (const [type, words] of [
      ['self-inspection', 'a self-inspection'],
      ['rectifications', 'rectifications'],
    ] as const) {
      const other = await send(county, {
        report: reportBy(county, '某县保密局', 'county', ++seq, type, { unit: '另县保密局', year: 2025 }),
        chain: [],
      });
      expect(rejectedReasons(other)).toEqual([expect.stringMatching(new RegExp(`${words} of 另县保密局`))]);
    }
    const audit = await eventually(
      async () => {
        const entries = await run(city).store.audit.list({ limit: 100 });
        const refused = entries.filter((e) => e.action === 'hierarchy.reports.refused');
        return refused.length >= 7 ? refused : undefined;
      },
      { what: 'the audit entries of the refused reports' },
    );
    expect(audit.every((e) => e.actor === county.id && e.actorKind === 'collector')).toBe(true);
  });
});

describe('a child’s batch at its parent: forged, re-keyed, replayed', () => {
  let county: ChainNode;
  const child = collectorKey();
  let seq = 0;
  let linkSeq = 0;
  const url = () => `${run(county).httpUrl}/api/v1/hierarchy/reports`;
  const refusedFor = (reason: string) =>
    metricSample(run(county).httpUrl, `smew_hierarchy_child_refused_total{reason="${reason}"}`);
  const incident = (key = child) => ({
    linkSeq: ++linkSeq,
    report: reportBy(key, '甲单位', 'unit', ++seq, 'incident', { id: `i-${seq}` }),
    chain: [],
  });
  const stored = async () => (await run(county).store.hierarchy.listReports({ limit: 1000 })).length;

  beforeAll(async () => {
    county = await makeNode('hostile-county', '某县保密局', 'county');
    await startNode(county);
    await enrollChildKey(county, child, '甲单位', 'unit');
  }, 60_000);
  afterAll(async () => {
    if (county) await stopAndRemove([county]);
  });

  it('refuses a batch not signed by the child’s key: forged or re-keyed', async () => {
    const before = await stored();
    const forger = collectorKey();
    const forged = await postJson(
      url(),
      batchOf(forger, run(county).collectorId, [incident()], { child: child.id }),
    );
    expect(forged).toMatchObject({ status: 401, body: { error: expect.stringMatching(/does not verify/) } });
    // The child made a new key pair without enrolling it: under its old id it is not believed,
    // under its new id it is no child of this collector.
    const rekeyed = collectorKey();
    const underOldId = await postJson(
      url(),
      batchOf(rekeyed, run(county).collectorId, [incident(rekeyed)], { child: child.id }),
    );
    expect(underOldId.status).toBe(401);
    const underNewId = await postJson(url(), batchOf(rekeyed, run(county).collectorId, [incident(rekeyed)]));
    expect(underNewId).toMatchObject({
      status: 403,
      body: { error: expect.stringMatching(/is not a child/) },
    });
    expect(await refusedFor('bad-signature')).toBe(2);
    expect(await refusedFor('unknown-child')).toBe(1);
    expect(await stored()).toBe(before);
  });

  it('refuses a replayed batch dated long ago, and stores a repeated one once', async () => {
    const before = await stored();
    const old = batchOf(child, run(county).collectorId, [incident()], {
      ts: new Date(Date.now() - 60 * 60_000).toISOString(),
    });
    expect(await postJson(url(), old)).toMatchObject({
      status: 401,
      body: { error: expect.stringMatching(/dated .* min from this collector's clock/) },
    });
    expect(await refusedFor('stale')).toBe(1);
    const fresh = batchOf(child, run(county).collectorId, [incident()]);
    const first = await postJson(url(), fresh);
    const again = await postJson(url(), fresh);
    expect(first.status).toBe(200);
    expect(again.body.accepted).toEqual(first.body.accepted);
    expect(await stored()).toBe(before + 1);
    expect(
      await metricSample(run(county).httpUrl, 'smew_hierarchy_reports_received_total{result="duplicate"}'),
    ).toBe(1);
  });

  it('refuses a batch addressed to another parent', async () => {
    const elsewhere = await postJson(url(), batchOf(child, collectorKey().id, [incident()]));
    expect(elsewhere.status).toBe(409);
    expect(await refusedFor('wrong-parent')).toBe(1);
  });
});

describe('a parent’s receipt at its child: forged, re-keyed, replayed', () => {
  let unit: ChainNode;
  let server: Server;
  const parent = collectorKey();
  /** How the test parent answers the next batch: the receipt for it. */
  let answer: (batch: Batch) => Record<string, unknown>;
  const batches: Batch[] = [];

  const receiptFor = (batch: Batch, key: CollectorKey, overrides: Record<string, unknown> = {}) =>
    sign(
      {
        v: HIERARCHY_VERSION,
        kind: 'smew.hierarchy.receipt' as const,
        parent: parent.id,
        child: batch.child,
        ts: now(),
        batch: batch.sig,
        accepted: batch.records.map((r) => ({
          linkSeq: r.linkSeq,
          origin: r.report.origin,
          seq: r.report.seq,
          receivedAt: now(),
        })),
        rejected: [],
        ...overrides,
      },
      key,
    );
  const refusedFor = (reason: string) =>
    metricSample(run(unit).httpUrl, `smew_hierarchy_parent_answers_refused_total{reason="${reason}"}`);
  /** The test report is still waiting for a receipt. */
  const pending = async () => (await run(unit).store.hierarchy.ownReport('hostile:1'))?.receivedAt === null;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString()));
      req.on('end', () => {
        const body = JSON.parse(text) as Batch;
        const reply =
          req.url === '/api/v1/hierarchy/reports'
            ? (batches.push(body), answer(body))
            : sign(
                {
                  v: HIERARCHY_VERSION,
                  kind: 'smew.hierarchy.notices' as const,
                  parent: parent.id,
                  child: body.child,
                  ts: now(),
                  notices: [],
                },
                parent,
              );
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(reply));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    answer = (batch) => receiptFor(batch, collectorKey());
    unit = await makeNode('hostile-unit', '甲单位', 'unit');
    await startNode(unit);
    const identity = loadOrCreateCollectorIdentity(unit.config.identity.dir);
    const self = { ...identity, publicKey: identity.publicKey };
    await run(unit).store.hierarchy.setParent({
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      id: parent.id,
      alg: parent.alg,
      publicKey: parent.publicKey,
      unit: '某县保密局',
      level: 'county',
      cert: certFor(parent, self, '甲单位', 'unit'),
      enrolledAt: now(),
    });
    await run(unit).store.hierarchy.enqueueOwn('hostile:1', now(), (s) =>
      ownReport({ identity, unit: '甲单位', level: 'unit' }, s, now(), 'incident', 'incident:h1', {
        id: 'h1',
      }),
    );
  }, 60_000);
  afterAll(async () => {
    if (unit) await stopAndRemove([unit]);
    await new Promise((resolve) => server?.close(resolve));
  });

  it('does not take a forged receipt: the report stays queued', async () => {
    await eventually(async () => ((await refusedFor('bad-signature')) >= 1 ? true : undefined), {
      what: 'a forged receipt counted',
    });
    expect(await pending()).toBe(true);
  });

  it('does not take a receipt of the parent’s new, unenrolled key', async () => {
    const rekeyed = collectorKey();
    const before = await refusedFor('bad-signature');
    answer = (batch) => receiptFor(batch, { ...rekeyed, id: parent.id });
    await eventually(async () => ((await refusedFor('bad-signature')) > before ? true : undefined), {
      what: 'a re-keyed receipt counted',
    });
    expect(await pending()).toBe(true);
  });

  it('does not take a replayed receipt: of another batch, or dated long ago', async () => {
    // A genuine receipt of the first batch, captured and played back against a later one.
    const captured = receiptFor(batches[0]!, parent);
    answer = () => captured;
    await eventually(async () => ((await refusedFor('other-batch')) >= 1 ? true : undefined), {
      what: 'a receipt of another batch counted',
    });
    answer = (batch) => receiptFor(batch, parent, { ts: new Date(Date.now() - 60 * 60_000).toISOString() });
    await eventually(async () => ((await refusedFor('stale')) >= 1 ? true : undefined), {
      what: 'a stale receipt counted',
    });
    expect(await pending()).toBe(true);
  });

  it('takes the parent’s genuine receipt', async () => {
    answer = (batch) => receiptFor(batch, parent);
    await eventually(async () => ((await pending()) ? undefined : true), {
      what: 'the report delivered with a genuine receipt',
    });
    expect(await metricSample(run(unit).httpUrl, 'smew_hierarchy_reports_delivered_total')).toBeGreaterThan(
      0,
    );
  });
});
