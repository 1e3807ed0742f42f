/**
 * The Store contract: what the store does (enrollment, agents, events and the watermark,
 * heartbeats, quarantine, API keys, users) on SQLite and on PostgreSQL. `fixture.open()` twice
 * gives two handles on the same data, as two collectors have.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../collector/store/store.js';
import { AGENT, enrollment, event, LATER, NOW } from '../unit/store-contract.js';
import { describeEachDialect, type DialectFixture } from './dialects.js';

const OTHER = 'ag-bbbbbbbbbbbbbbbbbbbb';

describeEachDialect('Store contract', (makeFixture) => {
  let fixture: DialectFixture;
  let store: Store;
  const extra: Store[] = [];

  /** Another handle on the same database, closed after the test. */
  async function second(): Promise<Store> {
    const handle = await fixture.open();
    extra.push(handle);
    return handle;
  }

  beforeEach(async () => {
    fixture = await makeFixture();
    store = await fixture.open();
    await store.createEnrollmentToken({
      tokenHash: 'token-1',
      unit: '一处',
      createdAt: NOW,
      expiresAt: LATER,
    });
  });
  afterEach(async () => {
    for (const handle of extra.splice(0)) await handle.close();
    await store.close();
    await fixture.dispose();
  });

  it('migrates once: a second handle applies nothing and sees the same data', async () => {
    const version = await store.schemaVersion();
    expect(version).toBeGreaterThanOrEqual(1);
    expect((await store.enrollAgent(enrollment())).ok).toBe(true);
    await store.close();
    store = await fixture.open();
    expect(await store.schemaVersion()).toBe(version);
    expect(await store.getAgent(AGENT)).toMatchObject({ id: AGENT, unit: '一处' });
  });

  describe('enrollment', () => {
    it('uses a token once, and only before it expires', async () => {
      expect(await store.enrollAgent(enrollment({ tokenHash: 'nope' }))).toEqual({
        ok: false,
        reason: 'token-unknown',
      });
      const first = await store.enrollAgent(enrollment());
      expect(first).toMatchObject({
        ok: true,
        reenrolled: false,
        agent: {
          id: AGENT,
          unit: '一处',
          alg: 'ed25519',
          publicKey: 'PUBKEY',
          hostname: 'ws-01',
          version: '0.1.0',
          enrolledAt: NOW,
          lastSeen: null,
          online: false,
          brokerSecretHash: 'secret-1',
          revokedAt: null,
          ackedSeq: 0,
          reportedSeq: 0,
        },
      });
      expect(await store.enrollAgent(enrollment())).toEqual({ ok: false, reason: 'token-used' });

      await store.createEnrollmentToken({
        tokenHash: 'token-2',
        unit: '一处',
        createdAt: NOW,
        expiresAt: NOW,
      });
      expect(await store.enrollAgent(enrollment({ tokenHash: 'token-2', now: LATER }))).toEqual({
        ok: false,
        reason: 'token-expired',
      });
    });

    it('refuses a second key under a known id', async () => {
      await store.enrollAgent(enrollment());
      await store.createEnrollmentToken({
        tokenHash: 'token-2',
        unit: '一处',
        createdAt: NOW,
        expiresAt: LATER,
      });
      expect(await store.enrollAgent(enrollment({ tokenHash: 'token-2', publicKey: 'OTHERKEY' }))).toEqual({
        ok: false,
        reason: 'key-mismatch',
      });
    });

    it('re-enrolls a known key: same id, watermark and unit, new secret; never moved by a token', async () => {
      await store.enrollAgent(enrollment());
      await store.insertEvent(event(1));
      expect(await store.advanceAckedSeq(AGENT)).toBe(1);
      await store.createEnrollmentToken({
        tokenHash: 'token-2',
        unit: '二处',
        createdAt: NOW,
        expiresAt: LATER,
      });
      expect(
        await store.enrollAgent(enrollment({ tokenHash: 'token-2', brokerSecretHash: 'secret-2' })),
      ).toEqual({ ok: false, reason: 'unit-moved', unit: '一处' });
      await store.createEnrollmentToken({
        tokenHash: 'token-3',
        unit: '一处',
        createdAt: NOW,
        expiresAt: LATER,
      });
      const again = await store.enrollAgent(
        enrollment({ tokenHash: 'token-3', brokerSecretHash: 'secret-3' }),
      );
      expect(again).toMatchObject({
        ok: true,
        reenrolled: true,
        agent: { id: AGENT, unit: '一处', brokerSecretHash: 'secret-3', ackedSeq: 1, enrolledAt: NOW },
      });
      expect(await store.listEvents({ limit: 10 })).toHaveLength(1);
      // The refused token of 二处 was not spent; an admin's move is what changes the unit.
      expect(
        (await store.enrollAgent(enrollment({ tokenHash: 'token-2', agentId: OTHER, publicKey: 'OTHER' })))
          .ok,
      ).toBe(true);
      expect(await store.moveAgent(AGENT, '二处')).toEqual({ from: '一处' });
      expect((await store.getAgent(AGENT))?.unit).toBe('二处');
      expect(await store.moveAgent('ag-nobody', '二处')).toBeUndefined();
    });

    it('refuses a collector token for an agent and leaves it unused', async () => {
      await store.createEnrollmentToken({
        tokenHash: 'token-c',
        unit: '一处',
        kind: 'collector',
        createdAt: NOW,
        expiresAt: LATER,
      });
      expect(await store.enrollAgent(enrollment({ tokenHash: 'token-c' }))).toEqual({
        ok: false,
        reason: 'token-kind',
      });
      expect(await store.getAgent(AGENT)).toBeUndefined();
    });

    it('keeps a revoked key revoked and leaves the token unused', async () => {
      await store.enrollAgent(enrollment());
      expect(await store.revokeAgent(AGENT, NOW)).toBe(true);
      expect(await store.revokeAgent(AGENT, LATER)).toBe(false);
      expect(await store.getAgent(AGENT)).toMatchObject({ revokedAt: NOW, online: false });
      await store.createEnrollmentToken({
        tokenHash: 'token-2',
        unit: '一处',
        createdAt: NOW,
        expiresAt: LATER,
      });
      expect(await store.enrollAgent(enrollment({ tokenHash: 'token-2' }))).toEqual({
        ok: false,
        reason: 'agent-revoked',
      });
      // The refused enrollment did not spend the token: another agent can still use it.
      const other = await store.enrollAgent(
        enrollment({ tokenHash: 'token-2', agentId: OTHER, publicKey: 'OTHER' }),
      );
      expect(other.ok).toBe(true);
      expect(await store.countAgents()).toEqual({ enrolled: 1, online: 0 });
    });

    it('spends a token once when two handles race for it', async () => {
      const racer = await second();
      const results = await Promise.all([
        store.enrollAgent(enrollment()),
        racer.enrollAgent(enrollment({ agentId: OTHER, publicKey: 'OTHER' })),
      ]);
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok)).toEqual([{ ok: false, reason: 'token-used' }]);
      expect((await store.listAgents({})).length).toBe(1);
    });
  });

  describe('events', () => {
    beforeEach(async () => {
      await store.enrollAgent(enrollment());
    });

    it('stores (agent, seq) once and hands back what was stored', async () => {
      expect(await store.insertEvent(event(1))).toMatchObject({ outcome: 'inserted' });
      expect(await store.insertEvent(event(1, { envelope: 'different' }))).toEqual({
        outcome: 'exists',
        envelope: JSON.stringify({ seq: 1 }),
      });
      const [stored] = await store.listEvents({ limit: 10 });
      expect(stored).toEqual({ ...event(1), id: expect.any(Number), unit: '一处' });
    });

    it('inserts a batch in order, reporting each event as new or already stored', async () => {
      await store.insertEvent(event(2));
      const results = await store.insertEvents([
        event(1),
        event(2, { envelope: 'resent' }),
        event(3, { skewed: true }),
        event(3, { envelope: 'again in the same batch' }),
      ]);
      expect(results.map((r) => r.outcome)).toEqual(['inserted', 'exists', 'inserted', 'exists']);
      expect(results[1]).toEqual({ outcome: 'exists', envelope: JSON.stringify({ seq: 2 }) });
      expect(results[3]).toEqual({ outcome: 'exists', envelope: JSON.stringify({ seq: 3 }) });
      const ids = results.flatMap((r) => (r.outcome === 'inserted' ? [r.id] : []));
      expect(new Set(ids).size).toBe(2);
      expect(await store.insertEvents([])).toEqual([]);
      const stored = await store.listEvents({ limit: 10 });
      expect(stored.map((e) => e.seq).sort()).toEqual([1, 2, 3]);
      expect(stored.find((e) => e.seq === 3)!.skewed).toBe(true);
    });

    it('stores each (agent, seq) once when two handles insert it at the same time', async () => {
      const other = await second();
      const batch = Array.from({ length: 50 }, (_, i) => event(i + 1));
      const [a, b] = await Promise.all([store.insertEvents(batch), other.insertEvents([...batch].reverse())]);
      const inserted = [...a, ...b].filter((r) => r.outcome === 'inserted');
      expect(inserted).toHaveLength(50);
      expect(await store.listEvents({ limit: 100 })).toHaveLength(50);
    });

    it('moves the watermark only over contiguous seqs, whatever the arrival order', async () => {
      const arrivals: [number, number][] = [
        [2, 0],
        [1, 2],
        [5, 2],
        [3, 3],
        [4, 5],
        [7, 5],
        [6, 7],
      ];
      for (const [seq, watermark] of arrivals) {
        await store.insertEvent(event(seq));
        expect(await store.advanceAckedSeq(AGENT), `after seq ${seq}`).toBe(watermark);
      }
      expect((await store.getAgent(AGENT))!.ackedSeq).toBe(7);
      expect(await store.advanceAckedSeq('ag-unknown')).toBe(0);
    });

    it('walks a long run of stored seqs past one page', async () => {
      const seqs = Array.from({ length: 1500 }, (_, i) => 1500 - i);
      await store.insertEvents(seqs.map((seq) => event(seq)));
      expect(await store.advanceAckedSeq(AGENT)).toBe(1500);
    });

    it('keeps the watermark moving up when two handles store and advance at once', async () => {
      const other = await second();
      // Each handle stores every other seq, as two collectors sharing a subscription would.
      const odd = Array.from({ length: 100 }, (_, i) => event(2 * i + 1));
      const even = Array.from({ length: 100 }, (_, i) => event(2 * i + 2));
      const marks: number[] = [];
      await Promise.all([
        (async () => {
          for (const e of odd) {
            await store.insertEvent(e);
            marks.push(await store.advanceAckedSeq(AGENT));
          }
        })(),
        (async () => {
          for (const e of even) {
            await other.insertEvent(e);
            marks.push(await other.advanceAckedSeq(AGENT));
          }
        })(),
      ]);
      expect(Math.max(...marks)).toBe(200);
      expect((await store.getAgent(AGENT))!.ackedSeq).toBe(200);
    });

    it('filters by agent, type, time and unit, newest first', async () => {
      await store.createEnrollmentToken({
        tokenHash: 'token-2',
        unit: '二处',
        createdAt: NOW,
        expiresAt: LATER,
      });
      await store.enrollAgent(enrollment({ tokenHash: 'token-2', agentId: OTHER, publicKey: 'OTHER' }));
      await store.insertEvent(event(1, { ts: '2026-11-26T10:00:00.000Z' }));
      await store.insertEvent(event(2, { ts: '2026-11-26T11:00:00.000Z', type: 'usb.storage.attached' }));
      await store.insertEvent(event(1, { agentId: OTHER, ts: '2026-11-26T12:00:00.000Z' }));

      expect((await store.listEvents({ limit: 10 })).map((e) => [e.agentId, e.seq])).toEqual([
        [OTHER, 1],
        [AGENT, 2],
        [AGENT, 1],
      ]);
      expect(await store.listEvents({ agentId: AGENT, limit: 10 })).toHaveLength(2);
      expect(await store.listEvents({ type: 'usb.storage.attached', limit: 10 })).toHaveLength(1);
      expect(await store.listEvents({ since: '2026-11-26T11:00:00.000Z', limit: 10 })).toHaveLength(2);
      expect((await store.listEvents({ units: ['二处'], limit: 10 })).map((e) => e.agentId)).toEqual([OTHER]);
      expect(await store.listEvents({ units: [], limit: 10 })).toEqual([]);
      expect(await store.listEvents({ limit: 1 })).toHaveLength(1);
      expect((await store.listAgents({ units: ['一处'] })).map((a) => a.id)).toEqual([AGENT]);
      expect((await store.listAgents({})).map((a) => a.unit)).toEqual(['一处', '二处']);
      expect(await store.listAgents({ units: [] })).toEqual([]);
    });
  });

  it('tracks heartbeats, status and counts', async () => {
    await store.enrollAgent(enrollment());
    await store.recordHeartbeat(AGENT, NOW, 7);
    expect(await store.getAgent(AGENT)).toMatchObject({ online: true, lastSeen: NOW, reportedSeq: 7 });
    await store.recordHeartbeat(AGENT, NOW, 3);
    expect(await store.getAgent(AGENT)).toMatchObject({ reportedSeq: 7 });
    expect(await store.countAgents()).toEqual({ enrolled: 1, online: 1 });
    await store.setAgentOnline(AGENT, false, LATER);
    expect(await store.getAgent(AGENT)).toMatchObject({ online: false, lastSeen: LATER });
    await store.setAgentOnline(AGENT, true, NOW);
    // A late message does not move last-seen backwards.
    expect(await store.getAgent(AGENT)).toMatchObject({ online: true, lastSeen: LATER });
    await store.markAllAgentsOffline();
    expect(await store.countAgents()).toEqual({ enrolled: 1, online: 0 });
    expect(await store.getAgent('ag-unknown')).toBeUndefined();
  });

  /** AGENT in 一处 and OTHER in 二处. */
  async function enrollBoth(): Promise<void> {
    await store.enrollAgent(enrollment());
    await store.createEnrollmentToken({
      tokenHash: 'token-2',
      unit: '二处',
      createdAt: NOW,
      expiresAt: LATER,
    });
    await store.enrollAgent(enrollment({ tokenHash: 'token-2', agentId: OTHER, publicKey: 'OTHER' }));
  }

  it('records heartbeats in batches: the latest time and highest seq of each agent win', async () => {
    await enrollBoth();
    await store.recordHeartbeats([]);
    expect(await store.countAgents()).toEqual({ enrolled: 2, online: 0 });
    const earlier = '2026-11-26T11:00:00.000Z';
    await store.recordHeartbeats([
      { agentId: AGENT, at: LATER, reportedSeq: 3 },
      { agentId: OTHER, at: earlier, reportedSeq: 2 },
      // Out of order within the batch: neither time nor seq moves back.
      { agentId: AGENT, at: NOW, reportedSeq: 9 },
      { agentId: AGENT, at: earlier, reportedSeq: 4 },
      // Not enrolled: nothing to record, and the rest of the batch still is.
      { agentId: 'ag-unknown', at: NOW, reportedSeq: 1 },
    ]);
    expect(await store.getAgent(AGENT)).toMatchObject({ online: true, lastSeen: LATER, reportedSeq: 9 });
    expect(await store.getAgent(OTHER)).toMatchObject({ online: true, lastSeen: earlier, reportedSeq: 2 });
    expect(await store.getAgent('ag-unknown')).toBeUndefined();
    // Two collectors recording overlapping batches at once: every heartbeat counts, none is lost.
    const other = await second();
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? store : other).recordHeartbeats([
          { agentId: i % 3 ? AGENT : OTHER, at: LATER, reportedSeq: 10 + i },
          { agentId: i % 3 ? OTHER : AGENT, at: NOW, reportedSeq: 20 + i },
        ]),
      ),
    );
    expect(await store.getAgent(AGENT)).toMatchObject({ lastSeen: LATER, reportedSeq: 29 });
    expect(await store.getAgent(OTHER)).toMatchObject({ lastSeen: LATER, reportedSeq: 28 });
  });

  it('records overlapping heartbeat batches while another collector stores the same agents’ events, without deadlock', async () => {
    await enrollBoth();
    const other = await second();
    // Batches of both kinds lock the same two agents, each on its own connection.
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        i % 2
          ? store.recordHeartbeats([
              { agentId: AGENT, at: NOW, reportedSeq: i },
              { agentId: OTHER, at: NOW, reportedSeq: i },
            ])
          : other.insertEvents([event(i + 1, { agentId: OTHER }), event(i + 1, { agentId: AGENT })]),
      ),
    );
    expect(await store.getAgent(AGENT)).toMatchObject({ reportedSeq: 29 });
    expect((await store.listEvents({ limit: 100 })).length).toBe(30);
  });

  it('keeps quarantined payloads as bytes, newest first', async () => {
    const payload = Buffer.from([0xff, 0x00, 0x7b]);
    const entry = {
      receivedAt: NOW,
      topic: 't',
      reason: 'malformed-json',
      detail: 'd',
      claimedAgentId: null,
      payload,
      payloadBytes: 3,
    };
    await store.addQuarantine(entry);
    await store.addQuarantine({ ...entry, reason: 'schema', claimedAgentId: AGENT });
    const [newest, oldest] = await store.listQuarantine({ limit: 5 });
    expect(newest).toMatchObject({ reason: 'schema', claimedAgentId: AGENT });
    expect(oldest).toMatchObject({ reason: 'malformed-json', payloadBytes: 3, claimedAgentId: null });
    expect(Buffer.compare(oldest!.payload, payload)).toBe(0);
    expect(await store.listQuarantine({ limit: 1 })).toHaveLength(1);
  });

  it('stores api keys and users by name, refusing a second user of the same name', async () => {
    await store.createApiKey({ keyHash: 'h', name: 'ops', role: 'viewer', unit: null, createdAt: NOW });
    expect(await store.findApiKey('h')).toEqual({
      keyHash: 'h',
      name: 'ops',
      role: 'viewer',
      unit: null,
      createdAt: NOW,
      revokedAt: null,
    });
    expect(await store.findApiKey('x')).toBeUndefined();
    const user = {
      name: '张三',
      passwordHash: 'scrypt$…',
      role: 'secadmin' as const,
      unit: '一处',
      createdAt: NOW,
    };
    expect(await store.addUser(user)).toBe(true);
    expect(await store.addUser({ ...user, role: 'sysadmin' })).toBe(false);
    expect(await store.getUser('张三')).toEqual({ ...user, disabledAt: null });
    expect(await store.getUser('李四')).toBeUndefined();
  });

  it('lists, revokes and disables: keys by name, users by name, never a second time', async () => {
    const key = (keyHash: string, name: string) =>
      store.createApiKey({ keyHash, name, role: 'viewer', unit: '一处', createdAt: NOW });
    await key('h1', 'wall');
    await key('h2', 'wall');
    await key('h3', 'ops');
    expect(await store.revokeApiKeys('wall', '2026-11-26T13:00:00.000Z')).toBe(2);
    expect(await store.revokeApiKeys('wall', '2026-11-26T14:00:00.000Z')).toBe(0);
    expect(await store.revokeApiKeys('nobody', NOW)).toBe(0);
    const keys = await store.listApiKeys();
    expect(keys.map((k) => [k.keyHash, k.revokedAt])).toEqual([
      ['h3', null],
      ['h1', '2026-11-26T13:00:00.000Z'],
      ['h2', '2026-11-26T13:00:00.000Z'],
    ]);

    const user = { passwordHash: 'old', role: 'secadmin' as const, unit: '一处', createdAt: NOW };
    await store.addUser({ ...user, name: '张三' });
    await store.addUser({ ...user, name: '李四' });
    expect(await store.setUserDisabled('张三', '2026-11-26T13:00:00.000Z')).toBe(true);
    expect(await store.setUserDisabled('王五', NOW)).toBe(false);
    expect(await store.setUserPassword('李四', 'new')).toBe(true);
    expect(await store.setUserPassword('王五', 'new')).toBe(false);
    const users = await store.listUsers();
    expect(users.map((u) => [u.name, u.disabledAt, u.passwordHash]).sort()).toEqual(
      [
        ['张三', '2026-11-26T13:00:00.000Z', 'old'],
        ['李四', null, 'new'],
      ].sort(),
    );
    expect(await store.setUserDisabled('张三', null)).toBe(true);
    expect((await store.getUser('张三'))!.disabledAt).toBeNull();
  });
});
