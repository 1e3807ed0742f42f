import { createPublicKey } from 'node:crypto';
import { skewMs, type Clock } from '../../shared/clock.js';
import type { SignatureAlg } from '../../shared/crypto/suite.js';
import { hasSuite, suiteFor } from '../../shared/crypto/suites.js';
import { collectorIdFromPublicKey } from '../../shared/identity.js';
import type { Logger } from '../../shared/log.js';
import { enrollmentProofProblem } from '../../shared/enrollment-proof.js';
import { tokenRefusalAnswer } from '../auth/enrollment-tokens.js';
import { hashSecret } from '../auth/secrets.js';
import type { CollectorIdentity } from '../identity.js';
import type {
  HierarchyStore,
  ReceivedRecord,
  SubordinateRecord,
} from '../store/hierarchy/hierarchy-store.js';
import {
  HIERARCHY_VERSION,
  LINK_MAX_SKEW_MS,
  batchSchema,
  childCertSchema,
  isAbove,
  pullRequestSchema,
  sign,
  verifiedBy,
  verifyRecord,
  type ChildCert,
  type CollectorLevel,
  type KnownCollector,
  type PullReply,
  type Receipt,
} from './messages.js';
import type { HierarchyMetrics } from './hierarchy-metrics.js';
import { ownReport } from './reports.js';
import { subtreeRefusal, subtreeView } from './subtree.js';

/**
 * The parent's side of the link: enrolling a child collector with a token, taking its batches
 * of reports (verify, store once, forward, sign a receipt), and answering its pulls for notices.
 * Collector-to-collector routes authenticate by signature, not by a bearer key.
 */
export interface ParentSideDeps {
  store: HierarchyStore;
  identity: CollectorIdentity;
  clock: Clock;
  logger: Logger;
  unit: string;
  level: CollectorLevel;
  metrics?: HierarchyMetrics;
  /** ingest.maxSkew: how far a child's enrollment request may be dated from this clock (default 5 min). */
  enrollMaxSkewMs?: number;
  /** Units held here besides this collector's own (its agents'): no child may claim them. */
  localUnits?: () => Promise<string[]>;
  /** Writes a refusal of what a child sent into the audit log. */
  audit?: (entry: { actor: string; action: string; detail: string }) => Promise<void>;
}

/** A refusal; `reason` names it on /metrics and in the audit log (the status stands in when absent). */
export type Refused = { ok: false; status: number; error: string; reason?: string };
export type Answer<T> = { ok: true; body: T } | Refused;

const PULL_LIMIT = 100;
/** ingest.maxSkew's default, when the deps do not give it. */
const DEFAULT_ENROLL_SKEW_MS = 5 * 60_000;

export interface ChildEnrollRequest {
  token: string;
  publicKey: string;
  alg: SignatureAlg;
  unit: string;
  level: CollectorLevel;
  /** The proof of possession (shared/enrollment-proof.ts); refused without it. */
  collector?: string;
  ts?: string;
  sig?: string;
}

export interface ChildEnrollResponse {
  child: { id: string; unit: string; level: CollectorLevel };
  parent: { id: string; alg: SignatureAlg; publicKey: string; unit: string; level: CollectorLevel };
  cert: ChildCert;
}

