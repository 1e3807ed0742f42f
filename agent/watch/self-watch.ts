import { createHash } from 'node:crypto';
import { watch, readFileSync, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from '../../shared/log.js';
import type { EventDraft } from '../outbox.js';
import { clockJump, type ClockReading } from './clock-jump.js';

/**
 * The agent watching itself: its config and identity files (hashed at start; a changed or removed
 * file is reported with its new hash) and the wall clock (a jump can hide when something happened,
 * or age out evidence). Directories are watched rather than files, because editors and
 * installers replace a file by renaming a new one over it; a periodic re-hash catches what a
 * watch may miss (network file systems, a watch limit reached).
 */
export interface SelfFile {
  /** what the event names: config, identity */
  what: string;
  path: string;
  /** a change is tampering (agent.tamper), not a configuration change (agent.config.changed) */
  tamper: boolean;
}

export interface SelfChange {
  type: 'agent.config.changed' | 'agent.tamper';
  what: string;
  /** sha256 hex of the new content, or "missing" */
  hash: string;
  /** for clock jumps: how far the wall clock moved beyond real time (ms) */
  jumpMs?: number;
}

export interface SelfWatchOptions {
  files: readonly SelfFile[];
  onChange(change: SelfChange): void;
  logger: Logger;
  /** re-hash and clock check period (ms) */
  checkMs?: number;
  /** a wall clock step beyond this is a jump (ms) */
  clockToleranceMs?: number;
  readClock?: () => ClockReading | undefined;
}

export function fileHash(path: string): string {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch {
    return 'missing';
  }
}

export function readSystemClock(): ClockReading | undefined {
  try {
    const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    return Number.isFinite(uptime) ? { wallMs: Date.now(), bootMs: uptime * 1000 } : undefined;
  } catch {
    return undefined;
  }
}

export interface SelfWatch {
  check(): void;
  /** The agent itself just wrote `path` (a policy it accepted): take its new hash, report nothing. */
  acknowledge(path: string): void;
  stop(): void;
}

export function startSelfWatch(options: SelfWatchOptions): SelfWatch {
  const hashes = new Map(options.files.map((file) => [file.path, fileHash(file.path)]));
  const readClock = options.readClock ?? readSystemClock;
  const tolerance = options.clockToleranceMs ?? 2000;
  let lastClock = readClock();

  function checkFile(file: SelfFile): void {
    const hash = fileHash(file.path);
    if (hash === hashes.get(file.path)) return;
    hashes.set(file.path, hash);
    options.onChange({ type: file.tamper ? 'agent.tamper' : 'agent.config.changed', what: file.what, hash });
  }

  function check(): void {
    for (const file of options.files) checkFile(file);
    const now = readClock();
    if (now !== undefined && lastClock !== undefined) {
      const jumpMs = clockJump(lastClock, now, tolerance);
      if (jumpMs !== undefined) {
        options.onChange({ type: 'agent.tamper', what: 'clock', hash: 'n/a', jumpMs });
      }
    }
    lastClock = now;
  }

  const watchers: FSWatcher[] = [];
  for (const dir of new Set(options.files.map((file) => dirname(file.path)))) {
    try {
      const watcher = watch(dir, { persistent: false }, (_event, name) => {
        for (const file of options.files) {
          if (dirname(file.path) === dir && (name === null || name === basename(file.path))) checkFile(file);
        }
      });
      watcher.on('error', (err) =>
        options.logger.warn({ err, dir }, 'cannot watch the agent’s own files; re-hashing periodically'),
      );
      watchers.push(watcher);
    } catch (err) {
      options.logger.warn({ err, dir }, 'cannot watch the agent’s own files; re-hashing periodically');
    }
  }
  const timer = setInterval(check, options.checkMs ?? 1000);
  timer.unref();
  return {
    check,
    acknowledge(path) {
      if (hashes.has(path)) hashes.set(path, fileHash(path));
    },
    stop() {
      clearInterval(timer);
      for (const watcher of watchers) watcher.close();
    },
  };
}

/**
 * The event a self change becomes. Each is a fresh `raised` under one key per file (or the
 * clock): a record of what happened, like the policy change the runner reports, not a condition
 * that later clears. Tampering is high: the agent's word about the host may no longer hold.
 */
export function selfChangeDraft(change: SelfChange): EventDraft {
  const data: Record<string, unknown> = { what: change.what, hash: change.hash };
  if (change.jumpMs !== undefined) data.jumpMs = change.jumpMs;
  return {
    type: change.type,
    state: 'raised',
    key: `${change.type}:${change.what}`,
    severity: change.type === 'agent.tamper' ? 'high' : 'medium',
    data,
  };
}
