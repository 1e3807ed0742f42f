/**
 * The `sm2-sm3` signature suite: SM2 digital signatures (GB/T 32918.2-2016) over the recommended
 * curve sm2p256v1 (GB/T 32918.5-2017), with SM3 as the hash and the default user ID
 * `1234567812345678` (GB/T 35276-2017).
 *
 * Why the curve arithmetic is done here in BigInt rather than through Node's OpenSSL (measured on
 * Node 20 / OpenSSL 3.0): a KeyObject read from an SM2 PKCS#8 or SPKI does SM2-with-SM3 in
 * `crypto.sign(null, …)`, but Node offers no way to set the SM2 distinguishing ID and OpenSSL 3 then
 * hashes an EMPTY ID into Z_A; and a KeyObject from `generateKeyPairSync('ec', { namedCurve: 'SM2' })`
 * is EC-typed and silently does plain ECDSA with SHA-256 on the SM2 curve. Neither gives the GB/T
 * signatures with ID 1234567812345678 that GmSSL, BouncyCastle or sm-crypto produce and expect. So
 * we compute e = SM3(Z_A ‖ M) ourselves and do the EC maths in BigInt: one code path that behaves
 * the same on every Node build, including those compiled without SM2.
 *
 * Wire formats, chosen to be exactly what OpenSSL emits for SM2 keys so that keys move freely
 * between smew and `openssl` / Node's KeyObject:
 * - public key: SubjectPublicKeyInfo DER, algorithm id-ecPublicKey (1.2.840.10045.2.1) with the
 *   named curve parameter sm2p256v1 (1.2.156.10197.1.301), uncompressed point 04‖x‖y. Only this
 *   one form is accepted, since the agent id is the SHA-256 of these bytes and a key must have one id.
 * - private key: PKCS#8 `PRIVATE KEY` PEM wrapping an RFC 5915 ECPrivateKey (version 1, 32-byte
 *   scalar, the public key in [1]), as OpenSSL writes it.
 * - signature: DER SEQUENCE { INTEGER r, INTEGER s } (the SM2Signature of GB/T 35276-2017), strict
 *   DER on input so that one signature has one encoding.
 *
 * Side channels: BigInt arithmetic is not constant-time, so signing leaks some timing about the
 * nonce to a local observer; the nonce-dependent inversion is blinded, and the private key is only
 * touched by one multiplication mod n per signature. Acceptable for an agent that signs a few events
 * per minute; a deployment that needs certified constant-time SM2 should use a certified module.
 */
import { randomBytes } from 'node:crypto';
import { UserError } from '../errors.js';
import { sm3 } from './sm3.js';
import type { KeyPairText, SignatureSuite } from './suite.js';

export interface Sm2CurveParams {
  readonly name: string;
  /** field prime */
  readonly p: bigint;
  readonly a: bigint;
  readonly b: bigint;
  /** order of G (prime; cofactor 1) */
  readonly n: bigint;
  readonly gx: bigint;
  readonly gy: bigint;
}

export interface AffinePoint {
  readonly x: bigint;
  readonly y: bigint;
}

export interface Sm2Signature {
  readonly r: bigint;
  readonly s: bigint;
}

/** The recommended curve of GB/T 32918.5-2017 (OpenSSL's `SM2`, OID 1.2.156.10197.1.301). */
export const SM2P256V1_PARAMS: Sm2CurveParams = {
  name: 'sm2p256v1',
  p: 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn,
  a: 0xfffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffcn,
  b: 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n,
  n: 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n,
  gx: 0x32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7n,
  gy: 0xbc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0n,
};

/** GB/T 35276-2017: the ID to use when the parties agreed on none. */
export const SM2_DEFAULT_USER_ID = '1234567812345678';

/** Jacobian coordinates: (X, Y, Z) stands for (X/Z², Y/Z³); Z = 0 is the point at infinity. */
interface JacobianPoint {
  readonly x: bigint;
  readonly y: bigint;
  readonly z: bigint;
}

const INFINITY: JacobianPoint = { x: 1n, y: 1n, z: 0n };

/** Width of the fixed-base comb for G: 8-bit windows, 32 table rows of 255 points for a 256-bit n. */
const BASE_WINDOW_BITS = 8;
/** Width of the wNAF used for a variable base (a public key): 8 precomputed odd multiples. */
const WNAF_WIDTH = 5;
/** Teeth of the per-public-key comb (see `precomputeComb`). */
const COMB_TEETH = 8;

function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

