import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LiveFeed } from '../../collector/api/stream.js';
import { addUser } from '../../collector/auth/users.js';
import type { SqliteStore } from '../../collector/store/sqlite-store.js';
import { systemClock } from '../../shared/clock.js';
import { openApiFixture, type TestApi } from '../support/api-fixture.js';
import { tempDir } from '../support/collector-harness.js';

/** The SSE stream's scoping and lifecycle, and the static dashboard files, over a real socket. */
describe('dashboard stream and static files', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: SqliteStore;
  let api: TestApi;
  let url: string;
  const feed = new LiveFeed();

  beforeEach(async () => {
    dir = tempDir('smew-stream-');
    const dashboard = join(dir.path, 'dashboard');
    mkdirSync(join(dashboard, 'assets'), { recursive: true });
    writeFileSync(
      join(dashboard, 'index.html'),
      '<!doctype html><script type="module" src="/assets/app.js"></script>',
    );
    writeFileSync(join(dashboard, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(join(dir.path, 'secret.txt'), 'not for the web');
    ({ store, api } = await openApiFixture(dir.path, {
      clock: systemClock,
      live: feed,
      dashboardDir: dashboard,
    }));
    await api.listen({ host: '127.0.0.1', port: 0 });
    const address = api.server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    await addUser(store, { name: 'one', password: 'pw-one-1', role: 'secadmin', unit: '一处' });
    await addUser(store, { name: 'two', password: 'pw-two-2', role: 'secadmin', unit: '二处' });
  });
  afterEach(async () => {
    await api.close();
    await store.close();
    dir.remove();
  });

  const cookieFor = async (name: string, password: string) => {
    const response = await fetch(`${url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, password }),
    });
    return response.headers.get('set-cookie')!.split(';')[0]!;
  };

  /** Reads SSE frames from a response until `count` named events have arrived. */
  async function readEvents(response: Response, count: number): Promise<{ event: string; data: unknown }[]> {
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    const events: { event: string; data: unknown }[] = [];
    let buffer = '';
    while (events.length < count) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) });
      }
    }
    await reader.cancel();
    return events;
  }

  it('streams only what the caller’s units may see, with the security headers', async () => {
    const response = await fetch(`${url}/api/v1/stream`, {
      headers: { cookie: await cookieFor('one', 'pw-one-1') },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    const reading = readEvents(response, 3);
    // Wait until the stream has subscribed before publishing, instead of sleeping.
    while (feed.subscribers === 0) await new Promise((r) => setImmediate(r));
    feed.publish({ type: 'event', unit: '二处', agent: 'ag-other', seq: 1 });
    feed.publish({
      type: 'event',
      unit: '一处',
      agent: 'ag-mine',
      seq: 7,
      eventType: 'usb.storage.attached',
    });
    feed.publish({ type: 'agent', unit: '一处', agent: 'ag-mine', online: false });
    const events = await reading;
    expect(events[0]!.event).toBe('hello');
    expect(events.slice(1)).toEqual([
      {
        event: 'event',
        data: { type: 'event', unit: '一处', agent: 'ag-mine', seq: 7, eventType: 'usb.storage.attached' },
      },
      { event: 'agent', data: { type: 'agent', unit: '一处', agent: 'ag-mine', online: false } },
    ]);
  });

  it('refuses a stream without a login, and lets the collector close with streams open', async () => {
    expect((await fetch(`${url}/api/v1/stream`)).status).toBe(401);
    const open = await fetch(`${url}/api/v1/stream`, {
      headers: { cookie: await cookieFor('two', 'pw-two-2') },
    });
    expect(open.status).toBe(200);
    while (feed.subscribers === 0) await new Promise((r) => setImmediate(r));
    await api.close();
    expect(feed.subscribers).toBe(0);
  });

  it('serves the built page and its assets, and nothing else from disk', async () => {
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const script = await fetch(`${url}/assets/app.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toBe('console.log(1)');
    expect((await fetch(`${url}/assets/nope.js`)).status).toBe(404);
    for (const path of [
      '/assets/..%2F..%2Fsecret.txt',
      '/assets/%2e%2e%2fsecret.txt',
      '/secret.txt',
      '/assets/../secret.txt',
    ]) {
      const response = await fetch(`${url}${path}`);
      expect([400, 404]).toContain(response.status);
      expect(await response.text()).not.toContain('not for the web');
    }
  });
});
