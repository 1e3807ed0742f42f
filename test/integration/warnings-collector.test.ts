import { afterEach, describe, expect, it } from 'vitest';
import { ed25519Suite } from '../../shared/crypto/ed25519.js';
import { verifyMessage } from '../../shared/envelope.js';
import { eventually } from '../support/eventually.js';
import { UNIT, WarningsSite, type ApiWarning } from '../support/warnings-site.js';

/**
 * 第64条 end to end in one process: signed events from enrolled agents over the embedded broker,
 * stored in SQLite, turned into warnings by the shipped config/rules.yaml, handled over HTTP and
 * announced to a loopback webhook.
 */
const WIRELESS_CLEARED = { state: 'cleared' };

let site: WarningsSite | undefined;
afterEach(async () => {
  await site?.stop();
  site = undefined;
});

async function onlyWarning(s: WarningsSite, rule: string): Promise<ApiWarning> {
  const matching = (await s.warnings()).filter((w) => w.rule === rule);
  expect(matching).toHaveLength(1);
  return matching[0]!;
}

describe('warnings through a real collector', () => {
  it('an event becomes a warning with its signed evidence; repeats fold; cleared resolves it; one webhook', async () => {
    site = await WarningsSite.start();
    const host = await site.addAgent();
    await host.publish();
    await site.settled();
    const first = await onlyWarning(site, 'wireless-present');
    expect(first).toMatchObject({
      state: 'discovered',
      count: 1,
      unit: UNIT,
      agent: host.agent.id,
      resolvedAt: null,
    });
    // A 秘密-less host: the agent's own severity (high) decides, never less than the rule's base.
    expect(first.severity).toBe('high');

    await host.publish();
    await host.publish();
    await site.settled();
    expect(await onlyWarning(site, 'wireless-present')).toMatchObject({ id: first.id, count: 3 });

    await host.publish(WIRELESS_CLEARED);
    await site.settled();
    const resolved = await onlyWarning(site, 'wireless-present');
    expect(resolved).toMatchObject({ id: first.id, count: 3, state: 'discovered' });
    expect(resolved.resolvedAt).not.toBeNull();

    const { status, body } = await site.api<{
      evidence: { seq: number; state: string; envelope: Record<string, unknown> }[];
      history: unknown[];
    }>(`/api/v1/warnings/${first.id}`);
    expect(status).toBe(200);
    expect(body.evidence.map((e) => [e.seq, e.state])).toEqual([
      [1, 'raised'],
      [2, 'raised'],
      [3, 'raised'],
      [4, 'cleared'],
    ]);
    // The evidence is the envelope as the agent signed it: verifiable again with its key.
    for (const e of body.evidence) {
      expect(verifyMessage(e.envelope, ed25519Suite.verifier(host.agent.keys.publicKey))).toBe(true);
    }

    const hooks = await eventually(() => site!.receiver.received.length >= 1 && site!.receiver.received, {
      what: 'the webhook notification',
    });
    const payload = hooks[0]!.json as { kind: string; warning: { id: string; title: string } };
    expect(payload).toMatchObject({ kind: 'smew.warning', warning: { id: first.id } });
    expect(payload.warning.title).toBe('涉密计算机存在未经批准的无线网卡');
    expect(hooks[0]!.headers['idempotency-key']).toBe(`smew-${first.id}-hook`);
    await eventually(
      async () =>
        (await site!.collector.store.warnings.listNotifications({ warningId: first.id, limit: 5 }))[0]
          ?.state === 'sent',
      { what: 'the outbox row marked sent' },
    );
    // Repeats and the clear do not notify again.
    expect(site.receiver.received).toHaveLength(1);
  });

  it('a threshold rule waits for its count; three hosts of one unit make one unit-level warning', async () => {
    site = await WarningsSite.start();
    const a = await site.addAgent();
    const b = await site.addAgent();
    const elsewhere = await site.addAgent('其他单位');
    const c = await site.addAgent();
    const started = { type: 'agent.started', key: 'agent.started', data: { version: '1', policyHash: 'x' } };
    await a.publish(started);
    await a.publish(started);
    await site.settled();
    expect((await site.warnings()).filter((w) => w.rule === 'agent-restarting')).toEqual([]);
    await a.publish(started);
    await site.settled();
    expect(await onlyWarning(site, 'agent-restarting')).toMatchObject({ origin: 'threshold', count: 3 });

    await a.publish();
    await b.publish();
    await elsewhere.publish();
    await site.settled();
    expect((await site.warnings()).filter((w) => w.rule === 'wireless-many-hosts')).toEqual([]);
    await c.publish();
    await site.settled();
    const unitWide = await onlyWarning(site, 'wireless-many-hosts');
    expect(unitWide).toMatchObject({ origin: 'correlation', unit: UNIT, agent: null });
    expect([...unitWide.agents].sort()).toEqual([a.agent.id, b.agent.id, c.agent.id].sort());
    // The other unit's host has a per-host warning of its own, seen only by that unit.
    const { body } = await site.api<{ items: ApiWarning[] }>('/api/v1/warnings', { key: 'otherUnit' });
    expect(body.items.map((w) => [w.rule, w.agent])).toEqual([['wireless-present', elsewhere.agent.id]]);
  });

  it('handles a warning 发现 → 识别 → 处置 → 关闭 with an audit trail, refusing wrong roles and steps', async () => {
    site = await WarningsSite.start();
    const host = await site.addAgent();
    await host.publish();
    await site.settled();
    const { id } = await onlyWarning(site, 'wireless-present');
    const step = (to: string, key: 'officer' | 'viewer' | 'otherUnit' = 'officer', note = `to ${to}`) =>
      site!.api<{ error: string; errorZh?: string; reason?: string; state?: string }>(
        `/api/v1/warnings/${id}/transitions`,
        { key, body: { to, note } },
      );

    expect(await step('identified', 'viewer')).toMatchObject({ status: 403, body: { reason: 'permission' } });
    // Another unit does not even see it.
    expect((await step('identified', 'otherUnit')).status).toBe(404);
    expect(await step('closed')).toMatchObject({ status: 409, body: { reason: 'illegal-transition' } });
    expect((await step('identified')).status).toBe(200);
    expect((await step('handling')).status).toBe(200);
    expect((await step('closed', 'officer', '已拆除无线网卡')).body.state).toBe('closed');
    expect(await step('false-positive')).toMatchObject({ status: 409, body: { reason: 'terminal' } });
    const bad = await site.api<{ error: string }>(`/api/v1/warnings/${id}/transitions`, {
      body: { to: 'sideways' },
    });
    expect(bad.status).toBe(400);

    const { body } = await site.api<{
      history: { from: string; to: string; by: { name: string }; note: string }[];
    }>(`/api/v1/warnings/${id}`);
    expect(body.history.map((h) => [h.from, h.to, h.by.name, h.note])).toEqual([
      ['discovered', 'identified', 'alice', 'to identified'],
      ['identified', 'handling', 'alice', 'to handling'],
      ['handling', 'closed', 'alice', '已拆除无线网卡'],
    ]);

    // A false positive needs a reason; the next occurrence after closing opens a new warning.
    await host.publish();
    await site.settled();
    const fresh = (await site.warnings('?state=discovered')).filter((w) => w.rule === 'wireless-present');
    expect(fresh).toHaveLength(1);
    expect(fresh[0]!.id).not.toBe(id);
    const noReason = await site.api<{ reason: string }>(`/api/v1/warnings/${fresh[0]!.id}/transitions`, {
      body: { to: 'false-positive' },
    });
    expect(noReason).toMatchObject({ status: 400, body: { reason: 'note-required' } });
  });

  it('loses no rule state across a restart between events', async () => {
    site = await WarningsSite.start();
    const host = await site.addAgent();
    const started = { type: 'agent.started', key: 'agent.started', data: { version: '1', policyHash: 'x' } };
    await host.publish(started);
    await host.publish(started);
    await host.publish();
    await site.settled();
    await site.restart();
    await host.publish(started);
    await host.publish();
    await host.publish(WIRELESS_CLEARED);
    await site.settled();
    // The window kept its two starts: the third after the restart crosses the threshold.
    expect(await onlyWarning(site, 'agent-restarting')).toMatchObject({ count: 3 });
    // The open warning kept folding, and the clear after the restart found its condition.
    const wireless = await onlyWarning(site, 'wireless-present');
    expect(wireless.count).toBe(2);
    expect(wireless.resolvedAt).not.toBeNull();
  });

  it('a silence mutes the notification, never the warning', async () => {
    site = await WarningsSite.start();
    const endsAt = new Date(Date.now() + 3_600_000).toISOString();
    const viewerTry = await site.api('/api/v1/silences', {
      key: 'viewer',
      body: { matcher: { rule: 'wireless-present' }, endsAt, reason: '检修' },
    });
    expect(viewerTry.status).toBe(403);
    const created = await site.api<{ id: string; matcher: { unit: string }; active: boolean }>(
      '/api/v1/silences',
      {
        body: { matcher: { rule: 'wireless-present' }, endsAt, reason: '机房检修，无线网卡待拆除' },
      },
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ active: true, matcher: { unit: UNIT } });

    const host = await site.addAgent();
    await host.publish({ type: 'usb.storage.attached', key: 'usb:1', data: usbData() });
    await host.publish();
    await site.settled();
    const wireless = await onlyWarning(site, 'wireless-present');
    const usb = await onlyWarning(site, 'usb-unregistered');
    // The USB warning is not silenced: it is the one notification that arrives.
    await eventually(() => site!.receiver.received.length === 1, { what: 'the USB notification' });
    await eventually(
      async () => {
        const [row] = await site!.collector.store.warnings.listNotifications({
          warningId: wireless.id,
          limit: 1,
        });
        return row?.state === 'muted' && row;
      },
      { what: 'the wireless notification muted' },
    );
    expect((site.receiver.received[0]!.json as { warning: { id: string } }).warning.id).toBe(usb.id);
    const detail = await site.api<{ notifications: { state: string; mutedBy: string }[] }>(
      `/api/v1/warnings/${wireless.id}`,
    );
    expect(detail.body.notifications).toMatchObject([{ state: 'muted', mutedBy: created.body.id }]);

    // Ending the silence is recorded; it stays listed, no longer active.
    const ended = await site.api<{ active: boolean; expiredBy: { name: string } }>(
      `/api/v1/silences/${created.body.id}`,
      { method: 'DELETE', key: 'officer2' },
    );
    expect(ended).toMatchObject({ status: 200, body: { active: false, expiredBy: { name: 'bob' } } });
  });

  it('retries a webhook that fails, and delivers after a restart in the middle of delivery exactly once', async () => {
    site = await WarningsSite.start();
    site.receiver.status = 503;
    const host = await site.addAgent();
    await host.publish();
    await site.settled();
    const { id } = await onlyWarning(site, 'wireless-present');
    await eventually(() => site!.receiver.received.length >= 2, { what: 'a retried delivery' });
    // Held mid-delivery while the collector stops: the row stays pending and survives.
    site.receiver.status = 200;
    site.receiver.hold = true;
    const seen = site.receiver.received.length;
    await eventually(() => site!.receiver.received.length > seen, { what: 'a delivery in flight' });
    await site.restart();
    site.receiver.hold = false;
    site.receiver.release();
    await eventually(
      async () =>
        (await site!.collector.store.warnings.listNotifications({ warningId: id, limit: 5 }))[0]?.state ===
        'sent',
      { what: 'the notification sent after the restart' },
    );
    const keys = new Set(site.receiver.received.map((r) => r.headers['idempotency-key']));
    // Every attempt carried the same key: a receiver keeps exactly one notification.
    expect([...keys]).toEqual([`smew-${id}-hook`]);
    const [row] = await site.collector.store.warnings.listNotifications({ warningId: id, limit: 5 });
    expect(row!.attempts).toBeGreaterThanOrEqual(2);
  });
});

function usbData() {
  return { vendor: '0781', product: '5567', serial: 'S1', registered: false };
}
