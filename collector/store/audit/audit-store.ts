/**
 * Persistence of the audit log (who did what, when, from where) and of its chain: each entry
 * hashed onto the one before (collector/audit/audit-chain.ts), the chain head signed now and then
 * by the collector. Appends are serialised, so two writers — two requests, a command on the same
 * file, two collectors on one PostgreSQL — never fork the chain: SQLite's BEGIN IMMEDIATE holds
 * the write lock, PostgreSQL takes an advisory lock for the transaction.
 */
import type { Role } from '../../auth/roles.js';
import {
  auditEntryHash,
  GENESIS_HASH,
  type AuditFields,
  type ChainedAuditEntry,
  type SignedAuditHead,
} from '../../audit/audit-chain.js';
import { stripNul, type Database } from '../sql/database.js';
import { list, raw, sql, when } from '../sql/query.js';

export interface NewAuditEntry extends AuditFields {
  /** User or API key name; for a refused login, the name that was tried. */
  actor: string;
  /** collector: a child collector (its refused reports); cli: a command run on the collector's host. */
  actorKind: 'user' | 'api-key' | 'anonymous' | 'collector' | 'cli';
  role: Role | null;
  /** e.g. `login`, `login.refused`, `logout`, `POST /api/v1/warnings/w-1/transitions`. */
  action: string;
  /** HTTP status of the request, when the action was one. */
  status: number | null;
}

export interface AuditEntry extends NewAuditEntry {
  id: number;
}

/** An entry as stored, with its place in the chain (null for one written before the chain). */
export type StoredAuditEntry = AuditEntry & {
  seq: number | null;
  prevHash: string | null;
  hash: string | null;
};

export interface AuditFilter {
  /** Only entries with an actor of these units (unit-less actors are collector-wide and hidden); undefined = all. */
  units?: readonly string[];
  actor?: string;
  /** Entries whose action contains this text. */
  action?: string;
  /** Entries at or after / before these times. */
  since?: string;
  until?: string;
  /** Entries with id below this, for paging back. */
  beforeId?: number;
  limit: number;
}

export interface AuditStore {
  /** Appends one entry, chained onto the newest; returns it with its place in the chain. */
  append(entry: NewAuditEntry): Promise<ChainedAuditEntry>;
  /** Newest first. */
  list(filter: AuditFilter): Promise<StoredAuditEntry[]>;
  /** Oldest first from after `afterId`: the log as the verifier and the export read it. */
  page(afterId: number, limit: number, units?: readonly string[]): Promise<StoredAuditEntry[]>;
  /** The entry holding `hash`, wherever it is. */
  findByHash(hash: string): Promise<{ id: number; seq: number } | undefined>;
  /** The newest chained entry, or undefined for an empty (or not yet sealed) log. */
  head(): Promise<{ seq: number; hash: string } | undefined>;
  addHead(head: SignedAuditHead): Promise<void>;
  /** Every signed head, oldest first. */
  listHeads(): Promise<SignedAuditHead[]>;
  latestHead(): Promise<SignedAuditHead | undefined>;
}

/**
 * Appends one entry chained onto the newest, inside the caller's transaction `tx`: the one way an
 * entry is written, so a change (a register row) and its audit entry commit together and the
 * chain stays whole. `tx` must be a transaction (SQLite's write lock, or the advisory lock here).
 */
export async function appendAuditIn(tx: Database, newEntry: NewAuditEntry): Promise<ChainedAuditEntry> {
  const entry = storable(newEntry);
  if (tx.dialect === 'postgres') await tx.get(sql`SELECT pg_advisory_xact_lock(${AUDIT_LOCK})`);
  const previous = await sealUnchained(tx);
  const seq = previous.seq + 1;
  const hash = auditEntryHash(entry, seq, previous.hash);
  const subject = entry.subject ?? null;
  const row = await tx.get<{ id: number | string }>(
    sql`INSERT INTO audit_log (at, actor, actor_kind, role, unit, action, status, ip, detail, subject, seq, prev_hash, hash)
        VALUES (${entry.at}, ${entry.actor}, ${entry.actorKind}, ${entry.role}, ${entry.unit}, ${entry.action},
                ${entry.status}, ${entry.ip}, ${entry.detail}, ${subject}, ${seq}, ${previous.hash}, ${hash})
        RETURNING id`,
  );
  return { ...entry, subject, id: Number(row!.id), seq, prevHash: previous.hash, hash };
}

/** Any fixed number: the advisory lock every collector appending to one PostgreSQL log takes. */
const AUDIT_LOCK = 0x61756469; // "audi"

const FIELDS =
  raw(`id, at, actor, actor_kind AS "actorKind", role, unit, action, status, ip, detail, subject, seq,
  prev_hash AS "prevHash", hash`);
const HEAD_FIELDS = raw(
  `seq, hash, signed_at AS "signedAt", collector, alg, public_key AS "publicKey", signature`,
);

/** Numbers may come back as text from PostgreSQL's BIGINT. */
function toEntry(row: StoredAuditEntry): StoredAuditEntry {
  return {
    ...row,
    id: Number(row.id),
    seq: row.seq === null ? null : Number(row.seq),
    status: row.status === null ? null : Number(row.status),
  };
}

