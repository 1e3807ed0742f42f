import {
  terminalName as terminalNameSchema,
  type PersonName,
  type TerminalName,
} from '../../shared/api/register.js';
import type { SessionUser } from '../../shared/inventory.js';
import type { TerminalRecord } from '../store/register/register-store.js';
import type { Store } from '../store/store.js';
import { terminalLabel } from '../../shared/terms.js';
import { REGISTER_CONDITION_TYPES } from './register-checks.js';

const isRegisterConditionType = (type: string) =>
  (REGISTER_CONDITION_TYPES as readonly string[]).includes(type);

/**
 * How a terminal is named wherever it appears (SPEC §8, issue 17): 编号 · hostname · 责任人, with
 * the agent id beside it. Views of events, warnings and incidents, and the notifications, take
 * their names from here.
 */

/** The hostname a terminal is known by: its agent's, else the one registered, else its inventory's. */
export function terminalHostname(record: TerminalRecord): string | null {
  return record.agentHostname ?? record.hostname ?? record.inventory?.hostname ?? null;
}

export function terminalName(record: TerminalRecord): TerminalName {
  return {
    id: record.id,
    assetNo: record.assetNo,
    hostname: terminalHostname(record),
    owner: record.ownerName,
  };
}

export { terminalLabel };

/** The register's names of these agents' terminals, by agent id. */
export async function terminalNames(
  store: Store,
  agentIds: readonly string[],
): Promise<Map<string, TerminalName>> {
  const unique = [...new Set(agentIds)];
  if (unique.length === 0) return new Map();
  const records = await store.register.listTerminals({ agentIds: unique });
  return new Map(records.map((r) => [r.agentId!, terminalName(r)]));
}

/** Each item with `terminal` beside its agent id: the register's name, or null for an agent not registered. */
export async function withTerminals<T>(
  store: Store,
  items: readonly T[],
  agentOf: (item: T) => string | null | undefined,
): Promise<(T & { terminal: TerminalName | null })[]> {
  const names = await terminalNames(
    store,
    items.flatMap((item) => agentOf(item) ?? []),
  );
  return items.map((item) => ({ ...item, terminal: names.get(agentOf(item) ?? '') ?? null }));
}

/**
 * The terminal a warning is about: its agent's in the register, else the one a register check
 * named in its condition (a terminal registered by hand has no agent).
 */
export async function warningTerminal(
  store: Store,
  warning: { agent: string | null; sample: { type: string; data: Record<string, unknown> } },
): Promise<TerminalName | null> {
  if (warning.agent) return (await terminalNames(store, [warning.agent])).get(warning.agent) ?? null;
  // Only the collector's own register conditions carry a name; an agent's text is never taken for one.
  if (!isRegisterConditionType(warning.sample.type)) return null;
  const named = terminalNameSchema.safeParse(warning.sample.data.terminal);
  return named.success ? named.data : null;
}

export type NamedUser = SessionUser & { person: PersonName | null };

/** An event's logged-in users, each account mapped to the person the register knows it as in that unit. */
export async function namedUsers(
  store: Store,
  unit: string,
  users: readonly SessionUser[],
): Promise<NamedUser[]> {
  const persons = await store.register.personsByAccount(
    unit,
    users.map((u) => u.account),
  );
  return users.map((user) => {
    const person = persons.get(user.account);
    return { ...user, person: person ? { id: person.id, name: person.name } : null };
  });
}
