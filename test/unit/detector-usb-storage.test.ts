import { describe, expect, it } from 'vitest';
import { usbStorageDetector } from '../../agent/detectors/usb-storage.js';
import { mergePolicies, policyUpdateSchema } from '../../collector/hierarchy/policy-merge.js';
import type { Observations, UsbDevice, UsbInterface } from '../../agent/probes/observations.js';
import { policySchema, type Policy } from '../../shared/policy.js';

const policy = (input: Record<string, unknown> = {}): Policy => policySchema.parse(input);
const at = '2026-11-26T00:00:00.000Z';

function storage(
  port: string,
  vendor: string,
  product: string,
  serial?: string,
  over: Partial<UsbInterface> = {},
): UsbDevice {
  const iface: UsbInterface = {
    name: `${port}:1.0`,
    class: '08',
    subclass: '06',
    protocol: '50',
    driver: 'usb-storage',
    blocks: [{ name: 'sdb', removable: true }],
    nets: [],
    ttys: [],
    usbmisc: [],
    wwan: [],
    bluetooth: [],
    ...over,
  };
  const device: UsbDevice = { port, vendor, product, interfaces: [iface] };
  if (serial !== undefined) device.serial = serial;
  return device;
}
const run = (obs: Partial<Observations>, p = policy()) =>
  usbStorageDetector.detect({ at, usb: [], ...obs }, p);
const registry = policy({
  usb: { approved: [{ vendor: '0781', product: '5567', serial: '4c530001230615117383' }] },
});

describe('usb.storage.attached', () => {
  it('a registered stick is info with registered: true (ids and serial compared case-insensitively)', () => {
    expect(run({ usb: [storage('2-1', '0781', '5567', '4C530001230615117383')] }, registry)).toEqual([
      {
        type: 'usb.storage.attached',
        key: 'usb.storage.attached:0781:5567:4C530001230615117383',
        severity: 'info',
        data: { vendor: '0781', product: '5567', serial: '4C530001230615117383', registered: true },
      },
    ]);
  });

  it('the same model with another serial is not registered', () => {
    const [finding] = run({ usb: [storage('2-1', '0781', '5567', 'OTHER')] }, registry);
    expect(finding).toMatchObject({ severity: 'high', data: { registered: false } });
  });

  it('an entry without a serial matches only a device without one', () => {
    const model = policy({ usb: { approved: [{ vendor: '0781', product: '5567' }] } });
    expect(run({ usb: [storage('2-1', '0781', '5567')] }, model)[0]!.data.registered).toBe(true);
    expect(run({ usb: [storage('2-1', '0781', '5567', 'ABC')] }, model)[0]!.data.registered).toBe(false);
  });

  it('keys a device without a serial by its port', () => {
    expect(run({ usb: [storage('3-1.4', '090c', '1000')] }).map((f) => f.key)).toEqual([
      'usb.storage.attached:090c:1000:usb-3-1.4',
    ]);
  });

  it('counts storage with no disk yet, removable or not, over uas too', () => {
    const usb = [
      storage('2-1', '058f', '6366', 'R1', { blocks: [] }),
      storage('2-2', '04e8', '4001', 'S5T', {
        driver: 'uas',
        protocol: '62',
        blocks: [{ name: 'sdc', removable: false }],
      }),
    ];
    expect(run({ usb }).map((f) => f.key)).toEqual([
      'usb.storage.attached:058f:6366:R1',
      'usb.storage.attached:04e8:4001:S5T',
    ]);
  });

  it('ignores devices without a mass-storage interface', () => {
    expect(run({ usb: [storage('1-1', '046d', 'c52b', undefined, { class: '03', blocks: [] })] })).toEqual(
      [],
    );
  });

  it('carries hostile serials as data', () => {
    const serial = `'; rm -rf / "$(reboot)"\n<script>`;
    expect(run({ usb: [storage('2-2', '04e8', '4001', serial)] })[0]!.data.serial).toBe(serial);
  });

  it('reports by-id links whose disk no USB device in sysfs accounts for, once per disk', () => {
    const findings = run({
      usb: [storage('2-1', '0781', '5567', 'X')],
      usbDiskLinks: [
        { link: 'usb-SanDisk_Cruzer_X-0:0', target: 'sdb' },
        { link: 'usb-Generic_Flash_Disk_1234-0:0', target: 'sdd' },
        { link: 'usb-Generic_Flash_Disk_1234-0:0-part1', target: 'sdd1' },
      ],
    });
    expect(findings.map((f) => [f.key, f.data])).toEqual([
      [
        'usb.storage.attached:0781:5567:X',
        { vendor: '0781', product: '5567', serial: 'X', registered: false },
      ],
      ['usb.storage.attached:by-id:usb-Generic_Flash_Disk_1234-0:0', { registered: false }],
    ]);
  });

  it('is critical on a 绝密 host and stays info when registered', () => {
    const top = policy({ level: '绝密', usb: registry.usb });
    const findings = run(
      { usb: [storage('2-1', '0781', '5567', '4C530001230615117383'), storage('2-2', 'dead', 'beef', 'Z')] },
      top,
    );
    expect(findings.map((f) => f.severity)).toEqual(['info', 'critical']);
  });
});

describe('a registration merged down the hierarchy means what the agent reads', () => {
  it('a county approving the model without a serial and a unit approving serial ABC123 register nothing together', () => {
    const update = (raw: unknown) => policyUpdateSchema.parse(raw);
    const unit = update({ usb: { approved: [{ vendor: '0781', product: '5581', serial: 'ABC123' }] } });
    const county = update({ usb: { approved: [{ vendor: '0781', product: '5581' }] } });
    const merged = mergePolicies(unit, [county])!;
    expect(merged.usb.approved).toEqual([]);
    // The agent, given the merged policy, reports the stick unregistered.
    const findings = run({ usb: [storage('1-1', '0781', '5581', 'ABC123')] }, policy(merged));
    expect(findings.map((f) => f.data.registered)).toEqual([false]);
  });
});
