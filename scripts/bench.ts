/**
 * `npm run bench [-- --short] [-- --out FILE] [-- NAME…]`: runs test/bench/*.bench.ts one after
 * another (each in its own process, so one's threads and heap do not colour the next), lets each
 * print its own table, and gathers the figures they report (test/bench/support/report.ts) into
 * bench-results.json at the repository root (not committed) for other programs to read.
 * --short is the smoke mode CI runs: only benchmarks that support it, on small inputs, untimed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { basename, join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const short = args.includes('--short');
const outAt = args.indexOf('--out');
const outFile = outAt >= 0 ? resolve(args[outAt + 1]!) : join(root, 'bench-results.json');
const wanted = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--out');

const benchDir = join(root, 'test', 'bench');
const benches = readdirSync(benchDir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();

/** Benchmarks that spawn real `smew` processes run dist/bin/smew.js. */
if (!existsSync(join(root, 'dist', 'bin', 'smew.js'))) {
  console.log('building dist/ for the benchmarks that run real smew processes…');
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

type Figures = Record<string, unknown>;
const figures: Figures = {};
const runs: { bench: string; exitCode: number | null; seconds: number; skipped?: string }[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'smew-bench-'));

for (const file of benches) {
  const path = join(benchDir, file);
  if (short && !readFileSync(path, 'utf8').includes('isShort(')) {
    runs.push({ bench: file, exitCode: null, seconds: 0, skipped: 'no --short mode' });
    continue;
  }
  const out = join(scratch, `${basename(file, '.ts')}.json`);
  console.log(`\n=== ${file}${short ? ' --short' : ''}`);
  const start = performance.now();
  const child = spawnSync(process.execPath, ['--import', 'tsx', path, ...(short ? ['--short'] : [])], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, SMEW_BENCH_OUT: out },
  });
  runs.push({ bench: file, exitCode: child.status, seconds: (performance.now() - start) / 1000 });
  if (existsSync(out)) Object.assign(figures, JSON.parse(readFileSync(out, 'utf8')) as Figures);
}
rmSync(scratch, { recursive: true, force: true });

const results = {
  ...figures,
  runs,
  short,
  command: `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`,
  at: new Date().toISOString(),
  machine: {
    cores: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryMb: Math.round(totalmem() / 2 ** 20),
    node: process.version,
  },
};
writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);

console.log('\n=== summary');
for (const run of runs) {
  const status = run.skipped
    ? `skipped (${run.skipped})`
    : run.exitCode === 0
      ? 'ok'
      : `FAILED (exit ${run.exitCode})`;
  console.log(`${run.bench.padEnd(32)} ${status}${run.skipped ? '' : `  ${run.seconds.toFixed(1)} s`}`);
}
console.log(`figures written to ${outFile}`);
process.exit(runs.some((r) => !r.skipped && r.exitCode !== 0) ? 1 : 0);
