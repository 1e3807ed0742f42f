import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Finding } from '../../agent/detectors/finding.js';
import { diffFindings, recordDetectorPass } from '../../agent/differ.js';
import { Outbox, type OpenCondition } from '../../agent/outbox.js';
import { ManualClock } from '../../shared/clock.js';
import { ed25519Suite } from '../../shared/crypto/ed25519.js';
import { agentIdFromPublicKey, collectorIdFromPublicKey } from '../../shared/identity.js';

function wireless(iface: string, overrides: Partial<Finding> = {}): Finding {
  return {
    type: 'net.wireless.present',
    key: `net.wireless.present:${iface}`,
    severity: 'high',
    data: { iface, mac: '3c:f0:11:2a:7b:01', driver: 'iwlwifi' },
    ...overrides,
  };
}

function openAs(finding: Finding, seq = 1): [string, OpenCondition] {
  return [finding.key, { type: finding.type, severity: finding.severity, data: finding.data, seq }];
}

describe('diffFindings', () => {
  it('raises a new key', () => {
    expect(diffFindings(new Map(), [wireless('wlp2s0')])).toEqual([
      { ...wireless('wlp2s0'), state: 'raised' },
    ]);
  });

  it('says nothing while a condition holds unchanged', () => {
    expect(diffFindings(new Map([openAs(wireless('wlp2s0'))]), [wireless('wlp2s0')])).toEqual([]);
  });

  it('clears a vanished key with the data it was raised with', () => {
    const before = wireless('wlp2s0', { data: { iface: 'wlp2s0', driver: 'old' } });
    expect(diffFindings(new Map([openAs(before)]), [])).toEqual([{ ...before, state: 'cleared' }]);
  });

  it('raises again when severity or data change for the same key', () => {
    const open = new Map([openAs(wireless('wlp2s0'))]);
    expect(diffFindings(open, [wireless('wlp2s0', { severity: 'critical' })])).toEqual([
      { ...wireless('wlp2s0', { severity: 'critical' }), state: 'raised' },
    ]);
    const moved = wireless('wlp2s0', {
      data: { iface: 'wlp2s0', mac: '3c:f0:11:2a:7b:02', driver: 'iwlwifi' },
    });
    expect(diffFindings(open, [moved])).toEqual([{ ...moved, state: 'raised' }]);
    // Member order is not a change.
    const reordered = wireless('wlp2s0', {
      data: { driver: 'iwlwifi', mac: '3c:f0:11:2a:7b:01', iface: 'wlp2s0' },
    });
    expect(diffFindings(open, [reordered])).toEqual([]);
  });

  it('keeps a condition open when its detector could not look', () => {
    const open = new Map([openAs(wireless('wlp2s0'))]);
    expect(diffFindings(open, [], new Set(['net.wireless.present']))).toEqual([]);
    expect(diffFindings(open, [], new Set(['net.bluetooth.present']))).toHaveLength(1);
  });

  it('puts clears before raises, each sorted by key', () => {
    const open = new Map([openAs(wireless('b')), openAs(wireless('a'))]);
    expect(diffFindings(open, [wireless('d'), wireless('c')]).map((d) => `${d.state} ${d.key}`)).toEqual([
      'cleared net.wireless.present:a',
      'cleared net.wireless.present:b',
      'raised net.wireless.present:c',
      'raised net.wireless.present:d',
    ]);
  });
});

describe('recordDetectorPass across restarts', () => {
  const keys = ed25519Suite.generateKeyPair();
  const collectorKeys = ed25519Suite.generateKeyPair();
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  function open(dir: string): Outbox {
    return Outbox.open({
      dir,
      agentId: agentIdFromPublicKey(keys.publicKey),
      alg: 'ed25519',
      sign: ed25519Suite.signer(keys.privateKey),
      collector: {
        id: collectorIdFromPublicKey(collectorKeys.publicKey),
        alg: 'ed25519',
        publicKey: collectorKeys.publicKey,
      },
      clock: new ManualClock(),
    });
  }
  const pass = (findings: Finding[]) => ({ findings, unobservedTypes: new Set<string>() });

  it('neither re-raises a held condition nor forgets to clear one that vanished while down', () => {
    const dir = mkdtempSync(join(tmpdir(), 'smew-differ-'));
    dirs.push(dir);
    let outbox = open(dir);
    expect(
      recordDetectorPass(outbox, pass([wireless('wlp2s0'), wireless('wlan1')])).map((d) => d.state),
    ).toEqual(['raised', 'raised']);
    outbox.close();

    outbox = open(dir);
    expect(recordDetectorPass(outbox, pass([wireless('wlp2s0'), wireless('wlan1')]))).toEqual([]);
    outbox.close();

    // wlan1 was unplugged while the agent was down.
    outbox = open(dir);
    const drafts = recordDetectorPass(outbox, pass([wireless('wlp2s0')]));
    expect(drafts).toEqual([{ ...wireless('wlan1'), state: 'cleared' }]);
    expect(
      outbox.pending().map((r) => (JSON.parse(r.payload) as { seq: number; state: string }).state),
    ).toEqual(['raised', 'raised', 'cleared']);
    expect([...outbox.openConditions().keys()]).toEqual(['net.wireless.present:wlp2s0']);
    outbox.close();
  });
});
