import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiKey } from '../../collector/auth/api-keys.js';
import { hashSecret } from '../../collector/auth/secrets.js';
import { addUser } from '../../collector/auth/users.js';
import type { SqliteStore } from '../../collector/store/sqlite-store.js';
import { ManualClock } from '../../shared/clock.js';
import { openApiFixture, type TestApi } from '../support/api-fixture.js';
import { tempDir } from '../support/collector-harness.js';

/** Login, session cookie, CSRF, throttle and audit through the real Fastify app and SQLite store. */
describe('dashboard sessions', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: SqliteStore;
  let api: TestApi;
  let clock: ManualClock;

  beforeEach(async () => {
    dir = tempDir('smew-session-');
    clock = new ManualClock('2026-11-26T12:00:00Z');
    ({ store, api } = await openApiFixture(dir.path, {
      clock,
      dashboardDir: join(dir.path, 'no-dashboard'),
    }));
    await addUser(store, { name: '张三', password: 'correct horse', role: 'secadmin', unit: '一处', clock });
    await addUser(store, { name: 'root', password: 'admin pass', role: 'sysadmin', clock });
  });
  afterEach(async () => {
    await api.close();
    await store.close();
    dir.remove();
  });

  const login = (name: string, password: string, ip = '127.0.0.1') =>
    api.inject({ method: 'POST', url: '/api/v1/session', payload: { name, password }, remoteAddress: ip });
  const cookieOf = (response: Awaited<ReturnType<typeof login>>) =>
    String(response.headers['set-cookie']).split(';')[0]!;

  it('logs in with name and password and sets a strict HttpOnly cookie holding no stored secret', async () => {
    const response = await login('张三', 'correct horse');
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.user).toEqual({
      name: '张三',
      role: 'secadmin',
      unit: '一处',
      kind: 'user',
      permissions: expect.arrayContaining(['session', 'monitoring.read', 'warnings.handle']),
    });
    expect(body.user.permissions).not.toContain('audit.read');
    expect(body.csrfToken).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    const setCookie = String(response.headers['set-cookie']);
    expect(setCookie).toMatch(
      /^smew_session=smew-ss-[A-Za-z0-9_-]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/,
    );
    const value = cookieOf(response).split('=')[1]!;
    // The store keys sessions by a hash of the cookie value, never the value itself.
    expect(await store.sessions.getSession(value)).toBeUndefined();
    expect(await store.sessions.getSession(hashSecret(value))).toMatchObject({
      user: '张三',
      ip: '127.0.0.1',
    });

    const me = await api.inject({ url: '/api/v1/session', headers: { cookie: cookieOf(response) } });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ user: { name: '张三', role: 'secadmin' }, csrfToken: body.csrfToken });
    const agents = await api.inject({ url: '/api/v1/agents', headers: { cookie: cookieOf(response) } });
    expect(agents.statusCode).toBe(200);
  });

  it('refuses a wrong password and an unknown name alike, and throttles repeated failures', async () => {
    const wrong = await login('张三', 'nope');
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error).toContain('wrong name or password');
    expect((await login('nobody', 'nope')).statusCode).toBe(401);
    for (let i = 0; i < 4; i++) expect((await login('张三', `guess ${i}`)).statusCode).toBe(401);
    const throttled = await login('张三', 'correct horse');
    expect(throttled.statusCode).toBe(429);
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
    // Another address is not locked out by this one's guesses.
    expect((await login('张三', 'correct horse', '10.200.0.9')).statusCode).toBe(200);
    clock.advance(15 * 60_000 + 1000);
    expect((await login('张三', 'correct horse')).statusCode).toBe(200);
  });

  it('requires the session CSRF token on state-changing requests made with the cookie', async () => {
    const session = await login('张三', 'correct horse');
    const cookie = cookieOf(session);
    const bare = await api.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie } });
    expect(bare.statusCode).toBe(403);
    expect(bare.json().error).toContain('CSRF');
    const forged = await api.inject({
      method: 'DELETE',
      url: '/api/v1/session',
      headers: { cookie, 'x-csrf-token': 'x'.repeat(43) },
    });
    expect(forged.statusCode).toBe(403);
    const ok = await api.inject({
      method: 'DELETE',
      url: '/api/v1/session',
      headers: { cookie, 'x-csrf-token': session.json().csrfToken },
    });
    expect(ok.statusCode).toBe(200);
    expect(String(ok.headers['set-cookie'])).toContain('Max-Age=0');
    const after = await api.inject({ url: '/api/v1/agents', headers: { cookie } });
    expect(after.statusCode).toBe(401);
  });

  it('ends a session after the idle timeout', async () => {
    const cookie = cookieOf(await login('张三', 'correct horse'));
    clock.advance(2 * 3600_000 + 1);
    const response = await api.inject({ url: '/api/v1/agents', headers: { cookie } });
    expect(response.statusCode).toBe(401);
    expect(response.json().error).toContain('log in again');
  });

  it('records every action with who, what, when and where; only the auditor reads it', async () => {
    await login('张三', 'wrong', '10.200.0.7');
    const officer = await login('张三', 'correct horse', '10.200.0.7');
    await api.inject({
      method: 'DELETE',
      url: '/api/v1/session',
      headers: { cookie: cookieOf(officer) },
      remoteAddress: '10.200.0.7',
    });
    const admin = await login('root', 'admin pass');
    // The logout above lacked the CSRF header, so the session lives on; neither administrator may read the log.
    const refused = await api.inject({ url: '/api/v1/audit', headers: { cookie: cookieOf(officer) } });
    expect(refused.statusCode).toBe(403);
    const byAdmin = await api.inject({ url: '/api/v1/audit', headers: { cookie: cookieOf(admin) } });
    expect(byAdmin.statusCode).toBe(403);
    const key = await createApiKey(store, { name: 'ops', role: 'auditor' });
    const audit = await api.inject({ url: '/api/v1/audit', headers: { authorization: `Bearer ${key}` } });
    expect(audit.statusCode).toBe(200);
    const items = audit.json().items as {
      actor: string;
      action: string;
      status: number;
      ip: string;
      at: string;
    }[];
    expect(items.map((i) => [i.actor, i.action, i.status, i.ip])).toEqual(
      expect.arrayContaining([
        ['张三', 'login.refused', 401, '10.200.0.7'],
        ['张三', 'login', 200, '10.200.0.7'],
        // Refused for want of the CSRF token: not attributed to the user whose cookie came along.
        ['anonymous', 'DELETE /api/v1/session', 403, '10.200.0.7'],
        ['root', 'login', 200, '127.0.0.1'],
      ]),
    );
    expect(items[0]!.at).toBe('2026-11-26T12:00:00.000Z');
    expect(cookieOf(admin)).toMatch(/^smew_session=/);
  });

  it('sets the security headers on every response and says when the dashboard is not built', async () => {
    const root = await api.inject({ url: '/' });
    expect(root.statusCode).toBe(503);
    expect(root.body).toContain('npm run build');
    for (const response of [root, await api.inject({ url: '/api/v1/agents' })]) {
      expect(response.headers['content-security-policy']).toContain("default-src 'self'");
      expect(response.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(response.headers['content-security-policy']).not.toContain('unsafe-inline');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
    }
  });
});
