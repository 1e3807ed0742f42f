import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import si from 'systeminformation';
import { afterEach, describe, expect, it } from 'vitest';
import { inventoryEvents } from '../../agent/detectors/hardware-changed.js';
import { lastInventory, recordInventory } from '../../agent/inventory.js';
import { Outbox } from '../../agent/outbox.js';
import { parseVpdSerial, readHostInventory, type InventoryPaths } from '../../agent/probes/inventory.js';
import {
  parseUtmp,
  readLogindSessions,
  readSessionUsers,
  readUtmp,
} from '../../agent/probes/session-users.js';
import { ManualClock } from '../../shared/clock.js';
import { ed25519Suite } from '../../shared/crypto/ed25519.js';
import { eventEnvelopeSchema, verifyMessage } from '../../shared/envelope.js';
import { EVENT_DATA_SCHEMAS } from '../../shared/events.js';
import { agentIdFromPublicKey, collectorIdFromPublicKey } from '../../shared/identity.js';
import { hostInventorySchema, type HostInventory, type SessionUser } from '../../shared/inventory.js';
import { copyFixtureHost, FIXTURE_HOSTS, type FixtureHost } from '../support/fixture-host.js';

const HOST = 'inventory-desktop';
const fixture = join(FIXTURE_HOSTS, HOST);
const fixturePaths: InventoryPaths = {
  sysfs: join(fixture, 'sys'),
  procfs: join(fixture, 'proc'),
  etc: join(fixture, 'etc'),
};

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const step of cleanup.splice(0).reverse()) step();
});

function writableHost(): FixtureHost {
  const host = copyFixtureHost(`hosts/${HOST}`);
  cleanup.push(() => rmSync(host.root, { recursive: true, force: true }));
  return host;
}
const pathsOf = (host: FixtureHost): InventoryPaths => ({
  sysfs: host.sysfs,
  procfs: host.procfs,
  etc: join(host.root, 'etc'),
});
/** A SATA serial as the kernel exports it: SCSI inquiry page 0x80. */
const vpdPage = (serial: string) =>
  Buffer.concat([Buffer.from([0, 0x80, 0, serial.length]), Buffer.from(serial)]);
const SDA_DEVICE = 'sys/devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0';

describe('the inventory probe over the fixture host', () => {
  it('reads every part from the fixture trees', async () => {
    const inventory = await readHostInventory(fixturePaths);
    expect(hostInventorySchema.parse(inventory)).toEqual(inventory);
    expect(inventory).toMatchObject({
      hostname: 'ws-0412',
      os: { distro: 'Kylin V10 SP1', release: 'v10', kernel: '5.4.18-110-generic', arch: 'x86_64' },
      cpu: { model: '11th Gen Intel(R) Core(TM) i5-11500 @ 2.70GHz', cores: 4 },
      memoryBytes: 16249632 * 1024,
      board: { vendor: 'LENOVO', model: '3130', serial: 'L1HF0A1B2C3' },
      bios: { vendor: 'LENOVO', version: 'M2WKT4BA', date: '06/20/2025' },
      systemUuid: '4c4c4544-0042-3610-8058-b2c04f4d3232',
    });
    // Physical NICs only (not lo, not the docker0 bridge); the IPv4 address placed by its connected route.
    expect(inventory.interfaces).toEqual([
      { iface: 'eno1', mac: '70:85:c2:4d:3e:10', ip4: ['10.20.0.15'], ip6: ['fe80::7285:c2ff:fe4d:3e10'] },
    ]);
    // Fixed disks only: the USB stick (sdb) and loop0 are not part of the terminal.
    expect(inventory.disks.map((d) => d.device)).toEqual(['nvme0n1', 'sda']);
    expect(inventory.disks[1]).toEqual({
      device: 'sda',
      model: 'ST1000DM010-2EP1',
      serial: 'ZN1A2B3C',
      sizeBytes: 1953525168 * 512,
    });
  });

  it('bounds a hostile disk model and carries it as text', async () => {
    const nvme = (await readHostInventory(fixturePaths)).disks[0]!;
    expect(nvme.serial).toBe('S4EWNX0R123456');
    expect(nvme.model).toHaveLength(256);
    expect(nvme.model!.startsWith('<script>alert(1)</script> $(reboot) `halt` "quoted" \'single\' XXX')).toBe(
      true,
    );
  });

  it('fails rather than report every disk gone when /sys/block cannot be read; none when absent', async () => {
    const host = writableHost();
    rmSync(join(host.sysfs, 'block'), { recursive: true });
    expect((await readHostInventory(pathsOf(host))).disks).toEqual([]);
    writeFileSync(join(host.sysfs, 'block'), 'not a directory');
    await expect(readHostInventory(pathsOf(host))).rejects.toThrow(/ENOTDIR/);
  });

  it('reads a VPD serial page and refuses other pages', () => {
    expect(parseVpdSerial(vpdPage('  WD-WCC4E1234567 '))).toBe('WD-WCC4E1234567');
    expect(parseVpdSerial(Buffer.from([0, 0x83, 0, 2, 65, 66]))).toBeUndefined();
    expect(parseVpdSerial(Buffer.from([0, 0x80]))).toBeUndefined();
  });
});

