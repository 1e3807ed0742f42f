/**
 * Sign and verify throughput of the signature suites, side by side in one process:
 *   npx tsx test/bench/crypto-verify.bench.ts [--rounds N] [--seconds S]
 * Each round runs every operation for about S seconds on one fixed ~400-byte envelope-sized
 * message; the table shows the median rate over the rounds, so one GC pause or a noisy neighbour
 * does not decide the figure. Not a test: it asserts only that every signature verified.
 */
import { ed25519Suite, ed25519Verifier, useSodiumEd25519 } from '../../shared/crypto/ed25519.js';
import { sm2Suite } from '../../shared/crypto/sm2.js';
import type { SignatureSuite } from '../../shared/crypto/suite.js';

function argValue(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  const value = at >= 0 ? Number(process.argv[at + 1]) : NaN;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

const ROUNDS = argValue('--rounds', 5);
const SECONDS = argValue('--seconds', 1);

/** Operations per second of `op`, run in batches until `seconds` have passed. */
function rate(op: () => void, seconds: number): number {
  let count = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 10; i++) op();
    count += 10;
    now = performance.now();
  }
  return count / ((now - start) / 1000);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const message = new TextEncoder().encode(
  JSON.stringify({
    v: 1,
    agent: 'ag-abcdefghijklmnopqrst',
    seq: 42,
    ts: '2026-11-26T14:30:00.123Z',
    type: 'net.wireless.present',
    state: 'raised',
    key: 'net.wireless.present:wlp2s0',
    severity: 'high',
    data: { interface: 'wlp2s0', driver: 'iwlwifi', pci: '0000:00:14.3', mac: '00:11:22:33:44:55', up: true },
    alg: 'ed25519',
  }).padEnd(400, ' '),
);

interface Row {
  alg: string;
  prepareMs: number;
  sign: number[];
  verify: number[];
}

function measure(suite: SignatureSuite, label: string = suite.alg): Row {
  const keys = suite.generateKeyPair();
  const t0 = performance.now();
  const sign = suite.signer(keys.privateKey);
  const verify = suite.verifier(keys.publicKey);
  const prepareMs = performance.now() - t0;
  const signature = sign(message);
  if (!verify(message, signature)) throw new Error(`${suite.alg}: a fresh signature did not verify`);
  // Warm up the JIT (and, for SM2, the lazily built table of multiples of G) before timing.
  rate(() => verify(message, sign(message)), 0.3);
  const row: Row = { alg: label, prepareMs, sign: [], verify: [] };
  for (let round = 0; round < ROUNDS; round++) {
    row.sign.push(rate(() => sign(message), SECONDS));
    row.verify.push(
      rate(() => {
        if (!verify(message, signature)) throw new Error(`${suite.alg}: verification failed`);
      }, SECONDS),
    );
  }
  return row;
}

// Ed25519 verification through node:crypto and through libsodium (what the collector uses where
// sodium-native loads), one after the other in this process; signing is node:crypto's in both.
const rows = [measure(ed25519Suite, `ed25519/${ed25519Verifier()}`)];
if (useSodiumEd25519()) rows.push(measure(ed25519Suite, `ed25519/${ed25519Verifier()}`));
rows.push(measure(sm2Suite));
const fmt = (x: number) => Math.round(x).toLocaleString('en-US').padStart(9);
console.log(
  `node ${process.version}, ${ROUNDS} rounds × ${SECONDS}s per operation, ${message.length}-byte message\n`,
);
console.log('alg                   sign/s (median)  verify/s (median)  verify/s min–max     prepare (ms)');
for (const row of rows) {
  const range = `${Math.round(Math.min(...row.verify))}–${Math.round(Math.max(...row.verify))}`;
  console.log(
    `${row.alg.padEnd(21)} ${fmt(median(row.sign))}        ${fmt(median(row.verify))}          ${range.padEnd(18)} ${row.prepareMs.toFixed(1).padStart(8)}`,
  );
}