/**
 * What is hashed is what is stored: PostgreSQL text cannot hold NUL, so every field is kept (and
 * hashed) with NUL as its visible escape, in both databases alike.
 */
function storable(entry: NewAuditEntry): NewAuditEntry {
  const text = (value: string | null) => (value === null ? null : stripNul(value));
  return {
    ...entry,
    at: stripNul(entry.at),
    actor: stripNul(entry.actor),
    unit: text(entry.unit),
    action: stripNul(entry.action),
    ip: stripNul(entry.ip),
    detail: stripNul(entry.detail),
    subject: text(entry.subject ?? null),
  };
}

export class SqlAuditStore implements AuditStore {
  constructor(private readonly db: Database) {}

  async append(newEntry: NewAuditEntry): Promise<ChainedAuditEntry> {
    return this.db.transaction((tx) => appendAuditIn(tx, newEntry));
  }

  async list(filter: AuditFilter): Promise<StoredAuditEntry[]> {
    const { units, actor, action, since, until, beforeId } = filter;
    if (units?.length === 0) return [];
    const rows = await this.db.all<StoredAuditEntry>(
      sql`SELECT ${FIELDS} FROM audit_log WHERE 1 = 1
          ${when(units !== undefined, sql`AND unit IN ${list(units ?? [])}`)}
          ${when(actor !== undefined, sql`AND actor = ${actor}`)}
          ${when(action !== undefined, sql`AND action LIKE ${`%${escapeLike(action ?? '')}%`} ESCAPE '\\'`)}
          ${when(since !== undefined, sql`AND at >= ${since}`)}
          ${when(until !== undefined, sql`AND at < ${until}`)}
          ${when(beforeId !== undefined, sql`AND id < ${beforeId}`)}
          ORDER BY id DESC LIMIT ${filter.limit}`,
    );
    return rows.map(toEntry);
  }

  async page(afterId: number, limit: number, units?: readonly string[]): Promise<StoredAuditEntry[]> {
    if (units?.length === 0) return [];
    const rows = await this.db.all<StoredAuditEntry>(
      sql`SELECT ${FIELDS} FROM audit_log WHERE id > ${afterId}
          ${when(units !== undefined, sql`AND unit IN ${list(units ?? [])}`)}
          ORDER BY id LIMIT ${limit}`,
    );
    return rows.map(toEntry);
  }

  async findByHash(hash: string): Promise<{ id: number; seq: number } | undefined> {
    const row = await this.db.get<{ id: number | string; seq: number | string }>(
      sql`SELECT id, seq FROM audit_log WHERE hash = ${hash} ORDER BY id LIMIT 1`,
    );
    return row ? { id: Number(row.id), seq: Number(row.seq) } : undefined;
  }

  async head(): Promise<{ seq: number; hash: string } | undefined> {
    const row = await this.db.get<{ seq: number | string; hash: string }>(
      sql`SELECT seq, hash FROM audit_log WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1`,
    );
    return row ? { seq: Number(row.seq), hash: row.hash } : undefined;
  }

  async addHead(h: SignedAuditHead): Promise<void> {
    await this.db.run(
      sql`INSERT INTO audit_heads (seq, hash, signed_at, collector, alg, public_key, signature)
          VALUES (${h.seq}, ${h.hash}, ${h.signedAt}, ${h.collector}, ${h.alg}, ${h.publicKey}, ${h.signature})`,
    );
  }

  async listHeads(): Promise<SignedAuditHead[]> {
    const rows = await this.db.all<SignedAuditHead>(sql`SELECT ${HEAD_FIELDS} FROM audit_heads ORDER BY id`);
    return rows.map((row) => ({ ...row, seq: Number(row.seq) }));
  }

  async latestHead(): Promise<SignedAuditHead | undefined> {
    const row = await this.db.get<SignedAuditHead>(
      sql`SELECT ${HEAD_FIELDS} FROM audit_heads ORDER BY id DESC LIMIT 1`,
    );
    return row ? { ...row, seq: Number(row.seq) } : undefined;
  }
}

/** `%` and `_` in a filter are the text itself, not wildcards. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * The newest link of the chain, sealing first any entries written before it existed (a database
 * made before migration 17): they are chained in id order, as they stand at the upgrade.
 */
async function sealUnchained(tx: Database): Promise<{ seq: number; hash: string }> {
  const newest = await tx.get<{ seq: number | string; hash: string }>(
    sql`SELECT seq, hash FROM audit_log WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1`,
  );
  let previous = newest ? { seq: Number(newest.seq), hash: newest.hash } : { seq: 0, hash: GENESIS_HASH };
  const unchained = await tx.all<StoredAuditEntry>(
    sql`SELECT ${FIELDS} FROM audit_log WHERE seq IS NULL ORDER BY id`,
  );
  for (const row of unchained.map(toEntry)) {
    const seq = previous.seq + 1;
    const hash = auditEntryHash(row, seq, previous.hash);
    await tx.run(
      sql`UPDATE audit_log SET seq = ${seq}, prev_hash = ${previous.hash}, hash = ${hash} WHERE id = ${row.id}`,
    );
    previous = { seq, hash };
  }
  return previous;
}
