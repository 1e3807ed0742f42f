/**
 * The SessionStore contract (sessions, login failures) on SQLite and PostgreSQL.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { SessionRecord } from '../../collector/store/sessions/session-store.js';
import type { Store } from '../../collector/store/store.js';
import { describeEachDialect, type DialectFixture } from './dialects.js';

describeEachDialect('SessionStore contract', (makeFixture) => {
  let fixture: DialectFixture;
  let store: Store;
  beforeEach(async () => {
    fixture = await makeFixture();
    store = await fixture.open();
  });
  afterEach(async () => {
    await store.close();
    await fixture.dispose();
  });

  const session = (overrides: Partial<SessionRecord> = {}): SessionRecord => ({
    idHash: 'a'.repeat(64),
    user: '张三',
    role: 'secadmin',
    unit: '一处',
    csrfToken: 'csrf-1',
    createdAt: '2026-11-26T12:00:00.000Z',
    lastSeenAt: '2026-11-26T12:00:00.000Z',
    expiresAt: '2026-11-27T00:00:00.000Z',
    ip: '10.200.0.5',
    userAgent: 'Chromium',
    ...overrides,
  });

  it('creates, reads, touches and deletes a session', async () => {
    await store.sessions.createSession(session());
    expect(await store.sessions.getSession('a'.repeat(64))).toEqual(session());
    await store.sessions.touchSession('a'.repeat(64), '2026-11-26T13:00:00.000Z');
    // Touching never moves the clock back (two requests finishing out of order).
    await store.sessions.touchSession('a'.repeat(64), '2026-11-26T12:30:00.000Z');
    expect((await store.sessions.getSession('a'.repeat(64)))?.lastSeenAt).toBe('2026-11-26T13:00:00.000Z');
    expect(await store.sessions.deleteSession('a'.repeat(64))).toBe(true);
    expect(await store.sessions.deleteSession('a'.repeat(64))).toBe(false);
    expect(await store.sessions.getSession('a'.repeat(64))).toBeUndefined();
  });

  it('ends every session of one user, and only theirs', async () => {
    await store.sessions.createSession(session({ idHash: 'a'.repeat(64) }));
    await store.sessions.createSession(session({ idHash: 'b'.repeat(64) }));
    await store.sessions.createSession(session({ idHash: 'c'.repeat(64), user: '李四' }));
    expect(await store.sessions.deleteUserSessions('张三')).toBe(2);
    expect(await store.sessions.deleteUserSessions('张三')).toBe(0);
    expect(await store.sessions.getSession('a'.repeat(64))).toBeUndefined();
    expect(await store.sessions.getSession('c'.repeat(64))).toMatchObject({ user: '李四' });
  });

  it('removes expired and idle sessions, keeping live ones', async () => {
    await store.sessions.createSession(session({ idHash: 'expired', expiresAt: '2026-11-26T12:30:00.000Z' }));
    await store.sessions.createSession(session({ idHash: 'idle', lastSeenAt: '2026-11-26T09:00:00.000Z' }));
    await store.sessions.createSession(session({ idHash: 'live', lastSeenAt: '2026-11-26T12:59:00.000Z' }));
    const removed = await store.sessions.deleteStaleSessions(
      '2026-11-26T13:00:00.000Z',
      '2026-11-26T11:00:00.000Z',
    );
    expect(removed).toBe(2);
    expect(await store.sessions.getSession('live')).toBeDefined();
    expect(await store.sessions.getSession('idle')).toBeUndefined();
    // The edges: a session ends at expiresAt itself; one last seen exactly at the idle limit stays.
    await store.sessions.createSession(
      session({ idHash: 'ends-now', expiresAt: '2026-11-26T14:00:00.000Z' }),
    );
    await store.sessions.createSession(
      session({ idHash: 'at-limit', lastSeenAt: '2026-11-26T12:00:00.000Z' }),
    );
    expect(
      await store.sessions.deleteStaleSessions('2026-11-26T14:00:00.000Z', '2026-11-26T12:00:00.000Z'),
    ).toBe(1);
    expect(await store.sessions.getSession('ends-now')).toBeUndefined();
    expect(await store.sessions.getSession('at-limit')).toBeDefined();
  });

  it('counts failed logins per name and address and per address inside a window', async () => {
    const fail = (name: string, ip: string, at: string) => store.sessions.recordFailedLogin({ name, ip, at });
    await fail('张三', '10.0.0.1', '2026-11-26T11:00:00.000Z');
    await fail('张三', '10.0.0.1', '2026-11-26T12:00:00.000Z');
    await fail('张三', '10.0.0.1', '2026-11-26T12:05:00.000Z');
    await fail('李四', '10.0.0.1', '2026-11-26T12:06:00.000Z');
    await fail('张三', '10.0.0.2', '2026-11-26T12:07:00.000Z');
    // An attempt exactly at the window's start still counts.
    await fail('李四', '10.0.0.3', '2026-11-26T11:50:00.000Z');
    const since = '2026-11-26T11:50:00.000Z';
    expect(await store.sessions.countFailedLogins({ name: '李四', ip: '10.0.0.3', since })).toEqual({
      pair: { count: 1, oldest: since },
      ip: { count: 1, oldest: since },
    });
    expect(await store.sessions.countFailedLogins({ name: '张三', ip: '10.0.0.1', since })).toEqual({
      pair: { count: 2, oldest: '2026-11-26T12:00:00.000Z' },
      ip: { count: 3, oldest: '2026-11-26T12:00:00.000Z' },
    });
    // An attempt recorded and then forgotten (a throttled one) no longer counts.
    const throttled = await fail('张三', '10.0.0.1', '2026-11-26T12:08:00.000Z');
    await store.sessions.forgetFailedLogin(throttled);
    expect((await store.sessions.countFailedLogins({ name: '张三', ip: '10.0.0.1', since })).pair.count).toBe(
      2,
    );
    await store.sessions.clearFailedLogins({ name: '张三', ip: '10.0.0.1' });
    expect(await store.sessions.countFailedLogins({ name: '张三', ip: '10.0.0.1', since })).toEqual({
      pair: { count: 0, oldest: null },
      ip: { count: 1, oldest: '2026-11-26T12:06:00.000Z' },
    });
  });
});
