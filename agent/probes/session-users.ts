import { readdirSync, readFileSync, statSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import type { SessionUser } from '../../shared/inventory.js';
import { bounded } from './inventory.js';

/**
 * Who is logged in at the terminal now, for the `users` field every event envelope carries
 * (shared/inventory.ts): systemd-logind's session files under `<run>/systemd/sessions`, or where
 * logind does not run, the utmp records of `<run>/utmp`. Undefined when neither can be read
 * (not "nobody"): the envelope then carries no `users` at all.
 *
 * Synchronous on purpose: it is read as each batch of events is signed, inside the outbox's
 * transaction; a few small files on a tmpfs. Names, ttys and remote hosts are whatever a user or
 * a remote client supplied: bounded and carried as data.
 */
export function readSessionUsers(run: string): SessionUser[] | undefined {
  return readLogindSessions(join(run, 'systemd', 'sessions')) ?? readUtmp(join(run, 'utmp'));
}

/** At most this many sessions (the shape's bound). */
const MAX_USERS = 64;
/** A session file is a few hundred bytes; a utmp file of 1 MiB holds ~2 700 records. */
const MAX_FILE_BYTES = 1024 * 1024;

/** Sessions of class `user` that are not closing, oldest first; undefined when logind keeps none here. */
export function readLogindSessions(dir: string): SessionUser[] | undefined {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return undefined;
  }
  const users: SessionUser[] = [];
  for (const name of names) {
    // logind writes `<id>` and a temporary `.#<id>XXXXXX` beside it while replacing it.
    if (name.startsWith('.')) continue;
    const text = readSmall(join(dir, name))?.toString('utf8');
    if (text === undefined) continue;
    const user = parseLogindSession(text);
    if (user) users.push(user);
  }
  return users.sort(bySince).slice(0, MAX_USERS);
}

/** One logind session file (KEY=value lines, as `loginctl` reads them). */
export function parseLogindSession(text: string): SessionUser | undefined {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) fields.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const account = bounded(fields.get('USER'));
  const sessionClass = fields.get('CLASS') ?? 'user';
  // Greeters, lock screens and background sessions (cron, a user manager) are nobody at the terminal.
  if (account === undefined || !sessionClass.startsWith('user') || fields.get('STATE') === 'closing') {
    return undefined;
  }
  const line = bounded(fields.get('TTY') ?? fields.get('DISPLAY') ?? fields.get('SEAT'));
  const remote = bounded(fields.get('REMOTE_HOST'));
  const since = isoFromMicros(fields.get('REALTIME'));
  return { account, ...(line ? { line } : {}), ...(remote ? { remote } : {}), ...(since ? { since } : {}) };
}

/**
 * glibc's `struct utmp` on Linux (x86-64, arm64, and 32-bit with 64-bit time compatibility):
 * 384 bytes, native byte order. Offsets: ut_type (short) 0, ut_pid 4, ut_line[32] 8, ut_id[4]
 * 40, ut_user[32] 44, ut_host[256] 76, ut_exit 332, ut_session 336, ut_tv (two int32) 340,
 * ut_addr_v6 348, reserved 364.
 */
export const UTMP_RECORD_BYTES = 384;
const USER_PROCESS = 7;

/** USER_PROCESS records of a utmp file; undefined when there is none. */
export function readUtmp(file: string): SessionUser[] | undefined {
  const bytes = readSmall(file);
  return bytes === undefined ? undefined : parseUtmp(bytes);
}

export function parseUtmp(bytes: Buffer, littleEndian = endianness() === 'LE'): SessionUser[] {
  const users: SessionUser[] = [];
  for (
    let at = 0;
    at + UTMP_RECORD_BYTES <= bytes.length && users.length < MAX_USERS;
    at += UTMP_RECORD_BYTES
  ) {
    const record = bytes.subarray(at, at + UTMP_RECORD_BYTES);
    const type = littleEndian ? record.readInt16LE(0) : record.readInt16BE(0);
    if (type !== USER_PROCESS) continue;
    const account = bounded(cString(record, 44, 32));
    if (account === undefined) continue;
    const line = bounded(cString(record, 8, 32));
    const remote = bounded(cString(record, 76, 256));
    const seconds = littleEndian ? record.readInt32LE(340) : record.readInt32BE(340);
    const since = seconds > 0 ? new Date(seconds * 1000).toISOString() : undefined;
    users.push({
      account,
      ...(line ? { line } : {}),
      ...(remote ? { remote } : {}),
      ...(since ? { since } : {}),
    });
  }
  return users.sort(bySince);
}

/** A NUL-padded char array; bytes that are not UTF-8 come out as U+FFFD, never as code. */
function cString(record: Buffer, offset: number, length: number): string {
  const field = record.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? length : end).toString('utf8');
}

function isoFromMicros(text: string | undefined): string | undefined {
  if (text === undefined || !/^\d{1,17}$/.test(text)) return undefined;
  const ms = Math.floor(Number(text) / 1000);
  return ms > 0 ? new Date(ms).toISOString() : undefined;
}

function readSmall(file: string): Buffer | undefined {
  try {
    if (statSync(file).size > MAX_FILE_BYTES) return undefined;
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

function bySince(a: SessionUser, b: SessionUser): number {
  const x = `${a.since ?? ''}\0${a.account}\0${a.line ?? ''}`;
  const y = `${b.since ?? ''}\0${b.account}\0${b.line ?? ''}`;
  return x < y ? -1 : x > y ? 1 : 0;
}
