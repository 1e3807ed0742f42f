import type { Clock } from '../../shared/clock.js';
import type { SessionRecord } from '../store/sessions/session-store.js';
import type { Store } from '../store/store.js';
import type { Principal } from './api-keys.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { generateSecret, hashSecret } from './secrets.js';

/**
 * Dashboard logins. The cookie holds a random 256-bit session id; the store keeps only its
 * SHA-256, so a copy of the database logs nobody in. Each session has its own CSRF token, which
 * state-changing requests must echo in a header (the cookie alone, sent by the browser on its
 * own, never suffices). Failed logins are throttled per name and address, and per address.
 */
export const SESSION_COOKIE = 'smew_session';
export const CSRF_HEADER = 'x-csrf-token';
export const SESSION_PREFIX = 'smew-ss-';

export interface SessionPolicy {
  /** A session ends this long after login, however active (an officer's working day). */
  ttlMs: number;
  /** …or after this long without a request. */
  idleMs: number;
  /** Failed logins of one name from one address within `windowMs` before refusing. */
  maxFailuresPerName: number;
  /** Failed logins from one address (any names) within `windowMs` before refusing. */
  maxFailuresPerIp: number;
  windowMs: number;
}

export const DEFAULT_SESSION_POLICY: SessionPolicy = {
  ttlMs: 12 * 3600_000,
  idleMs: 2 * 3600_000,
  maxFailuresPerName: 5,
  maxFailuresPerIp: 20,
  windowMs: 15 * 60_000,
};

/** lastSeenAt is written at most this often, so a busy dashboard does not write on every request. */
const TOUCH_EVERY_MS = 60_000;

export interface LoginRequest {
  name: string;
  password: string;
  ip: string;
  userAgent: string;
}

export type LoginResult =
  | { ok: true; sessionId: string; session: SessionRecord; principal: Principal }
  | { ok: false; reason: 'bad-credentials' }
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number };

// A hash to verify against when the name is unknown, so an unknown name costs as long as a wrong password.
let decoyHash: Promise<string> | undefined;

export async function login(
  store: Store,
  request: LoginRequest,
  clock: Clock,
  policy: SessionPolicy = DEFAULT_SESSION_POLICY,
): Promise<LoginResult> {
  const now = clock.now();
  const since = new Date(now.getTime() - policy.windowMs).toISOString();
  // The attempt counts as failed before the password is checked: concurrent guesses then see each
  // other, so a burst gets no more password checks than the limit allows (issue 14).
  const attempt = await store.sessions.recordFailedLogin({
    name: request.name,
    ip: request.ip,
    at: now.toISOString(),
  });
  const failures = await store.sessions.countFailedLogins({ name: request.name, ip: request.ip, since });
  const blocking = [
    failures.pair.count > policy.maxFailuresPerName ? failures.pair.oldest : null,
    failures.ip.count > policy.maxFailuresPerIp ? failures.ip.oldest : null,
  ].filter((t): t is string => t !== null);
  if (blocking.length > 0) {
    // A throttled guesser learns nothing and costs no scrypt; its attempt does not extend the lock.
    await store.sessions.forgetFailedLogin(attempt);
    const lifts = Math.max(...blocking.map((t) => new Date(t).getTime() + policy.windowMs));
    return {
      ok: false,
      reason: 'throttled',
      retryAfterSeconds: Math.max(1, Math.ceil((lifts - now.getTime()) / 1000)),
    };
  }

  const user = await store.getUser(request.name);
  const hash = user?.passwordHash ?? (await (decoyHash ??= hashPassword('smew-decoy-password')));
  const passwordOk = await verifyPassword(request.password, hash);
  if (!user || !passwordOk || user.disabledAt !== null) return { ok: false, reason: 'bad-credentials' };

  await store.sessions.clearFailedLogins({ name: request.name, ip: request.ip });
  await store.sessions.deleteStaleSessions(
    now.toISOString(),
    new Date(now.getTime() - policy.idleMs).toISOString(),
  );
  const sessionId = generateSecret(SESSION_PREFIX);
  const session: SessionRecord = {
    idHash: hashSecret(sessionId),
    user: user.name,
    role: user.role,
    unit: user.unit,
    csrfToken: generateSecret(''),
    createdAt: now.toISOString(),
    lastSeenAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + policy.ttlMs).toISOString(),
    ip: request.ip,
    userAgent: request.userAgent.slice(0, 300),
  };
  await store.sessions.createSession(session);
  return { ok: true, sessionId, session, principal: sessionPrincipal(session) };
}

export function sessionPrincipal(session: SessionRecord): Principal {
  return { kind: 'user', name: session.user, role: session.role, unit: session.unit };
}

/**
 * The live session a cookie value names, or undefined (unknown, expired, idle too long, or its
 * user disabled or gone). `touch: false` checks without counting as activity (an open stream).
 */
export async function findSession(
  store: Store,
  sessionId: string,
  clock: Clock,
  policy: SessionPolicy = DEFAULT_SESSION_POLICY,
  options: { touch?: boolean } = {},
): Promise<SessionRecord | undefined> {
  if (!sessionId.startsWith(SESSION_PREFIX)) return undefined;
  const idHash = hashSecret(sessionId);
  const session = await store.sessions.getSession(idHash);
  if (!session) return undefined;
  const now = clock.now().getTime();
  const expired = new Date(session.expiresAt).getTime() <= now;
  const idle = new Date(session.lastSeenAt).getTime() + policy.idleMs <= now;
  // Disabling a user deletes their sessions; this also covers a login that raced the disabling.
  const user = expired || idle ? undefined : await store.getUser(session.user);
  if (!user || user.disabledAt !== null) {
    await store.sessions.deleteSession(idHash);
    return undefined;
  }
  if (options.touch !== false && now - new Date(session.lastSeenAt).getTime() >= TOUCH_EVERY_MS) {
    await store.sessions.touchSession(idHash, new Date(now).toISOString());
  }
  return session;
}

export async function logout(store: Store, sessionId: string): Promise<boolean> {
  return store.sessions.deleteSession(hashSecret(sessionId));
}

/** Cookie header → name/value pairs (RFC 6265 §5.4; values are our own base64url, no quoting needed). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

/** Set-Cookie for the session: HttpOnly (scripts cannot read it), SameSite=Strict, Secure over TLS. */
export function sessionCookie(value: string, options: { maxAgeSeconds: number; secure: boolean }): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${options.maxAgeSeconds}`,
    ...(options.secure ? ['Secure'] : []),
  ].join('; ');
}
