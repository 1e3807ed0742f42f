import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { copyFixtureHost } from '../support/fixture-host.js';
import { startOwnMosquitto, type OwnMosquitto } from '../support/mosquitto.js';
import type { Running } from '../support/processes.js';
import { createSite, enrollAgent } from '../support/smew-site.js';

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
    running.push(agent.run());

    const toggles = 20;
    for (let i = 0; i < toggles; i++) {
      if (i % 2 === 0) host.unplug('wlp2s0');
      else host.plug('wlp2s0');
      // Restart the broker in the middle of the stream, without waiting for it to settle.
      if (i === toggles / 2) void mosquitto.restart();
      await new Promise((r) => setTimeout(r, 150));
    }
    // started + initial raised + one event per toggle
    const expected = 2 + toggles;
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
