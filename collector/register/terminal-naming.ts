import {
  terminalName as terminalNameSchema,
  type PersonName,
  type TerminalName,
} from '../../shared/api/register.js';
import { sessionUsersSchema, type SessionUser } from '../../shared/inventory.js';
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
    system: record.systemId ? { id: record.systemId, name: record.systemName ?? record.systemId } : null,
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
/**
 * Each event with its logged-in users (the signed envelope's `users`), each account mapped to the
 * person the register knows it as in the event's unit: one look-up per unit, however many events.
 */
export async function withUsers<E extends { unit: string; envelope: Record<string, unknown> }>(
  store: Store,
  events: readonly E[],
): Promise<(E & { users?: NamedUser[] })[]> {
  const parsed = events.map((event) => {
    const users = sessionUsersSchema.safeParse(event.envelope.users);
    return users.success ? users.data : [];
  });
  const accounts = new Map<string, Set<string>>();
  events.forEach((event, i) => {
    for (const user of parsed[i]!) {
      const set = accounts.get(event.unit) ?? new Set<string>();
      accounts.set(event.unit, set.add(user.account));
    }
  });
  const persons = new Map<string, Map<string, PersonName>>();
  for (const [unit, names] of accounts) {
    const found = await store.register.personsByAccount(unit, [...names]);
    persons.set(unit, new Map([...found].map(([account, p]) => [account, { id: p.id, name: p.name }])));
  }
  return events.map((event, i) => {
    const users = parsed[i]!;
    if (users.length === 0) return event;
    const known = persons.get(event.unit);
    return { ...event, users: users.map((user) => ({ ...user, person: known?.get(user.account) ?? null })) };
  });
}
