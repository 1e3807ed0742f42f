import { suiteFor } from '../../shared/crypto/suites.js';
import { loadKeyPair } from '../identity.js';
import type { BeaconSigner } from './message.js';

/** The agent's key from its identity dir, to sign beacons; undefined when it has none yet. */
export function beaconSignerFromIdentity(dir: string): BeaconSigner | undefined {
  const keys = loadKeyPair(dir);
  if (keys === undefined) return undefined;
  return { agentId: keys.agentId, alg: keys.alg, sign: suiteFor(keys.alg).signer(keys.privateKey) };
}
