import type { Clock } from '../../shared/clock.js';
import { LEVELS, type Level, type Severity } from '../../shared/levels.js';
import type { Logger } from '../../shared/log.js';
import type { TerminalRecord } from '../store/register/register-store.js';
import type { Store } from '../store/store.js';
import type { CollectorCondition, ConditionSink } from '../warnings/conditions.js';
import { terminalName } from './terminal-naming.js';

/**
 * The register drives warnings (issue 17): what it says about a terminal that breaks a rule is
 * raised as a collector condition, once, and cleared once it is put right. Each terminal keeps
 * the findings raised for it (`findings`), so a pass after a restart raises nothing twice.
 *
 * - 第32条: a terminal's level above the level of the system it belongs to;
 * - 第31–34条, 第6条: a classified terminal in use with no 编号, no 责任人 or no system;
 * - 第6条 责任制: its 责任人 has left (离岗) while it is still assigned to them.
 */
export const REGISTER_CONDITION_TYPES = [
  'register.level.mismatch',
  'register.terminal.incomplete',
  'register.owner.left',
] as const;
type Finding = (typeof REGISTER_CONDITION_TYPES)[number];

const SEVERITY: Readonly<Record<Finding, Severity>> = {
  'register.level.mismatch': 'high',
  'register.terminal.incomplete': 'medium',
  'register.owner.left': 'medium',
};

/** How often every terminal is checked again (a system's level may change outside the register). */
export const REGISTER_CHECK_INTERVAL_MS = 10 * 60_000;

function rank(level: Level): number {
  return LEVELS.length - LEVELS.indexOf(level);
}

/** The findings of one terminal, each with what an officer needs to put it right. */
export function findingsOf(t: TerminalRecord): Map<Finding, Record<string, unknown>> {
  const found = new Map<Finding, Record<string, unknown>>();
  const inService = t.state === '在用' || t.state === '维修';
  if (t.systemLevel !== null && rank(t.level) > rank(t.systemLevel)) {
    found.set('register.level.mismatch', {
      level: t.level,
      systemId: t.systemId,
      systemLevel: t.systemLevel,
    });
  }
  const missing = [
    ...(t.assetNo ? [] : ['编号']),
    ...(t.ownerId ? [] : ['责任人']),
    ...(t.systemId ? [] : ['涉密信息系统']),
  ];
  if (t.use === '涉密' && inService && missing.length > 0) {
    found.set('register.terminal.incomplete', { missing });
  }
  if (t.ownerState === '离岗' && t.state !== '报废') {
    found.set('register.owner.left', { ownerId: t.ownerId, owner: t.ownerName });
  }
  return found;
}

export class RegisterChecks {
  private queue: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: { store: Store; clock: Clock; logger: Logger; sink: ConditionSink }) {}

  /** Checks these terminals (all when undefined); checks run one after another. */
  check(ids?: readonly string[]): Promise<void> {
    const run = this.queue.then(() => this.pass(ids));
    this.queue = run.catch((err: unknown) => this.deps.logger.error({ err }, 'register check failed'));
    return run;
  }

  start(intervalMs = REGISTER_CHECK_INTERVAL_MS): Promise<void> {
    this.timer = setInterval(() => void this.check().catch(() => {}), intervalMs);
    this.timer.unref();
    return this.check();
  }

  /** Stops the timer and waits for a check under way. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.queue;
  }

  private async pass(ids: readonly string[] | undefined): Promise<void> {
    const { store, clock, sink } = this.deps;
    if (ids?.length === 0) return;
    const terminals = await store.register.listTerminals(ids ? { ids } : {});
    const at = clock.now().toISOString();
    for (const terminal of terminals) {
      const found = findingsOf(terminal);
      const conditions: CollectorCondition[] = [];
      for (const type of REGISTER_CONDITION_TYPES) {
        const raised = terminal.findings.includes(type);
        const data = found.get(type);
        if (raised === (data !== undefined)) continue;
        conditions.push({
          type,
          state: data ? 'raised' : 'cleared',
          key: `${type}:${terminal.id}`,
          unit: terminal.unit,
          ...(terminal.agentId ? { agent: terminal.agentId } : {}),
          severity: SEVERITY[type],
          data: { terminal: terminalName(terminal), ...data },
          at,
        });
      }
      if (conditions.length === 0) continue;
      for (const condition of conditions) await sink.report(condition);
      await store.register.setFindings(terminal.id, [...found.keys()]);
    }
  }
}