export async function enrollChild(
  deps: ParentSideDeps,
  request: ChildEnrollRequest,
): Promise<Answer<ChildEnrollResponse>> {
  const refuse = (status: number, error: string, reason: string): Answer<ChildEnrollResponse> => {
    deps.metrics?.enrollRejected.inc({ kind: 'collector', reason });
    deps.logger.info({ reason }, 'refused a child collector enrollment');
    return { ok: false, status, error };
  };
  if (!hasSuite(request.alg))
    return refuse(400, `this collector cannot verify ${request.alg} signatures`, 'unsupported-alg');
  if (!isAbove(deps.level, request.level)) {
    return refuse(
      400,
      `level: a ${request.level} collector cannot report to this ${deps.level} collector; its parent must sit higher (unit < county < city < province < national)`,
      'level',
    );
  }
  const keyProblem = checkCollectorKey(request.publicKey, request.alg);
  if (keyProblem) return refuse(400, keyProblem, 'bad-key');
  const proof = enrollmentProofProblem(request, {
    collector: deps.identity.id,
    now: deps.clock.now(),
    maxSkewMs: deps.enrollMaxSkewMs ?? DEFAULT_ENROLL_SKEW_MS,
  });
  if (proof) return refuse(proof.reason === 'unsigned' ? 400 : 401, proof.error, proof.reason);
  const id = collectorIdFromPublicKey(request.publicKey);
  if (id === deps.identity.id) return refuse(400, 'a collector cannot enroll at itself', 'self');
  const now = deps.clock.now().toISOString();
  const result = await deps.store.enrollChild({
    tokenHash: hashSecret(request.token),
    now,
    id,
    alg: request.alg,
    publicKey: request.publicKey,
    level: request.level,
    unit: request.unit,
    certify: (unit) =>
      sign(
        {
          v: HIERARCHY_VERSION,
          kind: 'smew.hierarchy.child' as const,
          parent: deps.identity.id,
          child: id,
          unit,
          level: request.level,
          childAlg: request.alg,
          publicKey: request.publicKey,
          enrolledAt: now,
        },
        deps.identity,
      ),
  });
  if (!result.ok) {
    if (result.reason === 'unit-mismatch') {
      return refuse(
        409,
        `unit: the token is for unit ${result.unit ?? '?'}, but the child collector is configured for ${request.unit}; set unit in its config or ask for a token for its unit`,
        result.reason,
      );
    }
    if (result.reason === 'unit-moved') {
      return refuse(
        409,
        `unit: collector ${id} is enrolled here for unit ${result.unit ?? '?'}; re-enrolling does not move it to ${request.unit}`,
        result.reason,
      );
    }
    if (result.reason === 'key-mismatch')
      return refuse(409, 'a collector with this id is enrolled with a different key', result.reason);
    const refusal = tokenRefusalAnswer(result.reason, 'collector');
    return refuse(refusal.status, refusal.error, result.reason);
  }
  const { child } = result;
  // Tell the ancestors, so the top knows every subordinate (and who has not answered a notice).
  await deps.store.enqueueOwn(`collector.enrolled:${child.id}:${child.enrolledAt}`, now, (seq) =>
    ownReport(deps, seq, now, 'collector.enrolled', child.id, { cert: child.cert }),
  );
  deps.logger.info(
    { child: child.id, unit: child.unit, level: child.level, reenrolled: result.reenrolled },
    'enrolled a child collector',
  );
  return {
    ok: true,
    body: {
      child: { id: child.id, unit: child.unit, level: child.level },
      parent: {
        id: deps.identity.id,
        alg: deps.identity.alg,
        publicKey: deps.identity.publicKey,
        unit: deps.unit,
        level: deps.level,
      },
      cert: child.cert,
    },
  };
}

function checkCollectorKey(publicKey: string, alg: SignatureAlg): string | undefined {
  const der = Buffer.from(publicKey, 'base64');
  if (der.length === 0 || der.toString('base64') !== publicKey.replace(/\s+/g, '')) {
    return 'publicKey must be base64 of the SubjectPublicKeyInfo DER';
  }
  try {
    if (
      alg === 'ed25519' &&
      createPublicKey({ key: der, format: 'der', type: 'spki' }).asymmetricKeyType !== 'ed25519'
    ) {
      return `publicKey is not an ${alg} key`;
    }
    suiteFor(alg).verifier(publicKey);
  } catch (err) {
    return `publicKey is not a usable ${alg} SubjectPublicKeyInfo: ${(err as Error).message}`;
  }
  return undefined;
}

async function directChild(deps: ParentSideDeps, id: string): Promise<SubordinateRecord | undefined> {
  const child = await deps.store.getSubordinate(id);
  return child?.direct ? child : undefined;
}