export function bytesToBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0
    ? 0n
    : BigInt('0x' + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex'));
}

export function bigIntToBytes(x: bigint, length: number): Uint8Array {
  const hex = x.toString(16).padStart(length * 2, '0');
  if (hex.length > length * 2) throw new RangeError(`integer does not fit in ${length} bytes`);
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** a⁻¹ mod m by the extended Euclidean algorithm (faster than Fermat with BigInt); a must be coprime to m. */
function invert(a: bigint, m: bigint): bigint {
  let r0 = m;
  let r1 = ((a % m) + m) % m;
  let t0 = 0n;
  let t1 = 1n;
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [t0, t1] = [t1, t0 - q * t1];
  }
  if (r0 !== 1n) throw new RangeError('not invertible');
  return t0 < 0n ? t0 + m : t0;
}

/**
 * Short-Weierstrass curve y² = x³ + ax + b over F_p with the group operations SM2 needs. Generic in
 * its parameters so that the worked example of GB/T 32918.2 Annex A, which uses its own 256-bit
 * curve, exercises the same code as production.
 */
export class Sm2Curve {
  readonly p: bigint;
  readonly a: bigint;
  readonly b: bigint;
  readonly n: bigint;
  readonly G: AffinePoint;
  /** bytes of one field element, as hashed into Z_A and written into keys */
  readonly fieldBytes: number;
  private readonly aIsMinus3: boolean;
  private baseTable: AffinePoint[][] | undefined;

  constructor(readonly params: Sm2CurveParams) {
    this.p = params.p;
    this.a = ((params.a % params.p) + params.p) % params.p;
    this.b = params.b;
    this.n = params.n;
    this.G = { x: params.gx, y: params.gy };
    this.fieldBytes = Math.ceil(bitLength(params.p) / 8);
    this.aIsMinus3 = this.a === params.p - 3n;
    if (!this.isOnCurve(this.G)) throw new RangeError(`${params.name}: G is not on the curve`);
  }

  isOnCurve(point: AffinePoint): boolean {
    const { p } = this;
    const { x, y } = point;
    if (x < 0n || x >= p || y < 0n || y >= p) return false;
    return (y * y - (x * x * x + this.a * x + this.b)) % p === 0n;
  }

  private sub(u: bigint, v: bigint): bigint {
    const d = u - v;
    return d < 0n ? d + this.p : d;
  }

  double(P: JacobianPoint): JacobianPoint {
    const { p } = this;
    if (P.z === 0n || P.y === 0n) return INFINITY;
    const { x, y, z } = P;
    const yy = (y * y) % p;
    const zz = (z * z) % p;
    const s = (4n * x * yy) % p;
    let m: bigint;
    if (this.aIsMinus3) {
      // a = −3 lets M = 3(X − Z²)(X + Z²) replace 3X² + aZ⁴ (one multiplication instead of three).
      m = (3n * this.sub(x, zz) * (x + zz)) % p;
    } else {
      m = (3n * x * x + this.a * ((zz * zz) % p)) % p;
    }
    const x3 = this.sub((m * m) % p, (2n * s) % p);
    const y3 = this.sub((m * this.sub(s, x3)) % p, (8n * yy * yy) % p);
    const z3 = (2n * y * z) % p;
    return { x: x3, y: y3, z: z3 };
  }

  /** P + Q for Jacobian points, complete: handles infinity, P = Q and P = −Q. */
  add(P: JacobianPoint, Q: JacobianPoint): JacobianPoint {
    if (P.z === 0n) return Q;
    if (Q.z === 0n) return P;
    const { p } = this;
    const z1z1 = (P.z * P.z) % p;
    const z2z2 = (Q.z * Q.z) % p;
    const u1 = (P.x * z2z2) % p;
    const u2 = (Q.x * z1z1) % p;
    const s1 = (((P.y * Q.z) % p) * z2z2) % p;
    const s2 = (((Q.y * P.z) % p) * z1z1) % p;
    const h = this.sub(u2, u1);
    const r = this.sub(s2, s1);
    if (h === 0n) return r === 0n ? this.double(P) : INFINITY;
    const hh = (h * h) % p;
    const hhh = (h * hh) % p;
    const v = (u1 * hh) % p;
    const x3 = this.sub(this.sub((r * r) % p, hhh), (2n * v) % p);
    const y3 = this.sub((r * this.sub(v, x3)) % p, (s1 * hhh) % p);
    const z3 = (((P.z * Q.z) % p) * h) % p;
    return { x: x3, y: y3, z: z3 };
  }

