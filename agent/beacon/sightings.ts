import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ed25519Suite } from '../../shared/crypto/ed25519.js';
import { SIGNATURE_ALGS } from '../../shared/crypto/suite.js';
import { suiteFor } from '../../shared/crypto/suites.js';
import { base32Lower } from '../../shared/identity.js';
import { signMessage } from '../../shared/envelope.js';
import { createHash } from 'node:crypto';
import { beaconSchema, type Beacon } from './message.js';

/**
 * What `smew beacon` keeps: one JSON line per verified beacon (append-only, so a crash loses at
 * most the line being written), and its own key pair, made on first start, which signs exports.
 */
export const sightingSchema = z.strictObject({
  receivedAt: z.string(),
  /** where it came from, as the receiver saw it: the host's address or its NAT's */
  from: z.string(),
  via: z.enum(['tcp', 'http', 'dns']),
  beacon: beaconSchema,
});
export type Sighting = z.infer<typeof sightingSchema>;

const beaconKeySchema = z.strictObject({
  id: z.string(),
  alg: z.enum(SIGNATURE_ALGS),
  publicKey: z.string(),
  privateKey: z.string(),
});
export type BeaconKey = z.infer<typeof beaconKeySchema>;

export const EXPORT_KIND = 'smew.beacon.export';

export function beaconIdFromPublicKey(publicKey: string): string {
  return `bc-${base32Lower(createHash('sha256').update(Buffer.from(publicKey, 'base64')).digest()).slice(0, 20)}`;
}

export class SightingLog {
  private readonly file: string;
  private readonly nonces = new Set<string>();
  private readonly sightings: Sighting[] = [];

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.file = join(dir, 'sightings.jsonl');
    if (existsSync(this.file)) {
      for (const line of readFileSync(this.file, 'utf8').split('\n')) {
        if (line.trim() === '') continue;
        try {
          const sighting = sightingSchema.parse(JSON.parse(line));
          this.sightings.push(sighting);
          this.nonces.add(`${sighting.beacon.agent}/${sighting.beacon.nonce}`);
        } catch {
          // A line cut by a crash: the rest of the log still counts.
        }
      }
    }
  }

  seen(agentId: string, nonce: string): boolean {
    return this.nonces.has(`${agentId}/${nonce}`);
  }

  add(sighting: Sighting): void {
    appendFileSync(this.file, `${JSON.stringify(sighting)}\n`);
    this.sightings.push(sighting);
    this.nonces.add(`${sighting.beacon.agent}/${sighting.beacon.nonce}`);
  }

  all(): readonly Sighting[] {
    return this.sightings;
  }
}

/** The receiver's key pair, made once (mode 0600) and kept. */
export function loadOrCreateBeaconKey(dir: string): BeaconKey {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'beacon-key.json');
  if (existsSync(file)) return beaconKeySchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  const keys = ed25519Suite.generateKeyPair();
  const key: BeaconKey = { id: beaconIdFromPublicKey(keys.publicKey), ...keys };
  writeFileSync(`${file}.tmp`, JSON.stringify(key), { mode: 0o600 });
  chmodSync(`${file}.tmp`, 0o600);
  renameSync(`${file}.tmp`, file);
  return key;
}

export interface BeaconExport {
  v: 1;
  kind: typeof EXPORT_KIND;
  beacon: string;
  alg: BeaconKey['alg'];
  publicKey: string;
  exportedAt: string;
  since?: string;
  sightings: Sighting[];
  sig: string;
}

/**
 * A signed file of sightings for one-way import by the collector: each sighting carries the
 * agent's own signed beacon (verifiable with the agent's key), and the whole file is signed by
 * this receiver's key, so nothing can be added or dropped on the way.
 */
export function exportSightings(
  key: BeaconKey,
  sightings: readonly Sighting[],
  now: Date,
  since?: string,
): BeaconExport {
  const selected = since === undefined ? [...sightings] : sightings.filter((s) => s.receivedAt >= since);
  const unsigned: Omit<BeaconExport, 'sig'> = {
    v: 1 as const,
    kind: EXPORT_KIND,
    beacon: key.id,
    alg: key.alg,
    publicKey: key.publicKey,
    exportedAt: now.toISOString(),
    ...(since === undefined ? {} : { since }),
    sightings: selected,
  };
  return signMessage(unsigned, suiteFor(key.alg).signer(key.privateKey));
}

export type { Beacon };