function zodMessage(error: { issues: { path: PropertyKey[]; message: string }[] }): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.map(String).join('.') || 'body'}: ${issue.message}` : 'invalid body';
}

/** Counts (and audits) a child's message refused whole, by status and by reason. */
async function counted<T>(deps: ParentSideDeps, body: unknown, answer: Answer<T>): Promise<Answer<T>> {
  if (answer.ok) return answer;
  const reason = answer.reason ?? String(answer.status);
  deps.metrics?.refusedMessages.inc({ status: String(answer.status) });
  deps.metrics?.childRefused.inc({ reason });
  const claimed = (body as { child?: unknown; kind?: unknown } | null) ?? {};
  await deps.audit?.({
    actor: typeof claimed.child === 'string' ? claimed.child.slice(0, 64) : 'unknown',
    action: `hierarchy.${typeof claimed.kind === 'string' ? claimed.kind.slice(0, 40) : 'message'}.refused`,
    detail: JSON.stringify({ reason, error: answer.error }),
  });
  return answer;
}

/** A batch of reports from a direct child → a signed receipt for the records it took. */
export async function receiveBatch(deps: ParentSideDeps, body: unknown): Promise<Answer<Receipt>> {
  return counted(deps, body, await takeBatch(deps, body));
}

async function takeBatch(deps: ParentSideDeps, body: unknown): Promise<Answer<Receipt>> {
  const parsed = batchSchema.safeParse(body);
  if (!parsed.success) return refused(400, 'malformed', `not a report batch: ${zodMessage(parsed.error)}`);
  const batch = parsed.data;
  const sender = await signedByChild(deps, 'batch', batch);
  if ('ok' in sender) return sender;
  const view = subtreeView(
    { id: deps.identity.id, units: [deps.unit, ...((await deps.localUnits?.()) ?? [])] },
    sender,
    await deps.store.listSubordinates({}),
  );
  const rejected: Receipt['rejected'] = [];
  const refusals: { linkSeq: number; origin: string; type: string; reason: string; detail: string }[] = [];
  const records: ReceivedRecord[] = [];
  for (const record of batch.records) {
    const verdict = verifyRecord(record, sender);
    let refusal: { reason: string; detail: string } | undefined = verdict.ok
      ? undefined
      : { reason: verdict.code, detail: verdict.reason };
    if (verdict.ok && record.report.type === 'collector.enrolled') {
      const problem = checkEnrolledReport(record.report.data, verdict.path[0]!);
      if (problem) refusal = { reason: 'enrolled', detail: problem };
    }
    if (verdict.ok && !refusal) refusal = subtreeRefusal(view, verdict.path, record.report);
    if (refusal || !verdict.ok) {
      const { reason, detail } = refusal ?? { reason: 'invalid', detail: 'invalid' };
      deps.metrics?.childRefused.inc({ reason });
      refusals.push({
        linkSeq: record.linkSeq,
        origin: record.report.origin,
        type: record.report.type,
        reason,
        detail,
      });
      rejected.push({ linkSeq: record.linkSeq, reason: detail });
      continue;
    }
    records.push({
      linkSeq: record.linkSeq,
      report: record.report,
      chain: record.chain,
      pathUnits: verdict.path.map((c) => c.unit),
    });
  }
  if (refusals.length > 0) {
    deps.logger.warn({ child: sender.id, refusals }, 'refused reports from a child collector');
    await deps.audit?.({
      actor: sender.id,
      action: 'hierarchy.reports.refused',
      detail: JSON.stringify(refusals).slice(0, 2000),
    });
  }
  const now = deps.clock.now().toISOString();
  const accepted = await deps.store.receive(sender.id, records, now);
  const duplicates = accepted.filter((a) => a.duplicate).length;
  deps.metrics?.received.inc({ result: 'accepted' }, accepted.length - duplicates);
  deps.metrics?.received.inc({ result: 'duplicate' }, duplicates);
  deps.metrics?.received.inc({ result: 'rejected' }, rejected.length);
  const receipt = sign(
    {
      v: HIERARCHY_VERSION,
      kind: 'smew.hierarchy.receipt' as const,
      parent: deps.identity.id,
      child: sender.id,
      ts: now,
      // Binds the receipt to this batch: a child takes no receipt of another batch for its own.
      batch: batch.sig,
      accepted: accepted.map((a) => ({
        linkSeq: a.linkSeq,
        origin: a.origin,
        seq: a.seq,
        receivedAt: a.receivedAt,
      })),
      rejected,
    },
    deps.identity,
  );
  return { ok: true, body: receipt };
}

/**
 * The direct child that signed `message` (a batch or a pull) for this collector just now, or the
 * refusal: addressed elsewhere, from no child of ours, signed by another key (forged or re-keyed),
 * or dated too far from this clock (replayed).
 */
async function signedByChild(
  deps: ParentSideDeps,
  what: 'batch' | 'pull',
  message: { parent: string; child: string; ts: string; alg: string; sig: string },
): Promise<SubordinateRecord | Refused> {
  if (message.parent !== deps.identity.id) {
    return refused(
      409,
      'wrong-parent',
      `this ${what} is addressed to ${message.parent}, not to this collector (${deps.identity.id})`,
    );
  }
  const sender = await directChild(deps, message.child);
  if (!sender) {
    return refused(
      403,
      'unknown-child',
      `${message.child} is not a child of this collector; enroll it with smew collector enroll`,
    );
  }
  if (!verifiedBy(message, sender.alg, sender.publicKey)) {
    return refused(401, 'bad-signature', `the ${what} signature does not verify with ${sender.id}'s key`);
  }
  return staleness(deps, what, message.ts) ?? sender;
}

