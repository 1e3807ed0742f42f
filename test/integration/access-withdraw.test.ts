import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createApiKey } from '../../collector/auth/api-keys.js';
import { addUser } from '../../collector/auth/users.js';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { createLogger } from '../../shared/log.js';
import { tempDir, testCollectorConfig } from '../support/collector-harness.js';
import { collectorStores } from '../support/postgres-shared-schema.js';
import { SMEW_BIN } from '../support/processes.js';

/**
 * Issue 14 item 4: withdrawing access takes effect at once. An admin disables a user, changes a
 * password or revokes an API key (HTTP API, or `smew user|apikey …` on the same store while the
 * collector runs); the user's sessions and every open live stream of that user or key end, a
 * logout ends its own stream, and each change is in the audit log. A real collector over HTTP, on
 * SQLite and PostgreSQL.
 */
const quiet = { logger: createLogger('test', 'silent') };
const { stores, empty, drop } = await collectorStores();
afterAll(drop);

describe.each(stores)('withdrawing access (%s)', (_name, storeConfig) => {
  let dir: ReturnType<typeof tempDir>;
  let collector: RunningCollector | undefined;
  let url: string;
  let admin: string;
  let configFile: string;
  afterEach(async () => {
    await collector?.stop();
    collector = undefined;
    dir.remove();
    await empty();
  });

  async function start() {
    dir = tempDir('smew-withdraw-');
    const overrides = await storeConfig();
    const config = testCollectorConfig(dir.path, overrides);
    configFile = join(dir.path, 'collector.yaml');
    writeFileSync(configFile, `store:\n  url: ${JSON.stringify(config.store.url)}\n`);
    collector = await startCollector(config, quiet);
    url = collector.httpUrl;
    admin = await createApiKey(collector.store, { name: 'root-key', role: 'sysadmin' });
    await addUser(collector.store, {
      name: '张三',
      password: 'correct horse 9',
      role: 'secadmin',
      unit: '一处',
    });
  }

  const login = async (name: string, password: string) => {
    const response = await fetch(`${url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, password }),
    });
    if (response.status !== 200) return { status: response.status, cookie: '', csrf: '' };
    const body = (await response.json()) as { csrfToken: string };
    return { status: 200, cookie: response.headers.get('set-cookie')!.split(';')[0]!, csrf: body.csrfToken };
  };
  const asAdmin = (method: string, path: string, body?: unknown) =>
    fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${admin}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  /** Opens the live stream; `ended` settles when the server closes it (never when the test does). */
  async function openStream(headers: Record<string, string>) {
    const response = await fetch(`${url}/api/v1/stream`, { headers });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    let text = '';
    const ended = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return text;
        text += new TextDecoder().decode(value);
      }
    })();
    return { ended, stop: () => reader.cancel().catch(() => {}) };
  }
  const within = <T>(promise: Promise<T>, ms: number, what: string) =>
    Promise.race([
      promise,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms),
      ),
    ]);

  const smew = (args: string[], stdin = '') =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [SMEW_BIN, ...args, '--config', configFile], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(stdin);
    });

  it('disabling a user ends their sessions and open stream at once; enabling lets them in again', async () => {
    await start();
    const session = await login('张三', 'correct horse 9');
    expect(session.status).toBe(200);
    const stream = await openStream({ cookie: session.cookie });

    const disabled = await asAdmin('POST', `/api/v1/users/${encodeURIComponent('张三')}/disable`);
    expect(disabled.status).toBe(200);
    expect(await disabled.json()).toMatchObject({ name: '张三', disabledAt: expect.any(String) });
    await within(stream.ended, 3000, 'the disabled user’s stream to end');
    expect((await fetch(`${url}/api/v1/agents`, { headers: { cookie: session.cookie } })).status).toBe(401);
    expect((await login('张三', 'correct horse 9')).status).toBe(401);

    const listed = (await (await asAdmin('GET', '/api/v1/users')).json()) as {
      items: { name: string; disabledAt: string | null }[];
    };
    expect(listed.items.find((u) => u.name === '张三')?.disabledAt).toEqual(expect.any(String));

    expect((await asAdmin('POST', `/api/v1/users/${encodeURIComponent('张三')}/enable`)).status).toBe(200);
    expect((await login('张三', 'correct horse 9')).status).toBe(200);
    const audit = await collector!.store.audit.list({ actor: 'root-key', limit: 20 });
    expect(audit.map((e) => e.action)).toEqual(
      expect.arrayContaining([
        `POST /api/v1/users/${encodeURIComponent('张三')}/disable`,
        `POST /api/v1/users/${encodeURIComponent('张三')}/enable`,
      ]),
    );
  });

  it('logging out ends the open stream of that session', async () => {
    await start();
    const session = await login('张三', 'correct horse 9');
    const stream = await openStream({ cookie: session.cookie });
    const out = await fetch(`${url}/api/v1/session`, {
      method: 'DELETE',
      headers: { cookie: session.cookie, 'x-csrf-token': session.csrf },
    });
    expect(out.status).toBe(200);
    await within(stream.ended, 3000, 'the logged-out stream to end');
  });

  it('revoking an API key refuses it at once and ends its stream', async () => {
    await start();
    const key = await createApiKey(collector!.store, { name: 'dash-wall', role: 'viewer' });
    const stream = await openStream({ authorization: `Bearer ${key}` });
    const revoked = await asAdmin('POST', '/api/v1/apikeys/dash-wall/revoke');
    expect(revoked.status).toBe(200);
    expect(await revoked.json()).toEqual({ name: 'dash-wall', revoked: 1 });
    await within(stream.ended, 3000, 'the revoked key’s stream to end');
    expect(
      (await fetch(`${url}/api/v1/agents`, { headers: { authorization: `Bearer ${key}` } })).status,
    ).toBe(401);
    const keys = (await (await asAdmin('GET', '/api/v1/apikeys')).json()) as {
      items: { name: string; revokedAt: string | null; role: string }[];
    };
    expect(keys.items.find((k) => k.name === 'dash-wall')).toMatchObject({
      role: 'viewer',
      revokedAt: expect.any(String),
    });
    expect(JSON.stringify(keys)).not.toContain(key);
    expect((await asAdmin('POST', '/api/v1/apikeys/no-such-key/revoke')).status).toBe(404);
  });

  it('a new password ends the old sessions; only admins of the user’s units may change access', async () => {
    await start();
    const session = await login('张三', 'correct horse 9');
    const changed = await asAdmin('POST', `/api/v1/users/${encodeURIComponent('张三')}/password`, {
      password: 'battery staple 10',
    });
    expect(changed.status).toBe(200);
    expect((await fetch(`${url}/api/v1/agents`, { headers: { cookie: session.cookie } })).status).toBe(401);
    expect((await login('张三', 'correct horse 9')).status).toBe(401);
    expect((await login('张三', 'battery staple 10')).status).toBe(200);
    const short = await asAdmin('POST', `/api/v1/users/${encodeURIComponent('张三')}/password`, {
      password: 'short',
    });
    expect(short.status).toBe(400);
    const audit = await collector!.store.audit.list({ actor: 'root-key', limit: 20 });
    expect(JSON.stringify(audit)).not.toContain('battery staple');

    // An officer may not; an admin of another unit neither sees nor touches 张三.
    const officer = await createApiKey(collector!.store, { name: 'o', role: 'secadmin' });
    const otherAdmin = await createApiKey(collector!.store, { name: 'a2', role: 'sysadmin', unit: '二处' });
    for (const key of [officer, otherAdmin]) {
      const response = await fetch(`${url}/api/v1/users/${encodeURIComponent('张三')}/disable`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}` },
      });
      expect(response.status).toBeGreaterThanOrEqual(403);
    }
    const seen = (await (
      await fetch(`${url}/api/v1/users`, { headers: { authorization: `Bearer ${otherAdmin}` } })
    ).json()) as { items: { name: string }[] };
    expect(seen.items.map((u) => u.name)).not.toContain('张三');
    expect((await login('张三', 'battery staple 10')).status).toBe(200);
  });

  it('smew user disable and apikey revoke on the running collector’s store end its streams; list shows it', async () => {
    await start();
    const session = await login('张三', 'correct horse 9');
    const userStream = await openStream({ cookie: session.cookie });
    const key = await createApiKey(collector!.store, { name: 'wall', role: 'viewer' });
    const keyStream = await openStream({ authorization: `Bearer ${key}` });

    const disabled = await smew(['user', 'disable', '张三']);
    expect(disabled, disabled.stderr).toMatchObject({ code: 0 });
    await within(userStream.ended, 15_000, 'the stream of a user disabled by the CLI to end');
    expect((await fetch(`${url}/api/v1/agents`, { headers: { cookie: session.cookie } })).status).toBe(401);

    const revoked = await smew(['apikey', 'revoke', 'wall']);
    expect(revoked, revoked.stderr).toMatchObject({ code: 0 });
    await within(keyStream.ended, 15_000, 'the stream of a key revoked by the CLI to end');

    const users = await smew(['user', 'list']);
    expect(users.stdout).toMatch(/张三\s+secadmin\s+一处\s+disabled/);
    const keys = await smew(['apikey', 'list']);
    expect(keys.stdout).toMatch(/wall\s+viewer\s+\S+\s+revoked/);
    expect((await smew(['user', 'enable', '张三'])).code).toBe(0);
    expect((await smew(['user', 'passwd', '张三', '--password-stdin'], 'a new long one\n')).code).toBe(0);
    expect((await login('张三', 'a new long one')).status).toBe(200);
    expect((await smew(['user', 'disable', 'nobody'])).stderr).toContain('no user named "nobody"');

    const audit = await collector!.store.audit.list({ limit: 50 });
    expect(audit.filter((e) => e.actorKind === 'cli').map((e) => e.action)).toEqual(
      expect.arrayContaining(['user.disable', 'apikey.revoke', 'user.enable', 'user.passwd']),
    );
  }, 60_000);
});
