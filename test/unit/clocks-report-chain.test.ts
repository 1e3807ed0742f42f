import { describe, expect, it } from 'vitest';
import {
  arrivalOf,
  type ChainReport,
  chainHops,
  hopStatus,
  offSystemReportDue,
  chainReportSchema,
  hopIdForReport,
  type IncidentClock,
  reportChain,
  reportChainDeadlines,
} from '../../collector/clocks/report-chain.js';

/**
 * 第61条 deadlines tested here. Discovery 2026-03-01T16:30Z (2026-03-02 00:30 in Shanghai);
 * each hop is due 24 h after its start (discovery for the unit, the sender's receipt otherwise),
 * and is made when it arrives: lateness is judged by the receipt, not by the send (SPEC §7).
 *
 * | hop                | starts (UTC)              | due (UTC)            | reported (UTC)   | received (UTC)   | result                     |
 * | ------------------ | ------------------------- | -------------------- | ---------------- | ---------------- | -------------------------- |
 * | unit>county        | 03-01 16:30 (discovery)   | 03-02 16:30          | 03-02 08:00      | 03-02 08:00      | on time                    |
 * | unit>superior-dept | 03-01 16:30 (discovery)   | 03-02 16:30          | 03-02 09:00      | 03-02 10:00      | on time                    |
 * | county>city        | 03-02 08:00               | 03-03 08:00          | 03-03 06:30      | 03-03 08:00      | on time (received at T)    |
 * | city>province      | 03-03 08:00               | 03-04 08:00          | 03-03 20:00      | 03-03 20:00      | on time                    |
 * | province>national  | 03-03 20:00               | 03-04 20:00          | 03-04 06:00      | 03-04 06:10      | on time; end to end 61h40m |
 * | — one hop late —   |                           |                      |                  |                  |                            |
 * | city>province      | 03-03 08:00               | 03-04 08:00          | 03-04 07:45      | 03-04 08:30      | sent in time, received 30m late |
 * | province>national  | 03-04 08:30               | 03-05 08:30          | —                | —                | pending at 03-05 00:00     |
 * | — receipt missing —|                           |                      |                  |                  |                            |
 * | county>city        | 03-02 08:00               | 03-03 08:00          | 03-03 01:00      | not recorded     | late: sent, never received |
 * | city>province      | —                         | —                    | —                | —                | unstarted, no rows         |
 * | — nothing reported; rows —                     |                      |                  |                  |                            |
 * | unit>county        | 03-01 16:30               | 03-02 16:30          | —                | —                | rows 04:30 (−12h), 14:30 (−2h), missed 16:30:00.001 |
 */

const discoveredAt = new Date('2026-03-01T16:30:00Z');
const incident: IncidentClock = { discoveredAt, unitLevel: 'unit' };
const H = 3_600_000;

function report(fields: {
  fromLevel: ChainReport['fromLevel'];
  to: ChainReport['to'];
  reportedAt: string;
  receivedAt?: string;
  channel?: ChainReport['channel'];
}): ChainReport {
  return chainReportSchema.parse({ channel: 'system', by: '张保密', ...fields });
}

const onTime = [
  report({
    fromLevel: 'unit',
    to: 'same-level-admin',
    reportedAt: '2026-03-02T08:00:00Z',
    receivedAt: '2026-03-02T08:00:00Z',
  }),
  report({
    fromLevel: 'unit',
    to: 'superior-dept',
    reportedAt: '2026-03-02T09:00:00Z',
    receivedAt: '2026-03-02T10:00:00Z',
    channel: 'paper',
  }),
  report({
    fromLevel: 'county',
    to: 'city',
    reportedAt: '2026-03-03T06:30:00Z',
    receivedAt: '2026-03-03T08:00:00Z',
  }),
  report({
    fromLevel: 'city',
    to: 'province',
    reportedAt: '2026-03-03T20:00:00Z',
    receivedAt: '2026-03-03T20:00:00Z',
  }),
  report({
    fromLevel: 'province',
    to: 'national',
    reportedAt: '2026-03-04T06:00:00Z',
    receivedAt: '2026-03-04T06:10:00Z',
  }),
];

