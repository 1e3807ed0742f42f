import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './processes.js';

/** Helpers of the package tests (test/e2e/package-*.test.ts), which build with scripts/package.mjs. */
const run = promisify(execFile);

/** The Node.js version a toolchain lockfile (toolchain/, toolchain/arm64/) pins for package `name`. */
export function pinnedNode(toolchain: string, name: string): string {
  const lock = JSON.parse(readFileSync(join(REPO_ROOT, toolchain, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string }>;
  };
  const version = lock.packages[`node_modules/${name}`]?.version;
  if (!version) throw new Error(`${toolchain}/package-lock.json does not pin ${name}`);
  return version;
}

/** Runs scripts/package.mjs with `args` and logs what it built and how long it took. */
export async function buildDebs(args: string[]): Promise<void> {
  const started = Date.now();
  const built = await run(process.execPath, [join(REPO_ROOT, 'scripts/package.mjs'), ...args], {
    cwd: REPO_ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
  console.log(`packages built in ${((Date.now() - started) / 1000).toFixed(1)} s:\n${built.stdout}`);
}

/** A systemd unit's Environment= assignments: name → value. */
export function unitEnvironment(unit: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [, assignment] of unit.matchAll(/^Environment=(.*)$/gm)) {
    const [name, ...value] = assignment!.replace(/^"|"$/g, '').split('=');
    env[name!] = value.join('=');
  }
  return env;
}

/** The ELF machine (e_machine) of a binary: 62 x86-64, 183 AArch64. */
export function elfMachine(path: string): number {
  const head = readFileSync(path).subarray(0, 20);
  if (head.toString('latin1', 0, 4) !== '\x7fELF') throw new Error(`${path} is not an ELF file`);
  return head.readUInt16LE(18);
}

/** VmRSS of a process, in MiB. */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}
