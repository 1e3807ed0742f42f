import type { HostInventory } from '../../../shared/inventory.js';
import type { Level } from '../../../shared/levels.js';
import type {
  Clearance,
  PersonState,
  RegisterChange,
  TerminalState,
  TerminalUse,
} from '../../../shared/api/register.js';
import type { NewAuditEntry } from '../audit/audit-store.js';

/**
 * The terminal register (涉密计算机台账, issue 17): terminals and the persons responsible for them.
 * Every change is written with its audit entry (before and after) in one transaction, so the
 * audit log is the register's history and no change goes unrecorded.
 */

/** The register fields of a terminal: what an officer sets, and what the audit log keeps before and after. */
export interface TerminalFields {
  assetNo: string | null;
  level: Level;
  use: TerminalUse;
  ownerId: string | null;
  department: string | null;
  location: string | null;
  /** 要害部门部位 (第31条) by name; null when the terminal is in none. */
  keyPart: string | null;
  systemId: string | null;
  state: TerminalState;
  stateSince: string | null;
  agentId: string | null;
  /** For a device without an agent; the agent's own hostname wins when there is one. */
  hostname: string | null;
}

export interface UnregisteredAgent {
  agentId: string;
  unit: string;
  hostname: string | null;
  online: boolean;
  enrolledAt: string;
  lastSeen: string | null;
  /** A terminal registered by hand in the agent's unit, without an agent, under the same hostname: the likely match. */
  candidateTerminalId: string | null;
}

export interface TerminalRecord extends TerminalFields {
  id: string;
  unit: string;
  /** The enrolled agent's own hostname, when an agent is linked. */
  agentHostname: string | null;
  ownerName: string | null;
  ownerState: PersonState | null;
  systemName: string | null;
  /** The linked system's level, to check the terminal's against (第32条). */
  systemLevel: Level | null;
  online: boolean;
  lastSeen: string | null;
  /** Warnings of the terminal's agent still open (待研判, 已研判, 处置中). */
  openWarnings: number;
  inventory: HostInventory | null;
  inventoryAt: string | null;
  /** The register's findings about it raised as conditions now (condition types), kept to clear them once. */
  findings: string[];
  createdAt: string;
  updatedAt: string;
}

export interface PersonFields {
  name: string;
  department: string | null;
  clearance: Clearance;
  state: PersonState;
  stateSince: string | null;
  /** The end of the 脱密期. */
  stateUntil: string | null;
  /** OS accounts, unique in the unit: they map an event's logged-in users to persons. */
  accounts: string[];
}

export interface PersonRecord extends PersonFields {
  id: string;
  unit: string;
  /** Terminals this person is 责任人 of. */
  terminals: number;
  createdAt: string;
  updatedAt: string;
}

/** Who makes a register change, as the audit log records them. */
export type RegisterActor = Pick<NewAuditEntry, 'actor' | 'actorKind' | 'role' | 'unit' | 'ip'>;

export interface TerminalFilter {
  /** undefined = every unit. */
  units?: readonly string[];
  level?: Level;
  state?: TerminalState;
  online?: boolean;
  openWarnings?: boolean;
  /** Matches 编号, hostname, 责任人, 部门, 位置 (substring, case as typed). */
  search?: string;
  /** Only these terminals. */
  ids?: readonly string[];
  /** Only the terminals of these agents. */
  agentIds?: readonly string[];
  /** Only terminals whose 责任人 is this person. */
  ownerId?: string;
}

/** A row of an import: create (no id) or update (the terminal holding that 编号 in the unit). */
export interface ImportedTerminal {
  line: number;
  unit: string;
  fields: TerminalFields;
}
export interface ImportedPerson {
  line: number;
  unit: string;
  fields: PersonFields;
}

/** A refusal the caller can fix, with the import line it concerns when there is one. */
export class RegisterConflict extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(line === undefined ? message : `line ${line}: ${message}`);
  }
}

export interface RegisterStore {
  createTerminal(
    id: string,
    unit: string,
    fields: TerminalFields,
    by: RegisterActor,
    at: string,
  ): Promise<TerminalRecord>;
  /** Changes the given fields; undefined for an unknown terminal. Only a real change is audited. */
  updateTerminal(
    id: string,
    patch: Partial<TerminalFields>,
    by: RegisterActor,
    at: string,
  ): Promise<TerminalRecord | undefined>;
  getTerminal(id: string): Promise<TerminalRecord | undefined>;
  listTerminals(filter: TerminalFilter): Promise<TerminalRecord[]>;
  /** The latest host.inventory of an agent's terminal; an older report than the one kept is ignored. */
  setInventory(agentId: string, inventory: HostInventory, at: string): Promise<boolean>;
  /** The findings raised for a terminal now; false when the terminal is gone. */
  setFindings(id: string, findings: readonly string[]): Promise<boolean>;
  /** Enrolled, not revoked agents no terminal of the register is linked to. */
  listUnregisteredAgents(units: readonly string[] | undefined): Promise<UnregisteredAgent[]>;

  createPerson(
    id: string,
    unit: string,
    fields: PersonFields,
    by: RegisterActor,
    at: string,
  ): Promise<PersonRecord>;
  updatePerson(
    id: string,
    patch: Partial<PersonFields>,
    by: RegisterActor,
    at: string,
  ): Promise<PersonRecord | undefined>;
  /** false for an unknown person; a RegisterConflict while terminals name them 责任人. */
  deletePerson(id: string, by: RegisterActor, at: string): Promise<boolean>;
  getPerson(id: string): Promise<PersonRecord | undefined>;
  listPersons(filter: { units?: readonly string[]; search?: string }): Promise<PersonRecord[]>;
  /** The persons behind OS accounts of one unit, by account. */
  personsByAccount(unit: string, accounts: readonly string[]): Promise<Map<string, PersonRecord>>;

  /** Creates or updates (by 编号 in the unit) every row in one transaction: all or nothing. */
  importTerminals(
    rows: readonly ImportedTerminal[],
    newId: () => string,
    by: RegisterActor,
    at: string,
  ): Promise<{ created: number; updated: number }>;
  /** Creates or updates (by name in the unit) every row in one transaction: all or nothing. */
  importPersons(
    rows: readonly ImportedPerson[],
    newId: () => string,
    by: RegisterActor,
    at: string,
  ): Promise<{ created: number; updated: number }>;

  /** The audited changes of a terminal or person, newest first. */
  history(subject: RegisterSubject): Promise<RegisterChange[]>;
}

export type RegisterSubject = `terminal:${string}` | `person:${string}`;