  /** P + Q with Q affine (Z = 1), saving four multiplications; complete like `add`. */
  addAffine(P: JacobianPoint, Q: AffinePoint): JacobianPoint {
    if (P.z === 0n) return { x: Q.x, y: Q.y, z: 1n };
    const { p } = this;
    const z1z1 = (P.z * P.z) % p;
    const u2 = (Q.x * z1z1) % p;
    const s2 = (((Q.y * P.z) % p) * z1z1) % p;
    const h = this.sub(u2, P.x);
    const r = this.sub(s2, P.y);
    if (h === 0n) return r === 0n ? this.double(P) : INFINITY;
    const hh = (h * h) % p;
    const hhh = (h * hh) % p;
    const v = (P.x * hh) % p;
    const x3 = this.sub(this.sub((r * r) % p, hhh), (2n * v) % p);
    const y3 = this.sub((r * this.sub(v, x3)) % p, (P.y * hhh) % p);
    const z3 = (P.z * h) % p;
    return { x: x3, y: y3, z: z3 };
  }

  negate(P: AffinePoint): AffinePoint {
    return { x: P.x, y: P.y === 0n ? 0n : this.p - P.y };
  }

  toAffine(P: JacobianPoint, blind = false): AffinePoint | null {
    if (P.z === 0n) return null;
    const { p } = this;
    // Blinding: invert Z·β and multiply back by β, so the variable-time inversion sees a random value.
    let zInv: bigint;
    if (blind) {
      const beta = randomFieldElement(p);
      zInv = (invert((P.z * beta) % p, p) * beta) % p;
    } else {
      zInv = invert(P.z, p);
    }
    const zInv2 = (zInv * zInv) % p;
    return { x: (P.x * zInv2) % p, y: (((P.y * zInv2) % p) * zInv) % p };
  }

  /** Converts many points with one inversion (Montgomery's trick); none may be infinity. */
  private batchToAffine(points: JacobianPoint[]): AffinePoint[] {
    const { p } = this;
    const prefix: bigint[] = new Array<bigint>(points.length);
    let acc = 1n;
    for (let i = 0; i < points.length; i++) {
      prefix[i] = acc;
      acc = (acc * points[i]!.z) % p;
    }
    let inv = invert(acc, p);
    const out: AffinePoint[] = new Array<AffinePoint>(points.length);
    for (let i = points.length - 1; i >= 0; i--) {
      const P = points[i]!;
      const zInv = (inv * prefix[i]!) % p;
      inv = (inv * P.z) % p;
      const zInv2 = (zInv * zInv) % p;
      out[i] = { x: (P.x * zInv2) % p, y: (((P.y * zInv2) % p) * zInv) % p };
    }
    return out;
  }

  /**
   * table[i][j − 1] = j · 2^(W·i) · G. Built on first use (about 8 k point additions), after which a
   * multiple of G costs one addition per window and no doubling at all.
   */
  private getBaseTable(): AffinePoint[][] {
    if (this.baseTable) return this.baseTable;
    const rows = Math.ceil(bitLength(this.n) / BASE_WINDOW_BITS);
    const perRow = (1 << BASE_WINDOW_BITS) - 1;
    const all: JacobianPoint[] = [];
    let base: JacobianPoint = { x: this.G.x, y: this.G.y, z: 1n };
    for (let i = 0; i < rows; i++) {
      let current = base;
      all.push(current);
      for (let j = 2; j <= perRow; j++) {
        current = this.add(current, base);
        all.push(current);
      }
      base = this.add(current, base); // 2^W · base
    }
    const affine = this.batchToAffine(all);
    const table: AffinePoint[][] = [];
    for (let i = 0; i < rows; i++) table.push(affine.slice(i * perRow, (i + 1) * perRow));
    this.baseTable = table;
    return table;
  }

  /** k·G for 0 ≤ k < 2^(bits of n), through the fixed-base table. */
  multiplyBase(k: bigint): JacobianPoint {
    const table = this.getBaseTable();
    const hex = k.toString(16).padStart(table.length * 2, '0');
    let acc = INFINITY;
    for (let i = 0; i < table.length; i++) {
      // Window i is byte i counted from the least significant end.
      const digit = parseInt(hex.slice(hex.length - 2 * i - 2, hex.length - 2 * i), 16);
      if (digit !== 0) acc = this.addAffine(acc, table[i]![digit - 1]!);
    }
    return acc;
  }

