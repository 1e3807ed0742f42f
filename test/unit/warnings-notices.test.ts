import { describe, expect, it } from 'vitest';
import {
  acknowledgeNotice,
  issueNotice,
  recipientStatus,
  reportNoticeResult,
  type NewNotice,
  type Notice,
} from '../../collector/warnings/notices.js';
import type { Actor } from '../../collector/warnings/warning.js';

const NOW = new Date('2026-11-26T08:00:00Z');
const at = (hours: number) => new Date(NOW.getTime() + hours * 3_600_000);
const chief: Actor = { name: 'chief', role: 'secadmin', unit: null };
const alice: Actor = { name: 'alice', role: 'secadmin', unit: 'u1' };
const olga: Actor = { name: 'olga', role: 'secadmin', unit: 'u2' };
const victor: Actor = { name: 'victor', role: 'viewer', unit: 'u1' };

function input(over: Partial<NewNotice> = {}): NewNotice {
  return {
    id: 'n-1',
    title: ' 无线网卡排查 ',
    text: '发现无线网卡',
    requiredAction: '排查并报告',
    deadline: at(24).toISOString(),
    units: ['u1', 'u2', 'u1'],
    issuedBy: chief,
    ...over,
  };
}

function issued(): Notice {
  const result = issueNotice(input(), NOW);
  if (!result.ok) throw new Error(result.message);
  return result.notice;
}

describe('warning notices (预警通报)', () => {
  it('issues to each unit once, trimmed, with the issuer and time', () => {
    const notice = issued();
    expect(notice).toMatchObject({ title: '无线网卡排查', issuerUnit: null, issuedAt: NOW.toISOString() });
    expect(notice.recipients.map((r) => r.unit)).toEqual(['u1', 'u2']);
  });

  it.each([
    [{ issuedBy: victor }, 'role'],
    [{ title: '  ' }, 'invalid'],
    [{ text: '' }, 'invalid'],
    [{ requiredAction: 'x'.repeat(4001) }, 'invalid'],
    [{ units: [] }, 'invalid'],
    [{ units: [' '] }, 'invalid'],
    [{ deadline: at(-1).toISOString() }, 'invalid'],
    [{ deadline: 'tomorrow' }, 'invalid'],
  ] as [Partial<NewNotice>, string][])('refuses %o as %s', (over, reason) => {
    expect(issueNotice(input(over), NOW)).toMatchObject({ ok: false, reason });
  });

  it('a recipient acknowledges once, for its own unit only', () => {
    const notice = issued();
    expect(acknowledgeNotice(notice, 'u2', alice, at(1))).toMatchObject({ ok: false, reason: 'scope' });
    expect(acknowledgeNotice(notice, 'u3', chief, at(1))).toMatchObject({
      ok: false,
      reason: 'not-recipient',
    });
    expect(acknowledgeNotice(notice, 'u1', victor, at(1))).toMatchObject({ ok: false, reason: 'role' });
    const acked = acknowledgeNotice(notice, 'u1', alice, at(1));
    if (!acked.ok) throw new Error(acked.message);
    expect(acked.notice.recipients[0]).toMatchObject({
      acknowledgedAt: at(1).toISOString(),
      acknowledgedBy: alice,
    });
    expect(acknowledgeNotice(acked.notice, 'u1', alice, at(2))).toMatchObject({ ok: false, reason: 'done' });
  });

  it('reporting the 排查 result acknowledges too, once; a result needs text', () => {
    const notice = issued();
    expect(reportNoticeResult(notice, 'u2', olga, '   ', at(1))).toMatchObject({
      ok: false,
      reason: 'invalid',
    });
    const reported = reportNoticeResult(notice, 'u2', olga, '已排查', at(1));
    if (!reported.ok) throw new Error(reported.message);
    expect(reported.notice.recipients[1]).toMatchObject({
      acknowledgedAt: at(1).toISOString(),
      result: '已排查',
      resultBy: olga,
    });
    expect(reportNoticeResult(reported.notice, 'u2', olga, '再报', at(2))).toMatchObject({
      ok: false,
      reason: 'done',
    });
  });

  it('is overdue without a result past the deadline, or with a result after it', () => {
    const notice = issued();
    const [u1] = notice.recipients;
    expect(recipientStatus(notice, u1!, at(23))).toEqual({ state: 'pending', overdue: false });
    expect(recipientStatus(notice, u1!, at(25))).toEqual({ state: 'pending', overdue: true });
    const acked = acknowledgeNotice(notice, 'u1', alice, at(1));
    if (!acked.ok) throw new Error(acked.message);
    expect(recipientStatus(acked.notice, acked.notice.recipients[0]!, at(25))).toEqual({
      state: 'acknowledged',
      overdue: true,
    });
    const onTime = reportNoticeResult(notice, 'u1', alice, '无异常', at(23));
    const late = reportNoticeResult(notice, 'u1', alice, '无异常', at(30));
    if (!onTime.ok || !late.ok) throw new Error('refused');
    expect(recipientStatus(notice, onTime.notice.recipients[0]!, at(48))).toEqual({
      state: 'reported',
      overdue: false,
    });
    expect(recipientStatus(notice, late.notice.recipients[0]!, at(48))).toEqual({
      state: 'reported',
      overdue: true,
    });
  });
});
