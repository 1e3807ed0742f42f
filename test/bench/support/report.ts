import { writeFileSync } from 'node:fs';

/**
 * How a benchmark hands its figures to `npm run bench` (scripts/bench.ts): it prints its own
 * table for a person, and writes `figures` as JSON to $SMEW_BENCH_OUT when the runner set it.
 */
export function reportFigures(figures: Record<string, unknown>): void {
  const out = process.env.SMEW_BENCH_OUT;
  if (out) writeFileSync(out, `${JSON.stringify(figures, null, 2)}\n`);
}

export const isShort = (): boolean => process.argv.includes('--short');

/** The positive number after `name` on the command line, else `fallback`. */
export function argValue(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  const value = at >= 0 ? Number(process.argv[at + 1]) : NaN;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function printTable(rows: Record<string, string | number>[]): void {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!);
  const cell = (v: string | number) =>
    typeof v === 'number' ? v.toLocaleString('en-US', { maximumFractionDigits: 1 }) : v;
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(cell(r[c] ?? '')).length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ');
  console.log(line(columns));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(line(columns.map((c) => String(cell(row[c] ?? '')))));
}
