import { afterEach, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { WarningsSite, type ApiWarning } from '../support/warnings-site.js';

/**
 * Conditions the collector observes itself go through the same rules as agent events: an agent's
 * Last Will (`offline` on its status topic) becomes an agent.offline condition from liveness,
 * which the shipped rule turns into a warning whose evidence is the condition.
 */
let site: WarningsSite | undefined;
afterEach(async () => {
  await site?.stop();
  site = undefined;
});

it('an agent going offline becomes an agent-offline warning with the condition as evidence', async () => {
  site = await WarningsSite.start();
  const host = await site.addAgent();
  await host.publish();
  await site.settled();
  const reply = await site.collector.store.getAgent(host.agent.id);
  expect(reply).toBeDefined();
  // The status topic as the broker delivers a Last Will; only the agent may publish there.
  await host.status('offline');
  const warning = await eventually(
    async () => (await site!.warnings()).find((w: ApiWarning) => w.rule === 'agent-offline'),
    { what: 'the agent-offline warning' },
  );
  expect(warning).toMatchObject({ agent: host.agent.id, state: 'discovered', severity: 'high' });
  const { body } = await site.api<{
    evidence: { seq: number; condition?: { type: string; key: string } }[];
  }>(`/api/v1/warnings/${warning.id}`);
  expect(body.evidence[0]!.seq).toBeLessThan(0);
  expect(body.evidence[0]!.condition).toMatchObject({
    type: 'agent.offline',
    key: `agent.offline:${host.agent.id}`,
  });
  // An agent cannot fake the collector's condition: its own agent.offline event opens nothing.
  await host.publish({ type: 'agent.offline', key: `agent.offline:${host.agent.id}`, data: {} });
  await site.settled();
  expect((await site.warnings()).filter((w) => w.rule === 'agent-offline')).toHaveLength(1);
  expect((await site.warnings()).find((w) => w.rule === 'agent-offline')!.count).toBe(warning.count);
});
