import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../shared/clock.js';
import type { SignatureAlg, Signer, Verifier } from '../shared/crypto/suite.js';
import { suiteFor } from '../shared/crypto/suites.js';
import {
  ackSchema,
  checkCollectorMessage,
  ENVELOPE_VERSION,
  MAX_ENVELOPE_BYTES,
  signMessage,
  type EventEnvelope,
} from '../shared/envelope.js';
import type { SessionUser } from '../shared/inventory.js';
import { SEVERITIES, severityRank, type Severity } from '../shared/levels.js';

/**
 * The durable outbox (SPEC §5): every event is numbered, signed and on disk before it is
 * published, and leaves only when the collector's signed ack covers its `seq`. The same database
 * holds the open conditions of the differ, so both change in one transaction.
 *
 * Durability: WAL with `synchronous = FULL`. With NORMAL, a power cut can roll back the last
 * commits after they were published; the next start would then hand out those seqs again and
 * the collector would drop the new events as repeats — silent loss. FULL fsyncs every commit; an
 * agent writes a handful of events per scan, so the cost does not show.
 */
export const OUTBOX_FILE = 'outbox.db';

export interface EventDraft {
  type: string;
  state: 'raised' | 'cleared';
  key: string;
  severity: Severity;
  data: Record<string, unknown>;
}

/** A condition raised and not yet cleared, as last raised. */
export interface OpenCondition {
  type: string;
  severity: Severity;
  data: Record<string, unknown>;
  /** seq of the event that last raised it */
  seq: number;
}

export interface OutboxRow {
  seq: number;
  /** The signed envelope exactly as stored; published as is, byte for byte, on every attempt. */
  payload: string;
  /** ms since the epoch of the last hand-over to the broker client; undefined if never sent */
  lastSentAt: number | undefined;
  sendCount: number;
}

export interface OutboxOptions {
  /** identity.dir; the database is `<dir>/outbox.db` */
  dir: string;
  agentId: string;
  alg: SignatureAlg;
  sign: Signer;
  /** The collector learned at enrollment: only its signature makes an ack. */
  collector: { id: string; alg: SignatureAlg | string; publicKey: string };
  clock: Clock;
  /** The bound on disk and what to give up when it is reached; unbounded when absent. */
  limits?: OutboxLimits;
  /**
   * Who is logged in now (agent/probes/session-users.ts), read as each append signs its events:
   * every envelope then carries `users`, under its signature. Undefined (unknown): no field.
   */
  users?: () => SessionUser[] | undefined;
}

export const OVERFLOW_POLICIES = ['drop-oldest', 'drop-lowest-severity'] as const;
export type OverflowPolicy = (typeof OVERFLOW_POLICIES)[number];

export interface OutboxLimits {
  /** Bytes the unacknowledged events may take (signed payload plus ROW_OVERHEAD_BYTES each). */
  maxBytes: number;
  overflow: OverflowPolicy;
}

/** What one row costs beyond its payload: SQLite's record header, index entry and page slack. */
export const ROW_OVERHEAD_BYTES = 128;
/** The smallest bound that always leaves room for a maximal event and the overflow report. */
export const MIN_OUTBOX_BYTES = 4 * MAX_ENVELOPE_BYTES;
export const OVERFLOW_EVENT_TYPE = 'agent.queue.overflow';
/** Seq ranges one overflow report lists; more drops than that are reported in several events. */
const MAX_RANGES_PER_REPORT = 1000;
/** A resend waits ackTimeout × 2^(n−1) after the n-th send, capped at this factor. */
const MAX_RESEND_BACKOFF_SHIFT = 4;

export type AckOutcome =
  | { accepted: true; ack: number; removed: number; advancedSeq: boolean }
  | { accepted: false; reason: string };

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at TEXT NOT NULL,
  last_sent_at INTEGER,
  send_count INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0,
  severity_rank INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS outbox_last_sent ON outbox (last_sent_at);
