import type { RegisterChange } from '../../../shared/api/register.js';
import type { HostInventory } from '../../../shared/inventory.js';
import { appendAuditIn } from '../audit/audit-store.js';
import { flag, type Database } from '../sql/database.js';
import { bytewise, forUpdate, join, list, raw, sql, when, type Query } from '../sql/query.js';
import {
  RegisterConflict,
  type ImportedPerson,
  type ImportedTerminal,
  type PersonFields,
  type PersonRecord,
  type RegisterActor,
  type RegisterStore,
  type RegisterSubject,
  type TerminalFields,
  type TerminalFilter,
  type TerminalRecord,
  type UnregisteredAgent,
} from './register-store.js';

/** Each register field and its column; the one list the reads, writes and audit entries follow. */
const TERMINAL_COLUMNS: Readonly<Record<keyof TerminalFields, string>> = {
  assetNo: 'asset_no',
  level: 'level',
  use: 'use',
  ownerId: 'owner_id',
  department: 'department',
  location: 'location',
  keyPart: 'key_part',
  systemId: 'system_id',
  state: 'state',
  stateSince: 'state_since',
  agentId: 'agent_id',
  hostname: 'hostname',
};
const TERMINAL_FIELDS = Object.keys(TERMINAL_COLUMNS) as (keyof TerminalFields)[];

const PERSON_COLUMNS: Readonly<Record<Exclude<keyof PersonFields, 'accounts'>, string>> = {
  name: 'name',
  department: 'department',
  clearance: 'clearance',
  state: 'state',
  stateSince: 'state_since',
  stateUntil: 'state_until',
};
const PERSON_FIELDS = Object.keys(PERSON_COLUMNS) as (keyof typeof PERSON_COLUMNS)[];

/** Warnings still to be handled: 待研判, 已研判, 处置中. */
const OPEN_WARNING_STATES = ['discovered', 'identified', 'handling'];

const TERMINAL_SELECT = sql`SELECT t.id, t.unit, ${raw(
  TERMINAL_FIELDS.map((field) => `t.${TERMINAL_COLUMNS[field]} AS "${field}"`).join(', '),
)}, a.hostname AS "agentHostname", p.name AS "ownerName", p.state AS "ownerState",
  s.name AS "systemName", s.level AS "systemLevel", a.online, a.last_seen AS "lastSeen",
  (SELECT COUNT(*) FROM warnings w WHERE w.agent = t.agent_id AND w.state IN ${list(OPEN_WARNING_STATES)})
    AS "openWarnings",
  t.inventory, t.inventory_at AS "inventoryAt", t.findings, t.created_at AS "createdAt", t.updated_at AS "updatedAt"
  FROM register_terminals t
  LEFT JOIN agents a ON a.id = t.agent_id
  LEFT JOIN register_persons p ON p.id = t.owner_id
  LEFT JOIN info_systems s ON s.id = t.system_id`;

type TerminalRow = Omit<TerminalRecord, 'online' | 'openWarnings' | 'inventory' | 'findings'> & {
  findings: string;
  online: unknown;
  openWarnings: number | string;
  inventory: string | null;
};

function toTerminal(row: TerminalRow): TerminalRecord {
  return {
    ...row,
    online: flag(row.online),
    openWarnings: Number(row.openWarnings),
    inventory: row.inventory === null ? null : (JSON.parse(row.inventory) as HostInventory),
    findings: JSON.parse(row.findings) as string[],
  };
}

const PERSON_SELECT = sql`SELECT p.id, p.unit, ${raw(
  PERSON_FIELDS.map((field) => `p.${PERSON_COLUMNS[field]} AS "${field}"`).join(', '),
)}, (SELECT COUNT(*) FROM register_terminals t WHERE t.owner_id = p.id) AS terminals,
  p.created_at AS "createdAt", p.updated_at AS "updatedAt"
  FROM register_persons p`;

type PersonRow = Omit<PersonRecord, 'accounts' | 'terminals'> & { terminals: number | string };

