import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MIN_OUTBOX_BYTES,
  Outbox,
  OUTBOX_FILE,
  OVERFLOW_EVENT_TYPE,
  toRanges,
  type EventDraft,
  type OutboxLimits,
} from '../../agent/outbox.js';
import { DrainBucket } from '../../agent/publisher.js';
import { agentConfigSchema } from '../../agent/config.js';
import { ManualClock } from '../../shared/clock.js';
import { ed25519Suite } from '../../shared/crypto/ed25519.js';
import {
  eventEnvelopeSchema,
  MAX_ENVELOPE_BYTES,
  signMessage,
  verifyMessage,
} from '../../shared/envelope.js';
import { agentIdFromPublicKey, collectorIdFromPublicKey } from '../../shared/identity.js';
import type { Severity } from '../../shared/levels.js';

/** The outbox under a size bound, on a real SQLite file: what is dropped, and that it is reported. */
const agentKeys = ed25519Suite.generateKeyPair();
const agentId = agentIdFromPublicKey(agentKeys.publicKey);
const verifyAgent = ed25519Suite.verifier(agentKeys.publicKey);
const collectorKeys = ed25519Suite.generateKeyPair();
const collector = {
  id: collectorIdFromPublicKey(collectorKeys.publicKey),
  alg: 'ed25519',
  publicKey: collectorKeys.publicKey,
};

const dirs: string[] = [];
const opened: Outbox[] = [];
afterEach(() => {
  for (const outbox of opened.splice(0)) outbox.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function open(limits?: OutboxLimits, dir = newDir()): Outbox {
  const outbox = Outbox.open({
    dir,
    agentId,
    alg: 'ed25519',
    sign: ed25519Suite.signer(agentKeys.privateKey),
    collector,
    clock: new ManualClock('2026-05-01T08:00:00Z'),
    ...(limits ? { limits } : {}),
  });
  opened.push(outbox);
  return outbox;
}

function newDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'smew-outbox-overflow-'));
  dirs.push(dir);
  return dir;
}

/** A draft of about `size` bytes of data, so tests fill the bound with few rows. */
function draft(n: number, severity: Severity = 'medium', size = 2000): EventDraft {
  return {
    type: 'file.marked',
    state: 'raised',
    key: `file.marked:${n}`,
    severity,
    data: { path: `/home/u/${n}.doc`, marking: '秘密', pad: 'x'.repeat(size) },
  };
}

function ack(upTo: number): string {
  return JSON.stringify(
    signMessage(
      {
        v: 1,
        agent: agentId,
        ack: upTo,
        ts: '2026-05-01T08:00:01Z',
        collector: collector.id,
        alg: 'ed25519',
      },
      ed25519Suite.signer(collectorKeys.privateKey),
    ),
  );
}

function pendingEnvelopes(outbox: Outbox) {
  return outbox.pending().map((row) => JSON.parse(row.payload) as Record<string, unknown>);
}

function overflowReports(outbox: Outbox) {
  return pendingEnvelopes(outbox).filter((e) => e.type === OVERFLOW_EVENT_TYPE);
}

/** Every seq from 1 to lastSeq is either still pending or listed by a pending overflow report. */
function expectEverySeqAccountedFor(outbox: Outbox) {
  const pending = new Set(outbox.pending().map((r) => r.seq));
  const reported = new Set<number>();
  for (const report of overflowReports(outbox)) {
    for (const [from, to] of (report.data as { seqs: [number, number][] }).seqs) {
      for (let s = from; s <= to; s++) reported.add(s);
    }
  }
  for (let seq = 1; seq <= outbox.lastSeq(); seq++) {
    expect(pending.has(seq) || reported.has(seq), `seq ${seq} is neither pending nor reported`).toBe(true);
    expect(pending.has(seq) && reported.has(seq), `seq ${seq} is both pending and reported`).toBe(false);
  }
}

