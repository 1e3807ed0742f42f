import { systemClock, type Clock } from '../shared/clock.js';
import type { Signer } from '../shared/crypto/suite.js';
import { suiteFor } from '../shared/crypto/suites.js';
import type { CollectorMessageExpectation } from '../shared/envelope.js';
import { createLogger, type Logger } from '../shared/log.js';
import type { Policy } from '../shared/policy.js';
import { readPemFile } from '../shared/tls.js';
import { SMEW_VERSION } from '../shared/version.js';
import type { AgentConfig } from './config.js';
import type { Detector } from './detectors/finding.js';
import { runDetectors } from './detectors/run-detectors.js';
import { recordDetectorPass } from './differ.js';
import { brokerUrlsFor, identityFile, loadIdentity, type AgentIdentity } from './identity.js';
import { startInventoryRounds, type InventoryRounds } from './inventory.js';
import { Outbox, type EventDraft } from './outbox.js';
import {
  acceptPolicyMessage,
  policyFile,
  policyExpectation,
  policyHash,
  readStoredPolicy,
  writeStoredPolicy,
  type StoredPolicy,
  type StoredPolicyRead,
} from './policy-store.js';
import { collectObservations } from './probes/collect.js';
import type { Probe } from './probes/probe.js';
import { readSessionUsers } from './probes/session-users.js';
import { Publisher, type BackoffPolicy } from './publisher.js';
import { SelfLimiter, type UsageSample } from './self-limits.js';
import { selfChangeDraft, type SelfChange } from './watch/self-watch.js';
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
  /** false: no host inventory (agent/inventory.ts); tests that count events leave it out. */
  inventory?: boolean;
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
  /** Takes the host inventory now (agent/inventory.ts); resolves with the events it recorded. */
  inventoryNow(): Promise<EventDraft[]>;
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
  const agent = new Agent(config, options);
  await agent.run();
  return agent.running();
}

/**
 * One run of the agent, in the order it wires its parts: the outbox, its self-limits, the policy
 * in force, the publisher; then the first scan, the scan timer and the change watchers.
 */
class Agent {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly dir: string;
  private readonly identity: AgentIdentity;
  private readonly trust: { ca: Buffer; caFile: string } | undefined;
  private readonly sign: Signer;
  private readonly outbox: Outbox;
  private readonly limiter: SelfLimiter;
  private readonly policyFrom: CollectorMessageExpectation;
  private stored: StoredPolicy | undefined;
  private policy: Policy;
  private readonly publisher: Publisher;
  private stopped = false;
  private scanTimer: NodeJS.Timeout | undefined;
  // Started after the publisher and the first scan; the policy handler may run first.
  private watchers: Watchers | undefined;
  private inventory: InventoryRounds | undefined;
  private scanning: Promise<EventDraft[]> = Promise.resolve([]);

  constructor(
    private readonly config: AgentConfig,
    private readonly options: StartAgentOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? createLogger('agent');
    this.dir = config.identity.dir;
    this.identity = loadIdentity(this.dir);
    const caFile = config.collector.ca;
    this.trust = caFile ? { ca: readPemFile(caFile, 'collector.ca', 'certificate'), caFile } : undefined;
    this.sign = suiteFor(this.identity.alg).signer(this.identity.privateKey);
    this.outbox = this.openOutbox();
    this.limiter = this.createLimiter();
    // The collector's policy, kept as its signed message, is checked again at every load.
    this.policyFrom = policyExpectation(this.identity);
    const read = readStoredPolicy(this.dir, { ...this.policyFrom, now: this.clock.now() });
    this.stored = read.state === 'ok' ? read.stored : undefined;
    this.policy = this.stored?.policy ?? config.policy;
    this.recordStart(read);
    this.publisher = this.createPublisher();
  }

  private openOutbox(): Outbox {
    return Outbox.open({
      dir: this.dir,
      agentId: this.identity.agentId,
      alg: this.identity.alg,
      sign: this.sign,
      collector: this.identity.collector,
      clock: this.clock,
      limits: { maxBytes: this.config.outbox.maxBytes, overflow: this.config.outbox.overflow },
      users: () => readSessionUsers(this.config.paths.run),
    });
  }

