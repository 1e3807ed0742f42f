import { z } from 'zod';

/**
 * Keyset pagination for the list routes (`GET /api/v1/events`, `GET /api/v1/warnings`): a page
 * answers `{items, nextCursor}`, and `nextCursor` is the sort key of the page's last item (its
 * time and id, so rows sharing a time keep a stable order), opaque to the caller. The next page
 * is read with `WHERE (time, id) < cursor`, served by an index: a deep page costs what the first
 * costs, where OFFSET would read and skip every row before it.
 */

/** Which list a cursor belongs to: one list's cursor is refused by the other. */
export type CursorList = 'events' | 'warnings';

/** A position in a list: the last item's time (ISO 8601 UTC) and id. */
export interface CursorKey<Id extends number | string> {
  at: string;
  id: Id;
}

/** Longest cursor text accepted (a time and an id, base64url-encoded, are far shorter). */
export const MAX_CURSOR_LENGTH = 256;

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

export function encodeCursor(list: CursorList, key: CursorKey<number | string>): string {
  return Buffer.from(JSON.stringify([list, key.at, key.id]), 'utf8').toString('base64url');
}

type IdOf<K extends 'integer' | 'string'> = K extends 'integer' ? number : string;

/** A cursor read from the query: its key (undefined for the first page), or why it is refused. */
export type CursorRead<Id extends number | string> =
  { ok: true; key: CursorKey<Id> | undefined } | { ok: false; error: string };

/**
 * The key in `text` (the route's `cursor` parameter), or a message naming what is wrong for a
 * 400. `idKind` is the type of the list's ids: events have integer ids, warnings text ids.
 */
export function readCursor<K extends 'integer' | 'string'>(
  list: CursorList,
  text: string | undefined,
  idKind: K,
): CursorRead<IdOf<K>> {
  if (text === undefined) return { ok: true, key: undefined };
  const refuse = (why: string) => ({
    ok: false as const,
    error: `cursor: ${why}; pass the nextCursor of the previous page of GET /api/v1/${list} unchanged`,
  });
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return refuse('not base64url text');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return refuse('not a cursor this collector issued');
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) return refuse('not a cursor this collector issued');
  const [kind, at, id] = parsed as unknown[];
  if (kind !== list) return refuse(`a cursor of ${JSON.stringify(kind)}, not of ${list}`);
  if (typeof at !== 'string' || !ISO_UTC.test(at)) return refuse('its time is not an ISO 8601 UTC time');
  const idOk =
    idKind === 'integer'
      ? typeof id === 'number' && Number.isSafeInteger(id) && id > 0
      : typeof id === 'string' && id.length > 0 && id.length <= 64;
  if (!idOk) return refuse(`its id is not ${idKind === 'integer' ? 'a positive integer' : 'a warning id'}`);
  return { ok: true, key: { at, id: id as IdOf<K> } };
}

/**
 * One page from `rows`, read with limit + 1 so the store tells whether another page follows:
 * the first `limit` rows, and the cursor after the last of them when there are more.
 */
export function pageOf<T, Id extends number | string>(
  list: CursorList,
  rows: readonly T[],
  limit: number,
  keyOf: (row: T) => CursorKey<Id>,
): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items,
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(list, keyOf(last)) : null,
  };
}

/** The querystring parameter both list routes share. */
export const cursorParam = z
  .string()
  .min(1)
  .max(MAX_CURSOR_LENGTH)
  .meta({ description: 'the nextCursor of the previous page; absent for the first page' });
