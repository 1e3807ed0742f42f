/**
 * The page talks to the collector only through its HTTP API, with the session cookie (sent by
 * the browser, HttpOnly) and the session's CSRF token on anything that changes state.
 */
import type { Actor } from '../../shared/api/common.js';
import type { Warning as WarningListItem, WarningDetail } from '../../shared/api/warnings.js';
import type { LoginReply, SessionReply, SessionUser } from '../../shared/api/session.js';

// The API's shapes come from its schemas (shared/api/), the same ones the collector validates,
// serializes and documents with; type-only imports, so no schema code enters the bundle.
export type { ApiKey, User } from '../../shared/api/access.js';
export type { Agent, PendingAgent } from '../../shared/api/agents.js';
export type { AuditEntry, ChainReport } from '../../shared/api/audit.js';
export type { AssessmentDue, Hop, Incident, System } from '../../shared/api/clocks.js';
export type { Actor } from '../../shared/api/common.js';
export type { DocumentView } from '../../shared/api/documents.js';
export type { StoredEvent } from '../../shared/api/events.js';
export type { Notice } from '../../shared/api/notices.js';
export type { Rectification } from '../../shared/api/rectifications.js';
export type { ChecklistItem, SelfInspection } from '../../shared/api/self-inspection.js';
export type { Person, RegisterChange, Terminal, TerminalName } from '../../shared/api/register.js';
export type { Silence } from '../../shared/api/silences.js';
export type { TransitionRecord as Transition, WarningDetail } from '../../shared/api/warnings.js';
/** A warning from a list, with its history and evidence once its detail is read. */
export type Warning = WarningListItem & Partial<Pick<WarningDetail, 'history' | 'evidence'>>;
export type { SessionUser };

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

/** Sends a file as the request body (a 台账 import); refusals as `api` gives them. */
export async function upload<T>(path: string, file: File): Promise<T> {
  const response = await fetch(path, {
    method: 'POST',
    headers: {
      accept: 'application/json',
      'x-csrf-token': csrfToken,
      'content-type': file.type || 'text/csv',
    },
    body: file,
    credentials: 'same-origin',
  });
  const body = (await response.json().catch(() => undefined)) as (T & { error?: string }) | undefined;
  if (!response.ok) throw new ApiError(response.status, body?.error ?? `HTTP ${response.status}`, false);
  return body as T;
}

export async function login(name: string, password: string): Promise<SessionUser> {
  const reply = await api<LoginReply>('/api/v1/session', {
    method: 'POST',
    body: { name, password },
  });
  setCsrfToken(reply.csrfToken);
  return reply.user;
}

/** The session this browser already has (after a reload), or undefined. */
export async function currentSession(): Promise<SessionUser | undefined> {
  try {
    const reply = await api<SessionReply>('/api/v1/session');
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
/** Whether the user's role may do this (the collector's permission table, as the session reports it). */
export function may(user: SessionUser, permission: string): boolean {
  return user.permissions.includes(permission);
}

export function itemsOf<T>(reply: unknown): T[] {
  if (Array.isArray(reply)) return reply as T[];
  const items = (reply as { items?: unknown } | undefined)?.items;
  return Array.isArray(items) ? (items as T[]) : [];
}

/** Levels of classified systems and incidents (SPEC §8). */
export const SECRET_LEVELS = ['绝密', '机密', '秘密'] as const;
/** Levels of terminals: the secret ones and 非密. */
export const ALL_LEVELS = [...SECRET_LEVELS, '非密'] as const;

export function actorName(actor: Actor | string | null | undefined): string {
  if (!actor) return '—';
  return typeof actor === 'string' ? actor : actor.name;
}
