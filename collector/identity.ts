import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { SIGNATURE_ALGS, type SignatureAlg, type Signer } from '../shared/crypto/suite.js';
import { suiteFor } from '../shared/crypto/suites.js';
import { UserError } from '../shared/errors.js';
import { collectorIdFromPublicKey } from '../shared/identity.js';

/**
 * The collector's own key pair, which signs acks and policies. Kept in `identity.dir` as one
 * JSON file readable by the owner only; made on first start, reused ever after (the id is the key).
 */
export const COLLECTOR_KEY_FILE = 'collector-key.json';

const keyFileSchema = z.object({
  alg: z.enum(SIGNATURE_ALGS),
  publicKey: z.string().min(1),
  privateKey: z.string().min(1),
});

export interface CollectorIdentity {
  id: string;
  alg: SignatureAlg;
  publicKey: string;
  sign: Signer;
}

export function loadOrCreateCollectorIdentity(dir: string, alg: SignatureAlg = 'ed25519'): CollectorIdentity {
  const file = join(dir, COLLECTOR_KEY_FILE);
  if (!existsSync(file)) {
    const pair = suiteFor(alg).generateKeyPair();
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFileSync(file, `${JSON.stringify(pair, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      // Another process (a second collector, a CLI command) may have made it first; read theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new UserError(`identity.dir: cannot write ${file}: ${(err as Error).message}`);
      }
    }
  }
  let parsed: z.infer<typeof keyFileSchema>;
  try {
    parsed = keyFileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch (err) {
    throw new UserError(
      `identity.dir: ${file} is not a collector key file (expected JSON with alg, publicKey, privateKey): ` +
        (err instanceof SyntaxError ? err.message : 'missing or invalid fields'),
    );
  }
  try {
    // Tighten a key file whose mode was loosened by a copy or an editor.
    chmodSync(file, 0o600);
  } catch {
    // Not our file to chmod (read-only mount, another owner): reading it was enough.
  }
  const suite = suiteFor(parsed.alg);
  return {
    id: collectorIdFromPublicKey(parsed.publicKey),
    alg: parsed.alg,
    publicKey: parsed.publicKey,
    sign: suite.signer(parsed.privateKey),
  };
}
