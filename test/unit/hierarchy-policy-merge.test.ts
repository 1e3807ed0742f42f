import { describe, expect, it } from 'vitest';
import { mergePolicies, policyUpdateSchema } from '../../collector/hierarchy/policy-merge.js';
import { defaultPolicy } from '../../shared/policy.js';

const update = (raw: unknown) => policyUpdateSchema.parse(raw);

describe('policy precedence down the hierarchy: tighten, never loosen', () => {
  it('nothing to distribute without an own policy or a ruling', () => {
    expect(mergePolicies(undefined, [])).toBeUndefined();
  });

  it('a section left out of an update stays out (no default slips in)', () => {
    expect(update({ wireless: { approved: [] } })).toEqual({ wireless: { approved: [] } });
    const merged = mergePolicies(update({ interfaces: { approved: ['eth0'] } }), [
      update({ wireless: { approved: [] } }),
    ]);
    expect(merged?.interfaces.approved).toEqual(['eth0']);
    expect(merged?.usb).toEqual(defaultPolicy.usb);
  });

  it('approvals keep only what every ruling approves; names and MACs compare case-insensitively', () => {
    const merged = mergePolicies(update({ wireless: { approved: ['wlp2s0', 'AA:BB:CC:DD:EE:FF'] } }), [
      update({ wireless: { approved: ['aa:bb:cc:dd:ee:ff', 'wlan9'] } }),
    ]);
    expect(merged?.wireless.approved).toEqual(['AA:BB:CC:DD:EE:FF']);
    // An upper ruling cannot be loosened by a later lower one: order does not matter.
    const a = mergePolicies(undefined, [
      update({ bluetooth: { approved: [] } }),
      update({ bluetooth: { approved: ['hci0'] } }),
    ]);
    const b = mergePolicies(undefined, [
      update({ bluetooth: { approved: ['hci0'] } }),
      update({ bluetooth: { approved: [] } }),
    ]);
    expect(a?.bluetooth.approved).toEqual([]);
    expect(b?.bluetooth.approved).toEqual([]);
  });

  it('address ranges: a narrower range inside an allowed one stays, one outside goes', () => {
    const merged = mergePolicies(update({ network: { allowedCidrs: ['10.1.0.0/16', '192.168.0.0/24'] } }), [
      update({ network: { allowedCidrs: ['10.0.0.0/8'] } }),
    ]);
    expect(merged?.network.allowedCidrs).toEqual(['10.1.0.0/16']);
  });

  it('USB media: an entry names one medium; without a serial, only a device that has none', () => {
    const own = update({
      usb: {
        approved: [
          { vendor: '0781', product: '5581', serial: 'A1' },
          { vendor: '0781', product: '5581', serial: 'B2' },
          { vendor: '1234', product: '5678' },
        ],
      },
    });
    expect(
      mergePolicies(own, [update({ usb: { approved: [{ vendor: '0781', product: '5581' }] } })])?.usb
        .approved,
    ).toEqual([]);
    expect(
      mergePolicies(own, [update({ usb: { approved: [{ vendor: '1234', product: '5678' }] } })])?.usb
        .approved,
    ).toEqual([{ vendor: '1234', product: '5678' }]);
    expect(
      mergePolicies(own, [update({ usb: { approved: [{ vendor: '0781', product: '5581', serial: 'b2' }] } })])
        ?.usb.approved,
    ).toEqual([{ vendor: '0781', product: '5581', serial: 'B2' }]);
  });

  it('the most secret level wins; watched directories and beacon targets add up', () => {
    const merged = mergePolicies(
      update({
        level: '秘密',
        files: { watch: ['/home'] },
        beacon: { targets: [{ method: 'tcp', target: 'a:1' }] },
      }),
      [
        update({ level: '绝密', files: { watch: ['/srv', '/home'] } }),
        update({
          level: '机密',
          beacon: {
            targets: [
              { method: 'tcp', target: 'a:1' },
              { method: 'dns', target: 'b' },
            ],
          },
        }),
      ],
    );
    expect(merged?.level).toBe('绝密');
    expect(merged?.files.watch).toEqual(['/home', '/srv']);
    expect(merged?.beacon.targets).toEqual([
      { method: 'tcp', target: 'a:1' },
      { method: 'dns', target: 'b' },
    ]);
  });
});
