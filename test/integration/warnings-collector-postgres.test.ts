import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { addUser } from '../../collector/auth/users.js';
import { CSRF_HEADER, SESSION_COOKIE } from '../../collector/auth/sessions.js';
import { eventually } from '../support/eventually.js';
import { postgresAvailable } from '../support/postgres.js';
import { sharedTestSchema } from '../support/postgres-shared-schema.js';
import { UNIT, WarningsSite } from '../support/warnings-site.js';

/**
 * A whole collector on PostgreSQL (store.url postgres://…): signed events over the embedded
 * broker become a 第64条 warning, the webhook hears of it once, and a dashboard user logs in,
 * sees it and moves it on, with every step in the audit log.
 */
describe.runIf(await postgresAvailable())('warnings and dashboard through a collector on PostgreSQL', () => {
  const schema = sharedTestSchema();
  let site: WarningsSite | undefined;
  afterEach(async () => {
    await site?.stop();
    site = undefined;
  });
  afterAll(() => schema.drop());

  it('an event becomes a warning, notified once; a dashboard login handles it', async () => {
    site = await WarningsSite.start({ store: { url: await schema.url() } });
    const host = await site.addAgent();
    await host.publish();
    await host.publish();
    await site.settled();
    const [warning] = (await site.warnings()).filter((w) => w.rule === 'wireless-present');
    expect(warning).toMatchObject({ state: 'discovered', count: 2, unit: UNIT, agent: host.agent.id });
    await eventually(
      async () =>
        (await site!.collector.store.warnings.listNotifications({ warningId: warning!.id, limit: 5 }))[0]
          ?.state === 'sent',
      { what: 'the outbox row marked sent' },
    );
    expect(site.receiver.received).toHaveLength(1);

    await addUser(site.collector.store, {
      name: '张三',
      password: 'correct horse 9',
      role: 'secadmin',
      unit: UNIT,
    });
    const login = (password: string) =>
      fetch(`${site!.collector.httpUrl}/api/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: '张三', password }),
      });
    expect((await login('wrong')).status).toBe(401);
    const ok = await login('correct horse 9');
    expect(ok.status).toBe(200);
    const { csrfToken } = (await ok.json()) as { csrfToken: string };
    const cookie = ok.headers.get('set-cookie')!.split(';')[0]!;
    expect(cookie.startsWith(`${SESSION_COOKIE}=`)).toBe(true);

    const listed = await fetch(`${site.collector.httpUrl}/api/v1/warnings`, { headers: { cookie } });
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { items: { id: string }[] }).items.map((w) => w.id)).toContain(
      warning!.id,
    );
    const moved = await fetch(`${site.collector.httpUrl}/api/v1/warnings/${warning!.id}/transitions`, {
      method: 'POST',
      headers: { cookie, [CSRF_HEADER]: csrfToken, 'content-type': 'application/json' },
      body: JSON.stringify({ to: 'identified', note: '已确认' }),
    });
    expect(moved.status).toBe(200);
    expect(await site.collector.store.warnings.getWarning(warning!.id)).toMatchObject({
      state: 'identified',
      history: [{ to: 'identified', by: { name: '张三' }, note: '已确认' }],
    });
    // The audit entry is written once the response has gone (an onResponse hook).
    const auditLog = site.collector.store.audit;
    const audit = await eventually(
      async () => {
        const entries = await auditLog.list({ actor: '张三', limit: 10 });
        return entries.length >= 3 ? entries : undefined;
      },
      { what: 'the transition in the audit log' },
    );
    expect(audit.map((e) => [e.action, e.status])).toEqual([
      [`POST /api/v1/warnings/${warning!.id}/transitions`, 200],
      ['login', 200],
      ['login.refused', 401],
    ]);
  });
});