/** A search term as a LIKE pattern matching it anywhere, its wildcards taken literally. */
function containing(search: string): string {
  return `%${search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
function matches(column: string, pattern: string): Query {
  return sql`LOWER(COALESCE(${raw(column)}, '')) LIKE ${pattern} ESCAPE '\\'`;
}

/** The fields a patch really changes, before and after. */
function differences<F extends object>(
  before: F,
  patch: Partial<F>,
): { before: Partial<F>; after: Partial<F> } {
  const was: Partial<F> = {};
  const now: Partial<F> = {};
  for (const key of Object.keys(patch) as (keyof F)[]) {
    const value = patch[key];
    if (value === undefined || JSON.stringify(value) === JSON.stringify(before[key])) continue;
    was[key] = before[key];
    now[key] = value;
  }
  return { before: was, after: now };
}

function pick<F extends object>(record: F, keys: readonly (keyof F)[]): Partial<F> {
  return Object.fromEntries(keys.map((key) => [key, record[key]])) as Partial<F>;
}

/**
 * The register in either database. A change reads the row under its lock (`forUpdate`), checks
 * what must stay unique in the unit (编号, an OS account), writes, and records its audit entry,
 * all in one transaction.
 */
export class SqlRegisterStore implements RegisterStore {
  constructor(private readonly db: Database) {}

  async createTerminal(
    id: string,
    unit: string,
    fields: TerminalFields,
    by: RegisterActor,
    at: string,
  ): Promise<TerminalRecord> {
    await this.db.transaction((tx) => insertTerminal(tx, id, unit, fields, by, at));
    return (await this.getTerminal(id))!;
  }

  async updateTerminal(
    id: string,
    patch: Partial<TerminalFields>,
    by: RegisterActor,
    at: string,
  ): Promise<TerminalRecord | undefined> {
    const found = await this.db.transaction((tx) => changeTerminal(tx, id, patch, by, at));
    return found ? this.getTerminal(id) : undefined;
  }

  async getTerminal(id: string): Promise<TerminalRecord | undefined> {
    const [found] = await this.listTerminals({ ids: [id] });
    return found;
  }

  async listTerminals(filter: TerminalFilter): Promise<TerminalRecord[]> {
    const { units, level, state, online, openWarnings, search, ids, agentIds, ownerId } = filter;
    const pattern = search ? containing(search) : '';
    const rows = await this.db.all<TerminalRow>(
      sql`${TERMINAL_SELECT} WHERE TRUE
          ${when(units !== undefined, sql`AND t.unit IN ${list(units ?? [])}`)}
          ${when(ids !== undefined, sql`AND t.id IN ${list(ids ?? [])}`)}
          ${when(agentIds !== undefined, sql`AND t.agent_id IN ${list(agentIds ?? [])}`)}
          ${when(ownerId !== undefined, sql`AND t.owner_id = ${ownerId}`)}
          ${when(level !== undefined, sql`AND t.level = ${level}`)}
          ${when(state !== undefined, sql`AND t.state = ${state}`)}
          ${when(online !== undefined, sql`AND COALESCE(a.online, FALSE) = ${online}`)}
          ${when(
            openWarnings !== undefined,
            sql`AND ${raw(openWarnings ? '' : 'NOT ')}EXISTS (SELECT 1 FROM warnings w
                  WHERE w.agent = t.agent_id AND w.state IN ${list(OPEN_WARNING_STATES)})`,
          )}
          ${when(
            search !== undefined && search !== '',
            sql`AND (${matches('t.asset_no', pattern)} OR ${matches('t.hostname', pattern)}
                OR ${matches('a.hostname', pattern)} OR ${matches('p.name', pattern)}
                OR ${matches('t.department', pattern)} OR ${matches('t.location', pattern)}
                OR ${matches('t.agent_id', pattern)})`,
          )}
          ORDER BY t.unit${bytewise}, t.asset_no${bytewise} NULLS LAST, t.id${bytewise}`,
    );
    return rows.map(toTerminal);
  }

  async setInventory(agentId: string, inventory: HostInventory, at: string): Promise<boolean> {
    const { changes } = await this.db.run(
      sql`UPDATE register_terminals SET inventory = ${JSON.stringify(inventory)}, inventory_at = ${at}
          WHERE agent_id = ${agentId} AND (inventory_at IS NULL OR inventory_at <= ${at})`,
    );
    return changes > 0;
  }

  async setFindings(id: string, findings: readonly string[]): Promise<boolean> {
    const { changes } = await this.db.run(
      sql`UPDATE register_terminals SET findings = ${JSON.stringify(findings)} WHERE id = ${id}`,
    );
    return changes === 1;
  }

  async listUnregisteredAgents(units: readonly string[] | undefined): Promise<UnregisteredAgent[]> {
    const rows = await this.db.all<Omit<UnregisteredAgent, 'online'> & { online: unknown }>(
      sql`SELECT a.id AS "agentId", a.unit, a.hostname, a.online, a.enrolled_at AS "enrolledAt",
            a.last_seen AS "lastSeen",
            (SELECT MIN(t.id) FROM register_terminals t
              WHERE t.agent_id IS NULL AND t.unit = a.unit AND t.hostname = a.hostname) AS "candidateTerminalId"
          FROM agents a WHERE a.revoked_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM register_terminals t WHERE t.agent_id = a.id)
            ${when(units !== undefined, sql`AND a.unit IN ${list(units ?? [])}`)}
          ORDER BY a.unit${bytewise}, a.hostname${bytewise} NULLS FIRST, a.id${bytewise}`,
    );
    return rows.map((row) => ({ ...row, online: flag(row.online) }));
  }

  async createPerson(
    id: string,
    unit: string,
    fields: PersonFields,
    by: RegisterActor,
    at: string,
  ): Promise<PersonRecord> {
    await this.db.transaction((tx) => insertPerson(tx, id, unit, fields, by, at));
    return (await this.getPerson(id))!;
  }

  async updatePerson(
    id: string,
    patch: Partial<PersonFields>,
    by: RegisterActor,
    at: string,
  ): Promise<PersonRecord | undefined> {
    const found = await this.db.transaction((tx) => changePerson(tx, id, patch, by, at));
    return found ? this.getPerson(id) : undefined;
  }

  async deletePerson(id: string, by: RegisterActor, at: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const before = await readPerson(tx, id, true);
      if (!before) return false;
      if (before.terminals > 0) {
        throw new RegisterConflict(`${before.name} is still 责任人 of ${before.terminals} terminal(s)`);
      }
      await tx.run(sql`DELETE FROM register_accounts WHERE person_id = ${id}`);
      await tx.run(sql`DELETE FROM register_persons WHERE id = ${id}`);
      await audit(tx, by, at, 'register.person.delete', `person:${id}`, personFields(before), null);
      return true;
    });
  }

  async getPerson(id: string): Promise<PersonRecord | undefined> {
    return readPerson(this.db, id, false);
  }

  async listPersons(filter: { units?: readonly string[]; search?: string }): Promise<PersonRecord[]> {
    const { units, search } = filter;
    const pattern = search ? containing(search) : '';
    const rows = await this.db.all<PersonRow>(
      sql`${PERSON_SELECT} WHERE TRUE
          ${when(units !== undefined, sql`AND p.unit IN ${list(units ?? [])}`)}
          ${when(
            !!search,
            sql`AND (${matches('p.name', pattern)} OR ${matches('p.department', pattern)}
                OR EXISTS (SELECT 1 FROM register_accounts r WHERE r.person_id = p.id
                           AND ${matches('r.account', pattern)}))`,
          )}
          ORDER BY p.unit${bytewise}, p.name${bytewise}, p.id${bytewise}`,
    );
    return withAccounts(this.db, rows);
  }

  async personsByAccount(unit: string, accounts: readonly string[]): Promise<Map<string, PersonRecord>> {
    if (accounts.length === 0) return new Map();
    const owners = await this.db.all<{ account: string; person_id: string }>(
      sql`SELECT account, person_id FROM register_accounts WHERE unit = ${unit} AND account IN ${list(accounts)}`,
    );
    if (owners.length === 0) return new Map();
    const rows = await this.db.all<PersonRow>(
      sql`${PERSON_SELECT} WHERE p.id IN ${list(owners.map((o) => o.person_id))}`,
    );
    const persons = new Map((await withAccounts(this.db, rows)).map((p) => [p.id, p]));
    return new Map(owners.map((o) => [o.account, persons.get(o.person_id)!]));
  }

  async importTerminals(
    rows: readonly ImportedTerminal[],
    newId: () => string,
    by: RegisterActor,
    at: string,
  ): Promise<{ created: number; updated: number }> {
    return this.importRows(rows, {
      find: (tx, row) =>
        row.fields.assetNo === null
          ? Promise.resolve(undefined)
          : tx.get<{ id: string }>(
              sql`SELECT id FROM register_terminals WHERE unit = ${row.unit} AND asset_no = ${row.fields.assetNo}`,
            ),
      change: (tx, id, row) => changeTerminal(tx, id, row.fields, by, at),
      insert: (tx, row) => insertTerminal(tx, newId(), row.unit, row.fields, by, at),
    });
  }

  async importPersons(
    rows: readonly ImportedPerson[],
    newId: () => string,
    by: RegisterActor,
    at: string,
  ): Promise<{ created: number; updated: number }> {
    return this.importRows(rows, {
      find: (tx, row) =>
        tx.get<{ id: string }>(
          sql`SELECT id FROM register_persons WHERE unit = ${row.unit} AND name = ${row.fields.name}
              ORDER BY id${bytewise} LIMIT 1`,
        ),
      change: (tx, id, row) => changePerson(tx, id, row.fields, by, at),
      insert: (tx, row) => insertPerson(tx, newId(), row.unit, row.fields, by, at),
    });
  }

  /** Each row updates the record `find` names or inserts one, all in one transaction; a conflict names its line. */
  private async importRows<R extends { line: number }>(
    rows: readonly R[],
    steps: {
      find: (tx: Database, row: R) => Promise<{ id: string } | undefined>;
      change: (tx: Database, id: string, row: R) => Promise<unknown>;
      insert: (tx: Database, row: R) => Promise<unknown>;
    },
  ): Promise<{ created: number; updated: number }> {
    return this.db.transaction(async (tx) => {
      let created = 0;
      for (const row of rows) {
        try {
          const existing = await steps.find(tx, row);
          if (existing) await steps.change(tx, existing.id, row);
          else await steps.insert(tx, row);
          if (!existing) created++;
        } catch (err) {
          if (err instanceof RegisterConflict && err.line === undefined) {
            throw new RegisterConflict(err.message, row.line);
          }
          throw err;
        }
      }
      return { created, updated: rows.length - created };
    });
  }

  async history(subject: RegisterSubject): Promise<RegisterChange[]> {
    const rows = await this.db.all<{
      id: number | string;
      at: string;
      actor: string;
      action: string;
      detail: string;
    }>(sql`SELECT id, at, actor, action, detail FROM audit_log WHERE subject = ${subject} ORDER BY id DESC`);
    return rows.map((row) => {
      const detail = JSON.parse(row.detail) as Pick<RegisterChange, 'before' | 'after'>;
      return { id: Number(row.id), at: row.at, actor: row.actor, action: row.action, ...detail };
    });
  }
}

async function audit(
  db: Database,
  by: RegisterActor,
  at: string,
  action: string,
  subject: RegisterSubject,
  before: object | null,
  after: object | null,
): Promise<void> {
  const detail = JSON.stringify({ before, after });
  await appendAuditIn(db, { ...by, at, action, status: null, detail, subject });
}

async function checkAssetNo(
  db: Database,
  unit: string,
  assetNo: string | null | undefined,
  id: string,
): Promise<void> {
  if (!assetNo) return;
  const holder = await db.get<{ id: string }>(
    sql`SELECT id FROM register_terminals WHERE unit = ${unit} AND asset_no = ${assetNo} AND id <> ${id}`,
  );
  if (holder) throw new RegisterConflict(`编号 ${assetNo} is already terminal ${holder.id} of unit ${unit}`);
}

async function checkAgent(db: Database, agentId: string | null | undefined, id: string): Promise<void> {
  if (!agentId) return;
  const holder = await db.get<{ id: string }>(
    sql`SELECT id FROM register_terminals WHERE agent_id = ${agentId} AND id <> ${id}`,
  );
  if (holder) throw new RegisterConflict(`agent ${agentId} is already linked to terminal ${holder.id}`);
}

async function insertTerminal(
  db: Database,
  id: string,
  unit: string,
  fields: TerminalFields,
  by: RegisterActor,
  at: string,
): Promise<void> {
  await checkAssetNo(db, unit, fields.assetNo, id);
  await checkAgent(db, fields.agentId, id);
  const values = TERMINAL_FIELDS.map((field) => sql`${fields[field]}`);
  await db.run(
    sql`INSERT INTO register_terminals (id, unit, ${raw(TERMINAL_FIELDS.map((f) => TERMINAL_COLUMNS[f]).join(', '))},
          created_at, updated_at)
        VALUES (${id}, ${unit}, ${join(values)}, ${at}, ${at})`,
  );
  await audit(db, by, at, 'register.terminal.create', `terminal:${id}`, null, pick(fields, TERMINAL_FIELDS));
}

/** false for an unknown terminal. */
async function changeTerminal(
  db: Database,
  id: string,
  patch: Partial<TerminalFields>,
  by: RegisterActor,
  at: string,
): Promise<boolean> {
  const before = await db.get<TerminalFields & { unit: string }>(
    sql`SELECT unit, ${raw(TERMINAL_FIELDS.map((f) => `${TERMINAL_COLUMNS[f]} AS "${f}"`).join(', '))}
        FROM register_terminals WHERE id = ${id}${forUpdate}`,
  );
  if (!before) return false;
  const change = differences<TerminalFields>(before, patch);
  const changed = Object.keys(change.after) as (keyof TerminalFields)[];
  if (changed.length === 0) return true;
  await checkAssetNo(db, before.unit, change.after.assetNo, id);
  await checkAgent(db, change.after.agentId, id);
  const sets = changed.map((field) => sql`${raw(TERMINAL_COLUMNS[field])} = ${change.after[field]}`);
  await db.run(sql`UPDATE register_terminals SET ${join(sets)}, updated_at = ${at} WHERE id = ${id}`);
  await audit(db, by, at, 'register.terminal.change', `terminal:${id}`, change.before, change.after);
  return true;
}

async function checkAccounts(
  db: Database,
  unit: string,
  accounts: readonly string[],
  id: string,
): Promise<void> {
  if (accounts.length === 0) return;
  const taken = await db.get<{ account: string; name: string }>(
    sql`SELECT r.account, p.name FROM register_accounts r JOIN register_persons p ON p.id = r.person_id
        WHERE r.unit = ${unit} AND r.account IN ${list(accounts)} AND r.person_id <> ${id}
        ORDER BY r.account${bytewise} LIMIT 1`,
  );
  if (taken)
    throw new RegisterConflict(`account ${taken.account} already belongs to ${taken.name} in unit ${unit}`);
}

async function writeAccounts(
  db: Database,
  unit: string,
  id: string,
  accounts: readonly string[],
): Promise<void> {
  await checkAccounts(db, unit, accounts, id);
  await db.run(sql`DELETE FROM register_accounts WHERE person_id = ${id}`);
  for (const account of new Set(accounts)) {
    await db.run(
      sql`INSERT INTO register_accounts (unit, account, person_id) VALUES (${unit}, ${account}, ${id})`,
    );
  }
}

async function insertPerson(
  db: Database,
  id: string,
  unit: string,
  fields: PersonFields,
  by: RegisterActor,
  at: string,
): Promise<void> {
  const values = PERSON_FIELDS.map((field) => sql`${fields[field]}`);
  await db.run(
    sql`INSERT INTO register_persons (id, unit, ${raw(PERSON_FIELDS.map((f) => PERSON_COLUMNS[f]).join(', '))},
          created_at, updated_at)
        VALUES (${id}, ${unit}, ${join(values)}, ${at}, ${at})`,
  );
  await writeAccounts(db, unit, id, fields.accounts);
  await audit(db, by, at, 'register.person.create', `person:${id}`, null, fields);
}

async function changePerson(
  db: Database,
  id: string,
  patch: Partial<PersonFields>,
  by: RegisterActor,
  at: string,
): Promise<boolean> {
  const before = await readPerson(db, id, true);
  if (!before) return false;
  const change = differences<PersonFields>(personFields(before), patch);
  const changed = Object.keys(change.after) as (keyof PersonFields)[];
  if (changed.length === 0) return true;
  const sets = PERSON_FIELDS.filter((f) => changed.includes(f)).map(
    (field) => sql`${raw(PERSON_COLUMNS[field])} = ${change.after[field]}`,
  );
  await db.run(sql`UPDATE register_persons SET ${join([...sets, sql`updated_at = ${at}`])} WHERE id = ${id}`);
  if (change.after.accounts) await writeAccounts(db, before.unit, id, change.after.accounts);
  await audit(db, by, at, 'register.person.change', `person:${id}`, change.before, change.after);
  return true;
}

function personFields(record: PersonRecord): PersonFields {
  const { name, department, clearance, state, stateSince, stateUntil, accounts } = record;
  return { name, department, clearance, state, stateSince, stateUntil, accounts };
}

async function readPerson(db: Database, id: string, lock: boolean): Promise<PersonRecord | undefined> {
  if (lock) await db.get(sql`SELECT id FROM register_persons WHERE id = ${id}${forUpdate}`);
  const rows = await db.all<PersonRow>(sql`${PERSON_SELECT} WHERE p.id = ${id}`);
  return (await withAccounts(db, rows))[0];
}

async function withAccounts(db: Database, rows: readonly PersonRow[]): Promise<PersonRecord[]> {
  if (rows.length === 0) return [];
  const accounts = await db.all<{ person_id: string; account: string }>(
    sql`SELECT person_id, account FROM register_accounts WHERE person_id IN ${list(rows.map((r) => r.id))}
        ORDER BY account${bytewise}`,
  );
  return rows.map((row) => ({
    ...row,
    terminals: Number(row.terminals),
    accounts: accounts.filter((a) => a.person_id === row.id).map((a) => a.account),
  }));
}