describe('outbox size bound', () => {
  it('without limits keeps everything', () => {
    const outbox = open();
    for (let i = 0; i < 150; i++) outbox.append([draft(i)]);
    expect(outbox.pendingCount()).toBe(150);
    expect(outbox.droppedTotal()).toBe(0);
  });

  it('drop-oldest: stays within maxBytes, drops the oldest, and reports them in a signed overflow event', () => {
    const maxBytes = MIN_OUTBOX_BYTES;
    const outbox = open({ maxBytes, overflow: 'drop-oldest' });
    const total = 400; // ~2.3 KB each: about 2.5 times the bound
    for (let i = 0; i < total; i++) {
      outbox.append([draft(i)]);
      expect(outbox.pendingBytes()).toBeLessThanOrEqual(maxBytes);
    }
    expect(outbox.droppedTotal()).toBeGreaterThan(200);
    const reports = overflowReports(outbox);
    expect(reports.length).toBeGreaterThan(0);
    for (const report of reports) {
      expect(eventEnvelopeSchema.safeParse(report).success).toBe(true);
      expect(verifyMessage(report, verifyAgent)).toBe(true);
      expect(report.severity).toBe('high');
    }
    // The newest drafts survive; the oldest go.
    const kept = pendingEnvelopes(outbox).filter((e) => e.type === 'file.marked');
    expect(kept.at(-1)?.key).toBe(`file.marked:${total - 1}`);
    expect(outbox.pending()[0]!.seq).toBeGreaterThan(1);
    // Reports are never dropped while other rows remain, and together they cover every drop.
    const reportedCount = reports.reduce((n, r) => n + (r.data as { dropped: number }).dropped, 0);
    expect(reportedCount).toBe(outbox.droppedTotal());
    expect((reports.at(-1)!.data as { droppedTotal: number }).droppedTotal).toBe(outbox.droppedTotal());
    expectEverySeqAccountedFor(outbox);
  });

  it('drop-lowest-severity: keeps critical and high evidence, drops info and low first', () => {
    const outbox = open({ maxBytes: MIN_OUTBOX_BYTES, overflow: 'drop-lowest-severity' });
    const severities: Severity[] = ['info', 'low', 'critical', 'info', 'medium', 'high'];
    for (let i = 0; i < 300; i++) outbox.append([draft(i, severities[i % severities.length]!)]);
    const kept = pendingEnvelopes(outbox).filter((e) => e.type === 'file.marked');
    const keptBySeverity = (s: Severity) => kept.filter((e) => e.severity === s).length;
    // 50 critical and 50 high (~230 KB of the 256 KiB bound) outrank every info, low, medium.
    expect(keptBySeverity('critical')).toBe(50);
    expect(keptBySeverity('high')).toBe(50);
    expect(keptBySeverity('info')).toBe(0);
    expect(keptBySeverity('low')).toBe(0);
    expect(outbox.pendingBytes()).toBeLessThanOrEqual(MIN_OUTBOX_BYTES);
    expectEverySeqAccountedFor(outbox);
  });

  it('an overflow in the middle of a batch returns only the kept envelopes, and the seq counter never reuses', () => {
    const outbox = open({ maxBytes: MIN_OUTBOX_BYTES, overflow: 'drop-oldest' });
    const returned = outbox.append(Array.from({ length: 200 }, (_, i) => draft(i)));
    const pending = new Set(outbox.pending().map((r) => r.seq));
    expect(returned.every((e) => pending.has(e.seq))).toBe(true);
    expect(returned.at(-1)!.type).toBe(OVERFLOW_EVENT_TYPE);
    // One report for the whole batch, never sent yet, listing every drop.
    expect(overflowReports(outbox)).toHaveLength(1);
    const lastSeq = outbox.lastSeq();
    expect(lastSeq).toBe(201);
    expect(outbox.append([draft(999)]).find((e) => e.type === 'file.marked')!.seq).toBe(lastSeq + 1);
  });

  it('an unsent report grows; once sent, the next overflow makes a new one', () => {
    const outbox = open({ maxBytes: MIN_OUTBOX_BYTES, overflow: 'drop-oldest' });
    for (let i = 0; i < 150; i++) outbox.append([draft(i)]);
    expect(overflowReports(outbox)).toHaveLength(1);
    const first = overflowReports(outbox)[0]!;
    outbox.markSent([first.seq as number], Date.now());
    for (let i = 150; i < 200; i++) outbox.append([draft(i)]);
    const reports = overflowReports(outbox);
    expect(reports).toHaveLength(2);
    expect(reports[0]).toEqual(first);
    expect((reports[1]!.data as { droppedTotal: number }).droppedTotal).toBe(outbox.droppedTotal());
    expectEverySeqAccountedFor(outbox);
  });

  it('acknowledged rows free their bytes, and the count survives a reopen', () => {
    const dir = newDir();
    let outbox = open({ maxBytes: MIN_OUTBOX_BYTES, overflow: 'drop-oldest' }, dir);
    for (let i = 0; i < 50; i++) outbox.append([draft(i)]);
    const before = outbox.pendingBytes();
    expect(outbox.acceptAck(ack(25))).toMatchObject({ accepted: true, removed: 25 });
    expect(outbox.pendingBytes()).toBeLessThan(before / 2 + 1000);
    const bytes = outbox.pendingBytes();
    outbox.close();
    outbox = open({ maxBytes: MIN_OUTBOX_BYTES, overflow: 'drop-oldest' }, dir);
    expect(outbox.pendingBytes()).toBe(bytes);
    expect(outbox.droppedTotal()).toBe(0);
  });

  it('a report displaced by later drops is itself reported, so every seq stays accounted for', () => {
    // Maximal events: each overflow displaces rows that include earlier reports' neighbours.
    const outbox = open({ maxBytes: MIN_OUTBOX_BYTES, overflow: 'drop-lowest-severity' });
    for (let i = 0; i < 60; i++) {
      outbox.append([draft(i, 'critical', MAX_ENVELOPE_BYTES / 2)]);
      expect(outbox.pendingBytes()).toBeLessThanOrEqual(MIN_OUTBOX_BYTES);
    }
    expectEverySeqAccountedFor(outbox);
  });

  it('keeps the database file near the bound however much is written', () => {
    const dir = newDir();
    const outbox = open({ maxBytes: MIN_OUTBOX_BYTES, overflow: 'drop-oldest' }, dir);
    for (let i = 0; i < 600; i++) outbox.append([draft(i)]);
    outbox.close();
    // Checkpoint the WAL into the main file, then measure what stays on disk.
    const db = new Database(join(dir, OUTBOX_FILE));
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    // maxBytes counts payloads; rows just over half a page waste the rest of it, so the file
    // may reach about twice the bound, never more.
    const size = statSync(join(dir, OUTBOX_FILE)).size;
    expect(size).toBeLessThan(MIN_OUTBOX_BYTES * 2);
  });

  it('refuses a bound too small for one maximal event and its report', () => {
    expect(() => open({ maxBytes: 1000, overflow: 'drop-oldest' })).toThrow(/outbox.maxBytes/);
  });

  it('upgrades a database made before the bound, counting its rows', () => {
    const dir = newDir();
    const outbox = open(undefined, dir);
    outbox.append([draft(1), draft(2)]);
    outbox.close();
    const db = new Database(join(dir, OUTBOX_FILE));
    db.exec('ALTER TABLE outbox DROP COLUMN bytes');
    db.exec('ALTER TABLE outbox DROP COLUMN severity_rank');
    db.close();
    const upgraded = open({ maxBytes: MIN_OUTBOX_BYTES, overflow: 'drop-lowest-severity' }, dir);
    expect(upgraded.pendingCount()).toBe(2);
    expect(upgraded.pendingBytes()).toBeGreaterThan(4000);
  });
});

