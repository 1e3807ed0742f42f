/**
 * Collector identities and the certificates a parent signs for its children, for tests that need
 * a hierarchy in the store without running the collectors of it.
 */
import {
  HIERARCHY_VERSION,
  sign,
  type ChildCert,
  type SigningKey,
} from '../../collector/hierarchy/messages.js';
import { ed25519Suite } from '../../shared/crypto/ed25519.js';
import { collectorIdFromPublicKey } from '../../shared/identity.js';

export type CollectorKey = SigningKey & { publicKey: string };

export function collectorKey(): CollectorKey {
  const pair = ed25519Suite.generateKeyPair();
  return {
    id: collectorIdFromPublicKey(pair.publicKey),
    alg: 'ed25519',
    publicKey: pair.publicKey,
    sign: ed25519Suite.signer(pair.privateKey),
  };
}

/** `parent`'s certificate that `child` is its unit-level collector for `unit`. */
export function childCert(
  parent: SigningKey,
  child: CollectorKey,
  unit: string,
  enrolledAt = '2026-11-27T00:00:00.000Z',
): ChildCert {
  return sign(
    {
      v: HIERARCHY_VERSION,
      kind: 'smew.hierarchy.child' as const,
      parent: parent.id,
      child: child.id,
      unit,
      level: 'unit' as const,
      childAlg: 'ed25519' as const,
      publicKey: child.publicKey,
      enrolledAt,
    },
    parent,
  );
}
