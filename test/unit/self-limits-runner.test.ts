import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { connect } from 'mqtt';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../../agent/config.js';
import { writeIdentity, type AgentIdentity } from '../../agent/identity.js';
import type { Probe } from '../../agent/probes/probe.js';
import { startAgent } from '../../agent/runner.js';
import type { UsageSample } from '../../agent/self-limits.js';
import { ManualClock } from '../../shared/clock.js';
import { ed25519Suite } from '../../shared/crypto/ed25519.js';
import type { EventEnvelope } from '../../shared/envelope.js';
import { agentIdFromPublicKey, collectorIdFromPublicKey } from '../../shared/identity.js';
import { allAgentsTopic } from '../../shared/topics.js';
import { eventsOf } from '../support/agent-events.js';
import { eventually } from '../support/eventually.js';

/**
 * The self-limits wired into the running agent: injected readings over the limit make the real
 * agent scan less often and send a signed agent.limits.exceeded through a real (embedded) broker;
 * readings back under clear it.
 */
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function startBroker(): Promise<string> {
  const aedes = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('the running agent under its self-limits', () => {
  it('scans less often over its memory limit, reports it, and clears it when back under', async () => {
    const brokerUrl = await startBroker();
    const dir = mkdtempSync(join(tmpdir(), 'smew-self-limits-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const keys = ed25519Suite.generateKeyPair();
    const collectorKeys = ed25519Suite.generateKeyPair();
    const agentId = agentIdFromPublicKey(keys.publicKey);
    const identity: AgentIdentity = {
      agentId,
      ...keys,
      collectorUrl: 'http://127.0.0.1:1',
      unit: 'test',
      collector: {
        id: collectorIdFromPublicKey(collectorKeys.publicKey),
        alg: 'ed25519',
        publicKey: collectorKeys.publicKey,
      },
      broker: { url: brokerUrl, username: agentId, password: 'secret' },
      enrolledAt: '2026-01-01T00:00:00Z',
    };
    writeIdentity(dir, identity);

    const received: EventEnvelope[] = [];
    const verify = ed25519Suite.verifier(keys.publicKey);
    const subscriber = connect(brokerUrl, { clientId: 'limits-watcher' });
    cleanup.push(() => subscriber.endAsync(true));
    subscriber.on('message', (_topic, payload) => received.push(...eventsOf(payload, verify)));
    await subscriber.subscribeAsync(allAgentsTopic('events'), { qos: 1 });

    const scanTimes: number[] = [];
    const countingProbe: Probe = {
      name: 'counting',
      provides: [],
      async collect() {
        scanTimes.push(performance.now());
        return {};
      },
    };
    const gapsSince = (from: number) => scanTimes.slice(from + 1).map((t, i) => t - scanTimes[from + i]!);
    // Every reading is a window later on the agent's clock, so each closes a window.
    const clock = new ManualClock('2026-03-01T00:00:00Z');
    let rssMb = 400;
    const readUsage = (): UsageSample => {
      clock.advance(1_000);
      return { rssBytes: rssMb * 1_048_576, cpuMicros: 0 };
    };
    const config = agentConfigSchema.parse({
      identity: { dir },
      scan: { interval: '20ms' },
      heartbeat: { interval: '1s' },
      limits: { maxRssMb: 200, maxCpuPercent: 10, window: '1s' },
    });
    const agent = await startAgent(config, {
      clock,
      logger: pino({ level: 'silent' }),
      probes: [countingProbe],
      detectors: [],
      readUsage,
    });
    cleanup.push(() => agent.stop());

    const limitEvents = () => received.filter((e) => e.type === 'agent.limits.exceeded');
    const raised = await eventually(() => limitEvents()[0], { what: 'agent.limits.exceeded raised' });
    expect(raised).toMatchObject({
      agent: agentId,
      state: 'raised',
      key: 'agent.limits.exceeded:rss',
      severity: 'low',
      data: { resource: 'rss', value: 400, limit: 200, slowdown: 2 },
    });

    // Doubling from 20 ms reaches the cap (16 × 20 ms = 320 ms) after 40 + 80 + 160 + 320 ms: wait
    // for the first gap that long, then three more scans. A busy machine only lengthens gaps, so
    // each of those at 300 ms or more shows the slowdown held (unthrottled they are 20 ms).
    await eventually(() => gapsSince(0).some((gap) => gap >= 300), { what: 'scans slowed to the cap' });
    const capped = gapsSince(0).findIndex((gap) => gap >= 300) + 1;
    await eventually(() => scanTimes.length >= capped + 4, { what: 'three more scans at the cap' });
    expect(Math.min(...gapsSince(capped).slice(0, 3))).toBeGreaterThanOrEqual(300);
    expect(limitEvents()).toHaveLength(1);

    rssMb = 60;
    const cleared = await eventually(() => limitEvents().find((e) => e.state === 'cleared'), {
      what: 'agent.limits.exceeded cleared',
    });
    expect(cleared).toMatchObject({
      key: 'agent.limits.exceeded:rss',
      data: { resource: 'rss', value: 60, limit: 200, slowdown: 8 },
    });
    expect(cleared.seq).toBeGreaterThan(raised.seq);
  });
});