describe('outbox resend backoff', () => {
  it('waits ackTimeout, then twice, four times … as long before resending the same event', () => {
    const outbox = open();
    outbox.append([draft(1)]);
    const t0 = Date.parse('2026-05-01T08:00:00Z');
    const timeout = 1000;
    outbox.markSent([1], t0);
    expect(outbox.dueForSending(t0 + 999, timeout)).toHaveLength(0);
    expect(outbox.dueForSending(t0 + 1000, timeout)).toHaveLength(1);
    outbox.markSent([1], t0 + 1000);
    expect(outbox.dueForSending(t0 + 2999, timeout)).toHaveLength(0);
    expect(outbox.dueForSending(t0 + 3000, timeout)).toHaveLength(1);
    for (let i = 0; i < 10; i++) outbox.markSent([1], t0);
    // Capped at 16 × the timeout.
    expect(outbox.dueForSending(t0 + 15_999, timeout)).toHaveLength(0);
    expect(outbox.dueForSending(t0 + 16_000, timeout)).toHaveLength(1);
    // A reconnect makes it due at once.
    outbox.markAllUnsent();
    expect(outbox.dueForSending(t0, timeout)).toHaveLength(1);
  });
});

describe('drain rate', () => {
  it('a token bucket allows one second of burst, then the configured rate', () => {
    const bucket = new DrainBucket(50, 0);
    expect(bucket.available(0)).toBe(50);
    bucket.take(50);
    expect(bucket.available(0)).toBe(0);
    expect(bucket.msUntil(1)).toBe(20);
    // A whole batch's worth (capped at one second's burst).
    expect(bucket.msUntil(32)).toBe(640);
    expect(bucket.msUntil(500)).toBe(1000);
    expect(bucket.available(100)).toBe(5);
    bucket.take(5);
    // Idle time never stores more than one second's worth.
    expect(bucket.available(60_000)).toBe(50);
  });

  it('config: sizes in units, policies by name, clear errors', () => {
    const config = agentConfigSchema.parse({
      outbox: { maxBytes: '1MiB', overflow: 'drop-oldest', drainRate: 5 },
    });
    expect(config.outbox).toMatchObject({ maxBytes: 1024 * 1024, overflow: 'drop-oldest', drainRate: 5 });
    expect(agentConfigSchema.parse({}).outbox.overflow).toBe('drop-lowest-severity');
    expect(agentConfigSchema.safeParse({ outbox: { maxBytes: '1KiB' } }).success).toBe(false);
    expect(agentConfigSchema.safeParse({ outbox: { maxBytes: 'lots' } }).success).toBe(false);
    expect(agentConfigSchema.safeParse({ outbox: { overflow: 'drop-newest' } }).success).toBe(false);
  });

  it('toRanges merges runs', () => {
    expect(toRanges([5, 1, 2, 3, 9, 10, 2])).toEqual([
      [1, 3],
      [5, 5],
      [9, 10],
    ]);
  });
});