describe('the inventory of this machine', () => {
  it('has its hostname, an interface and its memory, as systeminformation reads them too', async () => {
    const inventory = await readHostInventory({ sysfs: '/sys', procfs: '/proc', etc: '/etc' });
    expect(inventory.hostname).toBe(hostname());
    expect(inventory.interfaces.length).toBeGreaterThan(0);
    expect(inventory.memoryBytes).toBeGreaterThan(0);
    // systeminformation, run in the test only (it reads through shell commands), as an oracle.
    expect(inventory.memoryBytes).toBe((await si.mem()).total);
    expect(inventory.os.kernel).toBe((await si.osInfo()).kernel);
    const macs = Object.values(networkInterfaces())
      .flat()
      .map((a) => a?.mac);
    for (const nic of inventory.interfaces.filter((n) => n.mac)) expect(macs).toContain(nic.mac);
  });
});

describe('a hardware change', () => {
  it('swapping the disk serial raises host.hardware.changed, and nothing before it is a change', async () => {
    const host = writableHost();
    const before = await readHostInventory(pathsOf(host));
    expect(inventoryEvents(undefined, before, { atStart: true }).map((d) => d.type)).toEqual([
      'host.inventory',
    ]);
    expect(inventoryEvents(before, before, { atStart: false })).toEqual([]);
    expect(inventoryEvents(before, before, { atStart: true }).map((d) => d.type)).toEqual(['host.inventory']);

    writeFileSync(join(host.root, SDA_DEVICE, 'vpd_pg80'), vpdPage('ZN9Z8Y7X'));
    const after = await readHostInventory(pathsOf(host));
    const drafts = inventoryEvents(before, after, { atStart: false });
    expect(drafts.map((d) => [d.type, d.key, d.severity])).toEqual([
      ['host.inventory', 'host.inventory', 'info'],
      ['host.hardware.changed', 'host.hardware.changed:disk', 'medium'],
    ]);
    expect(drafts[1]!.data).toEqual({
      changes: [
        {
          part: 'disk',
          before: 'sda ST1000DM010-2EP1 serial ZN1A2B3C',
          after: 'sda ST1000DM010-2EP1 serial ZN9Z8Y7X',
        },
      ],
    });
    for (const draft of drafts)
      expect(EVENT_DATA_SCHEMAS[draft.type as 'host.inventory'].safeParse(draft.data).success).toBe(true);
  });

  it('tells a board, a NIC and a removed disk apart, and ignores addresses and memory', async () => {
    const before = await readHostInventory(fixturePaths);
    const after: HostInventory = {
      ...before,
      memoryBytes: 1,
      board: { ...before.board, serial: 'OTHER' },
      interfaces: [{ ...before.interfaces[0]!, mac: '70:85:c2:00:00:01', ip4: ['10.20.0.99'] }],
      disks: before.disks.filter((d) => d.device !== 'sda'),
    };
    const changed = inventoryEvents(before, after, { atStart: false })[1]!;
    expect(changed.key).toBe('host.hardware.changed:board,disk,nic');
    expect(changed.data.changes).toEqual([
      { part: 'disk', before: 'sda ST1000DM010-2EP1 serial ZN1A2B3C' },
      { part: 'board', before: 'LENOVO 3130 serial L1HF0A1B2C3', after: 'LENOVO 3130 serial OTHER' },
      { part: 'nic', before: 'eno1 70:85:c2:4d:3e:10', after: 'eno1 70:85:c2:00:00:01' },
    ]);
    const addressesOnly = { ...before, memoryBytes: 1, interfaces: [{ ...before.interfaces[0]!, ip4: [] }] };
    expect(inventoryEvents(before, addressesOnly, { atStart: false }).map((d) => d.type)).toEqual([
      'host.inventory',
    ]);
  });
});

const agentKeys = ed25519Suite.generateKeyPair();
const agentId = agentIdFromPublicKey(agentKeys.publicKey);
const collectorKeys = ed25519Suite.generateKeyPair();

