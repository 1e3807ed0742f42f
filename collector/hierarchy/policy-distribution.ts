import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { canonicalize } from '../../shared/canonical-json.js';
import type { Clock } from '../../shared/clock.js';
import { ENVELOPE_VERSION, signMessage, type PolicyMessage } from '../../shared/envelope.js';
import type { Logger } from '../../shared/log.js';
import type { Policy } from '../../shared/policy.js';
import { agentTopic } from '../../shared/topics.js';
import type { CollectorIdentity } from '../identity.js';
import type { Store } from '../store/store.js';
import type { Level } from '../../shared/levels.js';
import { mergePolicies, moreSecret, policyUpdateSchema, type PolicyUpdate } from './policy-merge.js';

/**
 * Applies policy updates from above: the policy in force here (this collector's own narrowed by
 * every administration's latest ruling, see policy-merge.ts) goes to each of its agents, signed,
 * on the agent's retained `policy` topic (SPEC §5), where an agent that connects later finds it.
 * The notice itself travels on down the tree like any notice, so each level below applies it too.
 *
 * Agents take a pushed policy only when it is newer than theirs, so the policy keeps one `ts` for
 * as long as it does not change — kept in `<identity.dir>/distributed-policy.json` — and a restart
 * of the collector re-publishes it without the agents seeing a change.
 */
export interface PolicyDistributionDeps {
  store: Store;
  identity: CollectorIdentity;
  clock: Clock;
  logger: Logger;
  /** This collector's own policy for its agents (config `policy`), if it has one. */
  own: PolicyUpdate | undefined;
  /** Where the distributed policy's hash and time are kept (identity.dir). */
  stateDir: string;
  /** Publishes retained, QoS 1, on the collector's broker. */
  publish(topic: string, payload: string): Promise<void>;
}

export interface PolicyInForce {
  policy: Policy;
  hash: string;
  /** When this policy was first distributed: the `ts` agents see. */
  since: string;
  /** The rulings from above (and issued here) it applies: notice id, issuer unit, time. */
  rulings: { notice: string; issuerUnit: string; issuerLevel: string; ts: string }[];
  /** The most secret level a ruling names: a floor the register's level of a terminal cannot go under. */
  rulingLevel: Level | undefined;
}

const STATE_FILE = 'distributed-policy.json';

function hashOf(policy: Policy): string {
  return createHash('sha256').update(canonicalize(policy)).digest('hex').slice(0, 16);
}

export class PolicyDistribution {
  /** What each agent was sent from this process (the policy's hash, the registered level, its ts). */
  private readonly published = new Map<string, string>();
  private publishedHash: string | undefined;
  private readonly refused = new Set<string>();
  private running: Promise<number> | undefined;

  constructor(private readonly deps: PolicyDistributionDeps) {}

  /** The policy in force here, or undefined when there is none to distribute (agents keep theirs). */
  async inForce(): Promise<PolicyInForce | undefined> {
    const latest = new Map<string, { notice: PolicyInForce['rulings'][number]; update: PolicyUpdate }>();
    for (const stored of await this.deps.store.hierarchy.listNotices(10_000)) {
      const { notice } = stored;
      if (notice.type !== 'policy' || notice.policy === undefined) continue;
      const parsed = policyUpdateSchema.safeParse(notice.policy);
      if (!parsed.success) {
        if (!this.refused.has(notice.id)) {
          this.refused.add(notice.id);
          this.deps.logger.error(
            { notice: notice.id, issuer: notice.issuerUnit, err: parsed.error.message },
            'a policy update is not a valid policy; not applied',
          );
        }
        continue;
      }
      const previous = latest.get(notice.issuer);
      if (previous && previous.notice.ts >= notice.ts) continue;
      latest.set(notice.issuer, {
        notice: {
          notice: notice.id,
          issuerUnit: notice.issuerUnit,
          issuerLevel: notice.issuerLevel,
          ts: notice.ts,
        },
        update: parsed.data,
      });
    }
    const rulings = [...latest.values()].sort((a, b) => a.notice.ts.localeCompare(b.notice.ts));
    const policy = mergePolicies(
      this.deps.own,
      rulings.map((r) => r.update),
    );
    if (!policy) return undefined;
    const hash = hashOf(policy);
    const levels = rulings.flatMap((r) => (r.update.level ? [r.update.level] : []));
    const rulingLevel = levels.length > 0 ? levels.reduce(moreSecret) : undefined;
    return { policy, hash, since: this.since(hash), rulings: rulings.map((r) => r.notice), rulingLevel };
  }

  /** Publishes the policy in force to every agent that does not have it yet; returns how many. */
  refresh(): Promise<number> {
    this.running ??= this.distribute().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async distribute(): Promise<number> {
    const current = await this.inForce();
    if (!current) return 0;
    if (current.hash !== this.publishedHash) {
      this.published.clear();
      this.publishedHash = current.hash;
      this.deps.logger.info(
        { policyHash: current.hash, rulings: current.rulings.map((r) => r.notice) },
        'distributing the policy in force to this collector’s agents',
      );
    }
    const { identity } = this.deps;
    const registered = await this.registeredTerminals();
    let sent = 0;
    for (const agent of await this.deps.store.listAgents({})) {
      if (agent.revokedAt !== null) continue;
      // The register decides a terminal's level (issue 17); a change there is a newer policy for it.
      const terminal = registered.get(agent.id);
      // A ruling from above still sets a floor: the register may not loosen what was ruled.
      const level =
        terminal && (current.rulingLevel ? moreSecret(terminal.level, current.rulingLevel) : terminal.level);
      const policy = level ? { ...current.policy, level } : current.policy;
      const ts = terminal && terminal.updatedAt > current.since ? terminal.updatedAt : current.since;
      const version = `${current.hash} ${policy.level} ${ts}`;
      if (this.published.get(agent.id) === version) continue;
      const message: PolicyMessage = signMessage(
        { v: ENVELOPE_VERSION, agent: agent.id, ts, collector: identity.id, policy, alg: identity.alg },
        identity.sign,
      );
      await this.deps.publish(agentTopic(agent.id, 'policy'), JSON.stringify(message));
      this.published.set(agent.id, version);
      sent += 1;
    }
    return sent;
  }

  /** The register's level and last change of each agent's terminal. */
  private async registeredTerminals(): Promise<Map<string, { level: Policy['level']; updatedAt: string }>> {
    const terminals = await this.deps.store.register.listTerminals({});
    return new Map(terminals.flatMap((t) => (t.agentId ? [[t.agentId, t] as const] : [])));
  }

  /** The time a policy was first distributed; a new policy is stamped now and remembered. */
  private since(hash: string): string {
    const file = join(this.deps.stateDir, STATE_FILE);
    try {
      if (existsSync(file)) {
        const state = JSON.parse(readFileSync(file, 'utf8')) as { hash?: unknown; since?: unknown };
        if (state.hash === hash && typeof state.since === 'string') return state.since;
      }
    } catch {
      // An unreadable file only means agents see the policy as new once more.
    }
    const since = this.deps.clock.now().toISOString();
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify({ hash, since })}\n`, { mode: 0o600 });
    renameSync(temporary, file);
    return since;
  }
}