/** A whole message refused, with the reason it is counted and audited under. */
function refused(status: number, reason: string, error: string): Refused {
  return { ok: false, status, error, reason };
}

/** A batch or pull dated too far from this clock is a replay (or a child with a wrong clock). */
function staleness(deps: ParentSideDeps, what: string, ts: string): Refused | undefined {
  const now = deps.clock.now();
  const skew = skewMs(ts, now);
  if (skew <= LINK_MAX_SKEW_MS) return undefined;
  return refused(
    401,
    'stale',
    `ts: the ${what} is dated ${ts}, ${Math.round(skew / 60_000)} min from this collector's clock (${now.toISOString()}); at most 15 min is accepted — check the child's clock`,
  );
}

/** A `collector.enrolled` report carries a certificate that its origin (the new one's parent) must have signed. */
function checkEnrolledReport(data: Record<string, unknown>, origin: KnownCollector): string | undefined {
  const cert = childCertSchema.safeParse(data.cert);
  if (!cert.success) return 'collector.enrolled: data.cert is not a child certificate';
  if (cert.data.parent !== origin.id || !verifiedBy(cert.data, origin.alg, origin.publicKey)) {
    return `collector.enrolled: the certificate is not signed by ${origin.id}`;
  }
  if (collectorIdFromPublicKey(cert.data.publicKey) !== cert.data.child)
    return 'collector.enrolled: the certificate names a key of another collector';
  return undefined;
}

/** A child's signed pull → the notices it has not acknowledged, signed by this collector. */
export async function answerPull(deps: ParentSideDeps, body: unknown): Promise<Answer<PullReply>> {
  return counted(deps, body, await notices(deps, body));
}

async function notices(deps: ParentSideDeps, body: unknown): Promise<Answer<PullReply>> {
  const parsed = pullRequestSchema.safeParse(body);
  if (!parsed.success) return refused(400, 'malformed', `not a pull request: ${zodMessage(parsed.error)}`);
  const pull = parsed.data;
  const sender = await signedByChild(deps, 'pull', pull);
  if ('ok' in sender) return sender;
  const now = deps.clock.now();
  const notices = await deps.store.noticesFor(sender.id, PULL_LIMIT);
  return {
    ok: true,
    body: sign(
      {
        v: HIERARCHY_VERSION,
        kind: 'smew.hierarchy.notices' as const,
        parent: deps.identity.id,
        child: sender.id,
        ts: now.toISOString(),
        notices,
      },
      deps.identity,
    ),
  };
}