CREATE TABLE IF NOT EXISTS open_conditions (
  key TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  severity TEXT NOT NULL,
  data TEXT NOT NULL,
  seq INTEGER NOT NULL
);
`;

interface RowRecord {
  seq: number;
  payload: string;
  last_sent_at: number | null;
  send_count: number;
}

export class Outbox {
  private readonly db: Database.Database;
  private readonly verifyCollector: Verifier;
  private readonly statements;
  /** Bytes the rows take (see ROW_OVERHEAD_BYTES); kept here, this process is the only writer. */
  private bytes: number;
  /** Who was logged in when the append in progress began: the same for each event it signs. */
  private signingUsers: SessionUser[] | undefined;

  private constructor(
    private readonly options: OutboxOptions,
    db: Database.Database,
  ) {
    this.db = db;
    this.verifyCollector = suiteFor(options.collector.alg).verifier(options.collector.publicKey);
    this.statements = {
      getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
      setMeta: db.prepare<[string, string]>(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
      insert: db.prepare<[number, string, string, string, number, number]>(
        `INSERT INTO outbox (seq, type, payload, created_at, bytes, severity_rank)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      totalBytes: db.prepare<[], { n: number }>('SELECT COALESCE(SUM(bytes), 0) AS n FROM outbox'),
      bytesUpTo: db.prepare<[number], { n: number }>(
        'SELECT COALESCE(SUM(bytes), 0) AS n FROM outbox WHERE seq <= ?',
      ),
      // Overflow reports go last: dropping one only makes the next report longer.
      victimsOldest: db.prepare<[number], { seq: number; bytes: number }>(
        `SELECT seq, bytes FROM outbox ORDER BY type = '${OVERFLOW_EVENT_TYPE}', seq LIMIT ?`,
      ),
      victimsLowestSeverity: db.prepare<[number], { seq: number; bytes: number }>(
        `SELECT seq, bytes FROM outbox
         ORDER BY type = '${OVERFLOW_EVENT_TYPE}', severity_rank, seq LIMIT ?`,
      ),
      remove: db.prepare<[number]>('DELETE FROM outbox WHERE seq = ?'),
      has: db.prepare<[number], { seq: number }>('SELECT seq FROM outbox WHERE seq = ?'),
      unsentReport: db.prepare<[], { seq: number; payload: string; bytes: number }>(
        `SELECT seq, payload, bytes FROM outbox WHERE type = '${OVERFLOW_EVENT_TYPE}' AND send_count = 0
         ORDER BY seq DESC LIMIT 1`,
      ),
      pending: db.prepare<[number], RowRecord>(
        'SELECT seq, payload, last_sent_at, send_count FROM outbox ORDER BY seq LIMIT ?',
      ),
      // The n-th resend waits ackTimeout × 2^(n−1) (capped): a collector that does not answer
      // is not hammered with the same backlog every ack timeout.
      due: db.prepare<[number, number, number], RowRecord>(
        `SELECT seq, payload, last_sent_at, send_count FROM outbox
         WHERE last_sent_at IS NULL
            OR last_sent_at <= ? - ? * (1 << MIN(MAX(send_count - 1, 0), ${MAX_RESEND_BACKOFF_SHIFT}))
         ORDER BY seq LIMIT ?`,
      ),
      count: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM outbox'),
      markSent: db.prepare<[number, number]>(
        'UPDATE outbox SET last_sent_at = ?, send_count = send_count + 1 WHERE seq = ?',
      ),
      markAllUnsent: db.prepare('UPDATE outbox SET last_sent_at = NULL'),
      removeUpTo: db.prepare<[number]>('DELETE FROM outbox WHERE seq <= ?'),
      openConditions: db.prepare<
        [],
        { key: string; type: string; severity: Severity; data: string; seq: number }
      >('SELECT key, type, severity, data, seq FROM open_conditions ORDER BY key'),
      raise: db.prepare<[string, string, string, string, number]>(
        `INSERT INTO open_conditions (key, type, severity, data, seq) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET type = excluded.type, severity = excluded.severity,
           data = excluded.data, seq = excluded.seq`,
      ),
      clear: db.prepare<[string]>('DELETE FROM open_conditions WHERE key = ?'),
    };
    this.bytes = this.statements.totalBytes.get()!.n;
    const limits = options.limits;
    if (limits && !(limits.maxBytes >= MIN_OUTBOX_BYTES)) {
      throw new Error(`outbox.maxBytes must be at least ${MIN_OUTBOX_BYTES} bytes, found ${limits.maxBytes}`);
    }
  }

  /** Opens (or creates) `<dir>/outbox.db`. Refuses a database that belongs to another agent key. */
  static open(options: OutboxOptions): Outbox {
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    const db = new Database(join(options.dir, OUTBOX_FILE));
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      db.exec(SCHEMA);
      addSizeColumns(db);
      const outbox = new Outbox(options, db);
      outbox.claimForAgent();
      return outbox;
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /**
   * The seq counter belongs to one key. Events signed by another key could never be delivered
   * under this agent's id, and continuing its numbering would mislead, so a mismatch is refused
   * (enrollment with a new key moves the old database aside).
   */
  private claimForAgent(): void {
    this.transaction(() => {
      const owner = this.getMeta('agent');
      if (owner === undefined) {
        this.statements.setMeta.run('agent', this.options.agentId);
        this.statements.setMeta.run('last_seq', '0');
      } else if (owner !== this.options.agentId) {
        throw new Error(
          `${join(this.options.dir, OUTBOX_FILE)} belongs to agent ${owner}, not ${this.options.agentId}`,
        );
      }
    });
  }

  /** Runs `fn` in one transaction (nested calls become savepoints). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** The highest seq ever assigned; heartbeats carry it so the collector sees gaps. */
  lastSeq(): number {
    return Number(this.getMeta('last_seq') ?? '0');
  }

  /**
   * Numbers, signs and stores `drafts` in one transaction and returns the envelopes. Seqs follow
   * the persisted counter, so they run on from 1 without gaps or reuse across restarts. With
   * `tracksConditions`, raised drafts open (or update) their condition and cleared ones close it.
   *
   * When `limits` is set and the rows would pass `maxBytes`, older or less severe rows are dropped
   * to make room, and a signed `agent.queue.overflow` event (itself within the bound) says how
   * many and which seqs, so the collector can tell declared drops from losses and move its
   * watermark past them. The returned envelopes include those reports.
   */
  append(drafts: readonly EventDraft[], options: { tracksConditions?: boolean } = {}): EventEnvelope[] {
    if (drafts.length === 0) return [];
    return this.transaction(() => {
      let seq = this.lastSeq();
      const createdAt = this.options.clock.now().toISOString();
      this.signingUsers = this.options.users?.();
      const dropped: number[] = [];
      const envelopes = drafts.map((draft) => {
        seq += 1;
        const envelope = this.sign(seq, createdAt, draft);
        this.store(envelope, createdAt, dropped);
        if (options.tracksConditions) {
          if (draft.state === 'raised') {
            this.statements.raise.run(draft.key, draft.type, draft.severity, JSON.stringify(draft.data), seq);
          } else {
            this.statements.clear.run(draft.key);
          }
        }
        return envelope;
      });
      while (dropped.length > 0) {
        const report = this.storeOverflowReport(seq + 1, createdAt, dropped);
        if (report.tookSeq) seq += 1;
        envelopes.push(report.envelope);
      }
      this.statements.setMeta.run('last_seq', String(seq));
      // A draft can be displaced by a later one of the same batch, a report by its newer
      // version: return only what is kept, each seq once, as last signed.
      const kept = new Map<number, EventEnvelope>();
      for (const envelope of envelopes) {
        if (this.statements.has.get(envelope.seq) !== undefined) kept.set(envelope.seq, envelope);
      }
      return [...kept.values()].sort((a, b) => a.seq - b.seq);
    });
  }

  /**
   * A value the agent keeps beside its events (the last inventory sent), so that it changes in the
   * same transaction as the events that announce it: after a crash they never disagree.
   */
  kept(name: string): string | undefined {
    return this.getMeta(`kept:${name}`);
  }

  keep(name: string, value: string): void {
    this.statements.setMeta.run(`kept:${name}`, value);
  }

  /** Events dropped for room since this database was created (every one was reported). */
  droppedTotal(): number {
    return Number(this.getMeta('dropped_total') ?? '0');
  }

  /** Bytes the unacknowledged events take, as counted against `limits.maxBytes`. */
  pendingBytes(): number {
    return this.bytes;
  }

  private sign(seq: number, ts: string, draft: EventDraft): EventEnvelope {
    return signMessage(
      {
        v: ENVELOPE_VERSION,
        agent: this.options.agentId,
        seq,
        ts,
        type: draft.type,
        state: draft.state,
        key: draft.key,
        severity: draft.severity,
        data: draft.data,
        ...(this.signingUsers !== undefined ? { users: this.signingUsers } : {}),
        alg: this.options.alg,
      },
      this.options.sign,
    ) as EventEnvelope;
  }

  /** Inserts one signed row, first dropping rows (their seqs go into `dropped`) until it fits. */
  private store(envelope: EventEnvelope, createdAt: string, dropped: number[]): void {
    const payload = JSON.stringify(envelope);
    const bytes = rowBytes(payload);
    this.makeRoom(bytes, dropped);
    this.statements.insert.run(
      envelope.seq,
      envelope.type,
      payload,
      createdAt,
      bytes,
      severityRank(envelope.severity),
    );
    this.bytes += bytes;
  }

  /**
   * Stores one overflow report for (up to MAX_RANGES_PER_REPORT ranges of) `dropped` and removes
   * what it reports from `dropped`. A report never sent yet is replaced by one that lists its
   * ranges too, under its seq (nobody has seen it), so a long outage leaves one growing report
   * rather than one per append. Making room may drop more rows; the report is re-signed to
   * include them, until it lists everything it displaced. Returns it and whether it took `seq`.
   */
  private storeOverflowReport(
    seq: number,
    createdAt: string,
    dropped: number[],
  ): { envelope: EventEnvelope; tookSeq: boolean } {
    const unsent = this.statements.unsentReport.get();
    let reportSeq = seq;
    let earlier: number[] = [];
    if (unsent) {
      const data = (JSON.parse(unsent.payload) as { data: { seqs?: [number, number][] } }).data;
      const ranges = data.seqs ?? [];
      if (ranges.length < MAX_RANGES_PER_REPORT) {
        reportSeq = unsent.seq;
        earlier = ranges.flatMap(([from, to]) => seqsIn(from, to));
        this.statements.remove.run(unsent.seq);
        this.bytes -= unsent.bytes;
      }
    }
    for (;;) {
      const ranges = toRanges([...earlier, ...dropped]).slice(0, MAX_RANGES_PER_REPORT);
      const listed = ranges.reduce((n, [from, to]) => n + (to - from + 1), 0);
      const newlyReported = listed - earlier.length;
      const droppedTotal = this.droppedTotal() + newlyReported;
      const envelope = this.sign(reportSeq, createdAt, {
        type: OVERFLOW_EVENT_TYPE,
        state: 'raised',
        key: OVERFLOW_EVENT_TYPE,
        severity: 'high',
        data: {
          dropped: listed,
          droppedTotal,
          seqs: ranges,
          maxBytes: this.options.limits?.maxBytes ?? 0,
          policy: this.options.limits?.overflow ?? 'drop-oldest',
        },
      });
      const payload = JSON.stringify(envelope);
      const bytes = rowBytes(payload);
      const before = dropped.length;
      this.makeRoom(bytes, dropped);
      if (dropped.length !== before) continue;
      this.statements.insert.run(reportSeq, envelope.type, payload, createdAt, bytes, severityRank('high'));
      this.bytes += bytes;
      this.statements.setMeta.run('dropped_total', String(droppedTotal));
      const reportedSeqs = new Set(ranges.flatMap(([from, to]) => seqsIn(from, to)));
      const rest = dropped.filter((s) => !reportedSeqs.has(s));
      dropped.splice(0, dropped.length, ...rest);
      return { envelope, tookSeq: reportSeq === seq };
    }
  }

  /** Drops rows in the order of the overflow policy until `incoming` more bytes fit. */
  private makeRoom(incoming: number, dropped: number[]): void {
    const limits = this.options.limits;
    if (!limits) return;
    const victims =
      limits.overflow === 'drop-oldest'
        ? this.statements.victimsOldest
        : this.statements.victimsLowestSeverity;
    while (this.bytes + incoming > limits.maxBytes) {
      const batch = victims.all(64);
      if (batch.length === 0) return;
      for (const victim of batch) {
        if (this.bytes + incoming <= limits.maxBytes) return;
        this.statements.remove.run(victim.seq);
        this.bytes -= victim.bytes;
        dropped.push(victim.seq);
      }
    }
  }

  openConditions(): Map<string, OpenCondition> {
    const open = new Map<string, OpenCondition>();
    for (const row of this.statements.openConditions.all()) {
      open.set(row.key, {
        type: row.type,
        severity: row.severity,
        data: JSON.parse(row.data) as Record<string, unknown>,
        seq: row.seq,
      });
    }
    return open;
  }

  /** Every unacknowledged event, oldest first. */
  pending(limit = Number.MAX_SAFE_INTEGER): OutboxRow[] {
    return this.statements.pending.all(limit).map(toRow);
  }

  /** Unacknowledged events never sent, or last sent at least `ackTimeoutMs` ago, oldest first. */
  dueForSending(nowMs: number, ackTimeoutMs: number, limit = Number.MAX_SAFE_INTEGER): OutboxRow[] {
    return this.statements.due.all(nowMs, ackTimeoutMs, limit).map(toRow);
  }

  pendingCount(): number {
    return this.statements.count.get()!.n;
  }

  markSent(seqs: readonly number[], atMs: number): void {
    this.transaction(() => {
      for (const seq of seqs) this.statements.markSent.run(atMs, seq);
    });
  }

  /**
   * After a reconnect nothing in flight can be trusted to arrive (the broker may have lost its
   * queue), so everything unacknowledged becomes due again.
   */
  markAllUnsent(): void {
    this.statements.markAllUnsent.run();
  }

  /**
   * Applies a message from our ack topic. Only a well-formed ack for this agent, signed by the
   * collector we enrolled with, removes anything; it removes exactly the events with seq ≤ ack.
   * Anything else is refused with a reason and changes nothing.
   */
  acceptAck(payload: string | Buffer): AckOutcome {
    const checked = checkCollectorMessage(payload, ackSchema, 'an ack', {
      agentId: this.options.agentId,
      collectorId: this.options.collector.id,
      collectorAlg: this.options.collector.alg,
      verify: this.verifyCollector,
    });
    if (!checked.ok) return { accepted: false, reason: checked.reason };
    const ack = checked.message;
    return this.transaction(() => {
      this.bytes -= this.statements.bytesUpTo.get(ack.ack)!.n;
      const removed = this.statements.removeUpTo.run(ack.ack).changes;
      // The collector holds seqs we no longer remember (our database was restored from a backup
      // or lost): continue after them, or our next events would be dropped as repeats.
      const advancedSeq = ack.ack > this.lastSeq();
      if (advancedSeq) this.statements.setMeta.run('last_seq', String(ack.ack));
      return { accepted: true as const, ack: ack.ack, removed, advancedSeq };
    });
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private getMeta(key: string): string | undefined {
    return this.statements.getMeta.get(key)?.value;
  }
}

/** What a row counts against `maxBytes`: its UTF-8 payload plus the fixed overhead. */
function rowBytes(payload: string): number {
  return Buffer.byteLength(payload, 'utf8') + ROW_OVERHEAD_BYTES;
}

/** Sorted, merged [from, to] ranges of the given seqs. */
export function toRanges(seqs: readonly number[]): [number, number][] {
  const sorted = [...new Set(seqs)].sort((a, b) => a - b);
  const ranges: [number, number][] = [];
  for (const seq of sorted) {
    const last = ranges.at(-1);
    if (last && seq === last[1] + 1) last[1] = seq;
    else ranges.push([seq, seq]);
  }
  return ranges;
}

function seqsIn(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** Databases made before the size bound get its columns, filled from what they hold. */
function addSizeColumns(db: Database.Database): void {
  const columns = new Set((db.pragma('table_info(outbox)') as { name: string }[]).map((c) => c.name));
  if (columns.has('bytes')) return;
  db.transaction(() => {
    db.exec('ALTER TABLE outbox ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0');
    db.exec('ALTER TABLE outbox ADD COLUMN severity_rank INTEGER NOT NULL DEFAULT 0');
    db.prepare('UPDATE outbox SET bytes = length(CAST(payload AS BLOB)) + ?').run(ROW_OVERHEAD_BYTES);
    for (const [rank, severity] of SEVERITIES.entries()) {
      db.prepare(`UPDATE outbox SET severity_rank = ? WHERE json_extract(payload, '$.severity') = ?`).run(
        rank,
        severity,
      );
    }
  })();
}

function toRow(record: RowRecord): OutboxRow {
  return {
    seq: record.seq,
    payload: record.payload,
    lastSentAt: record.last_sent_at ?? undefined,
    sendCount: record.send_count,
  };
}
