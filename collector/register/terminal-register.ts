import { randomUUID } from 'node:crypto';
import type {
  NewPersonBody,
  NewTerminalBody,
  Person,
  PersonPatchBody,
  Terminal,
  TerminalPatchBody,
} from '../../shared/api/register.js';
import type { Clock } from '../../shared/clock.js';
import type { Level } from '../../shared/levels.js';
import type { Principal } from '../auth/api-keys.js';
import { visibleUnits } from '../api/bearer-auth.js';
import { checkDate, ClockRefusal, inScope, ownerUnit, requireWriter } from '../clocks/clock-requests.js';
import type {
  PersonFields,
  PersonRecord,
  RegisterActor,
  TerminalFields,
  TerminalFilter,
  TerminalRecord,
} from '../store/register/register-store.js';
import type { Store } from '../store/store.js';
import { terminalHostname } from './terminal-naming.js';
import { latestInventory } from './inventory-intake.js';

/**
 * The terminal register (涉密计算机台账, issue 17): what an officer may see and change, checked
 * before the store writes it. A refusal is a `ClockRefusal` with its HTTP status, as for the other
 * registers; the store's own conflicts (a 编号 or an account taken) are `RegisterConflict`.
 */
export interface RegisterDeps {
  store: Store;
  clock: Clock;
  /** The collector's own unit: where a record goes when a key for every unit names none. */
  unit: string;
  /** Told after terminals changed (or, with a person's change, the terminals they are 责任人 of). */
  onTerminalsChanged?(ids: readonly string[]): Promise<void>;
}

export interface TerminalQuery extends Omit<TerminalFilter, 'units' | 'search'> {
  unit?: string;
  q?: string;
}

/** Who asks, as the audit log records them. */
export interface Caller {
  principal: Principal | null;
  ip: string;
}

export function newRegisterId(prefix: 'tm' | 'ps'): string {
  return `${prefix}-${randomUUID().replaceAll('-', '').slice(0, 16)}`;
}

export function terminalView(record: TerminalRecord): Terminal {
  const { agentHostname: _, ownerName, ownerState: __, systemLevel: ___, findings: ____, ...fields } = record;
  return { ...fields, owner: ownerName, hostname: terminalHostname(record) };
}

export function personView(record: PersonRecord): Person {
  return record;
}

/** The units a query may read: the caller's, narrowed to `unit` when one is named. */
function queryUnits(principal: Principal | null, unit: string | undefined): string[] | undefined {
  const visible = visibleUnits(principal);
  if (unit === undefined) return visible;
  return visible === undefined || visible.includes(unit) ? [unit] : [];
}

function notFound(what: string, id: string): ClockRefusal {
  return new ClockRefusal(404, `no ${what} ${id}`);
}

/** The caller as the audit log records them; only a role that may write gets one. */
export function registerActor(caller: Caller): RegisterActor {
  const principal = requireWriter(caller.principal);
  return {
    actor: principal.name,
    actorKind: principal.kind,
    role: principal.role,
    unit: principal.unit,
    ip: caller.ip,
  };
}

const LEVEL_OF_UNUSED: Level = '非密';

export class TerminalRegister {
  constructor(private readonly deps: RegisterDeps) {}

  private now(): string {
    return this.deps.clock.now().toISOString();
  }

  async listTerminals(principal: Principal | null, query: TerminalQuery): Promise<Terminal[]> {
    const { unit, q, ...filter } = query;
    const records = await this.deps.store.register.listTerminals({
      ...filter,
      units: queryUnits(principal, unit),
      search: q?.trim() || undefined,
    });
    return records.map(terminalView);
  }

  async getTerminal(principal: Principal | null, id: string): Promise<Terminal> {
    const record = await this.visibleTerminal(principal, id);
    return { ...terminalView(record), history: await this.deps.store.register.history(`terminal:${id}`) };
  }

  async createTerminal(caller: Caller, body: NewTerminalBody): Promise<Terminal> {
    const by = registerActor(caller);
    const unit = ownerUnit(caller.principal!, body.unit, this.deps.unit);
    const fields = await this.checkTerminal(caller.principal, unit, {
      assetNo: null,
      ownerId: null,
      department: null,
      location: null,
      keyPart: null,
      systemId: null,
      stateSince: null,
      agentId: null,
      hostname: null,
      ...withoutUnit(body),
    });
    const id = newRegisterId('tm');
    const created = await this.deps.store.register.createTerminal(id, unit, fields, by, this.now());
    await this.linked(created.agentId);
    await this.deps.onTerminalsChanged?.([id]);
    return terminalView((await this.deps.store.register.getTerminal(id)) ?? created);
  }

  async changeTerminal(caller: Caller, id: string, patch: TerminalPatchBody): Promise<Terminal> {
    const by = registerActor(caller);
    const before = await this.visibleTerminal(caller.principal, id);
    const checked = await this.checkTerminal(caller.principal, before.unit, patch);
    const after = await this.deps.store.register.updateTerminal(id, checked, by, this.now());
    if (!after) throw notFound('terminal', id);
    if (after.agentId !== before.agentId) await this.linked(after.agentId);
    await this.deps.onTerminalsChanged?.([id]);
    return this.getTerminal(caller.principal, id);
  }

