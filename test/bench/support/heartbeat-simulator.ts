/**
 * The load generator of the heartbeat benchmark, in a process of its own (so its CPU is not
 * counted as the collector's): many simulated agents multiplexed over a few MQTT connections,
 * each agent with its own ed25519 key and every heartbeat signed by it, as SPEC §5 asks.
 *
 * Over IPC: receives `prepare` (how many agents and rounds), generates the keys and signs every
 * heartbeat beforehand, answers `prepared` with the agents' ids and public keys (the benchmark
 * enrolls them); then on `start` connects and sends round after round, each agent once per
 * interval at its own offset within it (evenly spread, as agents started at random times are),
 * answering `round` after each and `done` at the end.
 */
import mqtt from 'mqtt';
import { ed25519Suite } from '../../../shared/crypto/ed25519.js';
import { ENVELOPE_VERSION, signMessage } from '../../../shared/envelope.js';
import { agentIdFromPublicKey } from '../../../shared/identity.js';
import { agentTopic } from '../../../shared/topics.js';

export interface SimulatorPrepare {
  kind: 'prepare';
  agents: number;
  rounds: number;
  intervalMs: number;
}

export interface SimulatorStart {
  kind: 'start';
  url: string;
  connections: number;
}

export type SimulatorReport =
  | { kind: 'prepared'; agents: { id: string; publicKey: string }[]; prepareMs: number }
  | { kind: 'connected' }
  | { kind: 'round'; round: number; lateMs: number }
  | { kind: 'done' };

const report = (message: SimulatorReport) => process.send!(message);
const nextMessage = <T>() => new Promise<T>((resolve) => process.once('message', (m) => resolve(m as T)));

const job = await nextMessage<SimulatorPrepare>();
const prepareStart = performance.now();
const agents = Array.from({ length: job.agents }, () => {
  const keys = ed25519Suite.generateKeyPair();
  return {
    id: agentIdFromPublicKey(keys.publicKey),
    publicKey: keys.publicKey,
    sign: ed25519Suite.signer(keys.privateKey),
  };
});
/** heartbeats[round][agent]: the topic and signed text, ready to send. */
const heartbeats = Array.from({ length: job.rounds }, (_, round) =>
  agents.map((agent) => ({
    topic: agentTopic(agent.id, 'heartbeat'),
    payload: JSON.stringify(
      signMessage(
        {
          v: ENVELOPE_VERSION,
          agent: agent.id,
          ts: new Date().toISOString(),
          type: 'agent.heartbeat' as const,
          lastSeq: 0,
          intervalMs: job.intervalMs,
          alg: 'ed25519',
          round,
        },
        agent.sign,
      ),
    ),
  })),
);
report({
  kind: 'prepared',
  agents: agents.map(({ id, publicKey }) => ({ id, publicKey })),
  prepareMs: performance.now() - prepareStart,
});

const start = await nextMessage<SimulatorStart>();
const clients = await Promise.all(
  Array.from({ length: start.connections }, (_, i) =>
    mqtt.connectAsync(start.url, {
      clientId: `heartbeat-simulator-${process.pid}-${i}`,
      protocolVersion: 4,
      reconnectPeriod: 0,
    }),
  ),
);
report({ kind: 'connected' });

/** Sends agent i's heartbeat at i/N of the interval, in ticks of TICK_MS. */
const TICK_MS = 20;
const begin = performance.now();
for (let round = 0; round < job.rounds; round++) {
  const roundStart = begin + round * job.intervalMs;
  let sent = 0;
  let lateMs = 0;
  while (sent < agents.length) {
    const due = Math.min(
      agents.length,
      Math.floor(((performance.now() - roundStart) / job.intervalMs) * agents.length) + 1,
    );
    for (; sent < due; sent++) {
      const heartbeat = heartbeats[round]![sent]!;
      // QoS 0, as the agent sends heartbeats: a lost one is replaced by the next.
      clients[sent % clients.length]!.publish(heartbeat.topic, heartbeat.payload, { qos: 0 });
    }
    lateMs = Math.max(
      lateMs,
      performance.now() - (roundStart + ((sent - 1) / agents.length) * job.intervalMs),
    );
    if (sent < agents.length) await new Promise((r) => setTimeout(r, TICK_MS));
  }
  const roundEnd = roundStart + job.intervalMs;
  if (performance.now() < roundEnd) await new Promise((r) => setTimeout(r, roundEnd - performance.now()));
  report({ kind: 'round', round, lateMs });
}
await Promise.all(clients.map((c) => c.endAsync()));
report({ kind: 'done' });
process.disconnect();
