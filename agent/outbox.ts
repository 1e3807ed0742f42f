import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../shared/clock.js';
import type { SignatureAlg, Signer, Verifier } from '../shared/crypto/suite.js';
import { suiteFor } from '../shared/crypto/suites.js';
import {
  ackSchema,
  ENVELOPE_VERSION,
  MAX_ENVELOPE_BYTES,
  signMessage,
  verifyMessage,
  type EventEnvelope,
} from '../shared/envelope.js';
import type { Severity } from '../shared/levels.js';

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
}

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
  send_count INTEGER NOT NULL DEFAULT 0
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
      insert: db.prepare<[number, string, string, string]>(
        'INSERT INTO outbox (seq, type, payload, created_at) VALUES (?, ?, ?, ?)',
      ),
      pending: db.prepare<[number], RowRecord>(
        'SELECT seq, payload, last_sent_at, send_count FROM outbox ORDER BY seq LIMIT ?',
      ),
      due: db.prepare<[number, number], RowRecord>(
        `SELECT seq, payload, last_sent_at, send_count FROM outbox
         WHERE last_sent_at IS NULL OR last_sent_at <= ? ORDER BY seq LIMIT ?`,
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
   */
  append(drafts: readonly EventDraft[], options: { tracksConditions?: boolean } = {}): EventEnvelope[] {
    if (drafts.length === 0) return [];
    return this.transaction(() => {
      let seq = this.lastSeq();
      const createdAt = this.options.clock.now().toISOString();
      const envelopes = drafts.map((draft) => {
        seq += 1;
        const envelope = signMessage(
          {
            v: ENVELOPE_VERSION,
            agent: this.options.agentId,
            seq,
            ts: createdAt,
            type: draft.type,
            state: draft.state,
            key: draft.key,
            severity: draft.severity,
            data: draft.data,
            alg: this.options.alg,
          },
          this.options.sign,
        ) as EventEnvelope;
        this.statements.insert.run(seq, draft.type, JSON.stringify(envelope), createdAt);
        if (options.tracksConditions) {
          if (draft.state === 'raised') {
            this.statements.raise.run(draft.key, draft.type, draft.severity, JSON.stringify(draft.data), seq);
          } else {
            this.statements.clear.run(draft.key);
          }
        }
        return envelope;
      });
      this.statements.setMeta.run('last_seq', String(seq));
      return envelopes;
    });
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
    return this.statements.due.all(nowMs - ackTimeoutMs, limit).map(toRow);
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
    if (payload.length > MAX_ENVELOPE_BYTES) return { accepted: false, reason: 'too large' };
    let message: unknown;
    try {
      message = JSON.parse(payload.toString());
    } catch {
      return { accepted: false, reason: 'not JSON' };
    }
    const parsed = ackSchema.safeParse(message);
    if (!parsed.success) return { accepted: false, reason: 'not an ack' };
    const ack = parsed.data;
    if (ack.agent !== this.options.agentId)
      return { accepted: false, reason: `for another agent (${ack.agent})` };
    if (ack.collector !== this.options.collector.id || ack.alg !== this.options.collector.alg) {
      return { accepted: false, reason: `not from our collector (${ack.collector})` };
    }
    // Verify the object as received: unknown fields are covered by the signature too.
    if (!verifyMessage(message as Record<string, unknown>, this.verifyCollector)) {
      return { accepted: false, reason: 'bad signature' };
    }
    return this.transaction(() => {
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

function toRow(record: RowRecord): OutboxRow {
  return {
    seq: record.seq,
    payload: record.payload,
    lastSentAt: record.last_sent_at ?? undefined,
    sendCount: record.send_count,
  };
}
