import { describe, expect, it } from 'vitest';
import { assess, onHeartbeat, onOfflineStatus } from '../../collector/liveness/assess.js';
import type { LivenessRecord } from '../../collector/store/transport/transport-store.js';

/** The pure liveness decisions: offline after 3 missed heartbeats or a Last Will; lost after a still gap. */
const policy = { missedHeartbeats: 3, lostGraceMs: 60_000 };
const T0 = Date.parse('2026-05-01T08:00:00Z');
const at = (ms: number) => new Date(T0 + ms);
const iso = (ms: number) => at(ms).toISOString();

function alive(overrides: Partial<LivenessRecord> = {}): LivenessRecord {
  return {
    ...onHeartbeat(undefined, 'ag-a', { at: iso(0), lastSeq: 0, intervalMs: 10_000 }, 30_000).record,
    ...overrides,
  };
}

describe('offline', () => {
  it.each([
    { silentMs: 10_000, offline: false },
    { silentMs: 29_999, offline: false },
    { silentMs: 30_000, offline: false },
    { silentMs: 30_001, offline: true },
  ])('after $silentMs ms of silence with a 10 s interval: offline=$offline', ({ silentMs, offline }) => {
    const { changes } = assess(alive(), 0, at(silentMs), policy);
    expect(changes.some((c) => c.type === 'agent.offline' && c.state === 'raised')).toBe(offline);
  });

  it('raises once, and a heartbeat clears it', () => {
    const first = assess(alive(), 0, at(40_000), policy);
    expect(first.changes).toEqual([
      {
        type: 'agent.offline',
        state: 'raised',
        data: { reason: 'missed-heartbeats', lastHeartbeatAt: iso(0), intervalMs: 10_000 },
      },
    ]);
    expect(assess(first.record, 0, at(90_000), policy).changes).toEqual([]);
    const back = onHeartbeat(
      first.record,
      'ag-a',
      { at: iso(95_000), lastSeq: 0, intervalMs: 10_000 },
      30_000,
    );
    expect(back.changes).toEqual([
      { type: 'agent.offline', state: 'cleared', data: { lastHeartbeatAt: iso(95_000) } },
    ]);
    expect(back.record.offlineSince).toBeNull();
  });

  it('a Last Will after the last heartbeat makes it offline at once', () => {
    const willed = onOfflineStatus(alive(), 'ag-a', iso(1_000), 30_000);
    const { changes } = assess(willed, 0, at(1_000), policy);
    expect(changes[0]).toMatchObject({
      type: 'agent.offline',
      state: 'raised',
      data: { reason: 'last-will' },
    });
  });

  it('a Last Will older than the last heartbeat (a stale retained status) does not', () => {
    const stale = { ...alive(), willAt: iso(-5_000) };
    expect(assess(stale, 0, at(1_000), policy).changes).toEqual([]);
  });

  it('uses the default interval until the agent announces one, then what it announces', () => {
    const first = onHeartbeat(undefined, 'ag-b', { at: iso(0), lastSeq: 0, intervalMs: undefined }, 30_000);
    expect(first.record.intervalMs).toBe(30_000);
    const second = onHeartbeat(
      first.record,
      'ag-b',
      { at: iso(5_000), lastSeq: 0, intervalMs: undefined },
      30_000,
    );
    expect(second.record.intervalMs).toBe(5_000);
    const announced = onHeartbeat(
      second.record,
      'ag-b',
      { at: iso(6_000), lastSeq: 0, intervalMs: 60_000 },
      30_000,
    );
    expect(announced.record.intervalMs).toBe(60_000);
  });
});

describe('lost events', () => {
  it('a gap that stands still for the grace period is a loss, listing the missing seqs', () => {
    let record = alive({ reportedSeq: 10 });
    let step = assess(record, 7, at(1_000), policy);
    expect(step.changes).toEqual([]);
    expect(step.record.gapSince).toBe(iso(1_000));
    step = assess({ ...step.record, lastHeartbeatAt: iso(55_000) }, 7, at(60_999), policy);
    expect(step.changes).toEqual([]);
    record = { ...step.record, lastHeartbeatAt: iso(60_000) };
    step = assess(record, 7, at(61_000), policy);
    expect(step.changes).toEqual([
      {
        type: 'agent.events.lost',
        state: 'raised',
        data: { fromSeq: 8, toSeq: 10, missing: 3, since: iso(1_000) },
      },
    ]);
    // Filled later (a resend arrived): cleared.
    step = assess({ ...step.record, lastHeartbeatAt: iso(65_000) }, 10, at(66_000), policy);
    expect(step.changes).toEqual([{ type: 'agent.events.lost', state: 'cleared', data: { watermark: 10 } }]);
  });

  it('a gap that shrinks (a backlog draining) restarts the grace period', () => {
    let step = assess(alive({ reportedSeq: 10_000 }), 0, at(1_000), policy);
    for (let t = 1; t <= 10; t++) {
      const beat = { ...step.record, lastHeartbeatAt: iso(t * 50_000) };
      step = assess(beat, t * 500, at(t * 50_000 + 1_000), policy);
      expect(step.changes).toEqual([]);
    }
  });

  it('an offline agent is not judged for lost events until it returns', () => {
    const offline = assess(alive({ reportedSeq: 5 }), 2, at(40_000), policy);
    expect(offline.changes.map((c) => c.type)).toEqual(['agent.offline']);
    const later = assess(offline.record, 2, at(500_000), policy);
    expect(later.changes).toEqual([]);
    const back = onHeartbeat(
      later.record,
      'ag-a',
      { at: iso(500_000), lastSeq: 5, intervalMs: 10_000 },
      30_000,
    );
    expect(back.record.gapSince).toBeNull();
    const judged = assess(back.record, 2, at(501_000), policy);
    expect(judged.changes).toEqual([]);
    expect(judged.record.gapSince).toBe(iso(501_000));
  });
});
