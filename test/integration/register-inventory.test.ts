import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { WarningsSite } from '../support/warnings-site.js';

/**
 * host.inventory through a real collector: signed events over the embedded broker keep the
 * terminal's inventory in the register, and never become a warning.
 */
const INVENTORY = {
  hostname: 'test-host',
  os: { distro: 'Kylin', release: 'V10', kernel: '5.10.0', arch: 'x86_64' },
  cpu: { model: 'Phytium FT-2000/4', cores: 4 },
  memoryBytes: 8 * 2 ** 30,
  interfaces: [{ iface: 'eth0', mac: '00:11:22:33:44:55', ip4: ['10.0.0.5'], ip6: [] }],
  disks: [{ device: 'sda', model: 'SSD 512', serial: 'S-1', sizeBytes: 512e9 }],
  board: { vendor: 'Great Wall', model: 'B1', serial: 'BRD-1' },
  bios: { vendor: 'Kunlun', version: '1.0', date: '2024-01-01' },
  systemUuid: 'uuid-1',
};

function inventoryEvent(overrides: Record<string, unknown> = {}) {
  return {
    type: 'host.inventory',
    key: 'host.inventory',
    severity: 'info',
    data: { ...INVENTORY, ...overrides },
  };
}

let site: WarningsSite | undefined;
afterEach(async () => {
  await site?.stop();
  site = undefined;
});

describe('the inventory keeps the register true', () => {
  it('a registered agent’s host.inventory becomes its terminal’s inventory, the newest kept; never a warning', async () => {
    site = await WarningsSite.start();
    const host = await site.addAgent();
    const unregistered = await site.api<{ items: { agentId: string; hostname: string }[] }>(
      '/api/v1/terminals/unregistered',
    );
    expect(unregistered.body.items).toEqual([
      expect.objectContaining({ agentId: host.agent.id, hostname: 'test-host' }),
    ]);
    const created = await site.api<{ id: string }>('/api/v1/terminals', {
      body: { assetNo: 'JSJ-100', level: '秘密', agentId: host.agent.id },
    });
    expect(created.status).toBe(201);

    await host.publish(inventoryEvent());
    await host.publish(inventoryEvent({ memoryBytes: 16 * 2 ** 30 }));
    await site.settled();
    await eventually(
      async () => {
        const { body } = await site!.api<{ inventory: { memoryBytes: number } | null }>(
          `/api/v1/terminals/${created.body.id}`,
        );
        return body.inventory?.memoryBytes === 16 * 2 ** 30;
      },
      { what: 'the newest inventory in the register' },
    );
    const { body } = await site.api<Record<string, unknown>>(`/api/v1/terminals/${created.body.id}`);
    expect(body).toMatchObject({
      hostname: 'test-host',
      inventory: { systemUuid: 'uuid-1', disks: INVENTORY.disks },
    });
    // The only warning is the register's own (no 责任人, no system), never one of the inventory.
    expect((await site.warnings()).map((w) => w.rule)).toEqual(['register-terminal-incomplete']);
    expect((await site.api<{ items: unknown[] }>('/api/v1/terminals/unregistered')).body.items).toEqual([]);
  });

  it('an agent linked after it reported brings its latest inventory with it', async () => {
    site = await WarningsSite.start();
    const host = await site.addAgent();
    await host.publish(inventoryEvent({ systemUuid: 'uuid-early' }));
    await site.settled();
    const hand = await site.api<{ id: string; inventory: unknown }>('/api/v1/terminals', {
      body: { assetNo: 'JSJ-200', level: '机密', hostname: 'test-host' },
    });
    expect(hand.body.inventory).toBeNull();
    const unregistered = await site.api<{ items: { candidateTerminalId: string }[] }>(
      '/api/v1/terminals/unregistered',
    );
    expect(unregistered.body.items[0]?.candidateTerminalId).toBe(hand.body.id);
    const linked = await site.api<{ inventory: { systemUuid: string } }>(
      `/api/v1/terminals/${hand.body.id}`,
      {
        method: 'PATCH',
        body: { agentId: host.agent.id },
      },
    );
    expect(linked.status).toBe(200);
    expect(linked.body.inventory.systemUuid).toBe('uuid-early');
  });
});
