import { systemClock, type Clock } from '../shared/clock.js';
import { suiteFor } from '../shared/crypto/suites.js';
import { createLogger, type Logger } from '../shared/log.js';
import type { Policy } from '../shared/policy.js';
import { readPemFile } from '../shared/tls.js';
import { SMEW_VERSION } from '../shared/version.js';
import type { AgentConfig } from './config.js';
import type { Detector } from './detectors/finding.js';
import { runDetectors } from './detectors/run-detectors.js';
import { recordDetectorPass } from './differ.js';
import { brokerUrlsFor, identityFile, loadIdentity, type AgentIdentity } from './identity.js';
import { Outbox, type EventDraft } from './outbox.js';
import {
  acceptPolicyMessage,
  policyFile,
  policyExpectation,
  policyHash,
  readStoredPolicy,
  writeStoredPolicy,
  type StoredPolicy,
} from './policy-store.js';
import { collectObservations } from './probes/collect.js';
import type { Probe } from './probes/probe.js';
import { Publisher, type BackoffPolicy } from './publisher.js';
import { SelfLimiter, type UsageSample } from './self-limits.js';
import { selfChangeDraft } from './watch/self-watch.js';
import { startWatchers, type Watchers } from './watch/watchers.js';

export interface StartAgentOptions {
  clock?: Clock;
  logger?: Logger;
  /** Reconnect backoff; tests shorten it. */
  backoff?: BackoffPolicy;
  /** How long stop() may spend handing the last events to the broker. */
  stopGraceMs?: number;
  /** Instead of every registered detector; tests narrow the agent to what they check. */
  detectors?: readonly Detector[];
  /** Instead of every registered probe. */
  probes?: readonly Probe[];
  /** The config file the agent was started with, watched for changes (agent.config.changed). */
  configFile?: string;
  /** Instead of the process's own memory and CPU figures; tests inject readings. */
  readUsage?: () => UsageSample;
}

export interface RunningAgent {
  agentId: string;
  identity: AgentIdentity;
  /** Runs one scan now (after any scan in progress); resolves with the events it recorded. */
  scanNow(): Promise<EventDraft[]>;
  /** The policy in force: the collector's when it sent one, else the config's. */
  policy(): Policy;
  isConnected(): boolean;
  /** Events not yet acknowledged by the collector. */
  pendingCount(): number;
  /** Records `agent.stopping`, tries briefly to deliver, disconnects and closes the outbox. */
  stop(): Promise<void>;
}

/**
 * The running agent: probes → detectors → differ → outbox → publisher, once per `scan.interval`.
 * Everything it needs comes in through `config`, and stop() leaves no timer or socket behind,
 * so tests run it in-process and `smew agent run` exits promptly on a signal.
 */
