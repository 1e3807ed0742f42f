import { allows } from '../auth/permissions.js';
import { MAX_NOTE_LENGTH } from './lifecycle.js';
import type { Actor, Notice, NoticeRecipient } from '../store/warnings/records.js';

export type { Notice, NoticeRecipient } from '../store/warnings/records.js';

/**
 * Warning notices (预警通报, 第64条): an officer tells units what risk was found and what they
 * must do by a deadline; each recipient unit acknowledges and reports its investigation (排查)
 * result. Pure rules here; the store keeps the record and the API shows who is late.
 */

export interface NewNotice {
  id: string;
  title: string;
  text: string;
  requiredAction: string;
  deadline: string;
  units: string[];
  warningId?: string | null;
  issuedBy: Actor;
}

export type NoticeRefusal = {
  ok: false;
  reason: 'role' | 'scope' | 'invalid' | 'not-recipient' | 'done';
  message: string;
};
export type NoticeResult = { ok: true; notice: Notice } | NoticeRefusal;

export const MAX_TITLE_LENGTH = 200;
export const MAX_NOTICE_UNITS = 500;

export function issueNotice(input: NewNotice, now: Date): NoticeResult {
  if (!allows(input.issuedBy.role, 'notices.manage')) {
    return refuse('role', `role ${input.issuedBy.role} may not issue notices`);
  }
  const title = input.title.trim();
  const text = input.text.trim();
  const requiredAction = input.requiredAction.trim();
  if (title === '' || title.length > MAX_TITLE_LENGTH) {
    return refuse('invalid', `title: 1 to ${MAX_TITLE_LENGTH} characters`);
  }
  for (const [name, value] of [
    ['text', text],
    ['requiredAction', requiredAction],
  ] as const) {
    if (value === '' || value.length > MAX_NOTE_LENGTH) {
      return refuse('invalid', `${name}: 1 to ${MAX_NOTE_LENGTH} characters`);
    }
  }
  const units = [...new Set(input.units.map((unit) => unit.trim()))];
  if (units.length === 0 || units.length > MAX_NOTICE_UNITS || units.some((unit) => unit === '')) {
    return refuse('invalid', `units: 1 to ${MAX_NOTICE_UNITS} unit names`);
  }
  const deadline = Date.parse(input.deadline);
  if (Number.isNaN(deadline) || deadline <= now.getTime()) {
    return refuse('invalid', 'deadline: a time in the future');
  }
  return {
    ok: true,
    notice: {
      id: input.id,
      title,
      text,
      requiredAction,
      deadline: new Date(deadline).toISOString(),
      issuerUnit: input.issuedBy.unit,
      issuedBy: { ...input.issuedBy },
      issuedAt: now.toISOString(),
      warningId: input.warningId ?? null,
      recipients: units.map((unit) => ({
        unit,
        acknowledgedAt: null,
        acknowledgedBy: null,
        result: null,
        resultAt: null,
        resultBy: null,
      })),
    },
  };
}

/** A recipient unit's officer (or a collector-wide one) confirms the notice arrived. */
export function acknowledgeNotice(notice: Notice, unit: string, actor: Actor, now: Date): NoticeResult {
  const checked = checkRecipient(notice, unit, actor);
  if (!checked.ok) return checked;
  if (checked.recipient.acknowledgedAt !== null) {
    return refuse('done', `${unit} acknowledged this notice at ${checked.recipient.acknowledgedAt}`);
  }
  return withRecipient(notice, {
    ...checked.recipient,
    acknowledgedAt: now.toISOString(),
    acknowledgedBy: actor,
  });
}

/** The investigation (排查) result; reporting it acknowledges the notice too. Reported once. */
export function reportNoticeResult(
  notice: Notice,
  unit: string,
  actor: Actor,
  result: string,
  now: Date,
): NoticeResult {
  const checked = checkRecipient(notice, unit, actor);
  if (!checked.ok) return checked;
  const text = result.trim();
  if (text === '' || text.length > MAX_NOTE_LENGTH) {
    return refuse('invalid', `result: 1 to ${MAX_NOTE_LENGTH} characters`);
  }
  const current = checked.recipient;
  if (current.result !== null) return refuse('done', `${unit} reported its result at ${current.resultAt}`);
  const at = now.toISOString();
  return withRecipient(notice, {
    ...current,
    acknowledgedAt: current.acknowledgedAt ?? at,
    acknowledgedBy: current.acknowledgedBy ?? actor,
    result: text,
    resultAt: at,
    resultBy: actor,
  });
}

export type RecipientState = 'pending' | 'acknowledged' | 'reported';

/** Where a recipient stands, and whether it missed the deadline (reported late counts too). */
export function recipientStatus(
  notice: Pick<Notice, 'deadline'>,
  recipient: NoticeRecipient,
  now: Date,
): { state: RecipientState; overdue: boolean } {
  const state: RecipientState =
    recipient.result !== null ? 'reported' : recipient.acknowledgedAt !== null ? 'acknowledged' : 'pending';
  const overdue =
    recipient.resultAt !== null ? recipient.resultAt > notice.deadline : now.toISOString() > notice.deadline;
  return { state, overdue };
}

function checkRecipient(
  notice: Notice,
  unit: string,
  actor: Actor,
): { ok: true; recipient: NoticeRecipient } | NoticeRefusal {
  if (!allows(actor.role, 'notices.manage')) {
    return refuse('role', `role ${actor.role} may read notices but not answer them`);
  }
  if (actor.unit !== null && actor.unit !== unit) {
    return refuse('scope', `${actor.name} of ${actor.unit} may answer only for ${actor.unit}, not ${unit}`);
  }
  const recipient = notice.recipients.find((r) => r.unit === unit);
  if (!recipient) return refuse('not-recipient', `${unit} is not a recipient of notice ${notice.id}`);
  return { ok: true, recipient };
}

function withRecipient(notice: Notice, recipient: NoticeRecipient): NoticeResult {
  return {
    ok: true,
    notice: {
      ...notice,
      recipients: notice.recipients.map((r) => (r.unit === recipient.unit ? recipient : r)),
    },
  };
}

function refuse(reason: NoticeRefusal['reason'], message: string): NoticeRefusal {
  return { ok: false, reason, message };
}
