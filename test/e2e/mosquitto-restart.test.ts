import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { copyFixtureHost } from '../support/fixture-host.js';
import { startOwnMosquitto, type OwnMosquitto } from '../support/mosquitto.js';
import type { Running } from '../support/processes.js';
import {
  createSite,
  enrollAgent,
  loggedChanges,
  loggedInventoryEvents,
  toggleNic,
} from '../support/smew-site.js';

const running: Running[] = [];
let mosquitto: OwnMosquitto | undefined;
afterAll(async () => {
  await Promise.all(running.map((r) => r.stop('SIGKILL')));
  await mosquitto?.stop();
});

describe('through a real Mosquitto restarted while events flow', () => {
  it('re-sends what was never acknowledged and stores every event once', async () => {
    mosquitto = await startOwnMosquitto();
    const site = await createSite({ brokerUrl: mosquitto.url });
    running.push(await site.startCollector());
    const host = copyFixtureHost('sys-wireless');
    const agent = await enrollAgent(site, host);
    const agentProcess = agent.run();
    running.push(agentProcess);

    // Restart the broker in the middle of the stream, without waiting for it to settle.
    await toggleNic(host, agentProcess, 'wlp2s0', 20, (i) => {
      if (i === 10) void mosquitto?.restart();
    });
    // agent.started plus every change and inventory the agent recorded
    const expected = 1 + loggedChanges(agentProcess).length + loggedInventoryEvents(agentProcess);
    const events = await eventually(
      async () => {
        const { items } = await site.api<{ items: { seq: number; type: string }[] }>(
          `/api/v1/events?agent=${agent.agentId}&limit=10000`,
        );
        return items.length >= expected ? items : undefined;
      },
      { what: `${expected} events in the store`, timeoutMs: 45_000 },
    );
    const seqs = events.map((e) => e.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: expected }, (_, i) => i + 1));
  });
});