  /** k·P for an arbitrary point, by width-5 NAF with the odd multiples P … 15P made affine. */
  multiply(P: AffinePoint, k: bigint): JacobianPoint {
    if (k === 0n) return INFINITY;
    const half = 1 << (WNAF_WIDTH - 1);
    const window = BigInt(1 << WNAF_WIDTH);
    const digits: number[] = [];
    let rest = k;
    while (rest > 0n) {
      let d = 0;
      if (rest & 1n) {
        d = Number(rest % window);
        if (d >= half) d -= 1 << WNAF_WIDTH;
        rest -= BigInt(d);
      }
      digits.push(d);
      rest >>= 1n;
    }
    const p1: JacobianPoint = { x: P.x, y: P.y, z: 1n };
    const twice = this.double(p1);
    const odd: JacobianPoint[] = [p1];
    for (let i = 1; i < half; i++) odd.push(this.add(odd[i - 1]!, twice));
    // An odd multiple can only be infinity if P's order divides it, impossible for P of prime order n.
    if (odd.some((q) => q.z === 0n)) throw new RangeError('point of small order');
    const oddAffine = this.batchToAffine(odd);
    let acc = INFINITY;
    for (let i = digits.length - 1; i >= 0; i--) {
      acc = this.double(acc);
      const d = digits[i]!;
      if (d > 0) acc = this.addAffine(acc, oddAffine[(d - 1) >> 1]!);
      else if (d < 0) acc = this.addAffine(acc, this.negate(oddAffine[(-d - 1) >> 1]!));
    }
    return acc;
  }

  /**
   * Lim–Lee comb table for a point that will be multiplied many times (a public key at the
   * collector): with T = 8 teeth spaced S = ⌈bits(n)/8⌉ apart, entry m − 1 is Σ_{j ∈ bits(m)} 2^(S·j)·P.
   * Building it costs about 1.5 variable-base multiplications; each `multiplyComb` then needs
   * S − 1 doublings instead of bits(n), so about 3× less work. 255 affine points, some 30 kB.
   */
  precomputeComb(P: AffinePoint): AffinePoint[] {
    const spacing = Math.ceil(bitLength(this.n) / COMB_TEETH);
    const teeth: JacobianPoint[] = [{ x: P.x, y: P.y, z: 1n }];
    for (let j = 1; j < COMB_TEETH; j++) {
      let q = teeth[j - 1]!;
      for (let i = 0; i < spacing; i++) q = this.double(q);
      teeth.push(q);
    }
    const sums: JacobianPoint[] = [];
    for (let m = 1; m < 1 << COMB_TEETH; m++) {
      const low = 31 - Math.clz32(m & -m);
      const rest = m & (m - 1);
      sums.push(rest === 0 ? teeth[low]! : this.add(sums[rest - 1]!, teeth[low]!));
    }
    // Each entry is c·P with 0 < c < 2^(S·(T−1)+1) < n, so none is infinity and all can be made affine.
    if (sums.some((q) => q.z === 0n)) throw new RangeError('point of small order');
    return this.batchToAffine(sums);
  }

  /** k·P from a table made by `precomputeComb(P)`, for 0 ≤ k < 2^(8·S). */
  multiplyComb(table: AffinePoint[], k: bigint): JacobianPoint {
    const spacing = Math.ceil(bitLength(this.n) / COMB_TEETH);
    const bits = k.toString(2).padStart(spacing * COMB_TEETH, '0');
    const top = bits.length - 1;
    let acc = INFINITY;
    for (let i = spacing - 1; i >= 0; i--) {
      acc = this.double(acc);
      let m = 0;
      for (let j = 0; j < COMB_TEETH; j++) if (bits[top - (j * spacing + i)] === '1') m |= 1 << j;
      if (m !== 0) acc = this.addAffine(acc, table[m - 1]!);
    }
    return acc;
  }

  /** Whether the affine x of P, reduced mod n, equals `target` — without inverting Z. */
  xModNEquals(P: JacobianPoint, target: bigint): boolean {
    if (P.z === 0n) return false;
    const { p, n } = this;
    const zz = (P.z * P.z) % p;
    // x ∈ [0, p) and x ≡ target (mod n) means x = target or x = target + n.
    for (let candidate = target; candidate < p; candidate += n) {
      if ((candidate * zz) % p === P.x) return true;
    }
    return false;
  }
}

export const sm2p256v1 = new Sm2Curve(SM2P256V1_PARAMS);

function randomFieldElement(p: bigint): bigint {
  for (;;) {
    const x = randomBelow(p);
    if (x !== 0n) return x;
  }
}

