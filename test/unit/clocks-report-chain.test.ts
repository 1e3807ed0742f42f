import { describe, expect, it } from 'vitest';
import {
  type ChainReport,
  chainHops,
  chainReportSchema,
  hopIdForReport,
  type IncidentClock,
  reportChain,
  reportChainDeadlines,
} from '../../collector/clocks/report-chain.js';

/**
 * 第61条 deadlines tested here. Discovery 2026-03-01T16:30Z (2026-03-02 00:30 in Shanghai);
 * each hop is due 24 h after its start (discovery for the unit, the sender's receipt otherwise).
 *
 * | hop                | starts (UTC)              | due (UTC)            | reported (UTC)   | received (UTC)   | result                     |
 * | ------------------ | ------------------------- | -------------------- | ---------------- | ---------------- | -------------------------- |
 * | unit>county        | 03-01 16:30 (discovery)   | 03-02 16:30          | 03-02 08:00      | 03-02 08:00      | on time                    |
 * | unit>superior-dept | 03-01 16:30 (discovery)   | 03-02 16:30          | 03-02 09:00      | 03-02 10:00      | on time                    |
 * | county>city        | 03-02 08:00               | 03-03 08:00          | 03-03 08:00      | 03-03 09:30      | on time (exactly at T)     |
 * | city>province      | 03-03 09:30               | 03-04 09:30          | 03-03 20:00      | 03-03 20:00      | on time                    |
 * | province>national  | 03-03 20:00               | 03-04 20:00          | 03-04 06:00      | 03-04 06:10      | on time; end to end 61h40m |
 * | — one hop late —   |                           |                      |                  |                  |                            |
 * | city>province      | 03-03 09:30               | 03-04 09:30          | 03-04 12:45      | 03-04 13:00      | late by 3h15m              |
 * | province>national  | 03-04 13:00               | 03-05 13:00          | —                | —                | pending at 03-05 00:00     |
 * | — receipt missing —|                           |                      |                  |                  |                            |
 * | county>city        | 03-02 08:00               | 03-03 08:00          | 03-03 01:00      | not recorded     | on time                    |
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
    reportedAt: '2026-03-03T08:00:00Z',
    receivedAt: '2026-03-03T09:30:00Z',
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

  it('all on time, a report exactly at T included; end to end is discovery → national receipt', () => {
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
        reportedAt: '2026-03-03T08:00:00.000Z',
        receivedAt: '2026-03-03T09:30:00.000Z',
        late: false,
        lateByMs: null,
        state: 'done',
      },
      {
        id: 'city>province',
        dueAt: '2026-03-04T09:30:00.000Z',
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

  it('one hop late: measures how late, and the next hop runs from the late receipt', () => {
    const reports = [
      ...onTime.slice(0, 3),
      report({
        fromLevel: 'city',
        to: 'province',
        reportedAt: '2026-03-04T12:45:00Z',
        receivedAt: '2026-03-04T13:00:00Z',
      }),
    ];
    const chain = reportChain(incident, reports, new Date('2026-03-05T00:00:00Z'));
    expect(view(chain.hops).slice(3)).toEqual([
      {
        id: 'city>province',
        dueAt: '2026-03-04T09:30:00.000Z',
        reportedAt: '2026-03-04T12:45:00.000Z',
        receivedAt: '2026-03-04T13:00:00.000Z',
        late: true,
        lateByMs: 3 * H + 15 * 60_000,
        state: 'done',
      },
      {
        id: 'province>national',
        dueAt: '2026-03-05T13:00:00.000Z',
        reportedAt: null,
        receivedAt: null,
        late: false,
        lateByMs: null,
        state: 'pending',
      },
    ]);
    expect(chain.endToEndMs).toBeNull();
  });

  it('a missing receipt keeps the next hop unstarted, with no deadline and no rows', () => {
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
        late: false,
        lateByMs: null,
        state: 'done',
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
    expect(reportChainDeadlines(incident, reports)).toEqual([]);
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
        lateByMs: 30 * 60_000,
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
