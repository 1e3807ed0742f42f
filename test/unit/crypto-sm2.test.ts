import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  getCurves,
  getHashes,
  randomBytes,
  sign,
} from 'node:crypto';
import { sm2 as smCrypto } from 'sm-crypto-v2';
import { describe, expect, it } from 'vitest';
import {
  SM2_DEFAULT_USER_ID,
  Sm2Curve,
  bytesToBigInt,
  decodeSm2SignatureDer,
  encodeSm2SignatureDer,
  sm2Digest,
  sm2PrivateKeyFromPkcs8Pem,
  sm2PrivateKeyToPkcs8Pem,
  sm2PublicKeyFromSpki,
  sm2PublicKeyOf,
  sm2PublicKeyToSpki,
  sm2SignDigest,
  sm2Suite,
  sm2VerifyDigest,
  sm2Za,
  sm2p256v1,
} from '../../shared/crypto/sm2.js';
import { sm3 } from '../../shared/crypto/sm3.js';
import { ed25519Suite } from '../../shared/crypto/ed25519.js';
import { suiteFor } from '../../shared/crypto/suites.js';

/** Hex as printed in the standards (groups of 8 digits separated by spaces). */
const h = (s: string) => BigInt('0x' + s.replace(/\s+/g, ''));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const utf8 = (s: string) => new TextEncoder().encode(s);

const nodeHasSm3 = getHashes().includes('sm3');
const nodeHasSm2 = getCurves().includes('SM2');

