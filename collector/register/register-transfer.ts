import type { Principal } from '../auth/api-keys.js';
import { visibleUnits } from '../api/bearer-auth.js';
import { ClockRefusal, ownerUnit } from '../clocks/clock-requests.js';
import {
  RegisterConflict,
  type ImportedPerson,
  type ImportedTerminal,
  type PersonRecord,
} from '../store/register/register-store.js';
import { readSheet, refuse, writeSheet, type SheetFormat } from './register-sheets.js';
import {
  personTable,
  readPersonRows,
  readTerminalRows,
  terminalTable,
  type TerminalCells,
} from './register-table.js';
import {
  checkPerson,
  newRegisterId,
  registerActor,
  type Caller,
  type RegisterDeps,
  type TerminalRegister,
} from './terminal-register.js';

/**
 * The register in and out as a 台账 (CSV or Excel): an export of what the caller sees, and an
 * import that creates or updates every row (terminals by 编号, persons by name, in their unit) in
 * one transaction. A bad row refuses the whole file with its line and the reason; nothing is kept.
 */
export class RegisterTransfer {
  constructor(
    private readonly register: TerminalRegister,
    private readonly deps: RegisterDeps,
  ) {}

  async exportTerminals(principal: Principal | null, format: SheetFormat): Promise<Buffer> {
    const records = await this.deps.store.register.listTerminals({ units: visibleUnits(principal) });
    return writeSheet(format, '涉密计算机台账', terminalTable(records));
  }

  async exportPersons(principal: Principal | null, format: SheetFormat): Promise<Buffer> {
    const records = await this.deps.store.register.listPersons({ units: visibleUnits(principal) });
    return writeSheet(format, '涉密人员', personTable(records));
  }

  async importTerminals(caller: Caller, format: SheetFormat, body: Buffer) {
    const by = registerActor(caller);
    const cells = readTerminalRows(await readSheet(format, body));
    const names = new NameLookup(this.deps, caller.principal);
    const rows: ImportedTerminal[] = [];
    for (const row of cells) {
      rows.push(await onLine(row.line, () => this.terminalRow(caller.principal!, row, names)));
    }
    const result = await store(() =>
      this.deps.store.register.importTerminals(rows, () => newRegisterId('tm'), by, this.now()),
    );
    const units = [...new Set(rows.map((r) => r.unit))];
    const touched = await this.deps.store.register.listTerminals({ units });
    await this.deps.onTerminalsChanged?.(touched.map((t) => t.id));
    return result;
  }

  async importPersons(caller: Caller, format: SheetFormat, body: Buffer) {
    const by = registerActor(caller);
    const rows: ImportedPerson[] = [];
    for (const row of readPersonRows(await readSheet(format, body))) {
      rows.push(
        await onLine(row.line, () => ({
          line: row.line,
          unit: ownerUnit(caller.principal!, row.unit ?? undefined, this.deps.unit),
          fields: checkPerson(row.fields),
        })),
      );
    }
    return store(() =>
      this.deps.store.register.importPersons(rows, () => newRegisterId('ps'), by, this.now()),
    );
  }

  private async terminalRow(
    principal: Principal,
    row: TerminalCells,
    names: NameLookup,
  ): Promise<ImportedTerminal> {
    const { line, unit: named, ownerName, systemName, ...rest } = row;
    const unit = ownerUnit(principal, named ?? undefined, this.deps.unit);
    const fields = {
      ...rest,
      ownerId: ownerName === null ? null : await names.person(unit, ownerName),
      systemId: systemName === null ? null : await names.system(systemName),
    };
    return { line, unit, fields: await this.register.checkTerminal(principal, unit, fields) };
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }
}

/** A refusal inside a row names the row's line. */
async function onLine<T>(line: number, work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof ClockRefusal && !err.message.startsWith('line ')) throw refuse(err.message, line);
    throw err;
  }
}

/** The store's conflicts (a 编号 or account taken, named by line) refuse the file. */
async function store<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof RegisterConflict) throw refuse(err.message);
    throw err;
  }
}

/** 责任人 and systems by name, as a 台账 names them; a name two records share is refused. */
class NameLookup {
  private readonly persons = new Map<string, PersonRecord[]>();
  private systems: { id: string; name: string }[] | undefined;

  constructor(
    private readonly deps: RegisterDeps,
    private readonly principal: Principal | null,
  ) {}

  async person(unit: string, name: string): Promise<string> {
    let list = this.persons.get(unit);
    if (!list) {
      list = await this.deps.store.register.listPersons({ units: [unit] });
      this.persons.set(unit, list);
    }
    return only(
      list.filter((p) => p.name === name),
      `责任人 ${name}`,
      `the persons of unit ${unit}`,
    );
  }

  async system(name: string): Promise<string> {
    this.systems ??= await this.deps.store.clocks.listSystems({ units: visibleUnits(this.principal) });
    return only(
      this.systems.filter((s) => s.name === name),
      `涉密信息系统 ${name}`,
      'the systems register',
    );
  }
}

function only(found: readonly { id: string }[], what: string, where: string): string {
  if (found.length === 0) throw new ClockRefusal(400, `${what} is not in ${where}`);
  if (found.length > 1)
    throw new ClockRefusal(400, `${what} is ambiguous: ${found.length} records in ${where}`);
  return found[0]!.id;
}
