/**
 * The TransportStore contract (liveness, declared drops, key history, broker accounts) on SQLite
 * and PostgreSQL. A fixture opens handles on one fresh database; two handles are what two
 * collectors sharing it have.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { assess } from '../../collector/liveness/assess.js';
import type { Store } from '../../collector/store/store.js';
import type { LivenessRecord } from '../../collector/store/transport/transport-store.js';
import { enrollment, event } from '../unit/store-contract.js';
import { describeEachDialect, type DialectFixture } from './dialects.js';

const T0 = '2026-11-27T00:00:00.000Z';
const T1 = '2026-11-27T01:00:00.000Z';
const T2 = '2026-11-27T02:00:00.000Z';
const T3 = '2026-11-27T03:00:00.000Z';
const A = 'ag-aaaaaaaaaaaaaaaaaaaa';
const B = 'ag-bbbbbbbbbbbbbbbbbbbb';
const C = 'ag-cccccccccccccccccccc';

function liveness(agentId: string, overrides: Partial<LivenessRecord> = {}): LivenessRecord {
  return {
    agentId,
    intervalMs: 30_000,
    lastHeartbeatAt: T0,
    willAt: null,
    reportedSeq: 0,
    offlineSince: null,
    gapSince: null,
    gapWatermark: 0,
    lostSince: null,
    ...overrides,
  };
}

describeEachDialect('TransportStore contract', (makeFixture) => {
  let fixture: DialectFixture;
  let store: Store;
  const extra: Store[] = [];

  /** Another handle on the same database (another collector), closed after the test. */
  async function second(): Promise<Store> {
    const handle = await fixture.open();
    extra.push(handle);
    return handle;
  }

  /** Enrolls agent `id` with key `PUB-<id>` at T0. */
  async function enroll(id: string): Promise<void> {
    await store.createEnrollmentToken({
      tokenHash: `tok-${id}`,
      unit: '一处',
      createdAt: T0,
      expiresAt: T3,
    });
    const result = await store.enrollAgent(
      enrollment({ tokenHash: `tok-${id}`, agentId: id, publicKey: `PUB-${id}`, now: T0 }),
    );
    expect(result.ok).toBe(true);
  }

  beforeEach(async () => {
    fixture = await makeFixture();
    store = await fixture.open();
  });
  afterEach(async () => {
    for (const handle of extra.splice(0)) await handle.close();
    await store.close();
    await fixture.dispose();
  });

  it('keeps one liveness row per agent, replaced whole, listed by agent', async () => {
    await enroll(B);
    await enroll(A);
    const t = store.transport;
    expect(await t.getLiveness(A)).toBeUndefined();
    expect(await t.listLiveness()).toEqual([]);
    await t.putLiveness(liveness(B));
    const full = liveness(A, {
      intervalMs: 45_000,
      lastHeartbeatAt: T1,
      willAt: T2,
      reportedSeq: 9_007_199_254_740_000,
      offlineSince: T2,
      gapSince: T1,
      gapWatermark: 41,
      lostSince: T3,
    });
    await t.putLiveness(full);
    expect(await t.getLiveness(A)).toEqual(full);
    // Replacing clears what the new record leaves null.
    await t.putLiveness(liveness(A, { lastHeartbeatAt: T3 }));
    expect(await (await second()).transport.getLiveness(A)).toEqual(liveness(A, { lastHeartbeatAt: T3 }));
    expect((await t.listLiveness()).map((r) => r.agentId)).toEqual([A, B]);
  });

  it('two collectors updating one agent’s liveness at once never write over each other', async () => {
    await enroll(A);
    const other = await second();
    const bump = (handle: Store) =>
      handle.transport.updateLiveness(A, async (previous) => {
        // A judgement that takes a while (it reports to the warnings stage) between read and write.
        await new Promise((resolve) => setTimeout(resolve, 2));
        return liveness(A, { reportedSeq: (previous?.reportedSeq ?? 0) + 1 });
      });
    await Promise.all(Array.from({ length: 20 }, (_, i) => bump(i % 2 === 0 ? store : other)));
    expect((await store.transport.getLiveness(A))?.reportedSeq).toBe(20);
    // Nothing returned: nothing written.
    await other.transport.updateLiveness(B, async () => undefined);
    expect(await store.transport.getLiveness(B)).toBeUndefined();
  });

  it('updates many agents’ liveness as one step: reads what exists, stores what the judgement returns', async () => {
    await enroll(A);
    await enroll(B);
    await enroll(C);
    const t = store.transport;
    await t.putLiveness(liveness(A, { reportedSeq: 4 }));
    let seen: string[] = [];
    await t.updateLivenessMany([B, A, B], async (previous) => {
      seen = [...previous.keys()];
      expect(previous.get(A)).toEqual(liveness(A, { reportedSeq: 4 }));
      return [liveness(A, { reportedSeq: 5, lastHeartbeatAt: T1 }), liveness(B, { willAt: T2 })];
    });
    // Only rows that exist are read; an agent named twice is read once.
    expect(seen).toEqual([A]);
    expect(await t.getLiveness(A)).toEqual(liveness(A, { reportedSeq: 5, lastHeartbeatAt: T1 }));
    expect(await t.getLiveness(B)).toEqual(liveness(B, { willAt: T2 }));
    // Nothing returned: nothing written; no agents: the judgement still runs on an empty map.
    await t.updateLivenessMany([C], async () => []);
    expect(await t.getLiveness(C)).toBeUndefined();
    // The last record given for an agent is the one kept.
    await t.updateLivenessMany([C], async () => [
      liveness(C, { reportedSeq: 1 }),
      liveness(C, { reportedSeq: 2 }),
    ]);
    expect((await t.getLiveness(C))?.reportedSeq).toBe(2);
    // A judgement that throws writes nothing.
    await expect(
      t.updateLivenessMany([A], async () => {
        throw new Error('the warnings stage is down');
      }),
    ).rejects.toThrow('the warnings stage is down');
    expect((await t.getLiveness(A))?.reportedSeq).toBe(5);
  });

  it('batched and single liveness updates from two collectors never write over each other', async () => {
    await enroll(A);
    await enroll(B);
    const other = await second();
    const slow = () => new Promise((resolve) => setTimeout(resolve, 2));
    const bumpBoth = (handle: Store) =>
      handle.transport.updateLivenessMany([B, A], async (previous) => {
        await slow();
        return [A, B].map((id) => liveness(id, { reportedSeq: (previous.get(id)?.reportedSeq ?? 0) + 1 }));
      });
    const bumpA = (handle: Store) =>
      handle.transport.updateLiveness(A, async (previous) => {
        await slow();
        return liveness(A, { reportedSeq: (previous?.reportedSeq ?? 0) + 1 });
      });
    await Promise.all(
      Array.from({ length: 24 }, (_, i) => {
        const handle = i % 2 === 0 ? store : other;
        return i % 3 === 0 ? bumpA(handle) : bumpBoth(handle);
      }),
    );
    expect((await store.transport.getLiveness(A))?.reportedSeq).toBe(24);
    expect((await store.transport.getLiveness(B))?.reportedSeq).toBe(16);
  });

  it('lists for a sweep every row it may change, and leaves healthy agents in the database', async () => {
    const now = new Date(T2);
    const ago = (ms: number) => new Date(now.getTime() - ms).toISOString();
    const policy = { missedHeartbeats: 3, lostGraceMs: 120_000 };
    // [record overrides, watermark]: each kind of row a sweep meets.
    const cases: [Partial<LivenessRecord>, number][] = [
      [{ lastHeartbeatAt: ago(10_000) }, 0], // healthy
      [{ lastHeartbeatAt: ago(10_000), reportedSeq: 5, gapWatermark: 5 }, 5], // healthy, all acked
      [{ lastHeartbeatAt: ago(89_999) }, 0], // one ms short of missed
      [{ lastHeartbeatAt: ago(90_001) }, 0], // missed
      [{ lastHeartbeatAt: ago(5_000), intervalMs: 1_000 }, 0], // missed at a short interval
      [{ lastHeartbeatAt: null, willAt: ago(1_000) }, 0], // Last Will, never a heartbeat
      [{ lastHeartbeatAt: ago(2_000), willAt: ago(1_000) }, 0], // Last Will after the heartbeat
      [{ lastHeartbeatAt: ago(1_000), willAt: ago(2_000) }, 0], // back after its Last Will
      [{ lastHeartbeatAt: ago(500_000), offlineSince: ago(400_000) }, 0], // offline, settled
      [{ lastHeartbeatAt: ago(500_000), offlineSince: ago(400_000), reportedSeq: 9 }, 2], // offline with a gap
      [{ lastHeartbeatAt: ago(500_000), offlineSince: ago(400_000), lostSince: ago(1) }, 0], // loss to clear
      [{ lastHeartbeatAt: ago(10_000), reportedSeq: 9 }, 2], // gap appears
      [{ lastHeartbeatAt: ago(10_000), reportedSeq: 9, gapSince: ago(60_000), gapWatermark: 2 }, 2], // gap waits
      [{ lastHeartbeatAt: ago(10_000), reportedSeq: 9, gapSince: ago(200_000), gapWatermark: 2 }, 2], // lost
      [{ lastHeartbeatAt: ago(10_000), reportedSeq: 2, gapSince: ago(60_000), gapWatermark: 1 }, 2], // gap closed
      [{ lastHeartbeatAt: ago(10_000), gapWatermark: 3 }, 4], // watermark moved on
    ];
    const ids = cases.map((_, i) => `ag-${String(i).padStart(20, 'x')}`);
    for (const [i, [overrides, watermark]] of cases.entries()) {
      await enroll(ids[i]!);
      if (watermark > 0) {
        await store.insertEvents(
          Array.from({ length: watermark }, (_, s) => event(s + 1, { agentId: ids[i]! })),
        );
        expect(await store.advanceAckedSeq(ids[i]!)).toBe(watermark);
      }
      await store.transport.putLiveness(liveness(ids[i]!, overrides));
    }
    // A revoked agent is never judged, however silent.
    await enroll(A);
    await store.transport.putLiveness(liveness(A, { lastHeartbeatAt: ago(1_000_000) }));
    expect(await store.revokeAgent(A, T1)).toBe(true);

    const listed = await store.transport.listLivenessToJudge({
      now: now.toISOString(),
      missedHeartbeats: 3,
    });
    const listedIds = listed.map((l) => l.record.agentId);
    expect(listedIds).toEqual([...listedIds].sort());
    for (const [i, [overrides, watermark]] of cases.entries()) {
      const record = liveness(ids[i]!, overrides);
      const judged = assess(record, watermark, now, policy);
      const changes = judged.changes.length > 0 || JSON.stringify(judged.record) !== JSON.stringify(record);
      const entry = listed.find((l) => l.record.agentId === ids[i]);
      if (changes)
        expect(entry, `case ${i} changes and must be listed`).toEqual({ record, ackedSeq: watermark });
    }
    // Healthy, settled and waiting rows stay out: the sweep reads what it acts on.
    expect(listedIds).not.toContain(A);
    for (const i of [0, 1, 8, 9]) expect(listedIds, `case ${i}`).not.toContain(ids[i]);
  });

  it('records declared drops once per range, listed by their start', async () => {
    await enroll(A);
    await enroll(B);
    const t = store.transport;
    const late = { agentId: A, fromSeq: 10, toSeq: 12, declaredBySeq: 20 };
    const early = { agentId: A, fromSeq: 3, toSeq: 5, declaredBySeq: 6 };
    await t.addDeclaredDrops([late, early]);
    await t.addDeclaredDrops([early, { agentId: B, fromSeq: 1, toSeq: 1, declaredBySeq: 2 }]);
    await t.addDeclaredDrops([]);
    expect(await t.listDeclaredDrops(A)).toEqual([early, late]);
    expect(await t.listDeclaredDrops(B)).toHaveLength(1);
    expect(await t.listDeclaredDrops(C)).toEqual([]);
  });

  it('moves the watermark over declared drops and the stored run after each, never back', async () => {
    await enroll(A);
    const t = store.transport;
    // Stored: 1-2, 6-7, 9-10, 12. Declared dropped: 3-5 and 8 (as two overlapping ranges).
    await store.insertEvents([1, 2, 6, 7, 9, 10, 12].map((seq) => event(seq, { agentId: A })));
    expect(await store.advanceAckedSeq(A)).toBe(2);
    expect(await t.skipDeclaredDrops(A)).toBe(2);
    await t.addDeclaredDrops([
      { agentId: A, fromSeq: 3, toSeq: 4, declaredBySeq: 6 },
      { agentId: A, fromSeq: 4, toSeq: 5, declaredBySeq: 6 },
      { agentId: A, fromSeq: 8, toSeq: 8, declaredBySeq: 9 },
    ]);
    expect(await t.skipDeclaredDrops(A)).toBe(10);
    expect((await store.getAgent(A))?.ackedSeq).toBe(10);
    // 11 is neither stored nor declared: the watermark waits there, whoever asks.
    expect(await (await second()).transport.skipDeclaredDrops(A)).toBe(10);
    await t.addDeclaredDrops([{ agentId: A, fromSeq: 1, toSeq: 3, declaredBySeq: 4 }]);
    expect(await t.skipDeclaredDrops(A)).toBe(10);
    expect(await t.skipDeclaredDrops(C)).toBe(0);
  });

  it('follows a run of stored events longer than one page read', async () => {
    await enroll(A);
    const seqs = Array.from({ length: 1200 }, (_, i) => i + 1).filter((s) => s !== 5);
    await store.insertEvents(seqs.map((seq) => event(seq, { agentId: A })));
    await store.transport.addDeclaredDrops([{ agentId: A, fromSeq: 5, toSeq: 5, declaredBySeq: 6 }]);
    expect(await store.transport.skipDeclaredDrops(A)).toBe(1200);
    expect((await store.getAgent(A))?.ackedSeq).toBe(1200);
  });

  it('two collectors skipping at once agree on the watermark', async () => {
    await enroll(A);
    const other = await second();
    await store.insertEvents([1, 2, 4, 5, 7].map((seq) => event(seq, { agentId: A })));
    await store.transport.addDeclaredDrops([
      { agentId: A, fromSeq: 3, toSeq: 3, declaredBySeq: 4 },
      { agentId: A, fromSeq: 6, toSeq: 6, declaredBySeq: 7 },
    ]);
    const results = await Promise.all([
      store.transport.skipDeclaredDrops(A),
      other.transport.skipDeclaredDrops(A),
      store.advanceAckedSeq(A),
      other.transport.skipDeclaredDrops(A),
    ]);
    expect(results[0]).toBe(7);
    expect(results[1]).toBe(7);
    expect(results[3]).toBe(7);
    expect((await store.getAgent(A))?.ackedSeq).toBe(7);
  });

  it('keeps every replaced key with the time it was valid, and refuses unknown or revoked agents', async () => {
    await enroll(A);
    const t = store.transport;
    expect(await t.listKeys(A)).toEqual([
      { agentId: A, alg: 'ed25519', publicKey: `PUB-${A}`, validFrom: T0, validTo: null },
    ]);
    expect(await t.rotateKey({ agentId: C, alg: 'ed25519', publicKey: 'K1', at: T1 })).toBe(false);
    expect(await t.rotateKey({ agentId: A, alg: 'ed25519', publicKey: 'K1', at: T1 })).toBe(true);
    expect(await t.rotateKey({ agentId: A, alg: 'ed25519', publicKey: 'K2', at: T2 })).toBe(true);
    expect(await t.listKeys(A)).toEqual([
      { agentId: A, alg: 'ed25519', publicKey: `PUB-${A}`, validFrom: T0, validTo: T1 },
      { agentId: A, alg: 'ed25519', publicKey: 'K1', validFrom: T1, validTo: T2 },
      { agentId: A, alg: 'ed25519', publicKey: 'K2', validFrom: T2, validTo: null },
    ]);
    expect((await store.getAgent(A))?.publicKey).toBe('K2');
    expect(await t.listKeys(C)).toEqual([]);
    expect(await store.revokeAgent(A, T3)).toBe(true);
    expect(await t.rotateKey({ agentId: A, alg: 'ed25519', publicKey: 'K3', at: T3 })).toBe(false);
    expect((await store.getAgent(A))?.publicKey).toBe('K2');
  });

  it('two collectors rotating one agent at once both land in an unbroken history', async () => {
    await enroll(A);
    const other = await second();
    const done = await Promise.all([
      store.transport.rotateKey({ agentId: A, alg: 'ed25519', publicKey: 'K1', at: T1 }),
      other.transport.rotateKey({ agentId: A, alg: 'ed25519', publicKey: 'K2', at: T2 }),
    ]);
    expect(done).toEqual([true, true]);
    const keys = await store.transport.listKeys(A);
    expect(keys).toHaveLength(3);
    expect(keys[0]!.publicKey).toBe(`PUB-${A}`);
    expect(new Set(keys.map((k) => k.publicKey))).toEqual(new Set([`PUB-${A}`, 'K1', 'K2']));
    // Each key's end is the next one's start; only the last is open.
    for (let i = 0; i + 1 < keys.length; i += 1) expect(keys[i]!.validTo).toBe(keys[i + 1]!.validFrom);
    expect(keys.at(-1)!.validTo).toBeNull();
    expect((await store.getAgent(A))?.publicKey).toBe(keys.at(-1)!.publicKey);
  });

  it('lists broker accounts with their password hashes and revocation, and revocations since a time', async () => {
    await enroll(B);
    await enroll(A);
    await enroll(C);
    const t = store.transport;
    await t.setBrokerPasswordHash(A, '$7$hash-a');
    await t.setBrokerPasswordHash('ag-unknown', '$7$nobody');
    expect(await store.revokeAgent(C, T1)).toBe(true);
    expect(await store.revokeAgent(B, T2)).toBe(true);
    expect(await (await second()).transport.listBrokerAccounts()).toEqual([
      { agentId: A, passwordHash: '$7$hash-a', revoked: false },
      { agentId: B, passwordHash: null, revoked: true },
      { agentId: C, passwordHash: null, revoked: true },
    ]);
    expect(await t.listRevokedSince(T0)).toEqual([
      { agentId: C, revokedAt: T1 },
      { agentId: B, revokedAt: T2 },
    ]);
    expect(await t.listRevokedSince(T2)).toEqual([{ agentId: B, revokedAt: T2 }]);
    expect(await t.listRevokedSince(T3)).toEqual([]);
  });
});