  /** Above its own memory or CPU limits the agent scans less often and says so (agent/self-limits.ts). */
  private createLimiter(): SelfLimiter {
    return new SelfLimiter(this.config.limits, {
      clock: this.clock,
      logger: this.logger,
      record: (events) => {
        this.outbox.append(events);
        this.publisher.flush();
      },
      ...(this.options.readUsage ? { read: this.options.readUsage } : {}),
    });
  }

  private lifecycleData() {
    return { version: SMEW_VERSION, policyHash: policyHash(this.policy) };
  }

  /** agent.started, a tamper event for a stored policy that was refused, and the start log. */
  private recordStart(read: StoredPolicyRead): void {
    this.outbox.append([
      {
        type: 'agent.started',
        state: 'raised',
        key: 'agent.started',
        severity: 'info',
        data: this.lifecycleData(),
      },
    ]);
    if (read.state === 'refused') {
      this.outbox.append([selfChangeDraft({ type: 'agent.tamper', what: 'policy', hash: read.hash })]);
      this.logger.warn(
        { file: policyFile(this.dir), reason: read.reason },
        'ignored the stored policy: it is not a valid signed policy from this agent’s collector; the config’s policy applies until the collector pushes one',
      );
    }
    this.logger.info(
      {
        agent: this.identity.agentId,
        policySource: this.stored ? 'collector' : 'config',
        policyHash: policyHash(this.policy),
      },
      'agent started',
    );
  }

  private createPublisher(): Publisher {
    const { config, options, identity } = this;
    return new Publisher({
      agentId: identity.agentId,
      alg: identity.alg,
      sign: this.sign,
      brokerUrls: brokerUrlsFor(config.broker.url, identity.broker),
      username: identity.broker.username,
      password: identity.broker.password,
      outbox: this.outbox,
      clock: this.clock,
      logger: this.logger,
      ackTimeoutMs: config.ack.timeout,
      heartbeatIntervalMs: Math.max(100, config.heartbeat.interval),
      drain: { ratePerSec: config.outbox.drainRate, jitterMs: config.outbox.drainJitter },
      batchEvents: config.outbox.batch,
      ...(options.backoff ? { backoff: options.backoff } : {}),
      ...(this.trust ? { trust: this.trust } : {}),
      onPolicyMessage: (payload) => this.applyPolicyMessage(payload),
    });
  }

  /** A policy pushed by the collector: kept, announced, and scanned with at once. */
  private applyPolicyMessage(payload: Buffer): void {
    if (this.stopped) return;
    const outcome = acceptPolicyMessage(payload, {
      ...this.policyFrom,
      now: this.clock.now(),
      ...(this.stored ? { newerThan: this.stored.issuedAt } : {}),
    });
    if (!outcome.accepted) {
      this.logger.info({ reason: outcome.reason }, 'policy message not applied');
      return;
    }
    this.stored = outcome.stored;
    this.keepPolicy(this.stored);
    this.policy = this.stored.policy;
    this.outbox.append([
      {
        type: 'agent.config.changed',
        state: 'raised',
        key: 'agent.config.changed:policy',
        severity: 'info',
        data: { what: 'policy', hash: policyHash(this.policy) },
      },
    ]);
    this.logger.info({ policyHash: policyHash(this.policy) }, 'applied a policy from the collector');
    this.watchers?.policyChanged();
    void this.scanNow();
  }

  /** Writes the accepted message to policy.json; the agent's own write is no tamper. */
  private keepPolicy(accepted: StoredPolicy): void {
    writeStoredPolicy(this.dir, accepted.message);
    this.watchers?.ownWrite(policyFile(this.dir));
  }

