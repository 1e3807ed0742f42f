import { UserError } from '../errors.js';
import { ed25519Suite } from './ed25519.js';
import { sm2Suite } from './sm2.js';
import type { SignatureAlg, SignatureSuite } from './suite.js';

const SUITES = new Map<string, SignatureSuite>([
  [ed25519Suite.alg, ed25519Suite],
  [sm2Suite.alg, sm2Suite],
]);

/** Lets an optional suite (SM2) register itself without the core importing it. */
export function registerSuite(suite: SignatureSuite): void {
  SUITES.set(suite.alg, suite);
}

export function suiteFor(alg: SignatureAlg | string): SignatureSuite {
  const suite = SUITES.get(alg);
  if (!suite) {
    throw new UserError(
      `signature algorithm "${alg}" is not available; expected one of: ${[...SUITES.keys()].join(', ')}`,
    );
  }
  return suite;
}

export function hasSuite(alg: string): boolean {
  return SUITES.has(alg);
}
