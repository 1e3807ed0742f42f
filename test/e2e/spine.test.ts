import { afterAll, describe, expect, it } from 'vitest';
import { suiteFor } from '../../shared/crypto/suites.js';
import { verifyMessage, type EventEnvelope } from '../../shared/envelope.js';
import { eventually } from '../support/eventually.js';
import { copyFixtureHost } from '../support/fixture-host.js';
import type { Running } from '../support/processes.js';
import {
  createSite,
  enrollAgent,
  loggedChanges,
  loggedInventoryEvents,
  toggleNic,
  type Site,
} from '../support/smew-site.js';

interface StoredEvent {
  agent: string;
  seq: number;
  type: string;
  state: string;
  envelope: EventEnvelope;
}
interface AgentRow {
  id: string;
  publicKey: string;
  alg: string;
}

const running: Running[] = [];
afterAll(async () => {
  await Promise.all(running.map((r) => r.stop('SIGKILL')));
});

async function eventsOf(site: Site, agent: string): Promise<StoredEvent[]> {
  const { items } = await site.api<{ items: StoredEvent[] }>(`/api/v1/events?agent=${agent}&limit=10000`);
  return [...items].sort((a, b) => a.seq - b.seq);
}

/** Every seq from 1 to the highest present exactly once: nothing lost, nothing doubled. */
function expectGaplessOnce(events: StoredEvent[]): void {
  const seqs = events.map((e) => e.seq).sort((a, b) => a - b);
  expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
}

describe('a signed event from a real agent to a collector, end to end', () => {
  it('reports a wireless NIC from a fixture tree, verifiably, and clears it when the NIC goes', async () => {
    const site = await createSite();
    running.push(await site.startCollector());
    const host = copyFixtureHost('sys-wireless');
    const agent = await enrollAgent(site, host);
    expect(agent.agentId).toMatch(/^ag-[a-z2-7]{20}$/);
    running.push(agent.run());

    const raised = await eventually(
      async () =>
        (await eventsOf(site, agent.agentId)).find(
          (e) => e.type === 'net.wireless.present' && e.state === 'raised',
        ),
      { what: 'net.wireless.present raised in the API' },
    );
    expect(raised.envelope.data).toMatchObject({ iface: 'wlp2s0' });

    // Anyone can verify the stored envelope with the public key the API lists for the agent.
    const { items: agents } = await site.api<{ items: AgentRow[] }>('/api/v1/agents');
    const row = agents.find((a) => a.id === agent.agentId)!;
    expect(row).toBeDefined();
    const verify = suiteFor(row.alg).verifier(row.publicKey);
    expect(verifyMessage(raised.envelope, verify)).toBe(true);
    expect(verifyMessage({ ...raised.envelope, seq: raised.envelope.seq + 1 }, verify)).toBe(false);

    host.unplug('wlp2s0');
    const cleared = await eventually(
      async () =>
        (await eventsOf(site, agent.agentId)).find(
          (e) => e.type === 'net.wireless.present' && e.state === 'cleared',
        ),
      { what: 'net.wireless.present cleared in the API' },
    );
    expect(cleared.envelope.key).toBe(raised.envelope.key);
    expect(cleared.seq).toBeGreaterThan(raised.seq);
    expect(verifyMessage(cleared.envelope, verify)).toBe(true);
    expectGaplessOnce(await eventsOf(site, agent.agentId));
  });

  it('delivers every event exactly once after the agent is SIGKILLed with unsent events', async () => {
    const site = await createSite();
    const host = copyFixtureHost('sys-wireless');
    running.push(await site.startCollector());
    const agent = await enrollAgent(site, host);
    // The collector is down while the agent records changes: they wait, unacknowledged, in the outbox.
    await site.stopCollector();
    const first = agent.run();
    running.push(first);
    await toggleNic(host, first, 'wlp2s0', 6);
    const recorded = 1 + loggedChanges(first).length + loggedInventoryEvents(first);
    await first.stop('SIGKILL');

    running.push(await site.startCollector());
    const second = agent.run();
    running.push(second);
    // What the first run recorded (agent.started, each change, its inventory) plus the second
    // run's agent.started and inventory events (host.inventory at every start, logged at once with
    // a host.hardware.changed if the first inventory was read while the NIC was unplugged).
    const byTheSecond = () => 1 + loggedInventoryEvents(second);
    const events = await eventually(
      async () => {
        const all = await eventsOf(site, agent.agentId);
        return byTheSecond() >= 2 && all.length >= recorded + byTheSecond() ? all : undefined;
      },
      { what: 'the outbox drained after the crash', timeoutMs: 30_000 },
    );
    expectGaplessOnce(events);
    expect(events).toHaveLength(recorded + byTheSecond());
    expect(events.filter((e) => e.type === 'agent.started')).toHaveLength(2);
    const toggles = events.filter((e) => e.type === 'net.wireless.present').map((e) => e.state);
    expect(toggles).toEqual(['raised', 'cleared', 'raised', 'cleared', 'raised', 'cleared', 'raised']);
  });
});
