import { afterEach, describe, expect, it } from 'vitest';
import { renderWarning } from '../../collector/warnings/templates.js';
import { eventually } from '../support/eventually.js';
import { WarningsSite } from '../support/warnings-site.js';

/**
 * Everywhere a terminal appears it is named by the register (SPEC §8): events, warnings and the
 * notification carry 编号 · hostname · 责任人 beside the agent id; an event's logged-in accounts
 * are mapped to persons.
 */
let site: WarningsSite | undefined;
afterEach(async () => {
  await site?.stop();
  site = undefined;
});

describe('terminals named by the register', () => {
  it('events, warnings and the webhook name the terminal; accounts map to persons', async () => {
    site = await WarningsSite.start();
    const host = await site.addAgent();
    const person = await site.api<{ id: string }>('/api/v1/persons', {
      body: { name: '李四', clearance: '重要', accounts: ['lisi'] },
    });
    const terminal = await site.api<{ id: string }>('/api/v1/terminals', {
      body: { assetNo: 'JSJ-7', level: '秘密', ownerId: person.body.id, agentId: host.agent.id },
    });
    const name = { id: terminal.body.id, assetNo: 'JSJ-7', hostname: 'test-host', owner: '李四' };

    await host.publish({
      users: [
        { account: 'lisi', line: 'tty1' },
        { account: 'root', line: 'pts/0' },
      ],
    });
    await site.settled();
    const events = await site.api<{ items: Record<string, unknown>[] }>(
      `/api/v1/events?agent=${host.agent.id}&type=net.wireless.present`,
    );
    expect(events.body.items[0]).toMatchObject({
      agent: host.agent.id,
      terminal: name,
      users: [
        { account: 'lisi', line: 'tty1', person: { id: person.body.id, name: '李四' } },
        { account: 'root', line: 'pts/0', person: null },
      ],
    });
    const [warning] = (await site.warnings()).filter((w) => w.rule === 'wireless-present');
    expect(warning).toMatchObject({ agent: host.agent.id, terminal: name });
    const detail = await site.api(`/api/v1/warnings/${warning!.id}`);
    expect(detail.body).toMatchObject({ terminal: name });

    const hook = await eventually(
      () => site!.receiver.received.find((r) => JSON.stringify(r.json).includes('wireless-present')),
      { what: 'the webhook of the wireless warning' },
    );
    expect((hook.json as { warning: Record<string, unknown> }).warning).toMatchObject({
      agent: host.agent.id,
      terminal: name,
      terminalLabel: 'JSJ-7 · test-host · 李四',
    });
  });

  it('a hardware change names the system the terminal belongs to (第35条 使用环境发生变化)', async () => {
    site = await WarningsSite.start();
    const host = await site.addAgent();
    const system = await site.api<{ id: string }>('/api/v1/systems', {
      body: { name: '办公内网', level: '机密', commissionedAt: '2025-03-01' },
    });
    expect(system.status, JSON.stringify(system.body)).toBe(201);
    await site.api('/api/v1/terminals', {
      body: { assetNo: 'JSJ-8', level: '机密', systemId: system.body.id, agentId: host.agent.id },
    });
    await host.publish({
      type: 'host.hardware.changed',
      key: 'host.hardware.changed:disk',
      severity: 'medium',
      data: { changes: [{ part: 'disk', before: 'sda ST1000 serial A1', after: 'sda ST1000 serial B2' }] },
    });
    await site.settled();
    const [warning] = (await site.warnings()).filter((w) => w.rule === 'hardware-changed');
    expect(warning).toMatchObject({
      terminal: { assetNo: 'JSJ-8', system: { id: system.body.id, name: '办公内网' } },
    });
  });

  it('the email names the terminal 编号 · hostname · 责任人 with the agent id beside it', () => {
    const warning = {
      id: 'w-1',
      rule: 'wireless-present',
      title: { zh: '无线网卡', en: 'Wireless' },
      state: 'discovered',
      severity: 'high',
      origin: 'event',
      unit: '一处',
      agent: 'ag-aaaaaaaaaaaaaaaaaaaa',
      agents: [],
      level: null,
      count: 1,
      firstSeen: '2026-12-01T00:00:00.000Z',
      lastSeen: '2026-12-01T00:00:00.000Z',
      createdAt: '2026-12-01T00:00:00.000Z',
      resolvedAt: null,
      key: 'k',
      labels: {},
      sample: { type: 'net.wireless.present', key: 'k', data: {} },
    } as unknown as Parameters<typeof renderWarning>[0];
    const rendered = renderWarning(warning, {
      channel: 'email',
      terminal: { id: 'tm-1', assetNo: 'JSJ-7', hostname: 'ws\n-7', owner: null },
    });
    expect(rendered.channel === 'email' && rendered.text).toContain(
      '终端：JSJ-7 · ws -7 · —（ag-aaaaaaaaaaaaaaaaaaaa）',
    );
  });
});
