import { createHash } from 'node:crypto';
import { canonicalBytes } from '../../shared/canonical-json.js';
import { hasSuite, suiteFor } from '../../shared/crypto/suites.js';
import { collectorIdFromPublicKey } from '../../shared/identity.js';

/**
 * The audit log is tamper-evident (第34条 安全审计): each entry carries `seq` (its place in the
 * chain, 1, 2, 3… with no gaps, unlike row ids), `prevHash` (the previous entry's hash) and
 * `hash` = SHA-256 over the RFC 8785 form of its fields with seq and prevHash. Every so often the
 * collector signs the newest (seq, hash) with its own key (a signed head). An entry edited,
 * deleted or moved breaks the chain where it was; the last entries deleted are caught by a
 * signed head that names them. The verifier (verifyAuditChain) says which and where.
 */

/** The prevHash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** What an entry's hash covers: every field an auditor reads, its place and its predecessor. */
export interface AuditFields {
  at: string;
  actor: string;
  actorKind: string;
  role: string | null;
  unit: string | null;
  action: string;
  status: number | null;
  ip: string;
  detail: string;
  /** What a change was made to (`terminal:tm-…`, `person:ps-…`), so a record's history is read back. */
  subject?: string | null;
}

export interface ChainedAuditEntry extends AuditFields {
  id: number;
  seq: number;
  prevHash: string;
  hash: string;
}

export function auditEntryHash(fields: AuditFields, seq: number, prevHash: string): string {
  const { at, actor, actorKind, role, unit, action, status, ip, detail, subject } = fields;
  // subject is hashed only where there is one, so entries written before it keep their hashes.
  const form = {
    at,
    actor,
    actorKind,
    role,
    unit,
    action,
    status,
    ip,
    detail,
    ...(subject ? { subject } : {}),
    seq,
    prevHash,
  };
  return createHash('sha256').update(canonicalBytes(form)).digest('hex');
}

/** A signed chain head: the collector vouches that the chain ran to `seq` ending in `hash`. */
export interface SignedAuditHead {
  seq: number;
  hash: string;
  signedAt: string;
  /** The signing collector's id (from its public key). */
  collector: string;
  alg: string;
  publicKey: string;
  signature: string;
}

/** The bytes a head's signature covers. */
export function headSigningBytes(head: Omit<SignedAuditHead, 'signature' | 'alg' | 'publicKey'>): Buffer {
  const { seq, hash, signedAt, collector } = head;
  return canonicalBytes({ purpose: 'smew audit head', seq, hash, signedAt, collector });
}

export type ChainBreakKind = 'edited' | 'deleted' | 'reordered' | 'bad-signature' | 'unknown-signer';

export interface ChainBreak {
  kind: ChainBreakKind;
  /** The first row found wrong (the audit_log id), when a row is. */
  id?: number;
  seq?: number;
  detail: string;
}

export interface ChainReport {
  ok: boolean;
  entries: number;
  /** The last seq verified before the break (or the end). */
  verifiedThrough: number;
  heads: number;
  newestHead?: { seq: number; signedAt: string; collector: string };
  /** Entries after the newest signed head: protected by the chain, not yet by a signature. */
  unsigned: number;
  /** Entries written before the chain (none once the first append sealed them). */
  unchained: number;
  problem?: ChainBreak;
}

/** What the verifier reads, page by page in id order; and one look-up for a misplaced hash. */
export interface ChainSource {
  entries(): AsyncIterable<ChainedAuditEntry | (AuditFields & { id: number; seq: null })>;
  heads(): Promise<SignedAuditHead[]>;
  /** The entry holding this hash anywhere in the log (to tell a moved entry from a deleted one). */
  findByHash(hash: string): Promise<{ id: number; seq: number } | undefined>;
}

/**
 * Walks the log in id order (what an auditor reads) and checks each entry's hash, that its
 * predecessor is the row before it, and that seqs run without gaps; then every signed head: its
 * signature, its signer (one of `trusted`, collector ids) and that the entry it names is there
 * with that hash. Stops at the first break.
 */
