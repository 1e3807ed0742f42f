import { z } from 'zod';
import { SIGNATURE_ALGS, type SignatureAlg, type Signer } from '../../shared/crypto/suite.js';
import { hasSuite, suiteFor } from '../../shared/crypto/suites.js';
import { eventEnvelopeSchema, signMessage, verifyMessage } from '../../shared/envelope.js';
import { agentIdFromPublicKey, collectorIdFromPublicKey } from '../../shared/identity.js';
import { COLLECTOR_LEVELS } from '../config.js';

/**
 * The signed messages between collectors (unit → county → city → province → national). Every
 * message is JSON signed over its RFC 8785 form without `sig`, like the agents' envelopes, so a
 * report keeps the signature of the collector that raised it all the way to the top.
 *
 * Trust: a parent knows its direct children's keys from enrollment. Each parent signs a
 * certificate of its child's key, unit and level; a report forwarded from further down carries
 * the chain of those certificates, so every level can verify the origin's own signature.
 */
export const HIERARCHY_VERSION = 1 as const;
/** A message on a child–parent link is accepted only this close to the receiver's clock, so a captured one cannot be replayed later. */
export const LINK_MAX_SKEW_MS = 15 * 60_000;
export const COLLECTOR_ID_PATTERN = /^co-[a-z2-7]{20}$/;

const collectorId = z
  .string()
  .regex(COLLECTOR_ID_PATTERN, 'expected a collector id: co- and 20 base32 characters');
const isoTime = z.iso.datetime({ offset: true });
const level = z.enum(COLLECTOR_LEVELS);
export type CollectorLevel = (typeof COLLECTOR_LEVELS)[number];
const signed = { alg: z.enum(SIGNATURE_ALGS), sig: z.string().min(1).max(512) };
/** The head every message on a child–parent link starts with, whichever way it goes. */
function linkHead<K extends string>(kind: K) {
  return {
    v: z.literal(HIERARCHY_VERSION),
    kind: z.literal(kind),
    child: collectorId,
    parent: collectorId,
    ts: isoTime,
  };
}

/** A parent's statement of its child's key, unit and level, made at enrollment. */
export const childCertSchema = z.looseObject({
  v: z.literal(HIERARCHY_VERSION),
  kind: z.literal('smew.hierarchy.child'),
  parent: collectorId,
  child: collectorId,
  unit: z.string().min(1).max(200),
  level,
  childAlg: z.enum(SIGNATURE_ALGS),
  publicKey: z.string().min(1).max(4096),
  enrolledAt: isoTime,
  ...signed,
});
export type ChildCert = z.infer<typeof childCertSchema>;

/**
 * What flows up. `notice.*` answer a notice; `collector.enrolled` tells ancestors of a new
 * subordinate; `unit.status` carries the unit's own figures for the 下级单位 page.
 */
export const REPORT_TYPES = [
  'warning',
  'incident',
  'incident.hop',
  'incident.closure',
  'assessment.overdue',
  'agent.health',
  'unit.status',
  'annual',
  'self-inspection',
  'rectifications',
  'notice.ack',
  'notice.result',
  'collector.enrolled',
] as const;
export type ReportType = (typeof REPORT_TYPES)[number];

const agentKey = z.object({
  id: z.string(),
  alg: z.enum(SIGNATURE_ALGS),
  publicKey: z.string().min(1).max(4096),
});

/** One report, signed by the collector that raised it (its origin); `seq` numbers the origin's reports. */
export const reportSchema = z.looseObject({
  v: z.literal(HIERARCHY_VERSION),
  kind: z.literal('smew.hierarchy.report'),
  origin: collectorId,
  unit: z.string().min(1).max(200),
  level,
  seq: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  ts: isoTime,
  type: z.enum(REPORT_TYPES),
  key: z.string().min(1).max(1024),
  data: z.record(z.string(), z.unknown()),
  /** Agent envelopes as the agents signed them, with the keys to verify them again. */
  evidence: z.array(z.record(z.string(), z.unknown())).max(100).optional(),
  agents: z.array(agentKey).max(100).optional(),
  ...signed,
});
export type Report = z.infer<typeof reportSchema>;