  async listUnregistered(principal: Principal | null) {
    return this.deps.store.register.listUnregisteredAgents(visibleUnits(principal));
  }

  async listPersons(principal: Principal | null, query: { unit?: string; q?: string }): Promise<Person[]> {
    const records = await this.deps.store.register.listPersons({
      units: queryUnits(principal, query.unit),
      search: query.q?.trim() || undefined,
    });
    return records.map(personView);
  }

  async getPerson(principal: Principal | null, id: string): Promise<Person> {
    const record = await this.visiblePerson(principal, id);
    return { ...personView(record), history: await this.deps.store.register.history(`person:${id}`) };
  }

  async createPerson(caller: Caller, body: NewPersonBody): Promise<Person> {
    const by = registerActor(caller);
    const unit = ownerUnit(caller.principal!, body.unit, this.deps.unit);
    const fields = checkPerson({
      department: null,
      stateSince: null,
      stateUntil: null,
      accounts: [],
      ...withoutUnit(body),
    });
    const created = await this.deps.store.register.createPerson(
      newRegisterId('ps'),
      unit,
      fields,
      by,
      this.now(),
    );
    return personView(created);
  }

  async changePerson(caller: Caller, id: string, patch: PersonPatchBody): Promise<Person> {
    const by = registerActor(caller);
    await this.visiblePerson(caller.principal, id);
    const after = await this.deps.store.register.updatePerson(id, checkPerson(patch), by, this.now());
    if (!after) throw notFound('person', id);
    const terminals = await this.deps.store.register.listTerminals({ ownerId: id });
    await this.deps.onTerminalsChanged?.(terminals.map((t) => t.id));
    return this.getPerson(caller.principal, id);
  }

  async deletePerson(caller: Caller, id: string): Promise<void> {
    const by = registerActor(caller);
    await this.visiblePerson(caller.principal, id);
    if (!(await this.deps.store.register.deletePerson(id, by, this.now()))) throw notFound('person', id);
  }

  /** An agent newly linked brings the inventory it last sent, so the register need not wait for the next one. */
  private async linked(agentId: string | null): Promise<void> {
    if (!agentId) return;
    const latest = await latestInventory(this.deps.store, agentId);
    if (latest) await this.deps.store.register.setInventory(agentId, latest.inventory, latest.at);
  }

  /** A terminal the caller may see; 404 for one of another unit, as if it did not exist. */
  async visibleTerminal(principal: Principal | null, id: string): Promise<TerminalRecord> {
    const record = await this.deps.store.register.getTerminal(id);
    if (!record || !inScope(principal, record.unit)) throw notFound('terminal', id);
    return record;
  }

  private async visiblePerson(principal: Principal | null, id: string): Promise<PersonRecord> {
    const record = await this.deps.store.register.getPerson(id);
    if (!record || !inScope(principal, record.unit)) throw notFound('person', id);
    return record;
  }

  /**
   * What a terminal's fields refer to must exist where the caller can see it: the 责任人 and the
   * system in a visible unit, the agent enrolled in the terminal's own unit.
   */
  async checkTerminal<F extends Partial<TerminalFields>>(
    principal: Principal | null,
    unit: string,
    fields: F,
  ): Promise<F> {
    const { store } = this.deps;
    if (fields.stateSince) checkDate(fields.stateSince, 'stateSince');
    if (fields.ownerId) {
      const owner = await store.register.getPerson(fields.ownerId);
      if (!owner || !inScope(principal, owner.unit)) {
        throw new ClockRefusal(400, `ownerId: no person ${fields.ownerId} in the register`);
      }
    }
    if (fields.systemId) {
      const system = await store.clocks.getSystem(fields.systemId);
      if (!system || !inScope(principal, system.unit)) {
        throw new ClockRefusal(400, `systemId: no 涉密信息系统 ${fields.systemId} in the register`);
      }
    }
    if (fields.agentId) {
      const agent = await store.getAgent(fields.agentId);
      if (!agent || agent.revokedAt !== null || agent.unit !== unit) {
        throw new ClockRefusal(400, `agentId: no enrolled agent ${fields.agentId} in unit ${unit}`);
      }
    }
    if (fields.use === '非涉密' && fields.level !== undefined && fields.level !== LEVEL_OF_UNUSED) {
      throw new ClockRefusal(400, `level: a 非涉密 terminal is 非密, not ${fields.level}`);
    }
    return fields;
  }
}

function withoutUnit<B extends { unit?: string }>(body: B): Omit<B, 'unit'> {
  const { unit: _, ...rest } = body;
  return rest;
}

/** A person's dates are real; a 脱密期 has its end date. */
export function checkPerson<F extends Partial<PersonFields>>(fields: F): F {
  if (fields.stateSince) checkDate(fields.stateSince, 'stateSince');
  if (fields.stateUntil) checkDate(fields.stateUntil, 'stateUntil');
  if (fields.state === '脱密期' && fields.stateUntil === null) {
    throw new ClockRefusal(400, 'stateUntil: a 脱密期 needs its end date');
  }
  return fields;
}