/** The fields other programs read (SPEC §8), plus state and lateness, as ISO strings. */
function view(hops: ReturnType<typeof reportChain>['hops']) {
  const iso = (d: Date | null) => d?.toISOString() ?? null;
  return hops.map((h) => ({
    id: h.id,
    dueAt: iso(h.dueAt),
    reportedAt: iso(h.reportedAt),
    receivedAt: iso(h.receivedAt),
    late: h.late,
    lateByMs: h.lateByMs,
    state: h.state,
  }));
}

describe('第61条 chain', () => {
  it('lists the hops from a unit below county level, and from county, city and national units', () => {
    const ids = (level: IncidentClock['unitLevel']) => chainHops(level).map((h) => h.id);
    expect(ids('unit')).toEqual([
      'unit>county',
      'unit>superior-dept',
      'county>city',
      'city>province',
      'province>national',
    ]);
    expect(ids('county')).toEqual([
      'unit>county',
      'unit>superior-dept',
      'county>city',
      'city>province',
      'province>national',
    ]);
    expect(ids('city')).toEqual(['unit>city', 'unit>superior-dept', 'city>province', 'province>national']);
    expect(ids('national')).toEqual(['unit>national', 'unit>superior-dept']);
  });

  it('all on time, a receipt exactly at T included; end to end is discovery → national receipt', () => {
    const chain = reportChain(incident, onTime, new Date('2026-03-05T00:00:00Z'));
    expect(view(chain.hops)).toEqual([
      {
        id: 'unit>county',
        dueAt: '2026-03-02T16:30:00.000Z',
        reportedAt: '2026-03-02T08:00:00.000Z',
        receivedAt: '2026-03-02T08:00:00.000Z',
        late: false,
        lateByMs: null,
        state: 'done',
      },
      {
        id: 'unit>superior-dept',
        dueAt: '2026-03-02T16:30:00.000Z',
        reportedAt: '2026-03-02T09:00:00.000Z',
        receivedAt: '2026-03-02T10:00:00.000Z',
        late: false,
        lateByMs: null,
        state: 'done',
      },
      {
        id: 'county>city',
        dueAt: '2026-03-03T08:00:00.000Z',
        reportedAt: '2026-03-03T06:30:00.000Z',
        receivedAt: '2026-03-03T08:00:00.000Z',
        late: false,
        lateByMs: null,
        state: 'done',
      },
      {
        id: 'city>province',
        dueAt: '2026-03-04T08:00:00.000Z',
        reportedAt: '2026-03-03T20:00:00.000Z',
        receivedAt: '2026-03-03T20:00:00.000Z',
        late: false,
        lateByMs: null,
        state: 'done',
      },
      {
        id: 'province>national',
        dueAt: '2026-03-04T20:00:00.000Z',
        reportedAt: '2026-03-04T06:00:00.000Z',
        receivedAt: '2026-03-04T06:10:00.000Z',
        late: false,
        lateByMs: null,
        state: 'done',
      },
    ]);
    expect(chain.nationalReceivedAt).toEqual(new Date('2026-03-04T06:10:00Z'));
    expect(chain.endToEndMs).toBe(61 * H + 40 * 60_000);
    expect(chain.unmatched).toEqual([]);
    expect(reportChainDeadlines(incident, onTime)).toEqual([]);
  });

  it('one hop late by its receipt though sent in time; the next hop runs from the late receipt', () => {
    const reports = [
      ...onTime.slice(0, 3),
      report({
        fromLevel: 'city',
        to: 'province',
        reportedAt: '2026-03-04T07:45:00Z',
        receivedAt: '2026-03-04T08:30:00Z',
      }),
    ];
    const chain = reportChain(incident, reports, new Date('2026-03-05T00:00:00Z'));
    expect(view(chain.hops).slice(3)).toEqual([
      {
        id: 'city>province',
        dueAt: '2026-03-04T08:00:00.000Z',
        reportedAt: '2026-03-04T07:45:00.000Z',
        receivedAt: '2026-03-04T08:30:00.000Z',
        late: true,
        lateByMs: 30 * 60_000,
        state: 'done',
      },
      {
        id: 'province>national',
        dueAt: '2026-03-05T08:30:00.000Z',
        reportedAt: null,
        receivedAt: null,
        late: false,
        lateByMs: null,
        state: 'pending',
      },
    ]);
    expect(chain.endToEndMs).toBeNull();
  });

  it('a hop sent but never received is late at 24 h, and the next hop stays unstarted', () => {
    const reports = [
      onTime[0]!,
      onTime[1]!,
      report({ fromLevel: 'county', to: 'city', reportedAt: '2026-03-03T01:00:00Z', channel: 'paper' }),
    ];
    const chain = reportChain(incident, reports, new Date('2026-03-10T00:00:00Z'));
    expect(view(chain.hops).slice(2)).toEqual([
      {
        id: 'county>city',
        dueAt: '2026-03-03T08:00:00.000Z',
        reportedAt: '2026-03-03T01:00:00.000Z',
        receivedAt: null,
        late: true,
        lateByMs: 160 * H,
        state: 'overdue',
      },
      {
        id: 'city>province',
        dueAt: null,
        reportedAt: null,
        receivedAt: null,
        late: false,
        lateByMs: null,
        state: 'unstarted',
      },
      {
        id: 'province>national',
        dueAt: null,
        reportedAt: null,
        receivedAt: null,
        late: false,
        lateByMs: null,
        state: 'unstarted',
      },
    ]);
    expect(chain.hops[3]!.startedAt).toBeNull();
    // Sent, not received: the hop keeps its reminders and its miss; nothing after it has a clock
    // but the end-to-end one (national 24 h after the county's receipt).
    expect(reportChainDeadlines(incident, reports).map((r) => [r.hopId, r.kind])).toEqual([
      ['end-to-end', 'missed'],
      ['county>city', 'reminder-12h'],
      ['county>city', 'reminder-2h'],
      ['county>city', 'missed'],
    ]);
    // Before T it is `sent`, not yet late.
    expect(reportChain(incident, reports, new Date('2026-03-03T07:00:00Z')).hops[2]).toMatchObject({
      state: 'sent',
      late: false,
    });
  });

  it('pending until T, overdue from the first instant after it, with running lateness', () => {
    const unitHop = (now: string) => reportChain(incident, [], new Date(now)).hops[0]!;
    expect(unitHop('2026-03-02T10:00:00Z')).toMatchObject({ state: 'pending', late: false, lateByMs: null });
    expect(unitHop('2026-03-02T16:30:00Z')).toMatchObject({ state: 'pending', late: false });
    expect(unitHop('2026-03-02T16:30:00.001Z')).toMatchObject({ state: 'overdue', late: true, lateByMs: 1 });
    expect(unitHop('2026-03-03T00:30:00Z')).toMatchObject({
      state: 'overdue',
      late: true,
      lateByMs: 8 * H,
      escalatesTo: 'county',
    });
    expect(reportChain(incident, [], new Date('2026-03-03T00:30:00Z')).hops.map((h) => h.state)).toEqual([
      'overdue',
      'overdue',
      'unstarted',
      'unstarted',
      'unstarted',
    ]);
  });

  it('starts at a county-level unit: its own level names the same-level administration', () => {
    const county: IncidentClock = { discoveredAt, unitLevel: 'county' };
    const reports = [
      report({
        fromLevel: 'county',
        to: 'same-level-admin',
        reportedAt: '2026-03-02T06:00:00Z',
        receivedAt: '2026-03-02T06:30:00Z',
      }),
      report({
        fromLevel: 'county',
        to: 'city',
        reportedAt: '2026-03-03T07:00:00Z',
        receivedAt: '2026-03-03T07:05:00Z',
      }),
    ];
    const chain = reportChain(county, reports, new Date('2026-03-03T12:00:00Z'));
    expect(view(chain.hops)).toEqual([
      {
        id: 'unit>county',
        dueAt: '2026-03-02T16:30:00.000Z',
        reportedAt: '2026-03-02T06:00:00.000Z',
        receivedAt: '2026-03-02T06:30:00.000Z',
        late: false,
        lateByMs: null,
        state: 'done',
      },
      {
        id: 'unit>superior-dept',
        dueAt: '2026-03-02T16:30:00.000Z',
        reportedAt: null,
        receivedAt: null,
        late: true,
        lateByMs: 19.5 * H,
        state: 'overdue',
      },
      {
        id: 'county>city',
        dueAt: '2026-03-03T06:30:00.000Z',
        reportedAt: '2026-03-03T07:00:00.000Z',
        receivedAt: '2026-03-03T07:05:00.000Z',
        late: true,
        lateByMs: 35 * 60_000,
        state: 'done',
      },
      {
        id: 'city>province',
        dueAt: '2026-03-04T07:05:00.000Z',
        reportedAt: null,
        receivedAt: null,
        late: false,
        lateByMs: null,
        state: 'pending',
      },
      {
        id: 'province>national',
        dueAt: null,
        reportedAt: null,
        receivedAt: null,
        late: false,
        lateByMs: null,
        state: 'unstarted',
      },
    ]);
  });

  it('a national-level unit: the chain ends at its own report, end to end included', () => {
    const central: IncidentClock = { discoveredAt, unitLevel: 'national' };
    const reports = [
      report({
        fromLevel: 'national',
        to: 'national',
        reportedAt: '2026-03-02T04:00:00Z',
        receivedAt: '2026-03-02T04:30:00Z',
      }),
    ];
    const chain = reportChain(central, reports, new Date('2026-03-02T05:00:00Z'));
    expect(chain.hops.map((h) => [h.id, h.state])).toEqual([
      ['unit>national', 'done'],
      ['unit>superior-dept', 'pending'],
    ]);
    expect(chain.endToEndMs).toBe(12 * H);
  });

  it('the earliest of several reports on a hop meets the duty and starts the next clock', () => {
    const reports = [
      report({
        fromLevel: 'unit',
        to: 'county',
        reportedAt: '2026-03-02T09:00:00Z',
        receivedAt: '2026-03-03T01:00:00Z',
        channel: 'paper',
      }),
      report({
        fromLevel: 'unit',
        to: 'county',
        reportedAt: '2026-03-02T02:00:00Z',
        receivedAt: '2026-03-02T02:00:00Z',
        channel: 'phone',
      }),
    ];
    const chain = reportChain(incident, reports, new Date('2026-03-02T12:00:00Z'));
    expect(chain.hops[0]).toMatchObject({
      reportedAt: new Date('2026-03-02T02:00:00Z'),
      receivedAt: new Date('2026-03-02T02:00:00Z'),
    });
    expect(chain.hops[0]!.reports).toHaveLength(2);
    expect(chain.hops[2]).toMatchObject({
      id: 'county>city',
      dueAt: new Date('2026-03-03T02:00:00Z'),
      state: 'pending',
    });
  });

  it('keeps reports that fit no hop visible instead of dropping them', () => {
    const skipping = report({ fromLevel: 'county', to: 'province', reportedAt: '2026-03-02T09:00:00Z' });
    const wrongUnit = report({ fromLevel: 'unit', to: 'city', reportedAt: '2026-03-02T09:00:00Z' });
    expect(hopIdForReport(incident, skipping)).toBeUndefined();
    expect(hopIdForReport(incident, wrongUnit)).toBeUndefined();
    expect(
      hopIdForReport(
        { discoveredAt, unitLevel: 'city' },
        report({ fromLevel: 'county', to: 'city', reportedAt: '2026-03-02T09:00:00Z' }),
      ),
    ).toBeUndefined();
    expect(reportChain(incident, [skipping, wrongUnit], discoveredAt).unmatched).toEqual([
      skipping,
      wrongUnit,
    ]);
  });

  it('refuses a receipt before its report', () => {
    const result = chainReportSchema.safeParse({
      fromLevel: 'unit',
      to: 'superior-dept',
      reportedAt: '2026-03-02T09:00:00Z',
      receivedAt: '2026-03-02T08:00:00Z',
      channel: 'paper',
      by: '张保密',
    });
    expect(result.success).toBe(false);
  });
});

