/**
 * The page talks to the collector only through its HTTP API, with the session cookie (sent by
 * the browser, HttpOnly) and the session's CSRF token on anything that changes state.
 */
export interface SessionUser {
  name: string;
  role: 'admin' | 'officer' | 'viewer';
  unit: string | null;
  kind: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The route does not exist on this collector (a feature not landed or not enabled). */
    readonly missingRoute: boolean,
    /** Seconds, from Retry-After on a 429. */
    readonly retryAfter?: number,
    /** The collector's Chinese wording of a refusal, when it gives one. */
    readonly messageZh?: string,
  ) {
    super(message);
  }
}

let csrfToken = '';
let onUnauthorized: () => void = () => {};

export function setCsrfToken(token: string): void {
  csrfToken = token;
}

export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const method = init.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  const response = await fetch(path, {
    method,
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    credentials: 'same-origin',
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const reply = body as { error?: string; errorZh?: string } | undefined;
    const message = reply?.error ?? `HTTP ${response.status}`;
    if (response.status === 401 && path !== '/api/v1/session') onUnauthorized();
    const retryAfter = Number(response.headers.get('retry-after')) || undefined;
    throw new ApiError(
      response.status,
      message,
      response.status === 404 && message.startsWith('no route '),
      retryAfter,
      reply?.errorZh,
    );
  }
  return body as T;
}

export async function login(name: string, password: string): Promise<SessionUser> {
  const reply = await api<{ user: SessionUser; csrfToken: string }>('/api/v1/session', {
    method: 'POST',
    body: { name, password },
  });
  setCsrfToken(reply.csrfToken);
  return reply.user;
}

/** The session this browser already has (after a reload), or undefined. */
export async function currentSession(): Promise<SessionUser | undefined> {
  try {
    const reply = await api<{ user: SessionUser; csrfToken?: string }>('/api/v1/session');
    setCsrfToken(reply.csrfToken ?? '');
    return reply.user;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return undefined;
    throw err;
  }
}

export async function logout(): Promise<void> {
  await api('/api/v1/session', { method: 'DELETE' }).catch(() => undefined);
  setCsrfToken('');
}

/** List endpoints may wrap items in {items} (SPEC §8) or return an array. */
export function itemsOf<T>(reply: unknown): T[] {
  if (Array.isArray(reply)) return reply as T[];
  const items = (reply as { items?: unknown } | undefined)?.items;
  return Array.isArray(items) ? (items as T[]) : [];
}

// Shapes of SPEC §8, with the optional extras the collector may add.
export interface Agent {
  id: string;
  unit: string;
  alg: string;
  publicKey: string;
  hostname: string | null;
  version?: string | null;
  lastSeen: string | null;
  online: boolean;
  enrolledAt: string;
  revokedAt?: string | null;
  ackedSeq?: number;
  reportedSeq?: number;
}

export interface StoredEvent {
  id: number;
  agent: string;
  unit: string;
  seq: number;
  ts: string;
  receivedAt: string;
  type: string;
  state: 'raised' | 'cleared';
  key: string;
  severity: string;
  data: Record<string, unknown>;
  skewed: boolean;
  envelope: Record<string, unknown>;
}

export interface Transition {
  action?: string;
  from: string;
  to: string;
  by: Actor | string;
  at: string;
  note: string;
}

export interface Warning {
  id: string;
  state: string;
  severity: string;
  rule: string;
  key: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
  unit: string;
  agent: string | null;
  title?: { zh: string; en: string } | string;
  type?: string;
  sample?: { type: string; key: string; data: Record<string, unknown> };
  history?: Transition[];
  evidence?: {
    eventId?: number;
    agent: string;
    seq: number;
    ts: string;
    state: string;
    envelope?: Record<string, unknown>;
    condition?: Record<string, unknown>;
  }[];
  /** The steps the caller may take now (the collector decides by role, scope and state). */
  allowedTransitions?: string[];
  /** The 第61条 incidents this warning opened. */
  incidents?: string[];
  level?: string | null;
}

export interface System {
  id: string;
  name: string;
  level: string;
  unit?: string;
  commissionedAt: string;
  status?: string;
  filedAt?: string | null;
  schedule?: { state: string; nextDue: string | null; daysLeft: number | null };
  scope?: string | null;
  environment?: string | null;
}

export interface AssessmentDue {
  systemId: string;
  name: string;
  level: string;
  nextDue: string;
  daysLeft: number;
  state: string;
}

export interface Hop {
  from: string;
  to: string;
  dueAt: string | null;
  reportedAt: string | null;
  receivedAt: string | null;
  late: boolean | number | null;
  lateByMs?: number | null;
  state?: string;
}

export interface Incident {
  id: string;
  title: string;
  level: string;
  discoveredAt: string;
  unit?: string;
  state?: string;
  measures?: string | null;
  endToEnd?: string | null;
  hops: Hop[];
}

export interface Actor {
  name: string;
  role?: string;
  unit?: string | null;
}

export interface Notice {
  id: string;
  title: string;
  text?: string;
  requiredAction?: string;
  deadline: string;
  issuedAt: string;
  issuedBy?: Actor | string | null;
  /** How many recipients are past the deadline. */
  overdue?: number;
  recipients?: {
    unit: string;
    state?: string;
    overdue?: boolean;
    acknowledgedAt?: string | null;
    result?: string | null;
    resultAt?: string | null;
  }[];
}

export interface Silence {
  id: string;
  matcher: unknown;
  startsAt: string;
  endsAt: string;
  author: Actor | string;
  reason: string;
  active?: boolean;
  expiredBy?: Actor | null;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  actorKind: string;
  role: string | null;
  unit: string | null;
  action: string;
  status: number | null;
  ip: string;
  detail: string;
}

/** Levels of classified systems and incidents (SPEC §8). */
export const SECRET_LEVELS = ['绝密', '机密', '秘密'] as const;

export function actorName(actor: Actor | string | null | undefined): string {
  if (!actor) return '—';
  return typeof actor === 'string' ? actor : actor.name;
}