/** Uniform in [0, limit) by rejection sampling of bitLength(limit) random bits. */
function randomBelow(limit: bigint): bigint {
  const bits = bitLength(limit);
  const bytes = Math.ceil(bits / 8);
  const excess = BigInt(bytes * 8 - bits);
  for (;;) {
    const x = bytesToBigInt(randomBytes(bytes)) >> excess;
    if (x < limit) return x;
  }
}

/** A private key d ∈ [1, n − 2] (GB/T 32918.1: n − 1 is excluded so that 1 + d is invertible). */
export function sm2RandomPrivateKey(curve: Sm2Curve = sm2p256v1): bigint {
  for (;;) {
    const d = randomBelow(curve.n - 1n);
    if (d !== 0n) return d;
  }
}

export function sm2PublicKeyOf(d: bigint, curve: Sm2Curve = sm2p256v1): AffinePoint {
  if (d < 1n || d > curve.n - 2n) throw new RangeError('SM2 private key out of range [1, n-2]');
  const P = curve.toAffine(curve.multiplyBase(d), true);
  if (!P) throw new RangeError('SM2 private key gives the point at infinity');
  return P;
}

/** Z_A = SM3(ENTL_A ‖ ID_A ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A). */
export function sm2Za(
  publicKey: AffinePoint,
  userId: string | Uint8Array = SM2_DEFAULT_USER_ID,
  curve: Sm2Curve = sm2p256v1,
): Uint8Array {
  const id = typeof userId === 'string' ? new TextEncoder().encode(userId) : userId;
  const entl = id.length * 8;
  if (entl > 0xffff) throw new RangeError('SM2 user ID longer than 8191 bytes');
  const len = curve.fieldBytes;
  return sm3(
    new Uint8Array([entl >> 8, entl & 0xff]),
    id,
    bigIntToBytes(curve.a, len),
    bigIntToBytes(curve.b, len),
    bigIntToBytes(curve.G.x, len),
    bigIntToBytes(curve.G.y, len),
    bigIntToBytes(publicKey.x, len),
    bigIntToBytes(publicKey.y, len),
  );
}

/** e = SM3(Z_A ‖ M) as an integer (GB/T 32918.2-2016 §6.1 steps A1–A2). */
export function sm2Digest(za: Uint8Array, message: Uint8Array): bigint {
  return bytesToBigInt(sm3(za, message));
}

/** Signing with (1 + d)⁻¹ already computed, shared by the suite's prepared signer and `sm2SignDigest`. */
function signPrepared(
  curve: Sm2Curve,
  d: bigint,
  dPlusOneInverse: bigint,
  e: bigint,
  nonce: () => bigint,
): Sm2Signature {
  const { n } = curve;
  for (;;) {
    const k = nonce();
    if (k < 1n || k >= n) throw new RangeError('SM2 nonce out of range [1, n-1]');
    const kG = curve.toAffine(curve.multiplyBase(k), true);
    if (!kG) continue;
    const r = (e + kG.x) % n;
    // A3–A5 of §6.1: start again with a new k if r = 0 or r + k = n, or if s = 0.
    if (r === 0n || r + k === n) continue;
    const s = (dPlusOneInverse * (((k - ((r * d) % n)) % n) + n)) % n;
    if (s === 0n) continue;
    return { r, s };
  }
}

/**
 * Signs the digest e = SM3(Z_A ‖ M) with private key d (GB/T 32918.2-2016 §6.1). `nonce` supplies k
 * and exists for known-answer tests; it is called again whenever the standard asks for a new k.
 */
export function sm2SignDigest(
  e: bigint,
  d: bigint,
  curve: Sm2Curve = sm2p256v1,
  nonce: () => bigint = () => randomFieldElement(curve.n),
): Sm2Signature {
  if (d < 1n || d > curve.n - 2n) throw new RangeError('SM2 private key out of range [1, n-2]');
  return signPrepared(curve, d, invert(1n + d, curve.n), e, nonce);
}

/** Verifies (r, s) over the digest e (GB/T 32918.2-2016 §7.1); any malformed input gives false. */
export function sm2VerifyDigest(
  e: bigint,
  signature: Sm2Signature,
  publicKey: AffinePoint,
  curve: Sm2Curve = sm2p256v1,
): boolean {
  if (!curve.isOnCurve(publicKey)) return false;
  return verifyPrepared(curve, e, signature, (t) => curve.multiply(publicKey, t));
}

