import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import type { KeyPairText, SignatureSuite } from './suite.js';

export const ed25519Suite: SignatureSuite = {
  alg: 'ed25519',
  generateKeyPair(): KeyPairText {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    return {
      alg: 'ed25519',
      publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
  },
  signer(privateKeyPem) {
    const key = createPrivateKey(privateKeyPem);
    return (data) => sign(null, data, key).toString('base64');
  },
  verifier(publicKeyBase64) {
    const key = createPublicKey({ key: Buffer.from(publicKeyBase64, 'base64'), format: 'der', type: 'spki' });
    return (data, signatureBase64) => {
      const signature = Buffer.from(signatureBase64, 'base64');
      if (signature.length !== 64) return false;
      try {
        return verify(null, data, key, signature);
      } catch {
        return false;
      }
    };
  },
};
