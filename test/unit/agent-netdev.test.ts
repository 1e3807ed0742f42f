import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { collectObservations } from '../../agent/probes/collect.js';
import { netdevProbe, readNetInterfaces, readProcNetWireless } from '../../agent/probes/netdev.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/sys-wireless', import.meta.url));
const fixturePaths = {
  sysfs: join(FIXTURE, 'sys'),
  procfs: join(FIXTURE, 'proc'),
  devfs: join(FIXTURE, 'dev'),
};

const temporary: string[] = [];
afterEach(() => {
  for (const dir of temporary.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function copyFixture(): { sysfs: string; procfs: string; devfs: string } {
  const root = mkdtempSync(join(tmpdir(), 'smew-netdev-'));
  temporary.push(root);
  cpSync(FIXTURE, root, { recursive: true, verbatimSymlinks: true });
  return { sysfs: join(root, 'sys'), procfs: join(root, 'proc'), devfs: join(root, 'dev') };
}

describe('netdev probe over the sys-wireless fixture', () => {
  it('sees the down wireless NIC with its driver, bus, phy and every piece of evidence', async () => {
    const interfaces = await readNetInterfaces(fixturePaths);
    expect(interfaces.map((i) => i.name)).toEqual(['enp3s0', 'lo', 'wlp2s0']);
    const wlan = interfaces.find((i) => i.name === 'wlp2s0')!;
    expect(wlan).toMatchObject({
      mac: '3c:f0:11:2a:7b:01',
      operstate: 'down',
      adminUp: false,
      arpType: 1,
      devtype: 'wlan',
      driver: 'iwlwifi',
      bus: 'pci',
      virtual: false,
      phy: 'phy0',
      wirelessEvidence: ['phy80211', 'devtype=wlan'],
    });
    // A down link has no readable carrier in a real kernel (EINVAL); the fixture has none at all.
    expect(wlan.carrier).toBeUndefined();
  });

  it('carries a hostile ifalias as exact data, newline and markup included', async () => {
    const wlan = (await readNetInterfaces(fixturePaths)).find((i) => i.name === 'wlp2s0')!;
    expect(wlan.alias).toBe(`<script>alert("x")</script> 'quoted'\nsecond line`);
  });

  it('tells wired, loopback and virtual interfaces apart', async () => {
    const byName = new Map((await readNetInterfaces(fixturePaths)).map((i) => [i.name, i]));
    expect(byName.get('enp3s0')).toMatchObject({
      adminUp: true,
      carrier: true,
      driver: 'r8169',
      bus: 'pci',
      virtual: false,
      wirelessEvidence: [],
    });
    expect(byName.get('enp3s0')!.alias).toBeUndefined();
    const lo = byName.get('lo')!;
    expect(lo).toMatchObject({ arpType: 772, virtual: true, adminUp: true, wirelessEvidence: [] });
    // 00:00:00:00:00:00 is no address; a virtual device hangs off no bus.
    expect(lo.mac).toBeUndefined();
    expect(lo.bus).toBeUndefined();
  });

  it('reads the interface names /proc/net/wireless lists, after its two header lines', async () => {
    expect(await readProcNetWireless(fixturePaths.procfs)).toEqual(new Set());
    const host = copyFixture();
    const file = join(host.procfs, 'net/wireless');
    writeFileSync(
      file,
      `${readFileSync(file, 'utf8')} wlp2s0: 0000   70.  -40.  -256        0      0      0      0      0        0\n`,
    );
    expect(await readProcNetWireless(host.procfs)).toEqual(new Set(['wlp2s0']));
    const wlan = (await readNetInterfaces(host)).find((i) => i.name === 'wlp2s0')!;
    expect(wlan.wirelessEvidence).toContain('proc-net-wireless');
    expect(await readProcNetWireless('/nonexistent')).toEqual(new Set());
  });

  it('keeps an interface whose attributes cannot be read', async () => {
    const host = copyFixture();
    const wlanDir = join(host.sysfs, 'devices/pci0000:00/0000:00:1c.0/0000:02:00.0/net/wlp2s0');
    // A directory where a file should be makes every read of it fail (EISDIR), even as root.
    for (const attribute of ['address', 'operstate', 'flags', 'type', 'uevent']) {
      rmSync(join(wlanDir, attribute));
      mkdirSync(join(wlanDir, attribute));
    }
    const wlan = (await readNetInterfaces(host)).find((i) => i.name === 'wlp2s0')!;
    expect(wlan).toMatchObject({ operstate: 'unknown', adminUp: false, arpType: -1, driver: 'iwlwifi' });
    expect(wlan.mac).toBeUndefined();
    expect(wlan.devtype).toBeUndefined();
    // phy80211 alone still marks it wireless.
    expect(wlan.wirelessEvidence).toEqual(['phy80211']);
  });

  it('drops an interface whose link dangles (removed while we read) and keeps the rest', async () => {
    const host = copyFixture();
    rmSync(join(host.sysfs, 'devices/pci0000:00/0000:00:1c.1'), { recursive: true });
    expect((await readNetInterfaces(host)).map((i) => i.name)).toEqual(['lo', 'wlp2s0']);
  });

  it('fails as a whole when class/net is unreadable, so detectors skip rather than clear', async () => {
    await expect(readNetInterfaces({ sysfs: '/nonexistent', procfs: '/nonexistent' })).rejects.toThrow();
    const observations = await collectObservations(
      { sysfs: '/nonexistent', procfs: '/nonexistent', devfs: '/nonexistent' },
      { clock: new ManualClock('2026-03-01T00:00:00Z'), probes: [netdevProbe] },
    );
    expect(observations).toEqual({ at: '2026-03-01T00:00:00.000Z' });
  });
});

describe('netdev probe over the real /sys of this machine', () => {
  it('lists interfaces without throwing, loopback included', async () => {
    const interfaces = await readNetInterfaces({ sysfs: '/sys', procfs: '/proc' });
    const lo = interfaces.find((i) => i.name === 'lo');
    expect(lo).toMatchObject({ arpType: 772, virtual: true });
    for (const iface of interfaces) {
      expect(typeof iface.operstate).toBe('string');
      expect(Array.isArray(iface.wirelessEvidence)).toBe(true);
    }
  });

  it('collects observations through the probe registry', async () => {
    const observations = await collectObservations(
      { sysfs: '/sys', procfs: '/proc', devfs: '/dev' },
      { clock: new ManualClock() },
    );
    expect(observations.interfaces?.some((i) => i.name === 'lo')).toBe(true);
  });
});