/** A report on the wire: `chain[i]` is issued by the subject of `chain[i+1]`; the last by the sender. */
export const reportRecordSchema = z.object({
  linkSeq: z.number().int().positive(),
  report: reportSchema,
  chain: z.array(childCertSchema).max(8),
});
export type ReportRecord = z.infer<typeof reportRecordSchema>;

export const MAX_BATCH_RECORDS = 200;
export const batchSchema = z.looseObject({
  ...linkHead('smew.hierarchy.batch'),
  records: z.array(reportRecordSchema).max(MAX_BATCH_RECORDS),
  ...signed,
});
export type Batch = z.infer<typeof batchSchema>;

export const receiptSchema = z.looseObject({
  ...linkHead('smew.hierarchy.receipt'),
  /** `receivedAt` is the first receipt: a repeat gets the same time back, so a hop closes once. */
  accepted: z.array(
    z.object({ linkSeq: z.number().int(), origin: z.string(), seq: z.number().int(), receivedAt: isoTime }),
  ),
  rejected: z.array(z.object({ linkSeq: z.number().int(), reason: z.string() })),
  ...signed,
});
export type Receipt = z.infer<typeof receiptSchema>;

/** 预警通报 (a warning notice) or a policy update, signed by the administration that issued it. */
export const NOTICE_TYPES = ['notice', 'policy'] as const;
export const noticeSchema = z.looseObject({
  v: z.literal(HIERARCHY_VERSION),
  kind: z.literal('smew.hierarchy.notice'),
  id: z.string().min(1).max(100),
  type: z.enum(NOTICE_TYPES),
  issuer: collectorId,
  issuerUnit: z.string().min(1).max(200),
  issuerLevel: level,
  ts: isoTime,
  title: z.string().min(1).max(500),
  body: z.string().max(20_000),
  severity: z.string().max(20).optional(),
  dueAt: isoTime.optional(),
  policy: z.record(z.string(), z.unknown()).optional(),
  ...signed,
});
export type Notice = z.infer<typeof noticeSchema>;

/** A notice as relayed downward: the issuer's key travels with it, vouched for by each relay's signature. */
export const relayedNoticeSchema = z.object({
  notice: noticeSchema,
  issuerAlg: z.enum(SIGNATURE_ALGS),
  issuerPublicKey: z.string().min(1).max(4096),
});
export type RelayedNotice = z.infer<typeof relayedNoticeSchema>;

export const pullRequestSchema = z.looseObject({
  ...linkHead('smew.hierarchy.pull'),
  ...signed,
});
export type PullRequest = z.infer<typeof pullRequestSchema>;

export const pullReplySchema = z.looseObject({
  ...linkHead('smew.hierarchy.notices'),
  notices: z.array(relayedNoticeSchema),
  ...signed,
});
export type PullReply = z.infer<typeof pullReplySchema>;

export interface SigningKey {
  id: string;
  alg: SignatureAlg;
  sign: Signer;
}

export function sign<T extends Record<string, unknown>>(
  unsigned: T,
  key: SigningKey,
): T & { alg: SignatureAlg; sig: string } {
  return signMessage({ ...unsigned, alg: key.alg }, key.sign);
}

/** True when `message` carries a valid signature of `publicKey`; never throws. */
export function verifiedBy(message: Record<string, unknown>, alg: string, publicKey: string): boolean {
  if (message.alg !== alg || !hasSuite(alg)) return false;
  try {
    return verifyMessage(message, suiteFor(alg).verifier(publicKey));
  } catch {
    return false;
  }
}

export interface KnownCollector {
  id: string;
  alg: SignatureAlg;
  publicKey: string;
  unit: string;
  level: CollectorLevel;
}

/** Why a record's signatures do not hold, as counted on /metrics. */
export type RecordRefusal = 'chain' | 'origin' | 'unit' | 'signature' | 'evidence';