export async function startAgent(
  config: AgentConfig,
  options: StartAgentOptions = {},
): Promise<RunningAgent> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger('agent');
  const dir = config.identity.dir;
  const identity = loadIdentity(dir);
  const caFile = config.collector.ca;
  const trust = caFile ? { ca: readPemFile(caFile, 'collector.ca', 'certificate'), caFile } : undefined;
  const sign = suiteFor(identity.alg).signer(identity.privateKey);
  const outbox = Outbox.open({
    dir,
    agentId: identity.agentId,
    alg: identity.alg,
    sign,
    collector: identity.collector,
    clock,
    limits: { maxBytes: config.outbox.maxBytes, overflow: config.outbox.overflow },
  });

  // Above its own memory or CPU limits the agent scans less often and says so (agent/self-limits.ts).
  const limiter = new SelfLimiter(config.limits, {
    clock,
    logger,
    record(events) {
      outbox.append(events);
      publisher.flush();
    },
    ...(options.readUsage ? { read: options.readUsage } : {}),
  });

  // The collector's policy, kept as its signed message, is checked again at every load.
  const policyFrom = policyExpectation(identity);
  const read = readStoredPolicy(dir, { ...policyFrom, now: clock.now() });
  let stored = read.state === 'ok' ? read.stored : undefined;
  let policy: Policy = stored?.policy ?? config.policy;
  const lifecycleData = () => ({ version: SMEW_VERSION, policyHash: policyHash(policy) });
  outbox.append([
    { type: 'agent.started', state: 'raised', key: 'agent.started', severity: 'info', data: lifecycleData() },
  ]);
  if (read.state === 'refused') {
    outbox.append([selfChangeDraft({ type: 'agent.tamper', what: 'policy', hash: read.hash })]);
    logger.warn(
      { file: policyFile(dir), reason: read.reason },
      'ignored the stored policy: it is not a valid signed policy from this agent’s collector; the config’s policy applies until the collector pushes one',
    );
  }
  logger.info(
    {
      agent: identity.agentId,
      policySource: stored ? 'collector' : 'config',
      policyHash: policyHash(policy),
    },
    'agent started',
  );

  let stopped = false;
  let scanTimer: NodeJS.Timeout | undefined;
  // Assigned once the publisher and scan loop exist; the policy handler above may run first.
  // eslint-disable-next-line prefer-const
  let watchers: Watchers | undefined;
  let scanning: Promise<EventDraft[]> = Promise.resolve([]);

  const publisher = new Publisher({
    agentId: identity.agentId,
    alg: identity.alg,
    sign,
    brokerUrls: brokerUrlsFor(config.broker.url, identity.broker),
    username: identity.broker.username,
    password: identity.broker.password,
    outbox,
    clock,
    logger,
    ackTimeoutMs: config.ack.timeout,
    heartbeatIntervalMs: Math.max(100, config.heartbeat.interval),
    drain: { ratePerSec: config.outbox.drainRate, jitterMs: config.outbox.drainJitter },
    batchEvents: config.outbox.batch,
    ...(options.backoff ? { backoff: options.backoff } : {}),
    ...(trust ? { trust } : {}),
    onPolicyMessage(payload) {
      if (stopped) return;
      const outcome = acceptPolicyMessage(payload, {
        ...policyFrom,
        now: clock.now(),
        ...(stored ? { newerThan: stored.issuedAt } : {}),
      });
      if (!outcome.accepted) {
        logger.info({ reason: outcome.reason }, 'policy message not applied');
        return;
      }
      stored = outcome.stored;
      keepPolicy(stored);
      policy = stored.policy;
      outbox.append([
        {
          type: 'agent.config.changed',
          state: 'raised',
          key: 'agent.config.changed:policy',
          severity: 'info',
          data: { what: 'policy', hash: policyHash(policy) },
        },
      ]);
      logger.info({ policyHash: policyHash(policy) }, 'applied a policy from the collector');
      watchers?.policyChanged();
      void scanNow();
    },
  });

  /** Writes the accepted message to policy.json; the agent's own write is no tamper. */
  function keepPolicy(accepted: StoredPolicy): void {
    writeStoredPolicy(dir, accepted.message);
    watchers?.ownWrite(policyFile(dir));
  }

  async function scanOnce(): Promise<EventDraft[]> {
    try {
      const observations = await collectObservations(config.paths, {
        clock,
        logger,
        policy,
        beacon: { agentId: identity.agentId, alg: identity.alg, sign },
        ...(options.probes ? { probes: options.probes } : {}),
      });
      if (stopped) return [];
      const drafts = recordDetectorPass(
        outbox,
        runDetectors(observations, policy, {
          logger,
          ...(options.detectors ? { detectors: options.detectors } : {}),
        }),
      );
      for (const draft of drafts) {
        logger.info({ type: draft.type, state: draft.state, key: draft.key }, 'condition changed');
      }
      if (drafts.length > 0) publisher.flush();
      return drafts;
    } catch (err) {
      // The open conditions did not change (the transaction rolled back); the next pass retries.
      logger.error({ err }, 'scan failed');
      return [];
    }
  }

  /** Scans never overlap: each waits for the one before. */
  function scanNow(): Promise<EventDraft[]> {
    scanning = scanning.then(() => (stopped ? [] : scanOnce()));
    return scanning;
  }

  function scheduleScan(): void {
    if (stopped) return;
    scanTimer = setTimeout(
      () => {
        void scanNow().then(scheduleScan);
      },
      limiter.nextDelay(Math.max(10, config.scan.interval)),
    );
  }

  publisher.start();
  await scanNow();
  scheduleScan();
  // Kernel and file change notices scan at once; the periodic scan above is the net under them.
  watchers = startWatchers({
    watch: {
      netlink: config.watch.netlink,
      uevent: config.watch.uevent,
      quietMs: config.watch.quiet,
      socketsMs: config.watch.sockets,
      procfs: config.paths.procfs,
    },
    policy: () => policy,
    scan: scanNow,
    logger,
    selfFiles: [
      ...(options.configFile ? [{ what: 'config', path: options.configFile, tamper: false }] : []),
      { what: 'identity', path: identityFile(dir), tamper: true },
      // Changed by anyone but the agent: tampering. The policy in force stays, and so does the file.
      { what: 'policy', path: policyFile(dir), tamper: true },
    ],
    onSelfChange(change) {
      if (stopped) return;
      outbox.append([selfChangeDraft(change)]);
      if (change.what === 'policy' && stored) keepPolicy(stored);
      logger.warn(
        { type: change.type, what: change.what, hash: change.hash },
        'the agent’s own files or clock changed',
      );
      publisher.flush();
    },
  });

  return {
    agentId: identity.agentId,
    identity,
    scanNow,
    policy: () => policy,
    isConnected: () => publisher.connected,
    pendingCount: () => outbox.pendingCount(),
    async stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(scanTimer);
      await watchers?.stop();
      await scanning;
      try {
        outbox.append([
          {
            type: 'agent.stopping',
            state: 'raised',
            key: 'agent.stopping',
            severity: 'info',
            data: lifecycleData(),
          },
        ]);
      } catch (err) {
        logger.error({ err }, 'could not record agent.stopping');
      }
      await publisher.stop(options.stopGraceMs ?? 2_000);
      const unacknowledged = outbox.pendingCount();
      outbox.close();
      // What is left is sent at the next start; the log says how much, so nobody wonders.
      logger.info({ agent: identity.agentId, unacknowledged }, 'agent stopped');
    },
  };
}