/** §7.1 with the multiplication by the public key supplied, so a verifier can switch to a comb table. */
function verifyPrepared(
  curve: Sm2Curve,
  e: bigint,
  signature: Sm2Signature,
  multiplyPublicKey: (t: bigint) => JacobianPoint,
): boolean {
  const { n } = curve;
  const { r, s } = signature;
  // B1–B2: r, s ∈ [1, n − 1].
  if (r < 1n || r >= n || s < 1n || s >= n) return false;
  // B5: t = (r + s) mod n ≠ 0.
  const t = (r + s) % n;
  if (t === 0n) return false;
  // B6–B7: (x1, y1) = s·G + t·P_A, and R = (e + x1) mod n must equal r, i.e. x1 ≡ r − e (mod n).
  const point = curve.add(curve.multiplyBase(s), multiplyPublicKey(t));
  return curve.xModNEquals(point, (((r - e) % n) + n) % n);
}

// ---------------------------------------------------------------------------------------------
// DER: only the few fixed shapes the suite reads and writes.

/** id-ecPublicKey (1.2.840.10045.2.1) followed by the sm2p256v1 curve OID (1.2.156.10197.1.301). */
const SM2_ALGORITHM_ID = Uint8Array.from([
  0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55,
  0x01, 0x82, 0x2d,
]);
const SM2_CURVE_OID = SM2_ALGORITHM_ID.subarray(11);
/** SEQUENCE(89) { algorithm, BIT STRING(66) { 0 unused bits, 04 ‖ x ‖ y } } */
const SPKI_PREFIX = Uint8Array.from([0x30, 0x59, ...SM2_ALGORITHM_ID, 0x03, 0x42, 0x00, 0x04]);
const SPKI_LENGTH = SPKI_PREFIX.length + 64;

interface Tlv {
  tag: number;
  /** content start */
  start: number;
  /** content end (exclusive) */
  end: number;
}

/** Reads one DER TLV at `offset`, requiring definite, minimal lengths; null if malformed. */
function readTlv(buf: Uint8Array, offset: number, limit = buf.length): Tlv | null {
  if (offset + 2 > limit) return null;
  const tag = buf[offset]!;
  let length = buf[offset + 1]!;
  let start = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 3 || start + count > limit) return null;
    length = 0;
    for (let i = 0; i < count; i++) length = (length << 8) | buf[start + i]!;
    start += count;
    // Minimal length form: the long form only for ≥ 128, and no leading zero byte.
    if (length < 0x80 || buf[offset + 2] === 0) return null;
  }
  const end = start + length;
  if (end > limit) return null;
  return { tag, start, end };
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Encodes a non-negative integer as minimal DER INTEGER content (a leading 0 if the top bit is set). */
function derIntegerContent(x: bigint): Uint8Array {
  let hex = x.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  const bytes = Buffer.from(hex, 'hex');
  return bytes[0]! & 0x80 ? Uint8Array.from([0, ...bytes]) : new Uint8Array(bytes);
}

/** Reads a strictly-DER, non-negative INTEGER; null if it is negative or not minimally encoded. */
function readDerUnsigned(buf: Uint8Array, tlv: Tlv): bigint | null {
  if (tlv.tag !== 0x02 || tlv.end === tlv.start) return null;
  const first = buf[tlv.start]!;
  if (first & 0x80) return null;
  if (first === 0 && tlv.end - tlv.start > 1 && !(buf[tlv.start + 1]! & 0x80)) return null;
  return bytesToBigInt(buf.subarray(tlv.start, tlv.end));
}

export function encodeSm2SignatureDer(signature: Sm2Signature): Uint8Array {
  const r = derIntegerContent(signature.r);
  const s = derIntegerContent(signature.s);
  // r, s < n < 2^256 keep every length below 128, so short-form lengths suffice.
  return Uint8Array.from([0x30, r.length + s.length + 4, 0x02, r.length, ...r, 0x02, s.length, ...s]);
}

/** The inverse of `encodeSm2SignatureDer`; null for anything but exactly one strict-DER SEQUENCE of two INTEGERs. */
export function decodeSm2SignatureDer(der: Uint8Array): Sm2Signature | null {
  const seq = readTlv(der, 0);
  if (!seq || seq.tag !== 0x30 || seq.end !== der.length) return null;
  const rTlv = readTlv(der, seq.start, seq.end);
  if (!rTlv) return null;
  const sTlv = readTlv(der, rTlv.end, seq.end);
  if (!sTlv || sTlv.end !== seq.end) return null;
  const r = readDerUnsigned(der, rTlv);
  const s = readDerUnsigned(der, sTlv);
  return r === null || s === null ? null : { r, s };
}

