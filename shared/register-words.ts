/**
 * The words of the terminal register (issue 17), in one home without schema code, so the
 * dashboard can list them in its forms and the API shapes (shared/api/register.ts) check them.
 */
export const TERMINAL_STATES = ['在用', '停用', '维修', '报废'] as const;
export const TERMINAL_USES = ['涉密', '非涉密'] as const;
/** 涉密人员 are 核心、重要、一般 (保密法第四十三条). */
export const CLEARANCES = ['核心', '重要', '一般'] as const;
/** 离岗 (left the post) and 脱密期 (the declassification period, with its end date). */
export const PERSON_STATES = ['在岗', '离岗', '脱密期'] as const;

export type TerminalState = (typeof TERMINAL_STATES)[number];
export type TerminalUse = (typeof TERMINAL_USES)[number];
export type Clearance = (typeof CLEARANCES)[number];
export type PersonState = (typeof PERSON_STATES)[number];
