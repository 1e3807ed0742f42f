import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Detector } from '../../agent/detectors/finding.js';
import { runDetectors } from '../../agent/detectors/run-detectors.js';
import { wirelessPresentDetector } from '../../agent/detectors/wireless-present.js';
import type { NetInterface, Observations } from '../../agent/probes/observations.js';
import { readNetInterfaces } from '../../agent/probes/netdev.js';
import { policySchema, type Policy } from '../../shared/policy.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/sys-wireless', import.meta.url));

function policy(overrides: Record<string, unknown> = {}): Policy {
  return policySchema.parse(overrides);
}

function nic(overrides: Partial<NetInterface> & { name: string }): NetInterface {
  return {
    operstate: 'down',
    adminUp: false,
    arpType: 1,
    virtual: false,
    wirelessEvidence: [],
    ...overrides,
  };
}

const wlan = nic({
  name: 'wlp2s0',
  mac: '3c:f0:11:2a:7b:01',
  driver: 'iwlwifi',
  bus: 'pci',
  wirelessEvidence: ['phy80211'],
});
const observed = (interfaces: NetInterface[]): Observations => ({ at: '2026-01-01T00:00:00Z', interfaces });

describe('net.wireless.present', () => {
  it('reports an unapproved wireless NIC, down or not', () => {
    expect(wirelessPresentDetector.detect(observed([wlan, nic({ name: 'eth0' })]), policy())).toEqual([
      {
        type: 'net.wireless.present',
        key: 'net.wireless.present:wlp2s0',
        severity: 'high',
        data: { iface: 'wlp2s0', mac: '3c:f0:11:2a:7b:01', driver: 'iwlwifi', bus: 'pci' },
      },
    ]);
  });

  it('weighs the same NIC by the host level', () => {
    const severity = (level: string) =>
      wirelessPresentDetector.detect(observed([wlan]), policy({ level }))[0]!.severity;
    expect(severity('绝密')).toBe('critical');
    expect(severity('机密')).toBe('high');
    expect(severity('秘密')).toBe('high');
    expect(severity('非密')).toBe('medium');
  });

  it('stays quiet for a NIC approved by name or by MAC in any case', () => {
    expect(
      wirelessPresentDetector.detect(observed([wlan]), policy({ wireless: { approved: ['wlp2s0'] } })),
    ).toEqual([]);
    expect(
      wirelessPresentDetector.detect(
        observed([wlan]),
        policy({ wireless: { approved: ['3C:F0:11:2A:7B:01'] } }),
      ),
    ).toEqual([]);
    // Approval for a wired interface says nothing about wireless.
    expect(
      wirelessPresentDetector.detect(observed([wlan]), policy({ interfaces: { approved: ['wlp2s0'] } })),
    ).toHaveLength(1);
  });

  it('takes any one piece of evidence, and none means not wireless', () => {
    for (const evidence of ['phy80211', 'wireless', 'devtype=wlan', 'proc-net-wireless', 'arptype=803']) {
      const only = nic({ name: 'w0', wirelessEvidence: [evidence] });
      expect(wirelessPresentDetector.detect(observed([only]), policy())).toHaveLength(1);
    }
    expect(wirelessPresentDetector.detect(observed([nic({ name: 'eth0' })]), policy())).toEqual([]);
  });

  it('leaves out what it does not know instead of inventing it', () => {
    const bare = nic({ name: 'wlx0', wirelessEvidence: ['devtype=wlan'] });
    expect(wirelessPresentDetector.detect(observed([bare]), policy())[0]!.data).toEqual({ iface: 'wlx0' });
  });

  it('finds wlp2s0 in the fixture tree and nothing on this machine', async () => {
    const fixture = await readNetInterfaces({ sysfs: join(FIXTURE, 'sys'), procfs: join(FIXTURE, 'proc') });
    expect(wirelessPresentDetector.detect(observed(fixture), policy()).map((f) => f.key)).toEqual([
      'net.wireless.present:wlp2s0',
    ]);
    const real = await readNetInterfaces({ sysfs: '/sys', procfs: '/proc' });
    const expectedHere = real.filter((i) => i.wirelessEvidence.length > 0).length;
    expect(wirelessPresentDetector.detect(observed(real), policy())).toHaveLength(expectedHere);
  });
});

describe('runDetectors', () => {
  it('sorts findings by key', () => {
    const b = nic({ name: 'wlb', wirelessEvidence: ['phy80211'] });
    const a = nic({ name: 'wla', wirelessEvidence: ['phy80211'] });
    expect(
      runDetectors(observed([b, a]), policy(), { detectors: [wirelessPresentDetector] }).findings.map(
        (f) => f.key,
      ),
    ).toEqual(['net.wireless.present:wla', 'net.wireless.present:wlb']);
  });

  it('skips a detector whose observations are missing and names its types as unobserved', () => {
    const pass = runDetectors({ at: '2026-01-01T00:00:00Z' }, policy(), {
      detectors: [wirelessPresentDetector],
    });
    expect(pass.findings).toEqual([]);
    expect(pass.unobservedTypes).toEqual(new Set(['net.wireless.present']));
  });

  it('treats a throwing detector as unobserved, and the others still run', () => {
    const broken: Detector = {
      name: 'broken',
      types: ['net.bluetooth.present'],
      needs: [],
      detect() {
        throw new Error('bug');
      },
    };
    const pass = runDetectors(observed([wlan]), policy(), { detectors: [broken, wirelessPresentDetector] });
    expect(pass.findings).toHaveLength(1);
    expect(pass.unobservedTypes).toEqual(new Set(['net.bluetooth.present']));
  });
});