export function sm2PublicKeyToSpki(publicKey: AffinePoint): Uint8Array {
  const out = new Uint8Array(SPKI_LENGTH);
  out.set(SPKI_PREFIX, 0);
  out.set(bigIntToBytes(publicKey.x, 32), SPKI_PREFIX.length);
  out.set(bigIntToBytes(publicKey.y, 32), SPKI_PREFIX.length + 32);
  return out;
}

/** Parses the one SPKI form the suite emits (see the header); throws on anything else or a point off the curve. */
export function sm2PublicKeyFromSpki(der: Uint8Array): AffinePoint {
  if (der.length !== SPKI_LENGTH || !bytesEqual(der.subarray(0, SPKI_PREFIX.length), SPKI_PREFIX)) {
    throw new UserError(
      'not an SM2 public key (expected SPKI DER: id-ecPublicKey, sm2p256v1, uncompressed point)',
    );
  }
  const point = {
    x: bytesToBigInt(der.subarray(SPKI_PREFIX.length, SPKI_PREFIX.length + 32)),
    y: bytesToBigInt(der.subarray(SPKI_PREFIX.length + 32)),
  };
  if (!sm2p256v1.isOnCurve(point)) throw new UserError('SM2 public key is not a point on sm2p256v1');
  return point;
}

