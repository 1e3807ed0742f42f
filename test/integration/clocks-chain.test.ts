import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/server.js';
import { ManualClock } from '../../shared/clock.js';
import { OFF_SYSTEM_ADVICE } from '../../collector/clocks/report-chain.js';
import { createEnrollmentToken } from '../../collector/auth/enrollment-tokens.js';
import { agentTopic } from '../../shared/topics.js';
import {
  connectAsAgent,
  enrollOverHttp,
  makeTestAgent,
  nextAck,
  signedEvent,
  tempDir,
} from '../support/collector-harness.js';
import { apiClient, type Json, keyFor, RecordingSink, startClockCollector } from './clocks-harness.js';

/**
 * The 第61条 chain through the API of a real collector, in simulated time (ManualClock). A unit
 * (below county level) discovers a leak at D = 2026-03-01T02:00Z (10:00 Shanghai).
 *
 * | hop                | starts               | due (UTC)     | reported      | received      | result              |
 * | unit>county        | D                    | 03-02 02:00   | 03-01 20:00   | 03-01 20:30   | on time             |
 * | unit>superior-dept | D                    | 03-02 02:00   | 03-02 05:00   | 03-02 05:00   | late 3h00m, warned  |
 * | county>city        | 03-01 20:30 receipt  | 03-02 20:30   | 03-02 19:00   | 03-02 19:10 * | on time; T−2 h said |
 * | city>province      | 03-02 19:10 receipt  | 03-03 19:10   | 03-03 21:00   | 03-03 21:30   | late 2h20m, warned  |
 * | province>national  | 03-03 21:30 receipt  | 03-04 21:30   | 03-04 08:00   | 03-04 08:05   | on time             |
 * * receipt recorded after the report, through …/reports/{id}/receipt. Lateness is by receipt.
 * End to end: D → national receipt 03-04 08:05 = 78h05m.
 */