  private async scanOnce(): Promise<EventDraft[]> {
    const { options, logger } = this;
    try {
      const observations = await collectObservations(this.config.paths, {
        clock: this.clock,
        logger,
        policy: this.policy,
        beacon: { agentId: this.identity.agentId, alg: this.identity.alg, sign: this.sign },
        ...(options.probes ? { probes: options.probes } : {}),
      });
      if (this.stopped) return [];
      const drafts = recordDetectorPass(
        this.outbox,
        runDetectors(observations, this.policy, {
          logger,
          ...(options.detectors ? { detectors: options.detectors } : {}),
        }),
      );
      for (const draft of drafts) {
        logger.info({ type: draft.type, state: draft.state, key: draft.key }, 'condition changed');
      }
      if (drafts.length > 0) this.publisher.flush();
      return drafts;
    } catch (err) {
      // The open conditions did not change (the transaction rolled back); the next pass retries.
      logger.error({ err }, 'scan failed');
      return [];
    }
  }

  /** Scans never overlap: each waits for the one before. */
  readonly scanNow = (): Promise<EventDraft[]> => {
    this.scanning = this.scanning.then(() => (this.stopped ? [] : this.scanOnce()));
    return this.scanning;
  };

  private scheduleScan(): void {
    if (this.stopped) return;
    this.scanTimer = setTimeout(
      () => {
        void this.scanNow().then(() => this.scheduleScan());
      },
      this.limiter.nextDelay(Math.max(10, this.config.scan.interval)),
    );
  }

  /** Connects, scans once, then scans on the timer and on every change notice. */
  async run(): Promise<void> {
    this.publisher.start();
    await this.scanNow();
    this.scheduleScan();
    // Kernel and file change notices scan at once; the periodic scan above is the net under them.
    this.watchers = this.watchChanges();
    if (this.options.inventory === false) return;
    this.inventory = startInventoryRounds({
      paths: this.config.paths,
      intervalMs: this.config.inventory.interval,
      outbox: this.outbox,
      logger: this.logger,
      recorded: () => this.publisher.flush(),
    });
  }

  private watchChanges(): Watchers {
    const { config, options, dir } = this;
    return startWatchers({
      watch: {
        netlink: config.watch.netlink,
        uevent: config.watch.uevent,
        quietMs: config.watch.quiet,
        socketsMs: config.watch.sockets,
        procfs: config.paths.procfs,
      },
      policy: () => this.policy,
      scan: this.scanNow,
      logger: this.logger,
      selfFiles: [
        ...(options.configFile ? [{ what: 'config', path: options.configFile, tamper: false }] : []),
        { what: 'identity', path: identityFile(dir), tamper: true },
        // Changed by anyone but the agent: tampering. The policy in force stays, and so does the file.
        { what: 'policy', path: policyFile(dir), tamper: true },
      ],
      onSelfChange: (change) => this.recordSelfChange(change),
    });
  }

  private recordSelfChange(change: SelfChange): void {
    if (this.stopped) return;
    this.outbox.append([selfChangeDraft(change)]);
    if (change.what === 'policy' && this.stored) this.keepPolicy(this.stored);
    this.logger.warn(
      { type: change.type, what: change.what, hash: change.hash },
      'the agent’s own files or clock changed',
    );
    this.publisher.flush();
  }

  running(): RunningAgent {
    return {
      agentId: this.identity.agentId,
      identity: this.identity,
      scanNow: this.scanNow,
      inventoryNow: () => this.inventory?.takeNow() ?? Promise.resolve([]),
      policy: () => this.policy,
      isConnected: () => this.publisher.connected,
      pendingCount: () => this.outbox.pendingCount(),
      stop: () => this.stop(),
    };
  }

  private async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.scanTimer);
    await this.watchers?.stop();
    await this.inventory?.stop();
    await this.scanning;
    try {
      this.outbox.append([
        {
          type: 'agent.stopping',
          state: 'raised',
          key: 'agent.stopping',
          severity: 'info',
          data: this.lifecycleData(),
        },
      ]);
    } catch (err) {
      this.logger.error({ err }, 'could not record agent.stopping');
    }
    await this.publisher.stop(this.options.stopGraceMs ?? 2_000);
    const unacknowledged = this.outbox.pendingCount();
    this.outbox.close();
    // What is left is sent at the next start; the log says how much, so nobody wonders.
    this.logger.info({ agent: this.identity.agentId, unacknowledged }, 'agent stopped');
  }
}
