import { z } from 'zod';
import { hostInventorySchema } from '../inventory.js';
import { LEVELS } from '../levels.js';
import {
  CLEARANCES,
  PERSON_STATES,
  TERMINAL_STATES,
  TERMINAL_USES,
  type Clearance,
  type PersonState,
  type TerminalState,
  type TerminalUse,
} from '../register-words.js';
import { calendarDate, isoTime, listOf, nullableIsoTime } from './common.js';

/**
 * The terminal register (涉密计算机台账, issue 17; 第31–35条, 第6条 责任制): terminals and the persons
 * responsible for them. One home for the words the register uses, for the API shapes, and for the
 * columns of its CSV and Excel form.
 */
export {
  CLEARANCES,
  PERSON_STATES,
  TERMINAL_STATES,
  TERMINAL_USES,
  type Clearance,
  type PersonState,
  type TerminalState,
  type TerminalUse,
};

const text = z.string().trim().min(1).max(200);
const optionalText = text.nullable().optional();
const nullableDate = calendarDate.nullable();

/** How a terminal is named wherever it appears (SPEC §8): 编号 · hostname · 责任人 beside the agent id. */
export const terminalName = z.object({
  id: z.string(),
  assetNo: z.string().nullable(),
  hostname: z.string().nullable(),
  owner: z.string().nullable(),
  /** The 涉密信息系统 it belongs to: a hardware change there is a 第35条 使用环境发生变化 of that system. */
  system: z.object({ id: z.string(), name: z.string() }).nullable().optional(),
});
export type TerminalName = z.infer<typeof terminalName>;
export const terminalNameField = terminalName.nullable().optional().meta({
  description: 'the terminal in the register (编号 · hostname · 责任人); null for an agent not registered',
});

/** A person of the register, as an account maps to them. */
export const personName = z.object({ id: z.string(), name: z.string() });
export type PersonName = z.infer<typeof personName>;

/** The register fields an officer sets (create and PATCH). */
const terminalFields = {
  assetNo: optionalText.meta({ description: '编号 (asset number), unique in its unit' }),
  level: z.enum(LEVELS).meta({ description: '密级' }),
  use: z.enum(TERMINAL_USES).meta({ description: '用途: 涉密 or 非涉密' }),
  ownerId: optionalText.meta({ description: '责任人: a person of the register' }),
  department: optionalText,
  location: optionalText.meta({ description: '位置 (building, room)' }),
  keyPart: optionalText.meta({
    description: '要害部门部位 (第31条): its name; null when the terminal is in none',
  }),
  systemId: optionalText.meta({ description: 'the 涉密信息系统 it belongs to' }),
  state: z.enum(TERMINAL_STATES),
  stateSince: nullableDate.optional().meta({ description: 'the date the state began' }),
  agentId: optionalText.meta({
    description: 'the enrolled agent on it; null for a device registered by hand',
  }),
  hostname: optionalText.meta({ description: 'for a device without an agent; an agent’s own hostname wins' }),
};

export const newTerminalBody = z.strictObject({
  ...terminalFields,
  use: terminalFields.use.default('涉密'),
  state: terminalFields.state.default('在用'),
  unit: text.optional(),
});
export type NewTerminalBody = z.infer<typeof newTerminalBody>;

export const terminalPatchBody = z.strictObject(terminalFields).partial();
export type TerminalPatchBody = z.infer<typeof terminalPatchBody>;

/** A register change as the audit log keeps it: who, when, and the fields before and after. */
export const registerChange = z.object({
  id: z.int(),
  at: isoTime,
  actor: z.string(),
  action: z.string(),
  before: z.record(z.string(), z.unknown()).nullable(),
  after: z.record(z.string(), z.unknown()).nullable(),
});
export type RegisterChange = z.infer<typeof registerChange>;

