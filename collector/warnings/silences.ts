import { SEVERITIES } from '../../shared/levels.js';
import { allows } from '../auth/permissions.js';
import { MAX_NOTE_LENGTH } from './lifecycle.js';
import type { Actor, Silence, SilenceMatcher, Warning } from '../store/warnings/records.js';

export type { Silence, SilenceMatcher } from '../store/warnings/records.js';

/**
 * Silences (Alertmanager's model): a matcher, a time window, an author and a reason. A silence
 * only mutes notifications. It never hides a warning from a list or the dashboard, never changes
 * its state, and never stops or delays a legal clock (第35条 reminders, 第61条 report deadlines,
 * notice deadlines): those clocks do not consult silences at all. SPEC §7: "Muting or
 * silencing a warning never stops a legal clock."
 */

export type SilenceResult =
  | { ok: true; silence: Silence }
  | {
      ok: false;
      reason: 'role' | 'reason-required' | 'matcher-empty' | 'window' | 'same-person' | 'approved';
      message: string;
      /** The same refusal in Chinese, for the dashboard. */
      messageZh?: string;
    };

export type NewSilence = Pick<Silence, 'id' | 'matcher' | 'startsAt' | 'endsAt' | 'author' | 'reason'>;

export function createSilence(input: NewSilence, now: Date): SilenceResult {
  if (!allows(input.author.role, 'silences.manage')) {
    return { ok: false, reason: 'role', message: `role ${input.author.role} may not create silences` };
  }
  const reason = input.reason.trim();
  if (reason === '' || reason.length > MAX_NOTE_LENGTH) {
    return {
      ok: false,
      reason: 'reason-required',
      message: `a silence needs a reason (1 to ${MAX_NOTE_LENGTH} characters)`,
      messageZh: `暂停通知必须填写原因（1至${MAX_NOTE_LENGTH}字）`,
    };
  }
  // An empty matcher would mute every warning of the collector: never what anyone means.
  const { data, ...fields } = input.matcher;
  const given =
    Object.values(fields).filter((value) => value !== undefined).length + Object.keys(data ?? {}).length;
  if (given === 0)
    return {
      ok: false,
      reason: 'matcher-empty',
      message: 'a silence must match at least one field',
      messageZh: '暂停通知至少要有一个匹配条件',
    };
  if (input.matcher.severity !== undefined && !SEVERITIES.includes(input.matcher.severity)) {
    return {
      ok: false,
      reason: 'matcher-empty',
      message: `severity must be one of ${SEVERITIES.join(', ')}`,
    };
  }
  const starts = Date.parse(input.startsAt);
  const ends = Date.parse(input.endsAt);
  if (Number.isNaN(starts) || Number.isNaN(ends) || ends <= starts || ends <= now.getTime()) {
    return {
      ok: false,
      reason: 'window',
      message: 'a silence must end after it starts, and in the future',
      messageZh: '暂停通知的结束时间必须晚于开始时间，且在将来',
    };
  }
  return {
    ok: true,
    silence: {
      id: input.id,
      matcher: structuredClone(input.matcher),
      startsAt: new Date(starts).toISOString(),
      endsAt: new Date(ends).toISOString(),
      author: { ...input.author },
      reason,
      createdAt: now.toISOString(),
      approvedBy: null,
    },
  };
}

/** The second approver: a different person with a handling role. */
export function approveSilence(silence: Silence, approver: Actor, now: Date): SilenceResult {
  if (!allows(approver.role, 'silences.manage')) {
    return { ok: false, reason: 'role', message: `role ${approver.role} may not approve silences` };
  }
  if (approver.name === silence.author.name) {
    return {
      ok: false,
      reason: 'same-person',
      message: 'the approver must be a different person from the author',
    };
  }
  if (silence.approvedBy) {
    return { ok: false, reason: 'approved', message: `already approved by ${silence.approvedBy.name}` };
  }
  return { ok: true, silence: { ...silence, approvedBy: { ...approver, at: now.toISOString() } } };
}

/**
 * Muting the most serious warnings takes two people. A warning whose host level is unknown
 * counts as 绝密: the cost of a second signature is small, a wrongly muted leak is not.
 */
export function requiresSecondApprover(warning: Pick<Warning, 'severity' | 'level'>): boolean {
  return warning.severity === 'critical' && (warning.level === '绝密' || warning.level === null);
}

export function silenceMatches(matcher: SilenceMatcher, warning: Warning): boolean {
  if (matcher.rule !== undefined && matcher.rule !== warning.rule) return false;
  if (matcher.severity !== undefined && matcher.severity !== warning.severity) return false;
  if (
    matcher.agent !== undefined &&
    !(warning.agent === matcher.agent || warning.agents.includes(matcher.agent))
  ) {
    return false;
  }
  if (matcher.unit !== undefined && matcher.unit !== warning.unit) return false;
  if (matcher.key !== undefined && matcher.key !== warning.key) return false;
  for (const [field, value] of Object.entries(matcher.data ?? {})) {
    const actual = Object.hasOwn(warning.sample.data, field) ? warning.sample.data[field] : undefined;
    if (actual !== value) return false;
  }
  return true;
}

export function isActive(silence: Silence, now: Date): boolean {
  const t = now.getTime();
  return Date.parse(silence.startsAt) <= t && t < Date.parse(silence.endsAt);
}

export interface SilenceStatus {
  /** The silence that mutes the warning now, if any. */
  mutedBy: Silence | undefined;
  /** Active, matching silences that wait for a second approver before they mute this warning. */
  awaitingApproval: Silence[];
}

export function silenceStatus(warning: Warning, silences: readonly Silence[], now: Date): SilenceStatus {
  const needsTwo = requiresSecondApprover(warning);
  let mutedBy: Silence | undefined;
  const awaitingApproval: Silence[] = [];
  for (const silence of silences) {
    if (!isActive(silence, now) || !silenceMatches(silence.matcher, warning)) continue;
    if (needsTwo && !approvedBySomeoneElse(silence)) awaitingApproval.push(silence);
    else mutedBy ??= silence;
  }
  return { mutedBy, awaitingApproval };
}

/** Whether notifications of this warning are muted now. Lists, states and legal clocks ignore it. */
export function isSilenced(warning: Warning, silences: readonly Silence[], now: Date): boolean {
  return silenceStatus(warning, silences, now).mutedBy !== undefined;
}

function approvedBySomeoneElse(silence: Silence): boolean {
  // Checked again here, not only at approval, so a hand-edited row cannot approve itself.
  const approver = silence.approvedBy;
  return (
    approver !== null && approver.name !== silence.author.name && allows(approver.role, 'silences.manage')
  );
}
