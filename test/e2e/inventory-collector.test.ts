import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { suiteFor } from '../../shared/crypto/suites.js';
import { verifyMessage, type EventEnvelope } from '../../shared/envelope.js';
import { eventually } from '../support/eventually.js';
import { copyFixtureHost } from '../support/fixture-host.js';
import type { Running } from '../support/processes.js';
import { createSite, enrollAgent, type Site } from '../support/smew-site.js';

interface StoredEvent {
  seq: number;
  type: string;
  envelope: EventEnvelope;
}

const running: Running[] = [];
afterAll(async () => {
  await Promise.all(running.map((r) => r.stop('SIGKILL')));
});

async function eventsOf(site: Site, agent: string): Promise<StoredEvent[]> {
  const { items } = await site.api<{ items: StoredEvent[] }>(`/api/v1/events?agent=${agent}&limit=10000`);
  return [...items].sort((a, b) => a.seq - b.seq);
}

/** A SATA serial as the kernel exports it: SCSI inquiry page 0x80. */
const vpdPage = (serial: string) =>
  Buffer.concat([Buffer.from([0, 0x80, 0, serial.length]), Buffer.from(serial)]);

describe('the inventory from a real agent to a collector', () => {
  it('stores host.inventory with who was logged in, verifiably, and warns of a swapped disk', async () => {
    const site = await createSite();
    running.push(await site.startCollector());
    const host = copyFixtureHost('hosts/inventory-desktop');
    const agent = await enrollAgent(site, host, {
      paths: {
        sysfs: host.sysfs,
        procfs: host.procfs,
        devfs: host.devfs,
        etc: join(host.root, 'etc'),
        run: join(host.root, 'run'),
      },
      scan: { interval: '60s' },
      inventory: { interval: '1s' },
    });
    running.push(agent.run());

    const inventory = await eventually(
      async () => (await eventsOf(site, agent.agentId)).find((e) => e.type === 'host.inventory'),
      { what: 'host.inventory stored' },
    );
    expect(inventory.envelope.data).toMatchObject({ hostname: 'ws-0412', systemUuid: expect.any(String) });
    expect(inventory.envelope.users?.map((u) => [u.account, u.line])).toEqual([
      ['zhangsan', ':0'],
      ['lisi', 'pts/0'],
    ]);
    const { items: agents } = await site.api<{ items: { id: string; alg: string; publicKey: string }[] }>(
      '/api/v1/agents',
    );
    const row = agents.find((a) => a.id === agent.agentId)!;
    const verify = suiteFor(row.alg).verifier(row.publicKey);
    expect(verifyMessage(inventory.envelope, verify)).toBe(true);
    expect(verifyMessage({ ...inventory.envelope, users: [] }, verify)).toBe(false);

    writeFileSync(
      join(host.root, 'sys/devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/vpd_pg80'),
      vpdPage('ZN9Z8Y7X'),
    );
    const changed = await eventually(
      async () => (await eventsOf(site, agent.agentId)).find((e) => e.type === 'host.hardware.changed'),
      { what: 'host.hardware.changed stored' },
    );
    expect(changed.envelope.data).toEqual({
      changes: [
        {
          part: 'disk',
          before: 'sda ST1000DM010-2EP1 serial ZN1A2B3C',
          after: 'sda ST1000DM010-2EP1 serial ZN9Z8Y7X',
        },
      ],
    });
    const warning = await eventually(
      async () =>
        (
          await site.api<{ items: { rule: string; agent: string }[] }>('/api/v1/warnings?limit=1000')
        ).items.find((w) => w.rule === 'hardware-changed' && w.agent === agent.agentId),
      { what: 'the hardware-changed warning' },
    );
    expect(warning).toBeDefined();
    // The register keeps the host as it is now: a second host.inventory, with the new serial.
    const inventories = (await eventsOf(site, agent.agentId)).filter((e) => e.type === 'host.inventory');
    expect(JSON.stringify(inventories.at(-1)!.envelope.data)).toContain('ZN9Z8Y7X');
  }, 60_000);
});