describe('第61条 deadline rows', () => {
  it('reminds at T−12 h and T−2 h and marks the miss at the first late instant, per started unreported hop', () => {
    expect(reportChainDeadlines(incident, [])).toEqual(
      ['unit>county', 'unit>superior-dept'].flatMap((hopId) => [
        {
          hopId,
          kind: 'reminder-12h',
          dueAt: new Date('2026-03-02T04:30:00Z'),
          forDue: new Date('2026-03-02T16:30:00Z'),
          escalatesTo: 'county',
        },
        {
          hopId,
          kind: 'reminder-2h',
          dueAt: new Date('2026-03-02T14:30:00Z'),
          forDue: new Date('2026-03-02T16:30:00Z'),
          escalatesTo: 'county',
        },
        {
          hopId,
          kind: 'missed',
          dueAt: new Date('2026-03-02T16:30:00.001Z'),
          forDue: new Date('2026-03-02T16:30:00Z'),
          escalatesTo: 'county',
        },
      ]),
    );
  });

  it('once the county has the report, its onward hop gets rows and a miss escalates to the city', () => {
    const rows = reportChainDeadlines(incident, onTime.slice(0, 2), { remindersMs: [90 * 60_000] });
    expect(rows).toEqual([
      {
        hopId: 'end-to-end',
        kind: 'missed',
        dueAt: new Date('2026-03-03T08:00:00.001Z'),
        forDue: new Date('2026-03-03T08:00:00Z'),
        escalatesTo: 'national',
      },
      {
        hopId: 'county>city',
        kind: 'reminder-90m',
        dueAt: new Date('2026-03-03T06:30:00Z'),
        forDue: new Date('2026-03-03T08:00:00Z'),
        escalatesTo: 'city',
      },
      {
        hopId: 'county>city',
        kind: 'missed',
        dueAt: new Date('2026-03-03T08:00:00.001Z'),
        forDue: new Date('2026-03-03T08:00:00Z'),
        escalatesTo: 'city',
      },
    ]);
    expect(() => reportChainDeadlines(incident, [], { remindersMs: [24 * H] })).toThrow(RangeError);
  });
});