function openOutbox(dir: string, users?: () => SessionUser[] | undefined): Outbox {
  const outbox = Outbox.open({
    dir,
    agentId,
    alg: 'ed25519',
    sign: ed25519Suite.signer(agentKeys.privateKey),
    collector: {
      id: collectorIdFromPublicKey(collectorKeys.publicKey),
      alg: 'ed25519',
      publicKey: collectorKeys.publicKey,
    },
    clock: new ManualClock('2026-12-01T10:00:00Z'),
    ...(users ? { users } : {}),
  });
  cleanup.push(() => outbox.close());
  return outbox;
}

const typesOf = (outbox: Outbox) =>
  outbox.pending().map((row) => (JSON.parse(row.payload) as { type: string }).type);

describe('the last inventory, kept in the outbox database', () => {
  it('survives a restart, so a disk swapped while the agent was down is reported at its start', async () => {
    const host = writableHost();
    const dir = mkdtempSync(join(tmpdir(), 'smew-inventory-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const first = openOutbox(dir);
    recordInventory(first, await readHostInventory(pathsOf(host)), { atStart: true });
    expect(typesOf(first)).toEqual(['host.inventory']);
    first.close();

    writeFileSync(join(host.root, SDA_DEVICE, 'vpd_pg80'), vpdPage('ZN9Z8Y7X'));
    const second = openOutbox(dir);
    const now = await readHostInventory(pathsOf(host));
    recordInventory(second, now, { atStart: true });
    expect(typesOf(second)).toEqual(['host.inventory', 'host.inventory', 'host.hardware.changed']);
    expect(lastInventory(second)).toEqual(now);
    // The next round with nothing changed sends nothing.
    expect(recordInventory(second, now, { atStart: false })).toEqual([]);
  });
});

describe('who is at the terminal', () => {
  it('reads logind sessions of class user, not the greeter', () => {
    expect(readSessionUsers(join(fixture, 'run'))).toEqual([
      { account: 'zhangsan', line: ':0', since: '2025-12-01T08:00:00.000Z' },
      {
        account: 'lisi',
        line: 'pts/0',
        remote: '$(reboot)<script>alert(1)</script>',
        since: '2025-12-01T09:30:05.000Z',
      },
    ]);
  });

  it('reads utmp records as `who` does (a file written by utmpdump -r)', () => {
    const file = join(fixture, 'run', 'utmp');
    const users = readUtmp(file)!;
    expect(users).toEqual([
      { account: 'zhangsan', line: 'tty2', since: '2026-12-01T08:00:00.000Z' },
      { account: 'lisi', line: 'pts/0', remote: '$(reboot)<script>', since: '2026-12-01T09:30:05.000Z' },
    ]);
    let who: string;
    try {
      who = execFileSync('who', [file], { encoding: 'utf8' });
    } catch {
      return; // no `who` here: the fixed expectation above still holds
    }
    expect(
      who
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/).slice(0, 2)),
    ).toEqual(users.map((u) => [u.account, u.line]));
  });

  it('falls back to utmp without logind, and is unknown with neither', () => {
    const run = mkdtempSync(join(tmpdir(), 'smew-run-'));
    cleanup.push(() => rmSync(run, { recursive: true, force: true }));
    expect(readSessionUsers(run)).toBeUndefined();
    writeFileSync(join(run, 'utmp'), readFileSync(join(fixture, 'run', 'utmp')));
    expect(readSessionUsers(run)?.map((u) => u.account)).toEqual(['zhangsan', 'lisi']);
    expect(readLogindSessions(join(run, 'systemd', 'sessions'))).toBeUndefined();
    // Records cut short or of another type are skipped, never misread.
    expect(parseUtmp(Buffer.alloc(100))).toEqual([]);
  });

  it('puts them in every envelope, under the signature', () => {
    const dir = mkdtempSync(join(tmpdir(), 'smew-users-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const outbox = openOutbox(dir, () => readSessionUsers(join(fixture, 'run')));
    const [envelope] = outbox.append([
      { type: 'agent.started', state: 'raised', key: 'agent.started', severity: 'info', data: {} },
    ]);
    const verify = ed25519Suite.verifier(agentKeys.publicKey);
    expect(eventEnvelopeSchema.parse(envelope).users?.map((u) => u.account)).toEqual(['zhangsan', 'lisi']);
    expect(verifyMessage(envelope!, verify)).toBe(true);
    const forged = { ...envelope!, users: [{ account: 'someone-else' }] };
    expect(verifyMessage(forged, verify)).toBe(false);
  });
});
