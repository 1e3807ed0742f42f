import { skewMs } from '../../shared/clock.js';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Signer, Verifier } from '../../shared/crypto/suite.js';
import { SIGNATURE_ALGS } from '../../shared/crypto/suite.js';
import { signMessage, verifyMessage } from '../../shared/envelope.js';
import { AGENT_ID_PATTERN } from '../../shared/identity.js';

/**
 * The beacon an agent sends with every reachability probe (net.internet.reachable): who sent it,
 * when, to which target by which method, a nonce against replays, signed like an event envelope
 * (`sig` over the RFC 8785 form without `sig`). An organisation's `smew beacon` on the internet
 * side keeps the beacons that reach it: evidence of 违规外联 that does not depend on the host.
 */
export const BEACON_KIND = 'smew.beacon';
/** A beacon line or body larger than this is not a beacon. */
export const MAX_BEACON_BYTES = 4096;

export const beaconSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal(BEACON_KIND),
  agent: z.string().regex(AGENT_ID_PATTERN),
  alg: z.enum(SIGNATURE_ALGS),
  ts: z.iso.datetime(),
  nonce: z.string().regex(/^[0-9a-f]{32}$/),
  method: z.enum(['tcp', 'http', 'dns']),
  target: z.string().min(1).max(512),
  sig: z.string().min(1).max(256),
});
export type Beacon = z.infer<typeof beaconSchema>;

export interface BeaconSigner {
  agentId: string;
  alg: Beacon['alg'];
  sign: Signer;
}

export function createBeacon(
  signer: BeaconSigner,
  method: Beacon['method'],
  target: string,
  now: Date = new Date(),
): Beacon {
  return signMessage(
    {
      v: 1 as const,
      kind: BEACON_KIND,
      agent: signer.agentId,
      alg: signer.alg,
      ts: now.toISOString(),
      nonce: randomBytes(16).toString('hex'),
      method,
      target,
    },
    signer.sign,
  );
}

export type BeaconCheck =
  | { ok: true; beacon: Beacon }
  | {
      ok: false;
      reason: 'malformed' | 'unknown-agent' | 'bad-signature' | 'stale' | 'replayed';
      agent?: string;
    };

/**
 * Checks a received beacon: well-formed, from an agent the collector exported, signed by that
 * agent's key, within `maxSkewMs` of the receiver's clock, and not seen before (by nonce).
 */
export function checkBeacon(
  text: string,
  options: {
    verifierFor: (agentId: string, alg: string) => Verifier | undefined;
    now: Date;
    maxSkewMs: number;
    seen: (agentId: string, nonce: string) => boolean;
  },
): BeaconCheck {
  if (Buffer.byteLength(text) > MAX_BEACON_BYTES) return { ok: false, reason: 'malformed' };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const parsed = beaconSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: 'malformed' };
  const beacon = parsed.data;
  const verify = options.verifierFor(beacon.agent, beacon.alg);
  if (verify === undefined) return { ok: false, reason: 'unknown-agent', agent: beacon.agent };
  if (!verifyMessage(beacon, verify)) return { ok: false, reason: 'bad-signature', agent: beacon.agent };
  if (skewMs(beacon.ts, options.now) > options.maxSkewMs) {
    return { ok: false, reason: 'stale', agent: beacon.agent };
  }
  if (options.seen(beacon.agent, beacon.nonce)) return { ok: false, reason: 'replayed', agent: beacon.agent };
  return { ok: true, beacon };
}