describe('第61条: a report is made when it arrives (SPEC §7)', () => {
  const due = new Date('2026-03-02T16:30:00Z');

  it('a receipt within 24 h is on time even though the first send failed', () => {
    const reports = [
      // The system send went nowhere (the link was down): no receipt ever came.
      report({ fromLevel: 'unit', to: 'county', reportedAt: '2026-03-01T17:00:00Z' }),
      // Resent, received 10 minutes before T.
      report({
        fromLevel: 'unit',
        to: 'county',
        reportedAt: '2026-03-02T16:00:00Z',
        receivedAt: '2026-03-02T16:20:00Z',
      }),
    ];
    const hop = reportChain(incident, reports, new Date('2026-03-03T00:00:00Z')).hops[0]!;
    expect(hop).toMatchObject({
      state: 'done',
      late: false,
      reportedAt: new Date('2026-03-01T17:00:00Z'),
      receivedAt: new Date('2026-03-02T16:20:00Z'),
    });
    expect(reportChainDeadlines(incident, reports).filter((r) => r.hopId === 'unit>county')).toEqual([]);
  });

  it('a send long before T whose receipt comes after T is late by the receipt', () => {
    const reports = [
      report({
        fromLevel: 'unit',
        to: 'county',
        reportedAt: '2026-03-01T17:00:00Z',
        receivedAt: '2026-03-02T18:30:00Z',
      }),
    ];
    expect(reportChain(incident, reports, new Date('2026-03-03T00:00:00Z')).hops[0]).toMatchObject({
      state: 'done',
      late: true,
      lateByMs: 2 * H,
    });
  });

  it('a call or hand-over arrives as it is made; paper waits for its receipt', () => {
    const byPhone = report({
      fromLevel: 'unit',
      to: 'county',
      reportedAt: '2026-03-02T15:00:00Z',
      channel: 'phone',
    });
    const byPaper = report({
      fromLevel: 'unit',
      to: 'county',
      reportedAt: '2026-03-02T15:00:00Z',
      channel: 'paper',
    });
    const now = new Date('2026-03-02T15:30:00Z');
    expect(reportChain(incident, [byPhone], now).hops[0]).toMatchObject({ state: 'done', late: false });
    // The county knew from the call: its own 24 h run from then.
    expect(reportChain(incident, [byPhone], now).hops[2]!.dueAt).toEqual(new Date('2026-03-03T15:00:00Z'));
    expect(reportChain(incident, [byPaper], now).hops[0]).toMatchObject({ state: 'sent', late: false });
    expect(arrivalOf(byPaper)).toBeNull();
  });

  it('hopStatus is the one rule: pending, sent, overdue after T, done on arrival', () => {
    expect(hopStatus(null, null, null, due)).toEqual({ state: 'unstarted', late: false, lateByMs: null });
    expect(hopStatus(due, null, null, due)).toEqual({ state: 'pending', late: false, lateByMs: null });
    expect(hopStatus(due, discoveredAt, null, due)).toEqual({ state: 'sent', late: false, lateByMs: null });
    expect(hopStatus(due, discoveredAt, null, new Date(due.getTime() + 1))).toEqual({
      state: 'overdue',
      late: true,
      lateByMs: 1,
    });
    expect(hopStatus(due, discoveredAt, due, new Date('2026-04-01T00:00:00Z'))).toEqual({
      state: 'done',
      late: false,
      lateByMs: null,
    });
  });

  it('from T−2 h without a receipt the officer is told to report by phone or on paper', () => {
    const sent = [report({ fromLevel: 'unit', to: 'county', reportedAt: '2026-03-02T10:00:00Z' })];
    const at = (iso: string) => {
      const hop = reportChain(incident, sent, new Date(iso)).hops[0]!;
      return offSystemReportDue({ dueAt: hop.dueAt, arrivedAt: hop.receivedAt }, new Date(iso));
    };
    expect(at('2026-03-02T14:29:59Z')).toBe(false);
    expect(at('2026-03-02T14:30:00Z')).toBe(true);
    expect(at('2026-03-02T17:00:00Z')).toBe(true);
    const received = reportChain(
      incident,
      [{ ...sent[0]!, receivedAt: new Date('2026-03-02T14:00:00Z') }],
      new Date('2026-03-02T15:00:00Z'),
    ).hops[0]!;
    expect(offSystemReportDue({ dueAt: received.dueAt, arrivedAt: received.receivedAt }, due)).toBe(false);
    // The last configured reminder is the moment: with 12 h and 3 h, from T−3 h.
    expect(
      offSystemReportDue({ dueAt: due, arrivedAt: null }, new Date('2026-03-02T13:30:00Z'), [12 * H, 3 * H]),
    ).toBe(true);
  });
});

describe('第61条: the unit’s rank is its own (SPEC §7)', () => {
  it('a 省直机关 on a unit-level collector reports to the province administration', () => {
    const ministry: IncidentClock = { discoveredAt, unitLevel: 'province' };
    expect(chainHops('province').map((h) => h.id)).toEqual([
      'unit>province',
      'unit>superior-dept',
      'province>national',
    ]);
    const toProvince = report({
      fromLevel: 'province',
      to: 'same-level-admin',
      reportedAt: '2026-03-02T01:00:00Z',
    });
    expect(hopIdForReport(ministry, toProvince)).toBe('unit>province');
    expect(
      hopIdForReport(
        ministry,
        report({ fromLevel: 'province', to: 'county', reportedAt: '2026-03-02T01:00:00Z' }),
      ),
    ).toBeUndefined();
  });
});
