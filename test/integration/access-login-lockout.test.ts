import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { addUser } from '../../collector/auth/users.js';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { createLogger } from '../../shared/log.js';
import { tempDir, testCollectorConfig } from '../support/collector-harness.js';
import { collectorStores } from '../support/postgres-shared-schema.js';

/**
 * The login throttle under concurrent guessing (issue 14 item 3), against a real collector over
 * HTTP on each store: an attempt counts before the password hash runs, so a burst of guesses sent
 * at once gets no more than the allowed five hashes; and behind a reverse proxy named in
 * `http.trustProxy` each user is throttled by their own address, while a client that merely sends
 * X-Forwarded-For to a collector not told to trust it gains nothing.
 */
const quiet = { logger: createLogger('test', 'silent') };
const { stores, empty, drop } = await collectorStores();
afterAll(drop);

describe.each(stores)('login throttle under concurrent guesses (%s)', (_name, storeConfig) => {
  let dir: ReturnType<typeof tempDir>;
  let collector: RunningCollector | undefined;
  afterEach(async () => {
    await collector?.stop();
    collector = undefined;
    dir.remove();
    await empty();
  });

  async function start(overrides: Record<string, unknown> = {}) {
    dir = tempDir('smew-lockout-');
    collector = await startCollector(
      testCollectorConfig(dir.path, { ...(await storeConfig()), ...overrides }),
      quiet,
    );
    // A fresh name per test: the PostgreSQL schema is shared by the tests of this file.
    const name = `u${Math.random().toString(36).slice(2, 10)}`;
    await addUser(collector.store, { name, password: 'correct horse 9', role: 'secadmin' });
    return { url: collector.httpUrl, name };
  }

  const login = (url: string, name: string, password: string, headers: Record<string, string> = {}) =>
    fetch(`${url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ name, password }),
    }).then((r) => r.status);

  it('forty wrong passwords sent at once: at most five reach the hash, the rest get 429', async () => {
    const { url, name } = await start();
    const statuses = await Promise.all(
      Array.from({ length: 40 }, (_, i) => login(url, name, `wrong guess ${i}`)),
    );
    const refused = statuses.filter((s) => s === 401).length;
    const throttled = statuses.filter((s) => s === 429).length;
    expect(refused + throttled).toBe(40);
    expect(refused).toBeLessThanOrEqual(5);
    expect(throttled).toBeGreaterThanOrEqual(35);
  });

  it('a hundred concurrent guesses holding the password: at most five are checked; none after five failures', async () => {
    const { url, name } = await start();
    const guesses = [...Array.from({ length: 99 }, (_, i) => `guess ${i}`), 'correct horse 9'];
    const burst = await Promise.all(guesses.map((g) => login(url, name, g)));
    // 401 (checked, wrong) and 200 (checked, right) both mean the password hash ran.
    expect(burst.filter((s) => s === 401 || s === 200).length).toBeLessThanOrEqual(5);
    expect(burst.filter((s) => s === 429).length).toBeGreaterThanOrEqual(95);

    const { url: url2, name: name2 } = { url, name: `${name}x` };
    await addUser(collector!.store, { name: name2, password: 'correct horse 9', role: 'secadmin' });
    for (let i = 0; i < 5; i++) expect(await login(url2, name2, `first ${i}`)).toBe(401);
    const again = await Promise.all(guesses.map((g) => login(url2, name2, g)));
    expect(again.every((s) => s === 429)).toBe(true);
  });

  it('ignores X-Forwarded-For unless http.trustProxy names the proxy', async () => {
    const { url, name } = await start();
    // A client rotating the header on an untrusting collector is still one address.
    const statuses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        login(url, name, `wrong ${i}`, { 'x-forwarded-for': `198.51.100.${i + 1}` }),
      ),
    );
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(5);
  });

  it('behind a trusted proxy, one user’s lockout does not lock out another user at the same proxy', async () => {
    const { url, name } = await start({ http: { listen: '127.0.0.1:0', trustProxy: ['127.0.0.1'] } });
    const attacker = { 'x-forwarded-for': '198.51.100.7' };
    const user = { 'x-forwarded-for': '203.0.113.20' };
    for (let i = 0; i < 5; i++) expect(await login(url, name, `wrong ${i}`, attacker)).toBe(401);
    expect(await login(url, name, 'correct horse 9', attacker)).toBe(429);
    // The same name from another client address behind the same proxy logs in.
    expect(await login(url, name, 'correct horse 9', user)).toBe(200);
    const audit = await collector!.store.audit.list({ actor: name, limit: 100 });
    expect(audit.find((e) => e.action === 'login')?.ip).toBe('203.0.113.20');
    expect(audit.filter((e) => e.action === 'login.throttled').every((e) => e.ip === '198.51.100.7')).toBe(
      true,
    );
  });
});