/** PKCS#8 PrivateKeyInfo { 0, algorithm, OCTET STRING { ECPrivateKey { 1, d, [1] publicKey } } }, as OpenSSL writes it. */
export function sm2PrivateKeyToPkcs8Pem(d: bigint, publicKey: AffinePoint = sm2PublicKeyOf(d)): string {
  const point = [0x04, ...bigIntToBytes(publicKey.x, 32), ...bigIntToBytes(publicKey.y, 32)];
  const ecPrivateKey = [
    0x30,
    0x6b,
    ...[0x02, 0x01, 0x01],
    ...[0x04, 0x20, ...bigIntToBytes(d, 32)],
    ...[0xa1, 0x44, 0x03, 0x42, 0x00, ...point],
  ];
  const der = Uint8Array.from([
    ...[0x30, 0x81, 0x87],
    ...[0x02, 0x01, 0x00],
    ...SM2_ALGORITHM_ID,
    ...[0x04, ecPrivateKey.length, ...ecPrivateKey],
  ]);
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN PRIVATE KEY-----\n${lines.join('\n')}\n-----END PRIVATE KEY-----\n`;
}

/**
 * Reads an SM2 private key from PKCS#8 PEM: OpenSSL's form above, tolerating an absent public key,
 * curve parameters repeated in [0], and PKCS#8 attributes. Returns d; throws UserError otherwise.
 */
export function sm2PrivateKeyFromPkcs8Pem(pem: string): bigint {
  const bad = (why: string) => new UserError(`not an SM2 PKCS#8 private key: ${why}`);
  const match = /-----BEGIN PRIVATE KEY-----([\s\S]*?)-----END PRIVATE KEY-----/.exec(pem);
  if (!match) throw bad('no "BEGIN PRIVATE KEY" PEM block');
  const der = new Uint8Array(Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64'));

  const outer = readTlv(der, 0);
  if (!outer || outer.tag !== 0x30 || outer.end !== der.length) throw bad('malformed PrivateKeyInfo');
  const version = readTlv(der, outer.start, outer.end);
  if (!version || version.tag !== 0x02) throw bad('malformed version');
  const algorithm = readTlv(der, version.end, outer.end);
  if (!algorithm || !bytesEqual(der.subarray(version.end, algorithm.end), SM2_ALGORITHM_ID)) {
    throw bad('algorithm is not id-ecPublicKey with curve sm2p256v1');
  }
  const wrapped = readTlv(der, algorithm.end, outer.end);
  if (!wrapped || wrapped.tag !== 0x04) throw bad('missing privateKey OCTET STRING');

  const ec = readTlv(der, wrapped.start, wrapped.end);
  if (!ec || ec.tag !== 0x30 || ec.end !== wrapped.end) throw bad('malformed ECPrivateKey');
  const ecVersion = readTlv(der, ec.start, ec.end);
  if (!ecVersion || ecVersion.tag !== 0x02 || readDerUnsigned(der, ecVersion) !== 1n) {
    throw bad('ECPrivateKey version is not 1');
  }
  const scalar = readTlv(der, ecVersion.end, ec.end);
  if (!scalar || scalar.tag !== 0x04 || scalar.end - scalar.start > 32 || scalar.end === scalar.start) {
    throw bad('malformed private scalar');
  }
  const d = bytesToBigInt(der.subarray(scalar.start, scalar.end));
  if (d < 1n || d > sm2p256v1.n - 2n) throw bad('private scalar out of range [1, n-2]');

  let embedded: AffinePoint | undefined;
  for (let at = scalar.end; at < ec.end;) {
    const field = readTlv(der, at, ec.end);
    if (!field) throw bad('malformed ECPrivateKey field');
    if (field.tag === 0xa0 && !bytesEqual(der.subarray(field.start, field.end), SM2_CURVE_OID)) {
      throw bad('ECPrivateKey parameters name another curve');
    }
    if (field.tag === 0xa1) {
      const bits = readTlv(der, field.start, field.end);
      if (
        !bits ||
        bits.tag !== 0x03 ||
        bits.end - bits.start !== 66 ||
        der[bits.start] !== 0 ||
        der[bits.start + 1] !== 4
      ) {
        throw bad('embedded public key is not an uncompressed point');
      }
      embedded = {
        x: bytesToBigInt(der.subarray(bits.start + 2, bits.start + 34)),
        y: bytesToBigInt(der.subarray(bits.start + 34, bits.end)),
      };
    }
    at = field.end;
  }
  // A mismatched embedded public key means a corrupt or spliced file: refuse it rather than sign with it.
  if (embedded) {
    const derived = sm2PublicKeyOf(d);
    if (derived.x !== embedded.x || derived.y !== embedded.y) throw bad('embedded public key does not match');
  }
  return d;
}

// ---------------------------------------------------------------------------------------------

const DEFAULT_ID_BYTES = new TextEncoder().encode(SM2_DEFAULT_USER_ID);

export const sm2Suite: SignatureSuite = {
  alg: 'sm2-sm3',
  generateKeyPair(): KeyPairText {
    const d = sm2RandomPrivateKey();
    const publicKey = sm2PublicKeyOf(d);
    return {
      alg: 'sm2-sm3',
      publicKey: Buffer.from(sm2PublicKeyToSpki(publicKey)).toString('base64'),
      privateKey: sm2PrivateKeyToPkcs8Pem(d, publicKey),
    };
  },
  signer(privateKeyPem) {
    const curve = sm2p256v1;
    const d = sm2PrivateKeyFromPkcs8Pem(privateKeyPem);
    // Z_A depends only on the key and the fixed ID, so it is hashed once per signer, not per message.
    const za = sm2Za(sm2PublicKeyOf(d), DEFAULT_ID_BYTES);
    const beta = randomFieldElement(curve.n);
    const dPlusOneInverse = (invert(((1n + d) * beta) % curve.n, curve.n) * beta) % curve.n;
    const nonce = () => randomFieldElement(curve.n);
    return (data) => {
      const signature = signPrepared(curve, d, dPlusOneInverse, sm2Digest(za, data), nonce);
      return Buffer.from(encodeSm2SignatureDer(signature)).toString('base64');
    };
  },
  verifier(publicKeyBase64) {
    const publicKey = sm2PublicKeyFromSpki(new Uint8Array(Buffer.from(publicKeyBase64, 'base64')));
    const curve = sm2p256v1;
    const za = sm2Za(publicKey, DEFAULT_ID_BYTES);
    // The comb table pays for itself after about two verifications; a verifier used once (or
    // rebuilt per message) never builds it, one kept per agent builds it on its second use.
    let comb: AffinePoint[] | undefined;
    let uses = 0;
    const multiplyPublicKey = (t: bigint): JacobianPoint => {
      if (!comb && ++uses >= 2) comb = curve.precomputeComb(publicKey);
      return comb ? curve.multiplyComb(comb, t) : curve.multiply(publicKey, t);
    };
    return (data, signatureBase64) => {
      try {
        if (typeof signatureBase64 !== 'string') return false;
        const bytes = Buffer.from(signatureBase64, 'base64');
        // Node's decoder skips junk characters; only canonical base64 of the DER is accepted.
        if (bytes.toString('base64') !== signatureBase64) return false;
        const signature = decodeSm2SignatureDer(new Uint8Array(bytes));
        if (!signature) return false;
        return verifyPrepared(curve, sm2Digest(za, data), signature, multiplyPublicKey);
      } catch {
        return false;
      }
    };
  },
};
