import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { UNIT, WarningsSite, type ApiWarning } from '../support/warnings-site.js';

/**
 * Silences that need a second approver, warning notices (预警通报) with acknowledgements, 排查
 * results and overdue recipients, unit scope and the OpenAPI document, on one real collector.
 */
const OTHER = '其他单位';
let site: WarningsSite;

beforeAll(async () => {
  site = await WarningsSite.start();
});
afterAll(async () => site?.stop());

interface ApiNotice {
  id: string;
  overdue: number;
  recipients: { unit: string; state: string; overdue: boolean; result: string | null }[];
}

describe('warning API', () => {
  it('lists every 第64条 route in the OpenAPI document, and requires a key', async () => {
    const response = await fetch(`${site.collector.httpUrl}/api/openapi.json`);
    const doc = (await response.json()) as { paths: Record<string, Record<string, unknown>> };
    for (const [path, method] of [
      ['/api/v1/warnings', 'get'],
      ['/api/v1/warnings/{id}', 'get'],
      ['/api/v1/warnings/{id}/transitions', 'post'],
      ['/api/v1/silences', 'post'],
      ['/api/v1/silences/{id}/approval', 'post'],
      ['/api/v1/silences/{id}', 'delete'],
      ['/api/v1/notices', 'post'],
      ['/api/v1/notices/{id}/acknowledgements', 'post'],
      ['/api/v1/notices/{id}/results', 'post'],
    ] as const) {
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
    const anonymous = await fetch(`${site.collector.httpUrl}/api/v1/warnings`);
    expect(anonymous.status).toBe(401);
    const badFilter = await site.api<{ error: string }>('/api/v1/warnings?state=open');
    expect(badFilter.status).toBe(400);
    expect(badFilter.body.error).toMatch(/state/);
  });

  it('a silence of a critical warning on a host of unknown level mutes only after a second person approves', async () => {
    const connected = {
      type: 'net.wireless.connected',
      key: 'net.wireless.connected:wlp2s0',
      severity: 'critical',
      data: { iface: 'wlp2s0', ssid: 'cafe', bssid: '00:11:22:33:44:66' },
    };
    const endsAt = new Date(Date.now() + 3_600_000).toISOString();
    const created = await site.api<{ id: string }>('/api/v1/silences', {
      body: { matcher: { rule: 'wireless-connected' }, endsAt, reason: '演练' },
    });
    expect(created.status).toBe(201);
    const before = site.receiver.received.length;
    const first = await site.addAgent();
    await first.publish(connected);
    await site.settled();
    const [unapproved] = (await site.warnings()).filter((w) => w.agent === first.agent.id);
    expect(unapproved!.severity).toBe('critical');
    // Awaiting approval, the silence does not mute a critical warning: it is delivered.
    await eventually(() => site.receiver.received.length > before, { what: 'the critical notification' });

    const self = await site.api<{ reason: string }>(`/api/v1/silences/${created.body.id}/approval`, {
      body: {},
      method: 'POST',
    });
    expect(self).toMatchObject({ status: 403, body: { reason: 'same-person' } });
    const viewer = await site.api(`/api/v1/silences/${created.body.id}/approval`, {
      key: 'viewer',
      body: {},
    });
    expect(viewer.status).toBe(403);
    const approved = await site.api<{ approvedBy: { name: string } }>(
      `/api/v1/silences/${created.body.id}/approval`,
      { key: 'officer2', body: {} },
    );
    expect(approved).toMatchObject({ status: 200, body: { approvedBy: { name: 'bob' } } });

    const second = await site.addAgent();
    await second.publish(connected);
    await site.settled();
    const [muted] = (await site.warnings()).filter((w) => w.agent === second.agent.id);
    await eventually(
      async () =>
        (await site.collector.store.warnings.listNotifications({ warningId: muted!.id, limit: 1 }))[0]
          ?.state === 'muted',
      { what: 'the second warning muted' },
    );
    // Muted is not hidden: both warnings are listed for the unit.
    const critical = await site.warnings('?severity=critical');
    expect(critical.map((w: ApiWarning) => w.agent).sort()).toEqual([first.agent.id, second.agent.id].sort());
  });

  it('issues a notice; recipients acknowledge and report 排查 results; late ones show as overdue', async () => {
    const deadline = new Date(Date.now() + 1500).toISOString();
    const body = {
      title: '关于排查无线网卡的预警通报',
      text: '多台涉密计算机发现无线网卡。',
      requiredAction: '立即排查本单位全部涉密计算机并报告结果。',
      deadline,
      units: [UNIT, OTHER],
    };
    const outside = await site.api<{ reason: string }>('/api/v1/notices', { body });
    expect(outside).toMatchObject({ status: 403, body: { reason: 'scope' } });
    expect(
      (await site.api('/api/v1/notices', { key: 'viewer', body: { ...body, units: [UNIT] } })).status,
    ).toBe(403);
    const past = await site.api('/api/v1/notices', {
      key: 'allUnits',
      body: { ...body, deadline: '2020-01-01T00:00:00Z' },
    });
    expect(past.status).toBe(400);

    const issued = await site.api<ApiNotice>('/api/v1/notices', { key: 'allUnits', body });
    expect(issued.status).toBe(201);
    const id = issued.body.id;
    expect(issued.body.recipients.map((r) => [r.unit, r.state, r.overdue])).toEqual([
      [UNIT, 'pending', false],
      [OTHER, 'pending', false],
    ]);

    const ack = await site.api<ApiNotice>(`/api/v1/notices/${id}/acknowledgements`, { body: {} });
    expect(ack.status).toBe(200);
    expect((await site.api(`/api/v1/notices/${id}/acknowledgements`, { body: {} })).status).toBe(409);
    expect(
      (await site.api(`/api/v1/notices/${id}/results`, { body: { unit: OTHER, result: '代答' } })).status,
    ).toBe(403);
    const reported = await site.api<ApiNotice>(`/api/v1/notices/${id}/results`, {
      body: { result: '已排查32台，拆除无线网卡2块' },
    });
    expect(reported.body.recipients[0]).toMatchObject({ unit: UNIT, state: 'reported', overdue: false });

    // The other unit misses the deadline: the notice shows it overdue, to the issuer and to it.
    const overdue = await eventually(
      async () => {
        const { body: notice } = await site.api<ApiNotice>(`/api/v1/notices/${id}`, { key: 'allUnits' });
        return notice.overdue === 1 && notice;
      },
      { what: 'the late recipient marked overdue' },
    );
    expect(overdue.recipients.map((r) => [r.unit, r.state, r.overdue])).toEqual([
      [UNIT, 'reported', false],
      [OTHER, 'pending', true],
    ]);
    const theirs = await site.api<{ items: ApiNotice[] }>('/api/v1/notices', { key: 'otherUnit' });
    expect(theirs.body.items.map((n) => n.id)).toContain(id);
    const late = await site.api<ApiNotice>(`/api/v1/notices/${id}/results`, {
      key: 'otherUnit',
      body: { result: '已排查，未发现问题' },
    });
    expect(late.body.recipients[1]).toMatchObject({ unit: OTHER, state: 'reported', overdue: true });
  });
});
