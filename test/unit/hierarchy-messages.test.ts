import { describe, expect, it } from 'vitest';
import { retryDelay } from '../../collector/hierarchy/backoff.js';
import { incidentChain } from '../../collector/hierarchy/incident-chain.js';
import {
  HIERARCHY_VERSION,
  isAbove,
  sign,
  verifyRecord,
  type ChildCert,
  type CollectorLevel,
  type KnownCollector,
  type SigningKey,
} from '../../collector/hierarchy/messages.js';
import { ownReport } from '../../collector/hierarchy/reports.js';
import { ed25519Suite } from '../../shared/crypto/ed25519.js';
import { signMessage } from '../../shared/envelope.js';
import { withinBytes } from '../../collector/hierarchy/parent-link.js';
import { agentIdFromPublicKey, collectorIdFromPublicKey } from '../../shared/identity.js';

interface Collector extends KnownCollector {
  key: SigningKey;
}

function collector(unit: string, level: CollectorLevel): Collector {
  const pair = ed25519Suite.generateKeyPair();
  const id = collectorIdFromPublicKey(pair.publicKey);
  return {
    id,
    alg: 'ed25519',
    publicKey: pair.publicKey,
    unit,
    level,
    key: { id, alg: 'ed25519', sign: ed25519Suite.signer(pair.privateKey) },
  };
}

function certify(parent: Collector, child: Collector, overrides: Partial<ChildCert> = {}): ChildCert {
  return sign(
    {
      v: HIERARCHY_VERSION,
      kind: 'smew.hierarchy.child' as const,
      parent: parent.id,
      child: child.id,
      unit: child.unit,
      level: child.level,
      childAlg: child.alg,
      publicKey: child.publicKey,
      enrolledAt: '2026-11-27T00:00:00.000Z',
      ...overrides,
    },
    parent.key,
  );
}

function agentEvidence() {
  const pair = ed25519Suite.generateKeyPair();
  const id = agentIdFromPublicKey(pair.publicKey);
  const envelope = signMessage(
    {
      v: 1,
      agent: id,
      seq: 7,
      ts: '2026-11-27T00:00:00.000Z',
      type: 'net.wireless.present',
      state: 'raised',
      key: 'net.wireless.present:wlan0',
      severity: 'high',
      data: { iface: 'wlan0', mac: '00:11:22:33:44:55', driver: 'iwlwifi' },
      alg: 'ed25519',
    },
    ed25519Suite.signer(pair.privateKey),
  );
  return { envelope, agent: { id, alg: 'ed25519' as const, publicKey: pair.publicKey } };
}

describe('verifyRecord: a report forwarded up a chain of certificates', () => {
  const county = collector('某县', 'county');
  const unit = collector('甲单位', 'unit');
  const cert = certify(county, unit);
  const { envelope, agent } = agentEvidence();
  const report = ownReport(
    { identity: unit.key, unit: unit.unit, level: 'unit' },
    1,
    '2026-11-27T01:00:00.000Z',
    'warning',
    'warning:w1',
    { severity: 'high' },
    { evidence: [envelope], agents: [agent] },
  );

  it('accepts the unit’s own report from the unit (no chain)', () => {
    const verdict = verifyRecord({ report, chain: [] }, unit);
    expect(verdict).toEqual({ ok: true, path: [unit] });
  });

  it('accepts it at the city through the county, verifying the unit’s signature via the county’s certificate', () => {
    const verdict = verifyRecord({ report, chain: [cert] }, county);
    expect(verdict.ok).toBe(true);
    if (verdict.ok) expect(verdict.path.map((c) => c.unit)).toEqual(['甲单位', '某县']);
  });

  it('verifies a three-certificate chain (unit → county → city → province)', () => {
    const city = collector('某市', 'city');
    const verdict = verifyRecord({ report, chain: [cert, certify(city, county)] }, city);
    expect(verdict.ok).toBe(true);
    if (verdict.ok) expect(verdict.path.map((c) => c.level)).toEqual(['unit', 'county', 'city']);
  });

  it('refuses a tampered report, a report claiming another unit, a forged certificate and tampered evidence', () => {
    const tampered = { ...report, data: { severity: 'low' } };
    expect(verifyRecord({ report: tampered, chain: [cert] }, county)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/signature does not verify/),
    });

    const otherUnit = ownReport(
      { identity: unit.key, unit: '乙单位', level: 'unit' },
      2,
      report.ts,
      'warning',
      'k',
      {},
    );
    expect(verifyRecord({ report: otherUnit, chain: [cert] }, county)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/claims unit 乙单位/),
    });

    const impostor = collector('某县', 'county');
    expect(verifyRecord({ report, chain: [certify(impostor, unit)] }, county)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not issued by/),
    });
    const relabelled = { ...cert, unit: '乙单位' };
    expect(verifyRecord({ report, chain: [relabelled] }, county)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/does not verify/),
    });

    const badEnvelope = { ...envelope, severity: 'low' };
    const withBadEvidence = ownReport(
      { identity: unit.key, unit: unit.unit, level: 'unit' },
      3,
      report.ts,
      'warning',
      'k',
      {},
      { evidence: [badEnvelope], agents: [agent] },
    );
    expect(verifyRecord({ report: withBadEvidence, chain: [cert] }, county)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/agent .* signature does not verify/),
    });

    const wrongKey = agentEvidence().agent;
    const withWrongKey = ownReport(
      { identity: unit.key, unit: unit.unit, level: 'unit' },
      4,
      report.ts,
      'warning',
      'k',
      {},
      { evidence: [envelope], agents: [{ ...wrongKey, id: agent.id }] },
    );
    expect(verifyRecord({ report: withWrongKey, chain: [cert] }, county)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/no key given is agent/),
    });
  });

  it('verifies evidence an agent signed after rotating its key, given its key history', () => {
    // The agent enrolled with `agent.publicKey` (its id) and rotated to `rotated`.
    const rotated = ed25519Suite.generateKeyPair();
    const later = signMessage(
      { ...(envelope as Record<string, unknown>), seq: 8, sig: undefined, alg: 'ed25519' },
      ed25519Suite.signer(rotated.privateKey),
    );
    const history = [agent, { id: agent.id, alg: 'ed25519' as const, publicKey: rotated.publicKey }];
    const build = (seq: number, agents: typeof history) =>
      ownReport(
        { identity: unit.key, unit: unit.unit, level: 'unit' },
        seq,
        report.ts,
        'warning',
        'k',
        {},
        {
          evidence: [envelope, later],
          agents,
        },
      );
    expect(verifyRecord({ report: build(5, history), chain: [cert] }, county).ok).toBe(true);
    // Without the key of its time, the later envelope does not verify; without the enrollment key, no key is the agent's.
    expect(verifyRecord({ report: build(6, [agent]), chain: [cert] }, county)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/evidence\[1\]: agent .* signature does not verify/),
    });
    expect(verifyRecord({ report: build(7, [history[1]!]), chain: [cert] }, county)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/no key given is agent/),
    });
  });

  it('orders the levels', () => {
    expect(isAbove('county', 'unit')).toBe(true);
    expect(isAbove('unit', 'county')).toBe(false);
    expect(isAbove('city', 'city')).toBe(false);
  });
});

