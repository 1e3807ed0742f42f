import { CLEARANCES, PERSON_STATES, TERMINAL_STATES, TERMINAL_USES } from '../../shared/api/register.js';
import { isCalendarDate } from '../../shared/calendar.js';
import { LEVELS } from '../../shared/levels.js';
import type { PersonFields, PersonRecord, TerminalRecord } from '../store/register/register-store.js';
import { refuse, type Sheet } from './register-sheets.js';
import { terminalHostname } from './terminal-naming.js';

/**
 * The register's columns in a 台账 as units keep it: Chinese headers, one row a terminal or a
 * person; the 责任人 and the system by name. A row read back is checked cell by cell, and a bad
 * cell refuses the file with its line and the reason.
 */
export const TERMINAL_HEADERS = [
  '单位',
  '编号',
  '密级',
  '用途',
  '责任人',
  '部门',
  '位置',
  '要害部门部位',
  '涉密信息系统',
  '状态',
  '状态日期',
  '终端标识',
  '主机名',
] as const;
export const PERSON_HEADERS = [
  '单位',
  '姓名',
  '部门',
  '涉密等级',
  '状态',
  '状态日期',
  '脱密期截止',
  '操作系统账户',
] as const;
const REQUIRED_TERMINAL: readonly string[] = ['密级'];
const REQUIRED_PERSON: readonly string[] = ['姓名', '涉密等级'];

export function terminalTable(records: readonly TerminalRecord[]): string[][] {
  return [
    [...TERMINAL_HEADERS],
    ...records.map((r) =>
      [
        r.unit,
        r.assetNo,
        r.level,
        r.use,
        r.ownerName,
        r.department,
        r.location,
        r.keyPart,
        r.systemName,
        r.state,
        r.stateSince,
        r.agentId,
        terminalHostname(r),
      ].map((cell) => cell ?? ''),
    ),
  ];
}

export function personTable(records: readonly PersonRecord[]): string[][] {
  return [
    [...PERSON_HEADERS],
    ...records.map((p) =>
      [
        p.unit,
        p.name,
        p.department,
        p.clearance,
        p.state,
        p.stateSince,
        p.stateUntil,
        p.accounts.join('; '),
      ].map((cell) => cell ?? ''),
    ),
  ];
}

/** One row of a sheet, its cells by header. */
export class TableRow {
  constructor(
    readonly line: number,
    private readonly cells: ReadonlyMap<string, string>,
  ) {}

  text(header: string): string | null {
    const value = this.cells.get(header) ?? '';
    return value === '' ? null : value;
  }

  required(header: string): string {
    const value = this.text(header);
    if (value === null) throw refuse(`${header} is empty`, this.line);
    return value;
  }

  oneOf<T extends string>(header: string, words: readonly T[], fallback?: T): T {
    const value = this.text(header);
    if (value === null && fallback !== undefined) return fallback;
    if (value === null) throw refuse(`${header} is empty; expected one of ${words.join(', ')}`, this.line);
    if (!(words as readonly string[]).includes(value)) {
      throw refuse(`${header} ${JSON.stringify(value)} is not one of ${words.join(', ')}`, this.line);
    }
    return value as T;
  }

  date(header: string): string | null {
    const value = this.text(header);
    if (value !== null && !isCalendarDate(value)) {
      throw refuse(
        `${header} ${JSON.stringify(value)} is not a calendar date; expected YYYY-MM-DD`,
        this.line,
      );
    }
    return value;
  }
}

/** The rows of a sheet whose header is the register's own (in any order, columns may be left out). */
export function tableRows(sheet: Sheet, known: readonly string[], required: readonly string[]): TableRow[] {
  const unknown = sheet.header.filter((h) => h !== '' && !known.includes(h));
  if (unknown.length > 0) {
    throw refuse(
      `unknown column ${unknown.map((h) => JSON.stringify(h)).join(', ')}; expected ${known.join(', ')}`,
      1,
    );
  }
  const missing = required.filter((h) => !sheet.header.includes(h));
  if (missing.length > 0) throw refuse(`the column ${missing.join(', ')} is missing`, 1);
  return sheet.rows.map(
    (row) => new TableRow(row.line, new Map(sheet.header.map((h, i) => [h, row.cells[i] ?? ''] as const))),
  );
}

export interface TerminalCells {
  line: number;
  unit: string | null;
  ownerName: string | null;
  systemName: string | null;
  assetNo: string | null;
  level: (typeof LEVELS)[number];
  use: (typeof TERMINAL_USES)[number];
  department: string | null;
  location: string | null;
  keyPart: string | null;
  state: (typeof TERMINAL_STATES)[number];
  stateSince: string | null;
  agentId: string | null;
  hostname: string | null;
}

export function readTerminalRows(sheet: Sheet): TerminalCells[] {
  return tableRows(sheet, TERMINAL_HEADERS, REQUIRED_TERMINAL).map((row) => {
    const agentId = row.text('终端标识');
    return {
      line: row.line,
      unit: row.text('单位'),
      ownerName: row.text('责任人'),
      systemName: row.text('涉密信息系统'),
      assetNo: row.text('编号'),
      level: row.oneOf('密级', LEVELS),
      use: row.oneOf('用途', TERMINAL_USES, '涉密'),
      department: row.text('部门'),
      location: row.text('位置'),
      keyPart: row.text('要害部门部位'),
      state: row.oneOf('状态', TERMINAL_STATES, '在用'),
      stateSince: row.date('状态日期'),
      agentId,
      // An agent's own hostname is what the register shows for it; only a device without one keeps its own.
      hostname: agentId === null ? row.text('主机名') : null,
    };
  });
}

export function readPersonRows(sheet: Sheet): { line: number; unit: string | null; fields: PersonFields }[] {
  return tableRows(sheet, PERSON_HEADERS, REQUIRED_PERSON).map((row) => ({
    line: row.line,
    unit: row.text('单位'),
    fields: {
      name: row.required('姓名'),
      department: row.text('部门'),
      clearance: row.oneOf('涉密等级', CLEARANCES),
      state: row.oneOf('状态', PERSON_STATES, '在岗'),
      stateSince: row.date('状态日期'),
      stateUntil: row.date('脱密期截止'),
      accounts: (row.text('操作系统账户') ?? '').split(/[;,，；、\s]+/).filter((a) => a !== ''),
    },
  }));
}