/**
 * Verifies a record received from the direct child `sender`: the certificate chain down to the
 * origin, the origin's signature, that the report claims the unit its certificate attests, and
 * every agent envelope in its evidence against the agent key it names. Returns the collectors
 * on the path (origin first, sender last) or the reason for refusal.
 */
export function verifyRecord(
  record: Pick<ReportRecord, 'report' | 'chain'>,
  sender: KnownCollector,
): { ok: true; path: KnownCollector[] } | { ok: false; code: RecordRefusal; reason: string } {
  let issuer: KnownCollector = sender;
  const path: KnownCollector[] = [sender];
  for (const cert of [...record.chain].reverse()) {
    if (cert.parent !== issuer.id)
      return {
        ok: false,
        code: 'chain',
        reason: `certificate of ${cert.child} is not issued by ${issuer.id}`,
      };
    if (!verifiedBy(cert, issuer.alg, issuer.publicKey)) {
      return {
        ok: false,
        code: 'chain',
        reason: `certificate of ${cert.child} does not verify with ${issuer.id}'s key`,
      };
    }
    if (collectorIdFromPublicKey(cert.publicKey) !== cert.child) {
      return {
        ok: false,
        code: 'chain',
        reason: `certificate of ${cert.child} names a key of another collector`,
      };
    }
    issuer = {
      id: cert.child,
      alg: cert.childAlg,
      publicKey: cert.publicKey,
      unit: cert.unit,
      level: cert.level,
    };
    path.unshift(issuer);
  }
  const { report } = record;
  if (report.origin !== issuer.id)
    return {
      ok: false,
      code: 'origin',
      reason: `report origin ${report.origin} does not match the chain (${issuer.id})`,
    };
  if (report.unit !== issuer.unit) {
    return {
      ok: false,
      code: 'unit',
      reason: `report claims unit ${report.unit}, but ${issuer.id} is enrolled for ${issuer.unit}`,
    };
  }
  if (!verifiedBy(report, issuer.alg, issuer.publicKey)) {
    return {
      ok: false,
      code: 'signature',
      reason: `report signature does not verify with ${issuer.id}'s key`,
    };
  }
  const evidenceProblem = checkEvidence(report);
  if (evidenceProblem) return { ok: false, code: 'evidence', reason: evidenceProblem };
  return { ok: true, path };
}

/**
 * Each agent envelope must verify with a key given for its agent, and one of the keys given for
 * that agent must hash to its id (the key it enrolled with). An agent that rotated its key has
 * several: the later ones are vouched for by the collector that signed the report, which checked
 * each rotation statement against the key before it.
 */
export function checkEvidence(report: Pick<Report, 'evidence' | 'agents'>): string | undefined {
  const keys = new Map<string, NonNullable<Report['agents']>>();
  for (const key of report.agents ?? []) keys.set(key.id, [...(keys.get(key.id) ?? []), key]);
  for (const [i, raw] of (report.evidence ?? []).entries()) {
    const envelope = eventEnvelopeSchema.safeParse(raw);
    if (!envelope.success) return `evidence[${i}] is not an agent event envelope`;
    const agent = envelope.data.agent;
    const given = keys.get(agent);
    if (!given) return `evidence[${i}]: no key given for agent ${agent}`;
    if (!given.some((key) => agentIdFromPublicKey(key.publicKey) === agent))
      return `evidence[${i}]: no key given is agent ${agent}'s`;
    if (!given.some((key) => verifiedBy(raw, key.alg, key.publicKey)))
      return `evidence[${i}]: agent ${agent}'s signature does not verify`;
  }
  return undefined;
}

/** Levels run unit < county < city < province < national; a parent must sit above its child. */
export function isAbove(parent: CollectorLevel, child: CollectorLevel): boolean {
  return COLLECTOR_LEVELS.indexOf(parent) > COLLECTOR_LEVELS.indexOf(child);
}
