/**
 * 三员 (第34条) over every route: a real collector on SQLite, its routes as it registered them, each
 * called as each role — with a bearer key and with a dashboard session (cookie and CSRF token) — and
 * answered as the permission table says: refused with 403 before the body is read, or let through.
 * Then the separation itself: what an administrator does is in the audit log for the auditor, and
 * neither administrator can read it. docs/roles.md is what this run generates.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { declarePermissions, type DeclaredRoute } from '../../collector/api/permission-check.js';
import { createApiKey } from '../../collector/auth/api-keys.js';
import { allows, PERMISSIONS, type Permission } from '../../collector/auth/permissions.js';
import { addUser } from '../../collector/auth/users.js';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { ROLES, type Role } from '../../shared/api/access.js';
import { createLogger } from '../../shared/log.js';
import { tempDir, testCollectorConfig } from '../support/collector-harness.js';
import { rolesMarkdown, ROLES_DOC, tableRoutes } from '../support/roles-table.js';

const PASSWORD = 'a long passphrase 1';

interface Caller {
  role: Role;
  headers: Record<string, string>;
}

/** A path of the route with each parameter filled by a value that names nothing. */
function concrete(url: string): string {
  return url.replace(/:(\w+)/g, (_, name: string) => (name === 'year' ? '2026' : `no-such-${name}`));
}