export async function verifyAuditChain(
  source: ChainSource,
  trusted: ReadonlySet<string>,
): Promise<ChainReport> {
  let previous: Previous = { id: 0, seq: 0, hash: GENESIS_HASH };
  let entries = 0;
  let unchained = 0;
  const hashes = new Map<number, string>();
  const heads = await source.heads();
  const wanted = new Set(heads.map((h) => h.seq));
  const report = (problem?: ChainBreak): ChainReport => {
    const newest = heads.at(-1);
    return {
      ok: problem === undefined,
      entries,
      verifiedThrough: previous.seq,
      heads: heads.length,
      ...(newest
        ? { newestHead: { seq: newest.seq, signedAt: newest.signedAt, collector: newest.collector } }
        : {}),
      unsigned: Math.max(0, previous.seq - (newest?.seq ?? 0)),
      unchained,
      ...(problem ? { problem } : {}),
    };
  };
  for await (const entry of source.entries()) {
    entries += 1;
    if (entry.seq === null) {
      // Written before the chain and not sealed yet: only possible before the first append.
      if (previous.seq > 0) {
        return report({
          kind: 'edited',
          id: entry.id,
          detail: 'an entry without a chain after chained ones',
        });
      }
      unchained += 1;
      continue;
    }
    const problem = await checkLink(entry, previous, source);
    if (problem) return report(problem);
    if (wanted.has(entry.seq)) hashes.set(entry.seq, entry.hash);
    previous = { id: entry.id, seq: entry.seq, hash: entry.hash };
  }
  for (const head of heads) {
    const problem = checkHead(head, hashes.get(head.seq), previous.seq, trusted);
    if (problem) return report(problem);
  }
  return report();
}

/** The entry verified last. */
interface Previous {
  id: number;
  seq: number;
  hash: string;
}

async function checkLink(
  entry: ChainedAuditEntry,
  previous: Previous,
  source: ChainSource,
): Promise<ChainBreak | undefined> {
  const where = { id: entry.id, seq: entry.seq };
  if (auditEntryHash(entry, entry.seq, entry.prevHash) !== entry.hash) {
    return {
      kind: 'edited',
      ...where,
      detail: `entry ${entry.id} does not match its hash: changed after it was written`,
    };
  }
  if (entry.prevHash === previous.hash && entry.seq === previous.seq + 1) return undefined;
  const predecessor = entry.prevHash === GENESIS_HASH ? undefined : await source.findByHash(entry.prevHash);
  if (predecessor || (entry.prevHash === GENESIS_HASH && previous.seq > 0) || entry.seq <= previous.seq) {
    return {
      kind: 'reordered',
      ...where,
      detail:
        `entry ${entry.id} (seq ${entry.seq}) follows seq ${previous.seq} but was written after ` +
        (predecessor ? `entry ${predecessor.id} (seq ${predecessor.seq})` : 'the start of the log'),
    };
  }
  if (entry.seq > previous.seq + 1) {
    const missing = entry.seq - previous.seq - 1;
    return {
      kind: 'deleted',
      ...where,
      detail: `${missing} entr${missing === 1 ? 'y' : 'ies'} (seq ${previous.seq + 1}${missing > 1 ? `–${entry.seq - 1}` : ''}) missing before entry ${entry.id}`,
    };
  }
  // In its place, but its predecessor's hash is not the one it was chained to: that entry was
  // changed and its hash recomputed to hide it.
  return {
    kind: 'edited',
    id: previous.id,
    seq: previous.seq,
    detail: `entry ${previous.id} (seq ${previous.seq}) is not the one entry ${entry.id} was chained to: changed and re-hashed`,
  };
}

function checkHead(
  head: SignedAuditHead,
  hash: string | undefined,
  lastSeq: number,
  trusted: ReadonlySet<string>,
): ChainBreak | undefined {
  const at = `head signed ${head.signedAt} at seq ${head.seq}`;
  if (!hasSuite(head.alg) || collectorIdFromPublicKey(head.publicKey) !== head.collector) {
    return {
      kind: 'bad-signature',
      seq: head.seq,
      detail: `${at}: its key does not name collector ${head.collector}`,
    };
  }
  if (!suiteFor(head.alg).verifier(head.publicKey)(headSigningBytes(head), head.signature)) {
    return { kind: 'bad-signature', seq: head.seq, detail: `${at}: the signature does not verify` };
  }
  if (!trusted.has(head.collector)) {
    return {
      kind: 'unknown-signer',
      seq: head.seq,
      detail: `${at}: signed by collector ${head.collector}, not one trusted here (--trust ID)`,
    };
  }
  if (head.seq > lastSeq) {
    return {
      kind: 'deleted',
      seq: head.seq,
      detail: `${at}: the log ends at seq ${lastSeq}; the entries after it were deleted`,
    };
  }
  if (hash !== head.hash) {
    return { kind: 'edited', seq: head.seq, detail: `${at}: the entry at that seq is not the one signed` };
  }
  return undefined;
}