describe('retryDelay: exponential backoff with full jitter', () => {
  it('is zero without failures, grows to the cap and stays below it', () => {
    const limits = { baseMs: 1000, maxMs: 300_000 };
    expect(retryDelay(0, limits, () => 0.999)).toBe(0);
    expect(retryDelay(1, limits, () => 0.999)).toBe(999);
    expect(retryDelay(4, limits, () => 0.999)).toBe(7992);
    expect(retryDelay(40, limits, () => 0.999)).toBe(299_700);
    expect(retryDelay(40, limits, () => 0)).toBe(0);
  });

  it('spreads children that failed together', () => {
    const delays = Array.from({ length: 200 }, () => retryDelay(10, { baseMs: 1000, maxMs: 60_000 }));
    expect(Math.max(...delays)).toBeLessThan(60_000);
    expect(new Set(delays).size).toBeGreaterThan(150);
  });
});

describe('incidentChain: 第61条 hops as a parent sees them', () => {
  const discoveredAt = '2026-11-27T00:00:00.000Z';
  it('starts each administration’s 24 h at its own receipt and flags a late or overdue hop', () => {
    const hops = incidentChain({
      discoveredAt,
      receivedHere: '2026-11-28T06:00:00.000Z',
      here: 'city',
      hops: [
        {
          from: 'county',
          to: 'city',
          reportedAt: '2026-11-28T05:00:00.000Z',
          receivedAt: '2026-11-28T06:00:00.000Z',
        },
        {
          from: 'unit',
          to: 'county',
          reportedAt: '2026-11-27T03:00:00.000Z',
          receivedAt: '2026-11-27T04:00:00.000Z',
        },
        { from: 'unit', to: 'superior-dept', reportedAt: '2026-11-28T01:00:00.000Z', receivedAt: null },
      ],
      ownHop: undefined,
      parentLevel: undefined,
      now: new Date('2026-11-29T07:00:00.000Z'),
    });
    expect(hops.map((h) => [`${h.from}>${h.to}`, h.dueAt, h.late])).toEqual([
      ['unit>county', '2026-11-28T00:00:00.000Z', false],
      ['unit>superior-dept', '2026-11-28T00:00:00.000Z', true],
      ['county>city', '2026-11-28T04:00:00.000Z', true],
      ['city>province', '2026-11-29T06:00:00.000Z', true],
    ]);
  });
});

describe('a child keeps its batches under the parent’s body limit (http.maxReportBody)', () => {
  const entry = (bytes: number) => ({ record: { pad: 'x'.repeat(bytes) } });
  it('takes entries while their records fit, and always at least one', () => {
    const entries = [entry(400), entry(400), entry(400)];
    expect(withinBytes(entries, 1000)).toHaveLength(2);
    expect(withinBytes(entries, 10_000)).toHaveLength(3);
    expect(withinBytes([entry(5000)], 1000)).toHaveLength(1);
  });
});