export const terminal = z.object({
  id: z.string(),
  unit: z.string(),
  agentId: z.string().nullable(),
  assetNo: z.string().nullable(),
  level: z.enum(LEVELS),
  use: z.enum(TERMINAL_USES),
  owner: z.string().nullable().meta({ description: '责任人’s name' }),
  ownerId: z.string().nullable(),
  department: z.string().nullable(),
  location: z.string().nullable(),
  keyPart: z.string().nullable(),
  systemId: z.string().nullable(),
  systemName: z.string().nullable(),
  state: z.enum(TERMINAL_STATES),
  stateSince: nullableDate,
  hostname: z.string().nullable(),
  online: z.boolean(),
  lastSeen: nullableIsoTime,
  openWarnings: z.int(),
  inventory: hostInventorySchema.nullable(),
  inventoryAt: nullableIsoTime,
  createdAt: isoTime,
  updatedAt: isoTime,
  history: z
    .array(registerChange)
    .optional()
    .meta({ description: 'changes, newest first (one terminal only)' }),
});
export type Terminal = z.infer<typeof terminal>;
export const terminalList = listOf(terminal);

/** `true` or `false` in the query string; Fastify's validator turns it into a boolean. */
const flag = z.boolean();
export const terminalQuery = z.object({
  unit: text.optional(),
  level: z.enum(LEVELS).optional(),
  state: z.enum(TERMINAL_STATES).optional(),
  online: flag.optional(),
  openWarnings: flag
    .optional()
    .meta({ description: 'only terminals with (true) or without (false) open warnings' }),
  q: z.string().max(200).optional().meta({ description: 'search 编号, hostname, 责任人, 部门, 位置' }),
});

/** An enrolled agent the register does not hold yet (`GET /api/v1/terminals/unregistered`). */
export const unregisteredAgent = z.object({
  agentId: z.string(),
  unit: z.string(),
  hostname: z.string().nullable(),
  online: z.boolean(),
  enrolledAt: isoTime,
  lastSeen: nullableIsoTime,
  candidateTerminalId: z.string().nullable().meta({
    description:
      'a terminal registered by hand under the same hostname, to link after checking (a hostname proves nothing)',
  }),
});
export const unregisteredAgentList = listOf(unregisteredAgent);

const personFields = {
  name: text,
  department: optionalText,
  clearance: z.enum(CLEARANCES).meta({ description: '涉密等级' }),
  state: z.enum(PERSON_STATES),
  stateSince: nullableDate.optional(),
  stateUntil: nullableDate.optional().meta({ description: 'the end of the 脱密期' }),
  accounts: z.array(z.string().trim().min(1).max(64)).max(64).optional().meta({ description: 'OS accounts' }),
};
export const newPersonBody = z.strictObject({
  ...personFields,
  state: personFields.state.default('在岗'),
  unit: text.optional(),
});
export type NewPersonBody = z.infer<typeof newPersonBody>;
export const personPatchBody = z.strictObject(personFields).partial();
export type PersonPatchBody = z.infer<typeof personPatchBody>;

export const person = z.object({
  id: z.string(),
  unit: z.string(),
  name: z.string(),
  department: z.string().nullable(),
  clearance: z.enum(CLEARANCES),
  state: z.enum(PERSON_STATES),
  stateSince: nullableDate,
  stateUntil: nullableDate,
  accounts: z.array(z.string()),
  terminals: z.int().meta({ description: 'terminals this person is 责任人 of' }),
  createdAt: isoTime,
  updatedAt: isoTime,
  history: z.array(registerChange).optional(),
});
export type Person = z.infer<typeof person>;
export const personList = listOf(person);

/** `?format=` of an export. */
export const exportQuery = z.object({ format: z.enum(['csv', 'xlsx']).default('csv') });
/** `?format=` of an import; without it the content type says. */
export const importQuery = z.object({ format: z.enum(['csv', 'xlsx']).optional() });
export const importResult = z.object({ created: z.int(), updated: z.int() });
