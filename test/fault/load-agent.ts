/**
 * A load agent for fault runs: the real outbox and publisher of an enrolled agent, fed with
 * synthetic `file.marked` events instead of detectors, so a run can push thousands of events.
 * It appends until the outbox has numbered `--events` of them (a restart carries on from the
 * persisted seq), then waits until the collector has acknowledged every one, prints
 * `drained <lastSeq>` and exits 0. Every second it prints `progress <lastSeq> <pending>`. Killed with SIGKILL at any point, nothing is lost: that is
 * what the fault run checks.
 *
 *   tsx test/fault/load-agent.ts --config agent.yaml --events 10000 --rate 500
 */
import { parseArgs } from 'node:util';
import { loadAgentConfig } from '../../agent/config.js';
import { brokerUrlsFor, loadIdentity } from '../../agent/identity.js';
import { Outbox } from '../../agent/outbox.js';
import { Publisher } from '../../agent/publisher.js';
import { systemClock } from '../../shared/clock.js';
import { suiteFor } from '../../shared/crypto/suites.js';
import { createLogger } from '../../shared/log.js';

const { values } = parseArgs({
  options: { config: { type: 'string' }, events: { type: 'string' }, rate: { type: 'string' } },
});
const config = loadAgentConfig(values.config);
const target = Number(values.events ?? '1000');
const ratePerSec = Number(values.rate ?? '500');
const logger = createLogger('load-agent', process.env.SMEW_LOG_LEVEL ?? 'warn');
const identity = loadIdentity(config.identity.dir);
const sign = suiteFor(identity.alg).signer(identity.privateKey);
const outbox = Outbox.open({
  dir: config.identity.dir,
  agentId: identity.agentId,
  alg: identity.alg,
  sign,
  collector: identity.collector,
  clock: systemClock,
});
const publisher = new Publisher({
  agentId: identity.agentId,
  alg: identity.alg,
  sign,
  brokerUrls: brokerUrlsFor(config.broker.url, identity.broker),
  username: identity.broker.username,
  password: identity.broker.password,
  outbox,
  clock: systemClock,
  logger,
  ackTimeoutMs: config.ack.timeout,
  heartbeatIntervalMs: config.heartbeat.interval,
  backoff: { initialMs: 100, maxMs: 1_000 },
});
publisher.start();

setInterval(
  () => process.stdout.write(`progress ${outbox.lastSeq()} ${outbox.pendingCount()}\n`),
  1000,
).unref();

const batch = Math.max(1, Math.round(ratePerSec / 20));
const timer = setInterval(() => {
  const next = outbox.lastSeq() + 1;
  if (next > target) {
    if (outbox.pendingCount() === 0) {
      clearInterval(timer);
      process.stdout.write(`drained ${outbox.lastSeq()}\n`);
      void publisher.stop(500).then(() => {
        outbox.close();
        process.exit(0);
      });
    }
    return;
  }
  const count = Math.min(batch, target - next + 1);
  outbox.append(
    Array.from({ length: count }, (_, i) => ({
      type: 'file.marked',
      state: 'raised' as const,
      key: `file.marked:load-${next + i}`,
      severity: 'medium' as const,
      data: { path: `/data/load/${next + i}.doc`, marking: '秘密', rule: 'fault-run' },
    })),
  );
  publisher.flush();
}, 50);