describe('role × route: every route as every role (三员)', () => {
  const dir = tempDir('smew-roles-');
  let collector: RunningCollector;
  const keys = new Map<Role, string>();

  async function login(name: string): Promise<Record<string, string>> {
    const response = await fetch(`${collector.httpUrl}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, password: PASSWORD }),
    });
    expect(response.status).toBe(200);
    const { csrfToken } = (await response.json()) as { csrfToken: string };
    return { cookie: response.headers.get('set-cookie')!.split(';')[0]!, 'x-csrf-token': csrfToken };
  }

  /** The status and, for a 403, its reason; a live stream is closed once its headers came. */
  async function call(route: DeclaredRoute, headers: Record<string, string>) {
    const abort = new AbortController();
    const hasBody = ['POST', 'PATCH', 'PUT'].includes(route.method);
    const response = await fetch(`${collector.httpUrl}${concrete(route.url)}`, {
      method: route.method,
      headers: { ...headers, ...(hasBody ? { 'content-type': 'application/json' } : {}) },
      body: hasBody ? '{}' : undefined,
      signal: abort.signal,
    });
    const text = response.headers.get('content-type')?.startsWith('text/event-stream')
      ? (abort.abort(), '')
      : await response.text();
    const reason = response.status === 403 ? (JSON.parse(text) as { reason?: string }).reason : undefined;
    return { status: response.status, reason };
  }

  beforeAll(async () => {
    collector = await startCollector(testCollectorConfig(dir.path), {
      logger: createLogger('test', 'silent'),
    });
    for (const role of ROLES) {
      await addUser(collector.store, { name: `${role}-user`, password: PASSWORD, role });
      keys.set(role, await createApiKey(collector.store, { name: `${role}-key`, role }));
    }
  });
  afterAll(async () => {
    await collector?.stop();
    dir.remove();
  });

  it('registers every route with a permission of the table, and docs/roles.md is the table it makes', () => {
    const routes = tableRoutes(collector.routes);
    expect(routes.length).toBeGreaterThan(60);
    for (const route of routes) expect(Object.keys(PERMISSIONS)).toContain(route.permission);
    // Every row of the table is used by some route (a row no route needs is a mistake too).
    expect(new Set(routes.map((r) => r.permission))).toEqual(new Set(Object.keys(PERMISSIONS)));
    const generated = rolesMarkdown(collector.routes);
    if (process.env.SMEW_UPDATE_ROLES_DOC === '1') writeFileSync(ROLES_DOC, generated);
    expect(readFileSync(ROLES_DOC, 'utf8'), 'docs/roles.md is stale: SMEW_UPDATE_ROLES_DOC=1').toBe(
      generated,
    );
  });

  it('refuses to register a route that declares no permission', async () => {
    const app = Fastify();
    declarePermissions(app);
    app.get('/declared', { config: { permission: 'monitoring.read' } }, async () => ({}));
    expect(() => app.get('/forgotten', async () => ({}))).toThrow(
      /route GET \/forgotten declares no permission: add config: \{ permission \}/,
    );
    expect(() =>
      app.get('/typo', { config: { permission: 'warnings.write' as Permission } }, async () => ({})),
    ).toThrow(/declares no permission/);
    await app.close();
  });

  it('answers each route as the table says, for each role, by bearer key and by session', async () => {
    const routes = tableRoutes(collector.routes);
    // The session's own logout last, so the session lives through the others.
    const ordered = [
      ...routes.filter((r) => r.method !== 'DELETE' || r.url !== '/api/v1/session'),
      ...routes.filter((r) => r.method === 'DELETE' && r.url === '/api/v1/session'),
    ];
    const callers: Caller[] = [];
    for (const role of ROLES) {
      callers.push({ role, headers: { authorization: `Bearer ${keys.get(role)}` } });
      callers.push({ role, headers: await login(`${role}-user`) });
    }
    const wrong: string[] = [];
    for (const route of ordered) {
      if (route.permission === 'public') {
        const { status } = await call(route, {});
        if (status === 401 || status === 403)
          wrong.push(`${route.method} ${route.url} open, answered ${status}`);
        continue;
      }
      const anonymous = await call(route, {});
      if (anonymous.status !== 401)
        wrong.push(`${route.method} ${route.url} without login: ${anonymous.status}`);
      for (const caller of callers) {
        const { status, reason } = await call(route, caller.headers);
        const refused = status === 403 && reason === 'permission';
        const expected = allows(caller.role, route.permission);
        if (status === 401 || refused === expected) {
          const how = caller.headers.cookie ? 'session' : 'key';
          wrong.push(`${route.method} ${route.url} as ${caller.role} (${how}): ${status} ${reason ?? ''}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('keeps the three duties apart whatever the table says of other roles', () => {
    const routes = tableRoutes(collector.routes).filter((r) => r.permission !== 'public');
    const reach = (role: Role) => routes.filter((r) => allows(role, r.permission));
    const changes = (r: DeclaredRoute) => r.method !== 'GET' && r.url !== '/api/v1/session';
    // The auditor reads the audit log and changes nothing.
    expect(reach('auditor').filter(changes)).toEqual([]);
    expect(
      reach('auditor').every((r) => r.url.startsWith('/api/v1/audit') || r.url === '/api/v1/session'),
    ).toBe(true);
    // Nobody but the auditor reads the audit log.
    for (const role of ['sysadmin', 'secadmin', 'viewer'] as const) {
      expect(reach(role).filter((r) => r.url.startsWith('/api/v1/audit'))).toEqual([]);
    }
    // The system administrator does not handle warnings, incidents, notices or the register.
    expect(
      reach('sysadmin').filter((r) =>
        /warnings|incidents|notices|silences|systems|assessments|events/.test(r.url),
      ),
    ).toEqual([]);
    // The security administrator does not manage accounts, nor agents beyond admitting them (an approval).
    const secadminOwn = reach('secadmin').filter(
      (r) => /users|apikeys/.test(r.url) || (changes(r) && r.url.startsWith('/api/v1/agents')),
    );
    expect(secadminOwn.map((r) => r.url)).toEqual(['/api/v1/agents/:id/approval']);
    expect(reach('sysadmin').filter((r) => r.url.endsWith('/approval'))).toEqual([]);
    // The viewer changes nothing.
    expect(reach('viewer').filter(changes)).toEqual([]);
  });

  it('refuses a role from before 三员 on the API with the new roles and the mapping, and a second role for a name', async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${collector.httpUrl}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${keys.get('sysadmin')}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const old = await post('/api/v1/apikeys', { name: 'ops', role: 'officer' });
    expect(old.status).toBe(400);
    expect(((await old.json()) as { error: string }).error).toMatch(
      /role "officer" is no longer used .*expected one of sysadmin \(系统管理员\), secadmin .*officer became secadmin \(admin → sysadmin, officer → secadmin, viewer stays viewer\)/,
    );
    const created = await post('/api/v1/apikeys', { name: 'ops', role: 'secadmin' });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({
      name: 'ops',
      role: 'secadmin',
      key: expect.stringMatching(/^smew-ak-/),
    });
    const second = await post('/api/v1/users', { name: 'ops', role: 'auditor', password: PASSWORD });
    expect(second.status).toBe(409);
    expect(((await second.json()) as { error: string }).error).toMatch(/"ops" already holds secadmin/);
    expect((await post('/api/v1/users', { name: 'ops2', role: 'auditor', password: PASSWORD })).status).toBe(
      201,
    );
  });

  it('shows the administrators’ actions to the auditor, and the audit log to neither administrator', async () => {
    const as = (role: Role, method: string, path: string, body?: unknown) =>
      fetch(`${collector.httpUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${keys.get(role)}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    await addUser(collector.store, { name: '离职人员', password: PASSWORD, role: 'viewer' });
    expect((await as('sysadmin', 'POST', '/api/v1/users/离职人员/disable')).status).toBe(200);
    const system = await as('secadmin', 'POST', '/api/v1/systems', {
      name: '办公内网',
      level: '机密',
      commissionedAt: '2026-01-05',
    });
    expect(system.status).toBe(201);
    for (const role of ['sysadmin', 'secadmin', 'viewer'] as const) {
      const refused = await as(role, 'GET', '/api/v1/audit');
      expect(refused.status).toBe(403);
      expect(await refused.json()).toMatchObject({ reason: 'permission' });
    }
    const read = await as('auditor', 'GET', '/api/v1/audit?limit=1000');
    expect(read.status).toBe(200);
    const { items } = (await read.json()) as {
      items: { actor: string; role: string; action: string; status: number }[];
    };
    expect(items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          actor: 'sysadmin-key',
          role: 'sysadmin',
          action: expect.stringContaining('/disable'),
        }),
        expect.objectContaining({ actor: 'secadmin-key', role: 'secadmin', action: 'POST /api/v1/systems' }),
      ]),
    );
    // The refused reads are there too: trying is on record.
    const tries = items
      .filter((e) => e.action === 'GET /api/v1/audit' && e.status === 403)
      .map((e) => e.actor);
    expect(tries).toEqual(expect.arrayContaining(['sysadmin-key', 'secadmin-key', 'viewer-key']));
    const chain = (await (await as('auditor', 'GET', '/api/v1/audit/chain')).json()) as { ok: boolean };
    expect(chain.ok).toBe(true);
    const exported = await as('auditor', 'GET', '/api/v1/audit/export');
    expect(exported.headers.get('content-disposition')).toMatch(/attachment; filename="smew-audit-/);
    const file = (await exported.json()) as {
      entries: { actor: string; hash: string }[];
      verification: { ok: boolean };
    };
    expect(file.verification.ok).toBe(true);
    expect(file.entries.map((e) => e.actor)).toEqual(
      expect.arrayContaining(['sysadmin-key', 'secadmin-key']),
    );
    expect(file.entries.every((e) => /^[0-9a-f]{64}$/.test(e.hash))).toBe(true);
  });
});
