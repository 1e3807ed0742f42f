import { existsSync, renameSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import type { Clock } from '../shared/clock.js';
import { SIGNATURE_ALGS } from '../shared/crypto/suite.js';
import { suiteFor } from '../shared/crypto/suites.js';
import { enrollmentTargetSchema, ENROLL_PATH, signEnrollment } from '../shared/enrollment-proof.js';
import { UserError } from '../shared/errors.js';
import { agentIdFromPublicKey, collectorIdFromPublicKey } from '../shared/identity.js';
import { SMEW_VERSION } from '../shared/version.js';
import {
  brokerLoginSchema,
  loadKeyPair,
  writeIdentity,
  type AgentIdentity,
  type AgentKeyPair,
} from './identity.js';
import { OUTBOX_FILE } from './outbox.js';
import { getJson, postJson, replyError, type CollectorTrust } from './collector-http.js';

const enrollResponseSchema = z.object({
  agentId: z.string(),
  unit: z.string(),
  collector: z.object({ id: z.string().min(1), alg: z.enum(SIGNATURE_ALGS), publicKey: z.string().min(1) }),
  broker: brokerLoginSchema,
  policy: z.unknown().optional(),
  approval: z.enum(['approved', 'pending']).optional(),
});

export interface EnrollOptions {
  /** identity.dir */
  dir: string;
  collectorUrl: string;
  token: string;
  clock: Clock;
  hostname?: string;
  /** collector.ca: whom an https:// collector must verify against. */
  trust?: CollectorTrust;
  timeoutMs?: number;
}

export interface EnrollOutcome {
  identity: AgentIdentity;
  /** A key pair already in identity.dir was reused: the id and the seq counter carry on. */
  reusedKey: boolean;
  /** An outbox of a previous key was moved aside to this path. */
  movedOutbox?: string;
  /** The collector admits the agent once an admin approves it; its events wait in the outbox till then. */
  pendingApproval: boolean;
}

/**
 * Registers this agent's key with a collector (POST /api/v1/enroll) and writes its identity.
 * An existing key pair is reused, so re-enrolling keeps the agent id and its seq numbering; the
 * key is written before the request, so a retry after a failed attempt uses the same key.
 */
export async function enrollAgent(options: EnrollOptions): Promise<EnrollOutcome> {
  const base = options.collectorUrl.replace(/\/+$/, '');
  const endpoint = `${base}${ENROLL_PATH}`;
  let keyPair = loadKeyPair(options.dir);
  const reusedKey = keyPair !== undefined;
  let movedOutbox: string | undefined;
  if (!keyPair) {
    const generated = suiteFor('ed25519').generateKeyPair();
    keyPair = { agentId: agentIdFromPublicKey(generated.publicKey), ...generated } satisfies AgentKeyPair;
    movedOutbox = moveForeignOutbox(options.dir, options.clock);
    writeIdentity(options.dir, keyPair);
  }

  const http = { ...(options.trust ? { trust: options.trust } : {}), timeoutMs: options.timeoutMs ?? 15_000 };
  // The request is signed for this collector (SPEC §5): learn its id first.
  const asked = await getJson(endpoint, http);
  const target = enrollmentTargetSchema.safeParse(asked.body);
  if (asked.status !== 200 || !target.success) {
    throw new UserError(
      `the collector at ${endpoint} did not say whom to enroll with (HTTP ${asked.status}): ${replyError(asked)}; is it a smew collector of this version or later?`,
    );
  }
  const proof = signEnrollment(
    {
      token: options.token,
      publicKey: keyPair.publicKey,
      alg: keyPair.alg,
      collector: target.data.collector,
      ts: options.clock.now(),
    },
    suiteFor(keyPair.alg).signer(keyPair.privateKey),
  );
  const reply = await postJson(
    endpoint,
    { ...proof, hostname: options.hostname ?? osHostname(), version: SMEW_VERSION },
    http,
  );
  if (reply.status < 200 || reply.status >= 300) {
    throw new UserError(
      `the collector at ${endpoint} refused enrollment (HTTP ${reply.status}): ${replyError(reply)}`,
    );
  }
  const body = reply.body;
  const parsed = enrollResponseSchema.safeParse(body);
  if (!parsed.success) {
    throw new UserError(
      `the collector at ${endpoint} answered with something that is not an enrollment response`,
    );
  }
  const answer = parsed.data;
  if (answer.agentId !== keyPair.agentId) {
    throw new UserError(
      `the collector at ${endpoint} assigned agent id ${answer.agentId}, but our key makes ${keyPair.agentId}; refusing it`,
    );
  }
  if (answer.collector.id !== collectorIdFromPublicKey(answer.collector.publicKey)) {
    throw new UserError(
      `the collector at ${endpoint} calls itself ${answer.collector.id}, which does not match its public key; refusing it`,
    );
  }
  // Fails now, not at the first ack, if the collector's key is unusable for its algorithm.
  try {
    suiteFor(answer.collector.alg).verifier(answer.collector.publicKey);
  } catch (err) {
    throw new UserError(
      `the collector at ${endpoint} sent an unusable ${answer.collector.alg} key: ${(err as Error).message}`,
    );
  }
  // A policy in the answer is not kept: it is unsigned. The collector's signed policy arrives on the
  // retained policy topic at the first connection (agent/policy-store.ts).

  const identity: AgentIdentity = {
    ...keyPair,
    collectorUrl: base,
    unit: answer.unit,
    collector: answer.collector,
    broker: answer.broker,
    enrolledAt: options.clock.now().toISOString(),
  };
  writeIdentity(options.dir, identity);
  return {
    identity,
    reusedKey,
    pendingApproval: answer.approval === 'pending',
    ...(movedOutbox ? { movedOutbox } : {}),
  };
}

/**
 * An outbox.db without a key beside it belongs to a key that is gone. Its events can never be
 * delivered under the new id, and its seq counter is not ours; keep it as evidence, out of the way.
 */
function moveForeignOutbox(dir: string, clock: Clock): string | undefined {
  const outbox = join(dir, OUTBOX_FILE);
  if (!existsSync(outbox)) return undefined;
  const aside = join(dir, `outbox.before-${clock.now().toISOString().replace(/[:.]/g, '-')}.db`);
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(outbox + suffix)) renameSync(outbox + suffix, aside + suffix);
  }
  return aside;
}