describe('SM3 (GB/T 32905-2016)', () => {
  it('gives the digests of the standard’s Appendix A examples', () => {
    // Example 1: "abc"; example 2: "abcd" repeated 16 times (512 bits).
    expect(hex(sm3(utf8('abc')))).toBe('66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
    expect(hex(sm3(utf8('abcd'.repeat(16))))).toBe(
      'debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732',
    );
  });

  it('hashes the concatenation of its arguments', () => {
    expect(hex(sm3(utf8('ab'), utf8(''), utf8('c')))).toBe(hex(sm3(utf8('abc'))));
  });

  it.skipIf(!nodeHasSm3)('agrees with OpenSSL’s SM3 at every padding boundary', () => {
    for (let length = 0; length <= 200; length++) {
      const data = randomBytes(length);
      expect(hex(sm3(data))).toBe(createHash('sm3').update(data).digest('hex'));
    }
  });
});

describe('SM2 known answers', () => {
  it('reproduces the GB/T 32918.5-2017 / GM/T 0003.5-2012 Annex A example on sm2p256v1', () => {
    // Private key, k and expected values as printed in the standard; message "message digest",
    // user ID 1234567812345678 (the GB/T 35276 default, which this suite uses).
    const d = h('3945208F 7B2144B1 3F36E38A C6D39F95 88939369 2860B51A 42FB81EF 4DF7C5B8');
    const k = h('59276E27 D506861A 16680F3A D9C02DCC EF3CC1FA 3CDBE4CE 6D54B80D EAC1BC21');
    const P = sm2PublicKeyOf(d);
    expect(P.x).toBe(h('09F9DF31 1E5421A1 50DD7D16 1E4BC5C6 72179FAD 1833FC07 6BB08FF3 56F35020'));
    expect(P.y).toBe(h('CCEA490C E26775A5 2DC6EA71 8CC1AA60 0AED05FB F35E084A 6632F607 2DA9AD13'));

    const za = sm2Za(P, SM2_DEFAULT_USER_ID);
    expect(bytesToBigInt(za)).toBe(
      h('B2E14C5C 79C6DF5B 85F4FE7E D8DB7A26 2B9DA7E0 7CCB0EA9 F4747B8C CDA8A4F3'),
    );
    const e = sm2Digest(za, utf8('message digest'));
    expect(e).toBe(h('F0B43E94 BA45ACCA ACE692ED 534382EB 17E6AB5A 19CE7B31 F4486FDF C0D28640'));

    const signature = sm2SignDigest(e, d, sm2p256v1, () => k);
    expect(signature.r).toBe(h('F5A03B06 48D2C463 0EEAC513 E1BB81A1 5944DA38 27D5B741 43AC7EAC EEE720B3'));
    expect(signature.s).toBe(h('B1B6AA29 DF212FD8 763182BC 0D421CA1 BB9038FD 1F7F42D4 840B69C4 85BBC1AA'));
    expect(sm2VerifyDigest(e, signature, P)).toBe(true);
    expect(sm2VerifyDigest(e + 1n, signature, P)).toBe(false);

    // The same signature, DER-encoded, verifies through the suite with the SPKI of P.
    const publicKey = Buffer.from(sm2PublicKeyToSpki(P)).toString('base64');
    const sig = Buffer.from(encodeSm2SignatureDer(signature)).toString('base64');
    expect(sm2Suite.verifier(publicKey)(utf8('message digest'), sig)).toBe(true);
  });

  it('reproduces the GB/T 32918.2-2016 Annex A example on its own Fp-256 curve', () => {
    const curve = new Sm2Curve({
      name: 'GB/T 32918.2 Annex A Fp-256',
      p: h('8542D69E 4C044F18 E8B92435 BF6FF7DE 45728391 5C45517D 722EDB8B 08F1DFC3'),
      a: h('787968B4 FA32C3FD 2417842E 73BBFEFF 2F3C848B 6831D7E0 EC65228B 3937E498'),
      b: h('63E4C6D3 B23B0C84 9CF84241 484BFE48 F61D59A5 B16BA06E 6E12D1DA 27C5249A'),
      n: h('8542D69E 4C044F18 E8B92435 BF6FF7DD 29772063 0485628D 5AE74EE7 C32E79B7'),
      gx: h('421DEBD6 1B62EAB6 746434EB C3CC315E 32220B3B ADD50BDC 4C4E6C14 7FEDD43D'),
      gy: h('0680512B CBB42C07 D47349D2 153B70C4 E5D7FDFC BFA36EA1 A85841B9 E46E09A2'),
    });
    const d = h('128B2FA8 BD433C6C 068C8D80 3DFF7979 2A519A55 171B1B65 0C23661D 15897263');
    const k = h('6CB28D99 385C175C 94F94E93 4817663F C176D925 DD72B727 260DBAAE 1FB2F96F');
    const P = sm2PublicKeyOf(d, curve);
    expect(P.x).toBe(h('0AE4C779 8AA0F119 471BEE11 825BE462 02BB79E2 A5844495 E97C04FF 4DF2548A'));
    expect(P.y).toBe(h('7C0240F8 8F1CD4E1 6352A73C 17B7F16F 07353E53 A176D684 A9FE0C6B B798E857'));

    const za = sm2Za(P, 'ALICE123@YAHOO.COM', curve);
    expect(bytesToBigInt(za)).toBe(
      h('F4A38489 E32B45B6 F876E3AC 2168CA39 2362DC8F 23459C1D 1146FC3D BFB7BC9A'),
    );
    const e = sm2Digest(za, utf8('message digest'));
    expect(e).toBe(h('B524F552 CD82B8B0 28476E00 5C377FB1 9A87E6FC 682D48BB 5D42E3D9 B9EFFE76'));

    const signature = sm2SignDigest(e, d, curve, () => k);
    expect(signature.r).toBe(h('40F1EC59 F793D9F4 9E09DCEF 49130D41 94F79FB1 EED2CAA5 5BACDB49 C4E755D1'));
    expect(signature.s).toBe(h('6FC6DAC3 2C5D5CF1 0C77DFB2 0F7C2EB6 67A45787 2FB09EC5 6327A67E C7DEEBE7'));
    expect(sm2VerifyDigest(e, signature, P, curve)).toBe(true);
    expect(sm2VerifyDigest(e, { r: signature.r, s: signature.s + 1n }, P, curve)).toBe(false);
  });
});

describe('SM2 curve arithmetic', () => {
  const c = sm2p256v1;
  const same = (a: ReturnType<typeof c.toAffine>, b: ReturnType<typeof c.toAffine>) =>
    expect(a && [a.x, a.y]).toEqual(b && [b.x, b.y]);

  it('fixed-base table, wNAF and comb give the same multiples', () => {
    const P = sm2PublicKeyOf(h('3945208F 7B2144B1 3F36E38A C6D39F95 88939369 2860B51A 42FB81EF 4DF7C5B8'));
    const comb = c.precomputeComb(P);
    const d = h('3945208F 7B2144B1 3F36E38A C6D39F95 88939369 2860B51A 42FB81EF 4DF7C5B8');
    const scalars = [1n, 2n, 3n, 255n, 256n, c.n - 1n, c.n - 2n, (1n << 255n) + 1n];
    for (let i = 0; i < 12; i++) scalars.push(bytesToBigInt(randomBytes(32)) % c.n);
    for (const k of scalars) {
      same(c.toAffine(c.multiplyBase(k)), c.toAffine(c.multiply(c.G, k)));
      same(c.toAffine(c.multiplyComb(comb, k)), c.toAffine(c.multiply(P, k)));
      // k·P = (k·d)·G ties the variable-base paths to the fixed-base one.
      same(c.toAffine(c.multiply(P, k)), c.toAffine(c.multiplyBase((k * d) % c.n)));
    }
    expect(c.toAffine(c.multiply(c.G, c.n))).toBeNull();
    expect(c.toAffine(c.multiplyComb(comb, c.n))).toBeNull();
    expect(c.toAffine(c.add(c.multiplyBase(5n), c.multiplyBase(c.n - 5n)))).toBeNull();
  });
});

describe('SM2 keys', () => {
  it('emits the SPKI and PKCS#8 forms documented in sm2.ts', () => {
    const keys = sm2Suite.generateKeyPair();
    expect(keys.alg).toBe('sm2-sm3');
    const spki = Buffer.from(keys.publicKey, 'base64');
    expect(spki).toHaveLength(91);
    // SEQUENCE { SEQUENCE { id-ecPublicKey, sm2p256v1 }, BIT STRING 04‖x‖y }
    expect(spki.subarray(0, 27).toString('hex')).toBe(
      '3059301306072a8648ce3d020106082a811ccf5501822d03420004',
    );
    const P = sm2PublicKeyFromSpki(spki);
    const d = sm2PrivateKeyFromPkcs8Pem(keys.privateKey);
    expect(sm2PublicKeyOf(d)).toEqual(P);
    expect(keys.privateKey).toMatch(
      /^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END PRIVATE KEY-----\n$/,
    );
  });

  it.skipIf(!nodeHasSm2)('reads keys made by OpenSSL and writes byte-identical ones', () => {
    const { privateKey, publicKey } = generateNodeSm2Key();
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    const d = sm2PrivateKeyFromPkcs8Pem(pem);
    const P = sm2PublicKeyFromSpki(spki);
    expect(sm2PublicKeyOf(d)).toEqual(P);
    expect(sm2PrivateKeyToPkcs8Pem(d)).toBe(pem);
    expect(Buffer.from(sm2PublicKeyToSpki(P)).equals(spki)).toBe(true);
    // And OpenSSL accepts ours.
    const ours = sm2Suite.generateKeyPair();
    expect(() => createPrivateKey(ours.privateKey)).not.toThrow();
    expect(() =>
      createPublicKey({ key: Buffer.from(ours.publicKey, 'base64'), format: 'der', type: 'spki' }),
    ).not.toThrow();
  });

  it('refuses other keys with a clear error', () => {
    const ed = ed25519Suite.generateKeyPair();
    expect(() => sm2Suite.verifier(ed.publicKey)).toThrow(/not an SM2 public key/);
    expect(() => sm2Suite.signer(ed.privateKey)).toThrow(/not an SM2 PKCS#8 private key/);
    expect(() => sm2Suite.signer('garbage')).toThrow(/not an SM2 PKCS#8 private key/);
    // A point off the curve.
    const spki = Buffer.from(sm2Suite.generateKeyPair().publicKey, 'base64');
    spki[spki.length - 1]! ^= 1;
    expect(() => sm2Suite.verifier(spki.toString('base64'))).toThrow(/not a point on sm2p256v1/);
    // A PKCS#8 file whose embedded public key belongs to another private key.
    const a = sm2PrivateKeyFromPkcs8Pem(sm2Suite.generateKeyPair().privateKey);
    const other = sm2PublicKeyOf(sm2PrivateKeyFromPkcs8Pem(sm2Suite.generateKeyPair().privateKey));
    expect(() => sm2PrivateKeyFromPkcs8Pem(sm2PrivateKeyToPkcs8Pem(a, other))).toThrow(/does not match/);
  });

  it('is what suiteFor("sm2-sm3") returns', () => {
    expect(suiteFor('sm2-sm3')).toBe(sm2Suite);
  });
});

describe('SM2 interoperability', () => {
  const randomMessage = (i: number) =>
    i % 4 === 0 ? utf8(`事件 ${i} ✓ ${randomBytes(8).toString('hex')}`) : new Uint8Array(randomBytes(i * 7));

  it('verifies sm-crypto-v2 signatures and sm-crypto-v2 verifies ours, for many messages', () => {
    const keys = sm2Suite.generateKeyPair();
    const d = sm2PrivateKeyFromPkcs8Pem(keys.privateKey);
    const P = sm2PublicKeyFromSpki(Buffer.from(keys.publicKey, 'base64'));
    const privateHex = d.toString(16).padStart(64, '0');
    const publicHex = '04' + P.x.toString(16).padStart(64, '0') + P.y.toString(16).padStart(64, '0');
    expect(smCrypto.getPublicKeyFromPrivateKey(privateHex)).toBe(publicHex);
    // sm-crypto's Z_A must equal ours for the default ID, whether named or left to its default.
    expect(hex(smCrypto.getZ(publicHex))).toBe(hex(sm2Za(P)));

    const sign = sm2Suite.signer(keys.privateKey);
    const verify = sm2Suite.verifier(keys.publicKey);
    const options = { hash: true, der: true, userId: SM2_DEFAULT_USER_ID, publicKey: publicHex };
    for (let i = 0; i < 40; i++) {
      const message = randomMessage(i);
      const theirs = smCrypto.doSignature(message, privateHex, i % 2 ? options : { hash: true, der: true });
      expect(verify(message, Buffer.from(theirs, 'hex').toString('base64'))).toBe(true);
      const ours = Buffer.from(sign(message), 'base64').toString('hex');
      expect(smCrypto.doVerifySignature(message, ours, publicHex, options)).toBe(true);
      expect(smCrypto.doVerifySignature(message, ours, publicHex, { hash: true, der: true })).toBe(true);
    }
  });

  it('signs with keys made by sm-crypto-v2', () => {
    const pair = smCrypto.generateKeyPairHex();
    const d = BigInt('0x' + pair.privateKey);
    const pem = sm2PrivateKeyToPkcs8Pem(d);
    const publicKey = Buffer.from(sm2PublicKeyToSpki(sm2PublicKeyOf(d))).toString('base64');
    const message = utf8('{"v":1,"seq":1}');
    const sig = Buffer.from(sm2Suite.signer(pem)(message), 'base64').toString('hex');
    expect(smCrypto.doVerifySignature(message, sig, pair.publicKey, { hash: true, der: true })).toBe(true);
    expect(sm2Suite.verifier(publicKey)(message, Buffer.from(sig, 'hex').toString('base64'))).toBe(true);
  });

  it.skipIf(!nodeHasSm2)(
    'documents why Node’s own SM2 signing is not used: OpenSSL hashes an empty ID',
    () => {
      const keys = sm2Suite.generateKeyPair();
      const message = utf8('message digest');
      const der = new Uint8Array(sign(null, message, createPrivateKey(keys.privateKey)));
      const P = sm2PublicKeyFromSpki(Buffer.from(keys.publicKey, 'base64'));
      const rs = decodeSm2SignatureDer(der)!;
      expect(sm2VerifyDigest(sm2Digest(sm2Za(P, ''), message), rs, P)).toBe(true);
      expect(sm2Suite.verifier(keys.publicKey)(message, Buffer.from(der).toString('base64'))).toBe(false);
    },
  );
});

describe('SM2 verifier never throws and refuses what it should', () => {
  const keys = sm2Suite.generateKeyPair();
  const sign = sm2Suite.signer(keys.privateKey);
  const verify = sm2Suite.verifier(keys.publicKey);
  const message = utf8('{"v":1,"agent":"ag-x","seq":7}');
  const signature = sign(message);
  const der = Buffer.from(signature, 'base64');
  const { n } = sm2p256v1;
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  const rsDer = (r: bigint, s: bigint) => b64(encodeSm2SignatureDer({ r, s }));
  const { r, s } = decodeSm2SignatureDer(der)!;

  it('accepts the genuine signature, repeatedly (first call by wNAF, then by the comb table)', () => {
    for (let i = 0; i < 4; i++) expect(verify(message, signature)).toBe(true);
    expect(sm2Suite.verifier(keys.publicKey)(message, signature)).toBe(true);
  });

  it('refuses an altered message', () => {
    const altered = Uint8Array.from(message);
    altered[5]! ^= 0x01;
    expect(verify(altered, signature)).toBe(false);
    expect(verify(new Uint8Array(0), signature)).toBe(false);
    expect(verify(Uint8Array.from([...message, 0x20]), signature)).toBe(false);
  });

  it('refuses every single-bit change of the signature', () => {
    for (let bit = 0; bit < der.length * 8; bit++) {
      const altered = Uint8Array.from(der);
      altered[bit >> 3]! ^= 1 << (bit & 7);
      expect(verify(message, b64(altered))).toBe(false);
    }
  });

  it('refuses a signature by another key, and one under another user ID', () => {
    const other = sm2Suite.generateKeyPair();
    expect(verify(message, sm2Suite.signer(other.privateKey)(message))).toBe(false);
    expect(sm2Suite.verifier(other.publicKey)(message, signature)).toBe(false);
    const d = sm2PrivateKeyFromPkcs8Pem(keys.privateKey);
    const P = sm2PublicKeyOf(d);
    const withAlice = sm2SignDigest(sm2Digest(sm2Za(P, 'ALICE123@YAHOO.COM'), message), d);
    expect(verify(message, b64(encodeSm2SignatureDer(withAlice)))).toBe(false);
  });

  it('refuses r or s out of [1, n−1], and r + s = n', () => {
    for (const [badR, badS] of [
      [0n, s],
      [r, 0n],
      [n, s],
      [r, n],
      [r + n, s],
      [r, s + n],
      [r, n - r],
      [1n << 300n, s],
    ] as const) {
      expect(verify(message, rsDer(badR, badS))).toBe(false);
    }
  });

  it('refuses malformed encodings: garbage, raw r‖s, non-minimal or trailing DER, non-canonical base64', () => {
    const raw = Buffer.concat([
      Buffer.from(r.toString(16).padStart(64, '0'), 'hex'),
      Buffer.from(s.toString(16).padStart(64, '0'), 'hex'),
    ]);
    const cases = [
      '',
      '!!!!',
      'not base64 at all',
      'AAAA',
      b64(raw),
      b64(Buffer.concat([der, Buffer.from([0])])),
      ` ${signature}`,
      // padding stripped (or, for a 72-byte DER that needs none, a stray one added)
      signature.endsWith('=') ? signature.replace(/=+$/, '') : `${signature}=`,
      // r with a superfluous leading zero byte
      b64(Uint8Array.from([0x30, der[1]! + 1, 0x02, der[3]! + 1, 0x00, ...der.subarray(4)])),
      // a negative r
      b64(Uint8Array.from([0x30, 0x06, 0x02, 0x01, 0x80, 0x02, 0x01, 0x01])),
      // long-form length where the short form fits
      b64(Uint8Array.from([0x30, 0x81, der[1]!, ...der.subarray(2)])),
      b64(randomBytes(72)),
    ];
    for (const bad of cases) expect(verify(message, bad)).toBe(false);
    expect(verify(message, undefined as unknown as string)).toBe(false);
    expect(verify(message, 42 as unknown as string)).toBe(false);
  });

  it('DER-encodes as the minimal SEQUENCE of two INTEGERs and decodes it back', () => {
    for (const [x, y] of [
      [1n, 1n],
      [0x7fn, 0x80n],
      [n - 1n, n - 1n],
      [r, s],
    ] as const) {
      const encoded = encodeSm2SignatureDer({ r: x, s: y });
      expect(decodeSm2SignatureDer(encoded)).toEqual({ r: x, s: y });
    }
    expect(hex(encodeSm2SignatureDer({ r: 0x7fn, s: 0x80n }))).toBe('300702017f02020080');
  });
});

function generateNodeSm2Key() {
  // Node gives an EC-typed KeyObject on the SM2 curve; its exports are what OpenSSL writes for SM2.
  return generateKeyPairSync('ec', { namedCurve: 'SM2' });
}
