import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiKey } from '../../collector/auth/api-keys.js';
import { encodeCursor } from '../../collector/api/cursor.js';
import type { SqliteStore } from '../../collector/store/sqlite-store.js';
import { ManualClock } from '../../shared/clock.js';
import { openApiFixture, type TestApi } from '../support/api-fixture.js';
import { tempDir } from '../support/collector-harness.js';
import { seedWarnings } from '../support/paging-contract.js';
import { enrollAgentIn, event } from './store-contract.js';

/** GET /api/v1/events and /warnings read page by page with nextCursor; a bad cursor is a clear 400. */
describe('list routes paged by cursor', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: SqliteStore;
  let api: TestApi;
  let key: string;

  beforeEach(async () => {
    dir = tempDir('smew-api-paging-');
    ({ store, api } = await openApiFixture(dir.path, {
      clock: new ManualClock('2026-11-26T12:00:00Z'),
      warnings: true,
    }));
    key = await createApiKey(store, { name: 'all', role: 'secadmin' });
    await enrollAgentIn(store);
    // 23 events over 5 times, so pages cut through runs of equal ts.
    await store.insertEvents(
      Array.from({ length: 23 }, (_, i) =>
        event(i + 1, {
          ts: `2026-11-26T0${i % 5}:00:00.000Z`,
          type: i % 2 ? 'usb.storage.attached' : 'net.wireless.present',
        }),
      ),
    );
  });
  afterEach(async () => {
    await api.close();
    await store.close();
    dir.remove();
  });

  const get = (url: string) => api.inject({ url, headers: { authorization: `Bearer ${key}` } });

  async function walk(path: string) {
    const ids: (number | string)[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const response = await get(cursor === null ? path : `${path}${sep}cursor=${cursor}`);
      expect(response.statusCode, response.body).toBe(200);
      const body = response.json() as { items: { id: number | string }[]; nextCursor: string | null };
      ids.push(...body.items.map((e) => e.id));
      cursor = body.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 100);
    return { ids, pages };
  }

  it('walks every event once in list order, with and without filters; nextCursor is null at the end', async () => {
    const all = (await get('/api/v1/events?limit=1000')).json() as {
      items: { id: number }[];
      nextCursor: null;
    };
    expect(all.items).toHaveLength(23);
    expect(all.nextCursor).toBeNull();
    const walked = await walk('/api/v1/events?limit=5');
    expect(walked).toEqual({ ids: all.items.map((e) => e.id), pages: 5 });
    // Exactly a page's worth: the last full page says so by a null cursor, no empty page follows.
    const usb = (await get('/api/v1/events?type=usb.storage.attached&limit=1000')).json() as {
      items: { id: number }[];
    };
    expect(await walk('/api/v1/events?type=usb.storage.attached&limit=11')).toEqual({
      ids: usb.items.map((e) => e.id),
      pages: 1,
    });
    expect((await walk('/api/v1/events?type=usb.storage.attached&limit=3')).ids).toEqual(
      usb.items.map((e) => e.id),
    );
    // Older callers: since and limit alone still answer items, newest first.
    const since = (await get('/api/v1/events?since=2026-11-26T03:00:00Z&limit=2')).json() as {
      items: { ts: string }[];
      nextCursor: string;
    };
    expect(since.items.map((e) => e.ts)).toEqual(['2026-11-26T04:00:00.000Z', '2026-11-26T04:00:00.000Z']);
    expect(since.nextCursor).toEqual(expect.any(String));
  });

  it('refuses a cursor it did not issue with a 400 that says what to pass', async () => {
    const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const cases: [string, string, string][] = [
      ['/api/v1/events', 'not*base64', 'cursor: not base64url text'],
      ['/api/v1/events', forged({ a: 1 }), 'cursor: not a cursor this collector issued'],
      ['/api/v1/events', 'bm90IGpzb24', 'cursor: not a cursor this collector issued'],
      [
        '/api/v1/events',
        encodeCursor('warnings', { at: '2026-11-26T00:00:00Z', id: 'w-1' }),
        'not of events',
      ],
      ['/api/v1/events', forged(['events', 'yesterday', 3]), 'its time is not an ISO 8601 UTC time'],
      ['/api/v1/events', forged(['events', '2026-11-26T00:00:00Z', -3]), 'its id is not a positive integer'],
      ['/api/v1/warnings', encodeCursor('events', { at: '2026-11-26T00:00:00Z', id: 3 }), 'not of warnings'],
      ['/api/v1/warnings', forged(['warnings', '2026-11-26T00:00:00Z', 7]), 'its id is not a warning id'],
    ];
    for (const [path, cursor, message] of cases) {
      const response = await get(`${path}?cursor=${encodeURIComponent(cursor)}`);
      expect(response.statusCode, cursor).toBe(400);
      const { error } = response.json() as { error: string };
      expect(error, cursor).toContain(message);
      expect(error, cursor).toContain(`pass the nextCursor of the previous page of GET ${path} unchanged`);
    }
    const long = await get(`/api/v1/events?cursor=${'A'.repeat(300)}`);
    expect(long.statusCode).toBe(400);
    expect(long.json()).toEqual({ error: expect.stringContaining('querystring/cursor') });
    const both = await get(
      `/api/v1/warnings?offset=5&cursor=${encodeCursor('warnings', { at: '2026-11-26T00:00:00Z', id: 'w-1' })}`,
    );
    expect(both.statusCode).toBe(400);
    expect(both.json()).toEqual({ error: 'cursor and offset: pass one or the other, not both' });
  });

  it('walks every warning once in list order, with filters, and keeps offset for older callers', async () => {
    await seedWarnings(store, 17);
    const all = (await get('/api/v1/warnings?limit=1000')).json() as { items: { id: string }[] };
    expect(all.items).toHaveLength(17);
    expect(await walk('/api/v1/warnings?limit=4')).toEqual({ ids: all.items.map((w) => w.id), pages: 5 });
    const u2 = (await get('/api/v1/warnings?unit=u2&state=discovered&limit=1000')).json() as {
      items: { id: string; unit: string }[];
    };
    expect(u2.items.length).toBeGreaterThan(2);
    expect((await walk('/api/v1/warnings?unit=u2&state=discovered&limit=2')).ids).toEqual(
      u2.items.map((w) => w.id),
    );
    const offset = (await get('/api/v1/warnings?limit=3&offset=3')).json() as { items: { id: string }[] };
    expect(offset.items.map((w) => w.id)).toEqual(all.items.slice(3, 6).map((w) => w.id));
  });
});