describe('clocks API: the 24 h report chain', () => {
  const clock = new ManualClock('2026-03-01T02:10:00Z');
  const sink = new RecordingSink();
  let dir: ReturnType<typeof tempDir>;
  let collector: RunningCollector;
  let call: ReturnType<typeof apiClient>;
  let officer: string;
  let viewer: string;

  beforeAll(async () => {
    dir = tempDir('smew-clocks-chain-');
    collector = await startClockCollector(dir.path, clock, sink);
    call = apiClient(collector);
    officer = await keyFor(collector, 'secadmin', '一处');
    viewer = await keyFor(collector, 'viewer', '一处');
  });
  afterAll(async () => {
    await collector.stop();
    dir.remove();
  });

  /** What node-cron does in production: a pass at the clock's current time. */
  async function at(time: string) {
    clock.set(time);
    await collector.clocks.runPass('test');
    return sink.take();
  }

  const hopsOf = (incident: Json) =>
    incident.hops.map((h: Json) => [h.id, h.dueAt, h.reportedAt, h.receivedAt, h.state, h.late, h.lateByMs]);

  it('runs county → city → province → national with two hops late, each late one warned and measured', async () => {
    const created = await call('POST', '/api/v1/incidents', officer, {
      title: '涉密文件经互联网邮箱外发',
      level: '机密',
      discoveredAt: '2026-03-01T10:00:00+08:00',
      measures: '断开网络，收回文件，封存终端',
      description: '办公室终端向外部邮箱发送标有机密的文件',
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect(created.body).toMatchObject({
      discoveredAt: '2026-03-01T02:00:00.000Z',
      discoverySource: 'manual',
      unitLevel: 'unit',
      measures: [
        { what: '断开网络，收回文件，封存终端', by: 'secadmin-一处', at: '2026-03-01T02:10:00.000Z' },
      ],
      endToEndMs: null,
      endToEnd: null,
    });
    // Both first hops are due 24 h after discovery; the onward hops wait for receipts.
    expect(hopsOf(created.body)).toEqual([
      ['unit>county', '2026-03-02T02:00:00.000Z', null, null, 'pending', false, null],
      ['unit>superior-dept', '2026-03-02T02:00:00.000Z', null, null, 'pending', false, null],
      ['county>city', null, null, null, 'unstarted', false, null],
      ['city>province', null, null, null, 'unstarted', false, null],
      ['province>national', null, null, null, 'unstarted', false, null],
    ]);

    expect((await at('2026-03-01T13:59:59Z')).length).toBe(0);
    expect((await at('2026-03-01T14:00:00Z')).map((c) => [c.type, c.data.hop, c.severity])).toEqual([
      ['incident.report.reminder', 'unit>county', 'high'],
      ['incident.report.reminder', 'unit>superior-dept', 'high'],
    ]);

    clock.set('2026-03-01T20:30:00Z');
    const toCounty = await call('POST', `/api/v1/incidents/${id}/reports`, officer, {
      to: 'same-level-admin',
      reportedAt: '2026-03-01T20:00:00Z',
      receivedAt: '2026-03-01T20:30:00Z',
      channel: 'system',
      receipt: '县保密局回执 001',
    });
    expect(toCounty.status).toBe(201);
    expect(toCounty.body.hops[2]).toMatchObject({
      id: 'county>city',
      startedAt: '2026-03-01T20:30:00.000Z',
      dueAt: '2026-03-02T20:30:00.000Z',
      state: 'pending',
    });
    expect(sink.take().map((c) => [c.type, c.state, c.data.hop])).toEqual([
      ['incident.report.reminder', 'cleared', 'unit>county'],
    ]);

    // The superior department was not told in time: a critical warning for the county.
    const missed = await at('2026-03-02T02:00:30Z');
    expect(missed).toEqual([
      expect.objectContaining({
        type: 'incident.report.late',
        state: 'raised',
        severity: 'critical',
        key: `incident.report.late:${id}:unit>superior-dept`,
        unit: '一处',
        data: expect.objectContaining({ hop: 'unit>superior-dept', escalatesTo: 'county', late: false }),
      }),
    ]);
    const overdue = await call('GET', `/api/v1/incidents/${id}`, viewer);
    expect(overdue.body.hops[1]).toMatchObject({ state: 'overdue', late: true, lateByMs: 30_000 });

    clock.set('2026-03-02T05:10:00Z');
    // The 上级主管部门 has no collector: the paper handed over is recorded here with its receipt.
    const toDept = await call('POST', `/api/v1/incidents/${id}/reports`, officer, {
      to: 'superior-dept',
      reportedAt: '2026-03-02T05:00:00Z',
      receivedAt: '2026-03-02T05:00:00Z',
      channel: 'paper',
      by: '李主任',
      receipt: '主管部门办公室 签收',
    });
    expect(toDept.body.hops[1]).toMatchObject({ state: 'done', late: true, lateByMs: 3 * 3_600_000 });
    // Each reminder has its own key (the T−2 h one opens its own notice): both are cleared, the
    // T−2 h one too though the miss overtook it (a clear with nothing open is a no-op).
    expect(sink.take().map((c) => [c.type, c.state, c.data.hop, c.key.split(':').at(-1)])).toEqual([
      ['incident.report.reminder', 'cleared', 'unit>superior-dept', 'reminder-12h'],
      ['incident.report.reminder', 'cleared', 'unit>superior-dept', 'reminder-2h'],
      ['incident.report.late', 'cleared', 'unit>superior-dept', 'unit>superior-dept'],
    ]);

    clock.set('2026-03-02T19:05:00Z');
    const toCity = await call('POST', `/api/v1/incidents/${id}/reports`, officer, {
      from: 'county',
      to: 'city',
      reportedAt: '2026-03-02T19:00:00Z',
      channel: 'paper',
    });
    expect(toCity.body.hops[3]).toMatchObject({ id: 'city>province', state: 'unstarted', dueAt: null });
    // Sent on paper 90 minutes before T, not received: the hop is not made, and the T−2 h
    // reminder says to report by phone or on paper and record it (SPEC §7).
    expect(toCity.body.hops[2]).toMatchObject({ state: 'sent', late: false, offSystemDue: true });
    expect(sink.take().map((c) => [c.type, c.state, c.data.hop, c.data.advice])).toEqual([
      ['incident.report.reminder', 'raised', 'county>city', OFF_SYSTEM_ADVICE.zh],
    ]);
    const reportId = toCity.body.hops[2].reportIds[0] as number;
    clock.set('2026-03-02T19:20:00Z');
    const receipt = await call('POST', `/api/v1/incidents/${id}/reports/${reportId}/receipt`, officer, {
      receivedAt: '2026-03-02T19:10:00Z',
      receipt: '市保密局 王值班',
    });
    expect(receipt.status).toBe(200);
    expect(receipt.body.hops[3]).toMatchObject({ dueAt: '2026-03-03T19:10:00.000Z', state: 'pending' });
    expect(receipt.body.hops[2]).toMatchObject({ state: 'done', late: false, offSystemDue: false });
    expect(sink.take().map((c) => [c.type, c.state, c.data.hop])).toEqual([
      ['incident.report.reminder', 'cleared', 'county>city'],
    ]);

    const cityLate = await at('2026-03-03T19:11:00Z');
    // Besides, 24 h after the county's receipt (03-01 20:30) it is not national: held by the city.
    expect(cityLate.map((c) => [c.type, c.data.hop, c.data.escalatesTo, c.data.heldBy])).toEqual([
      ['incident.report.stuck', 'end-to-end', 'national', 'city'],
      ['incident.report.late', 'city>province', 'province', undefined],
    ]);

    clock.set('2026-03-03T21:40:00Z');
    await call('POST', `/api/v1/incidents/${id}/reports`, officer, {
      from: 'city',
      to: 'province',
      reportedAt: '2026-03-03T21:00:00Z',
      receivedAt: '2026-03-03T21:30:00Z',
      channel: 'system',
    });
    clock.set('2026-03-04T09:00:00Z');
    const done = await call('POST', `/api/v1/incidents/${id}/reports`, officer, {
      from: 'province',
      to: 'national',
      reportedAt: '2026-03-04T08:00:00Z',
      receivedAt: '2026-03-04T08:05:00Z',
      channel: 'system',
      receipt: '国家保密局 签收',
    });
    expect(hopsOf(done.body)).toEqual([
      [
        'unit>county',
        '2026-03-02T02:00:00.000Z',
        '2026-03-01T20:00:00.000Z',
        '2026-03-01T20:30:00.000Z',
        'done',
        false,
        null,
      ],
      [
        'unit>superior-dept',
        '2026-03-02T02:00:00.000Z',
        '2026-03-02T05:00:00.000Z',
        '2026-03-02T05:00:00.000Z',
        'done',
        true,
        3 * 3_600_000,
      ],
      [
        'county>city',
        '2026-03-02T20:30:00.000Z',
        '2026-03-02T19:00:00.000Z',
        '2026-03-02T19:10:00.000Z',
        'done',
        false,
        null,
      ],
      [
        'city>province',
        '2026-03-03T19:10:00.000Z',
        '2026-03-03T21:00:00.000Z',
        '2026-03-03T21:30:00.000Z',
        'done',
        true,
        140 * 60_000, // by the receipt at 21:30, not the send at 21:00
      ],
      [
        'province>national',
        '2026-03-04T21:30:00.000Z',
        '2026-03-04T08:00:00.000Z',
        '2026-03-04T08:05:00.000Z',
        'done',
        false,
        null,
      ],
    ]);
    expect(done.body).toMatchObject({
      nationalReceivedAt: '2026-03-04T08:05:00.000Z',
      endToEndMs: 78 * 3_600_000 + 5 * 60_000,
      endToEnd: '78h05m',
    });
    expect(done.body.reports.map((r: Json) => [r.from, r.to, r.channel, r.receipt])).toEqual([
      ['unit', 'same-level-admin', 'system', '县保密局回执 001'],
      ['unit', 'superior-dept', 'paper', '主管部门办公室 签收'],
      ['county', 'city', 'paper', '市保密局 王值班'],
      ['city', 'province', 'system', null],
      ['province', 'national', 'system', '国家保密局 签收'],
    ]);
    // Each warning fired exactly once.
    const fires = done.body.reminders.filter((r: Json) => r.outcome === 'fired');
    expect(fires.map((r: Json) => [r.hop, r.kind])).toEqual([
      ['unit>county', 'reminder-12h'],
      ['unit>superior-dept', 'reminder-12h'],
      ['unit>superior-dept', 'missed'],
      ['county>city', 'reminder-2h'],
      ['end-to-end', 'missed'],
      ['city>province', 'missed'],
    ]);
    expect((await call('GET', '/api/v1/incidents', viewer)).body.items.map((i: Json) => i.id)).toEqual([id]);
  });

  it('refuses reports that fit no hop, come before discovery or from the future', async () => {
    clock.set('2026-03-04T09:00:00Z');
    const created = await call('POST', '/api/v1/incidents', officer, {
      title: '存储介质丢失',
      level: '秘密',
      discoveredAt: '2026-03-04T08:00:00Z',
    });
    const id = created.body.id as string;
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { from: 'city', to: 'national', reportedAt: '2026-03-04T08:30:00Z', channel: 'system' },
        /^to: a report from city to national is no hop/,
      ],
      [
        { to: 'same-level-admin', reportedAt: '2026-03-04T07:00:00Z', channel: 'system' },
        /^reportedAt: .* before the discovery/,
      ],
      [
        { to: 'same-level-admin', reportedAt: '2026-03-05T08:00:00Z', channel: 'system' },
        /^reportedAt: .* in the future/,
      ],
      [
        {
          to: 'same-level-admin',
          reportedAt: '2026-03-04T08:30:00Z',
          receivedAt: '2026-03-04T08:00:00Z',
          channel: 'system',
        },
        /^receivedAt: cannot be before/,
      ],
      [{ to: 'same-level-admin', reportedAt: '2026-03-04T08:30:00Z', channel: 'email' }, /channel/],
      [{ to: 'same-level-admin', reportedAt: 'yesterday', channel: 'system' }, /reportedAt/],
    ];
    for (const [body, message] of cases) {
      const reply = await call('POST', `/api/v1/incidents/${id}/reports`, officer, body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.error).toMatch(message);
    }
    const denied = await call('POST', `/api/v1/incidents/${id}/reports`, viewer, {
      to: 'same-level-admin',
      reportedAt: '2026-03-04T08:30:00Z',
      channel: 'system',
    });
    expect(denied.status).toBe(403);
    expect((await call('GET', '/api/v1/incidents/inc-nope', viewer)).status).toBe(404);
  });

  it('keeps the attested time of signed evidence beside the discovery the officer enters', async () => {
    clock.set('2026-03-04T09:00:00Z');
    const { token } = await createEnrollmentToken(collector.store, { unit: '一处', clock });
    const agent = makeTestAgent();
    const enrolled = await enrollOverHttp(collector.httpUrl, agent, token);
    const client = await connectAsAgent(
      enrolled.broker.url,
      enrolled.broker.username,
      enrolled.broker.password,
    );
    try {
      const acked = nextAck(client, agent.id, (ack) => ack.ack >= 1);
      const envelope = signedEvent(agent, 1, { ts: '2026-03-04T07:30:00.000Z' });
      await client.publishAsync(agentTopic(agent.id, 'events'), JSON.stringify(envelope), { qos: 1 });
      await acked;
    } finally {
      await client.endAsync();
    }
    const events = await call('GET', `/api/v1/events?agent=${agent.id}`, officer);
    const eventId = events.body.items[0].id as number;

    // Discovery is when the unit found the leak, not when the evidence began (SPEC §7): an
    // incident recorded by hand must say when; the evidence times are kept beside it.
    const undated = await call('POST', '/api/v1/incidents', officer, {
      title: '涉密终端接入无线网卡',
      level: '秘密',
      evidence: [eventId],
    });
    expect(undated.status).toBe(400);
    expect(undated.body.error).toMatch(/^discoveredAt: required/);
    const created = await call('POST', '/api/v1/incidents', officer, {
      title: '涉密终端接入无线网卡',
      level: '秘密',
      evidence: [eventId],
      discoveredAt: '2026-03-04T08:40:00Z',
      measures: '拔除网卡',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      discoveredAt: '2026-03-04T08:40:00.000Z',
      discoverySource: 'manual',
      evidenceFrom: '2026-03-04T07:30:00.000Z',
      evidenceTo: '2026-03-04T07:30:00.000Z',
      evidence: [eventId],
    });
    expect(created.body.hops[0].dueAt).toBe('2026-03-05T08:40:00.000Z');

    // Another unit cannot cite this unit's evidence.
    const other = await keyFor(collector, 'secadmin', '二处');
    const refused = await call('POST', '/api/v1/incidents', other, {
      title: 'x',
      level: '秘密',
      evidence: [eventId],
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe(`evidence: no stored event ${eventId}`);
  });
});

describe('clocks API: the unit reports by its own rank (第61条 同级, SPEC §7)', () => {
  const clock = new ManualClock('2026-03-01T02:10:00Z');
  const sink = new RecordingSink();
  let dir: ReturnType<typeof tempDir>;
  let collector: RunningCollector;
  let call: ReturnType<typeof apiClient>;
  let officer: string;

  beforeAll(async () => {
    dir = tempDir('smew-clocks-rank-');
    // A 省直机关 whose collector sits at unit level, below a county collector.
    collector = await startClockCollector(dir.path, clock, sink, { clocks: { unitRank: 'province' } });
    call = apiClient(collector);
    officer = await keyFor(collector, 'secadmin', '一处');
  });
  afterAll(async () => {
    await collector.stop();
    dir.remove();
  });

  it('chains to the province, and the 上级主管部门 hop is recorded by hand with its receipt', async () => {
    const created = await call('POST', '/api/v1/incidents', officer, {
      title: '涉密文件遗失',
      level: '机密',
      discoveredAt: '2026-03-01T02:00:00Z',
      measures: '封存登记簿，组织查找',
    });
    expect(created.status).toBe(201);
    expect(created.body.unitLevel).toBe('province');
    expect(created.body.hops.map((h: Json) => h.id)).toEqual([
      'unit>province',
      'unit>superior-dept',
      'province>national',
    ]);
    const id = created.body.id as string;
    clock.set('2026-03-01T06:00:00Z');
    const byPhone = await call('POST', `/api/v1/incidents/${id}/reports`, officer, {
      to: 'same-level-admin',
      reportedAt: '2026-03-01T05:30:00Z',
      channel: 'phone',
      receipt: '省保密局值班室 刘',
    });
    expect(byPhone.status).toBe(201);
    // A call arrives as it is made: the province's own 24 h run from it.
    expect(byPhone.body.hops[0]).toMatchObject({ state: 'done', receivedAt: '2026-03-01T05:30:00.000Z' });
    expect(byPhone.body.hops[2]).toMatchObject({ dueAt: '2026-03-02T05:30:00.000Z', state: 'pending' });
    const toDept = await call('POST', `/api/v1/incidents/${id}/reports`, officer, {
      to: 'superior-dept',
      reportedAt: '2026-03-01T05:40:00Z',
      receivedAt: '2026-03-01T05:55:00Z',
      channel: 'paper',
      by: '王处长',
      receipt: '主管厅办公室 收文 0301-07',
    });
    expect(toDept.body.hops[1]).toMatchObject({
      id: 'unit>superior-dept',
      state: 'done',
      late: false,
      receivedAt: '2026-03-01T05:55:00.000Z',
    });
    expect(toDept.body.reports.at(-1)).toMatchObject({
      from: 'province',
      to: 'superior-dept',
      channel: 'paper',
      by: '王处长',
      receipt: '主管厅办公室 收文 0301-07',
      recordedBy: expect.any(String),
    });
    // A county is no hop of this unit's chain.
    const county = await call('POST', `/api/v1/incidents/${id}/reports`, officer, {
      to: 'county',
      reportedAt: '2026-03-01T05:45:00Z',
      channel: 'system',
    });
    expect(county.status).toBe(400);
  });
});

/**
 * The chain, extended (issue 16 items 9, 11, 12), one step per row in simulated time. A unit
 * discovers a leak at D = 2026-05-01T02:00Z and records no measure at first.
 *
 * | at      | step                                              | answer | what the chain says                        |
 * | D+10m   | report to the county by phone                     | 409    | measures first (第61条)                     |
 * | D+10m   | report to the 上级主管部门 on paper                | 409    | measures first                              |
 * | D+15m   | measure 断网 (by 张三 at D+5m)                     | 201    | one measure                                 |
 * | D+20m   | report to the county, received D+20m              | 201    | end to end due D+24h20m                     |
 * | D+1h    | 上级主管部门 on paper, received                    | 201    |                                             |
 * | D+6h    | county → city, received D+6h                      | 201    | held by the city                            |
 * | D+24h21m| clock pass                                        | —      | stuck warning: held by city, city>province |
 * | D+25h   | city → province, received                         | 201    | held by the province, still late            |
 * | D+26h   | province → national, received                     | 201    | done, late 1h40m; the warning is cleared    |
 * | D+27h   | closure report before closing                     | 409    | close first (第60条)                        |
 * | D+27h   | close with 处理结果                                | 200    | closure hop waiting, no deadline            |
 * | D+28h   | closure report dated before the closure           | 400    |                                             |
 * | D+28h   | closure report by phone                           | 400    | in writing (书面)                           |
 * | D+28h   | closure report on paper, received D+28h           | 201    | closure hop done, never late                |
 * | D+29h   | close again                                       | 409    |                                             |
 */
describe('clocks API: measures first, end to end, closure (SPEC §7)', () => {
  const D = Date.parse('2026-05-01T02:00:00Z');
  const t = (hours: number, minutes = 0) => new Date(D + hours * 3_600_000 + minutes * 60_000).toISOString();
  const clock = new ManualClock(t(0, 10));
  const sink = new RecordingSink();
  let dir: ReturnType<typeof tempDir>;
  let collector: RunningCollector;
  let call: ReturnType<typeof apiClient>;
  let officer: string;

  beforeAll(async () => {
    dir = tempDir('smew-clocks-e2e-');
    collector = await startClockCollector(dir.path, clock, sink);
    call = apiClient(collector);
    officer = await keyFor(collector, 'secadmin', '一处');
  });
  afterAll(async () => {
    await collector.stop();
    dir.remove();
  });

  type Step = {
    at: string;
    /** Path below the incident; empty for a clock pass alone. */
    path: '' | 'reports' | 'measures' | 'closure';
    body?: Record<string, unknown>;
    status?: number;
    error?: RegExp;
    /** The officer's wording, which the dashboard shows in Chinese. */
    errorZh?: RegExp;
    check?: (incident: Json, conditions: Json[]) => void;
  };
  const report = (to: string, at: string, extra: Record<string, unknown> = {}) => ({
    to,
    reportedAt: at,
    receivedAt: at,
    channel: 'system',
    ...extra,
  });
  const conditionsOf = (conditions: Json[], type: string) =>
    conditions.filter((c) => c.type === type).map((c) => [c.state, c.data.heldBy, c.data.waitingOn]);

  const steps: Step[] = [
    {
      at: t(0, 10),
      path: 'reports',
      body: { to: 'same-level-admin', reportedAt: t(0, 10), channel: 'phone' },
      status: 409,
      error: /^measures: record at least one remedial measure .*第61条/,
      errorZh: /^请先登记至少一项补救措施.*第六十一条/,
    },
    {
      at: t(0, 10),
      path: 'reports',
      body: { to: 'superior-dept', reportedAt: t(0, 10), channel: 'paper' },
      status: 409,
      error: /^measures:/,
    },
    {
      at: t(0, 15),
      path: 'measures',
      body: { what: '断网', by: '张三', at: t(0, 5) },
      status: 201,
      check: (incident) => {
        expect(incident.measures).toMatchObject([{ what: '断网', by: '张三', at: t(0, 5) }]);
        expect(incident.endToEndDue).toMatchObject({ state: 'unstarted', dueAt: null });
      },
    },
    {
      at: t(0, 20),
      path: 'reports',
      body: report('same-level-admin', t(0, 20)),
      status: 201,
      check: (incident) =>
        expect(incident.endToEndDue).toMatchObject({
          startedAt: t(0, 20),
          dueAt: t(24, 20),
          state: 'pending',
          heldBy: 'county',
          waitingOn: 'county>city',
        }),
    },
    { at: t(1), path: 'reports', body: report('superior-dept', t(1), { channel: 'paper' }), status: 201 },
    {
      at: t(6),
      path: 'reports',
      body: report('city', t(6), { from: 'county' }),
      status: 201,
      check: (incident) => expect(incident.endToEndDue).toMatchObject({ heldBy: 'city', late: false }),
    },
    {
      at: t(24, 21),
      path: '',
      check: (incident, conditions) => {
        expect(conditionsOf(conditions, 'incident.report.stuck')).toEqual([
          ['raised', 'city', 'city>province'],
        ]);
        expect(incident.endToEndDue).toMatchObject({ state: 'overdue', late: true, heldBy: 'city' });
      },
    },
    {
      at: t(25),
      path: 'reports',
      body: report('province', t(25), { from: 'city' }),
      status: 201,
      check: (incident, conditions) => {
        expect(incident.endToEndDue).toMatchObject({ state: 'overdue', heldBy: 'province' });
        expect(conditionsOf(conditions, 'incident.report.stuck')).toEqual([]);
      },
    },
    {
      at: t(26),
      path: 'reports',
      body: report('national', t(26), { from: 'province' }),
      status: 201,
      check: (incident, conditions) => {
        expect(incident.endToEndDue).toMatchObject({
          state: 'done',
          late: true,
          lateByMs: 100 * 60_000,
          heldBy: null,
          waitingOn: null,
        });
        expect(conditionsOf(conditions, 'incident.report.stuck')).toEqual([
          ['cleared', undefined, undefined],
        ]);
      },
    },
    {
      at: t(27),
      path: 'reports',
      body: report('same-level-admin', t(27), { about: 'closure', channel: 'paper' }),
      status: 409,
      error: /^about: .* is not closed; close it with its 处理结果 first \(第60条\)/,
    },
    {
      at: t(27),
      path: 'closure',
      body: { outcome: '文件已追回，责任人已给予处分' },
      status: 200,
      check: (incident) => {
        expect(incident).toMatchObject({ closedAt: t(27), outcome: '文件已追回，责任人已给予处分' });
        expect(incident.closure).toMatchObject({
          id: 'closure>county',
          to: 'county',
          startedAt: t(27),
          dueAt: null,
          state: 'pending',
          late: false,
        });
      },
    },
    {
      at: t(28),
      path: 'reports',
      body: report('same-level-admin', t(26, 30), { about: 'closure', channel: 'paper' }),
      status: 400,
      error: /^reportedAt: .* is before the closure/,
    },
    {
      at: t(28),
      path: 'reports',
      body: report('same-level-admin', t(28), { about: 'closure', channel: 'phone' }),
      status: 400,
      error: /^channel: the 处理结果 goes in writing \(第60条 书面告知\)/,
    },
    {
      at: t(28),
      path: 'reports',
      body: report('same-level-admin', t(28), {
        about: 'closure',
        channel: 'paper',
        receipt: '县保密局 收文',
      }),
      status: 201,
      check: (incident) => {
        expect(incident.closure).toMatchObject({ state: 'done', receivedAt: t(28), late: false });
        expect(incident.reports.at(-1)).toMatchObject({ about: 'closure', receipt: '县保密局 收文' });
        // The closure is one more hop, not one of the 第61条 chain's.
        expect(incident.hops.map((h: Json) => h.state)).toEqual(['done', 'done', 'done', 'done', 'done']);
      },
    },
    { at: t(29), path: 'closure', body: { outcome: '再次' }, status: 409, error: /was closed already/ },
  ];

  it('refuses the first report without a measure, warns where the report is stuck, and closes with one more hop', async () => {
    const created = await call('POST', '/api/v1/incidents', officer, {
      title: '涉密U盘遗失',
      level: '秘密',
      discoveredAt: t(0),
    });
    expect(created.status).toBe(201);
    expect(created.body.measures).toEqual([]);
    const id = created.body.id as string;
    sink.take();
    for (const [index, step] of steps.entries()) {
      clock.set(step.at);
      const label = `step ${index + 1} at ${step.at} ${step.path}`;
      let incident: Json;
      if (step.path === '') {
        await collector.clocks.runPass('test');
        incident = (await call('GET', `/api/v1/incidents/${id}`, officer)).body;
      } else {
        const reply = await call('POST', `/api/v1/incidents/${id}/${step.path}`, officer, step.body);
        expect(reply.status, label).toBe(step.status);
        if (step.error) expect(reply.body.error, label).toMatch(step.error);
        if (step.errorZh) expect(reply.body.errorZh, label).toMatch(step.errorZh);
        incident = reply.status < 300 ? reply.body : undefined;
      }
      step.check?.(incident, sink.take());
    }
  });
});
