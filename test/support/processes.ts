import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { eventually } from './eventually.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SMEW_BIN = fileURLToPath(new URL('../../dist/bin/smew.js', import.meta.url));

/** A child process whose output is kept for assertions and for failure messages. */
export interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  /** Settles once the child has exited and its stdout and stderr are read to the end. */
  ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * How the child ended and the last lines it wrote, for failure messages; call it after
   * `ended` (or `untilReady`), since 'exit' can come before the last output is read.
   */
  describeExit(lines?: number): string;
  /** Sends a signal and waits for the exit (SIGKILL after `graceMs`). */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
}

export function start(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Running {
  const child = spawn(command, args, {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // 'close' comes after 'exit' and after both pipes have ended (or at once on a failed spawn).
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  const tail = (text: string, lines: number) => {
    const kept = text.trimEnd().split('\n').slice(-lines);
    return kept.length === 1 && kept[0] === '' ? '    (nothing)' : kept.map((l) => `    ${l}`).join('\n');
  };
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    ended,
    describeExit(lines = 20) {
      const how =
        child.signalCode !== null
          ? `was killed by ${child.signalCode}`
          : child.exitCode !== null
            ? `exited with code ${child.exitCode}`
            : 'is still running';
      return (
        `${command} ${args.join(' ')} (pid ${child.pid}) ${how}\n` +
        `  last stderr:\n${tail(err, lines)}\n  last stdout:\n${tail(out, lines)}`
      );
    },
    async stop(signal = 'SIGTERM', graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/**
 * Waits, after 'exit', for the pipes to be read to the end ('close'): the last words can still be
 * in them when 'exit' fires. Bounded, in case a grandchild holds a pipe open.
 */
async function outputRead(running: Running): Promise<void> {
  await running.exited;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([running.ended, new Promise((resolve) => (timer = setTimeout(resolve, 2_000)))]);
  clearTimeout(timer);
}

/** Thrown by `untilReady` when the child ended before it was ready. */
export class ExitedEarly extends Error {
  constructor(
    readonly running: Running,
    what: string,
  ) {
    super(`${what}: the process ended before it was ready: ${running.describeExit()}`);
  }
}

/**
 * Polls `probe` until it returns a value (as `eventually`), failing at once with the exit code,
 * signal and last output if the child ends first; after a timeout the child is still running
 * and its last output is in the message too.
 */
export async function untilReady<T>(
  running: Running,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  { what, timeoutMs = 15_000, intervalMs = 100 }: { what: string; timeoutMs?: number; intervalMs?: number },
): Promise<T> {
  const { child } = running;
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  const ended = Symbol('ended');
  try {
    const value = await eventually(async () => (gone() ? ended : probe()), { what, timeoutMs, intervalMs });
    if (value !== ended) return value as T;
  } catch (err) {
    if (!gone()) throw new Error(`${(err as Error).message}\n${running.describeExit()}`, { cause: err });
  }
  await outputRead(running);
  throw new ExitedEarly(running, what);
}

/** Runs `smew …` from the built tree (npm test builds first). */
export function startSmew(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Running {
  return start(process.execPath, [SMEW_BIN, ...args], options);
}

/** Feeds `input` (or nothing) to a started child and waits for its exit code and all its output. */
export async function completion(
  running: Running,
  input = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  running.child.stdin?.end(input);
  const code = await running.exited;
  await outputRead(running);
  return { code, stdout: running.stdout(), stderr: running.stderr() };
}

/** Runs `smew …` to completion and returns its exit code and output. */
export async function runSmew(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return completion(startSmew(args, options), options.input);
}
