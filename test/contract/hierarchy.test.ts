/**
 * The HierarchyStore contract on SQLite and PostgreSQL. A second handle on the same database is
 * what a second collector sharing it has.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { hashSecret } from '../../collector/auth/secrets.js';
import {
  HIERARCHY_VERSION,
  sign,
  type ChildCert,
  type SigningKey,
} from '../../collector/hierarchy/messages.js';
import { ownReport } from '../../collector/hierarchy/reports.js';
import type { ParentRecord } from '../../collector/store/hierarchy/hierarchy-store.js';
import type { Store } from '../../collector/store/store.js';
import { ed25519Suite } from '../../shared/crypto/ed25519.js';
import { collectorIdFromPublicKey } from '../../shared/identity.js';
import { enrollment, event } from '../unit/store-contract.js';
import { describeEachDialect, type DialectFixture } from './dialects.js';

function key(): SigningKey & { publicKey: string } {
  const pair = ed25519Suite.generateKeyPair();
  return {
    id: collectorIdFromPublicKey(pair.publicKey),
    alg: 'ed25519',
    publicKey: pair.publicKey,
    sign: ed25519Suite.signer(pair.privateKey),
  };
}

function cert(parent: SigningKey, child: SigningKey & { publicKey: string }, unit: string): ChildCert {
  return sign(
    {
      v: HIERARCHY_VERSION,
      kind: 'smew.hierarchy.child' as const,
      parent: parent.id,
      child: child.id,
      unit,
      level: 'unit' as const,
      childAlg: 'ed25519' as const,
      publicKey: child.publicKey,
      enrolledAt: '2026-11-27T00:00:00.000Z',
    },
    parent,
  );
}

const T0 = '2026-11-27T00:00:00.000Z';
const T1 = '2026-11-27T01:00:00.000Z';
const T2 = '2026-11-27T02:00:00.000Z';

describeEachDialect('HierarchyStore contract', (makeFixture) => {
  let fixture: DialectFixture;
  const handles: Store[] = [];
  let store: Store;
  const self = key();
  const parentKey = key();
  const origin = { identity: self, unit: '某县', level: 'county' as const };
  const parent: ParentRecord = {
    url: 'http://127.0.0.1:1',
    id: parentKey.id,
    alg: 'ed25519',
    publicKey: parentKey.publicKey,
    unit: '某市',
    level: 'city',
    cert: cert(parentKey, self, '某县'),
    enrolledAt: T0,
  };

  beforeEach(async () => {
    fixture = await makeFixture();
    store = await fixture.open();
    handles.push(store);
  });
  afterEach(async () => {
    for (const handle of handles.splice(0)) await handle.close();
    await fixture.dispose();
  });

  /** Another handle on the same database: what a second collector sharing it has. */
  async function second(): Promise<Store> {
    const handle = await fixture.open();
    handles.push(handle);
    return handle;
  }

  it('queues own reports only with a parent, once per producer key, with seqs never reused', async () => {
    const h = store.hierarchy;
    expect(
      await h.enqueueOwn('a', T0, (seq) => ownReport(origin, seq, T0, 'agent.health', 'a', {})),
    ).toBeUndefined();
    await h.setParent(parent);
    const a = await h.enqueueOwn('a', T0, (seq) => ownReport(origin, seq, T0, 'agent.health', 'a', {}));
    const again = await h.enqueueOwn('a', T1, () => {
      throw new Error('must not build a report twice');
    });
    const b = await h.enqueueOwn('b', T0, (seq) => ownReport(origin, seq, T0, 'agent.health', 'b', {}));
    expect(a).toEqual({ linkSeq: expect.any(Number), created: true });
    expect(again).toEqual({ linkSeq: a!.linkSeq, created: false });
    const pending = await h.pendingOutbox(10);
    expect(pending.map((p) => p.record.report.seq)).toEqual([1, 2]);
    expect(pending.map((p) => p.linkSeq)).toEqual([a!.linkSeq, b!.linkSeq]);
    expect(pending[0]!.record.chain).toEqual([]);
  });

  it('a receipt delivers each entry once and keeps the parent’s receipt time', async () => {
    const h = store.hierarchy;
    await h.setParent(parent);
    for (const k of ['x', 'y', 'z'])
      await h.enqueueOwn(k, T0, (seq) => ownReport(origin, seq, T0, 'agent.health', k, {}));
    const pending = await h.pendingOutbox(10);
    await h.markAttempt(
      pending.map((p) => p.linkSeq),
      T1,
    );
    await h.markAttempt([pending[0]!.linkSeq], T2);
    const delivered = await h.applyReceipt(
      [{ linkSeq: pending[0]!.linkSeq, receivedAt: T1 }],
      [{ linkSeq: pending[1]!.linkSeq, reason: 'refused' }],
      T2,
    );
    expect(delivered).toEqual([
      expect.objectContaining({ linkSeq: pending[0]!.linkSeq, firstSentAt: T1, receivedAt: T1 }),
    ]);
    expect(await h.applyReceipt([{ linkSeq: pending[0]!.linkSeq, receivedAt: T2 }], [], T2)).toEqual([]);
    expect((await h.pendingOutbox(10)).map((p) => p.linkSeq)).toEqual([pending[2]!.linkSeq]);
    expect(await h.outboxStats()).toMatchObject({ pending: 1, delivered: 1, rejected: 1 });
    expect((await h.ownReport('x'))?.receivedAt).toBe(T1);
  });

  it('enrolls a child with a one-time token for its unit', async () => {
    const h = store.hierarchy;
    const child = key();
    await store.createEnrollmentToken({
      kind: 'collector',
      tokenHash: hashSecret('tok-1'),
      unit: '甲单位',
      createdAt: T0,
      expiresAt: T2,
    });
    const request = {
      tokenHash: hashSecret('tok-1'),
      now: T1,
      id: child.id,
      alg: 'ed25519' as const,
      publicKey: child.publicKey,
      level: 'unit' as const,
      certify: (unit: string) => cert(self, child, unit),
    };
    expect(await h.enrollChild({ ...request, unit: '乙单位' })).toEqual({
      ok: false,
      reason: 'unit-mismatch',
      unit: '甲单位',
    });
    const enrolled = await h.enrollChild({ ...request, unit: '甲单位' });
    expect(enrolled).toMatchObject({
      ok: true,
      reenrolled: false,
      child: { id: child.id, unit: '甲单位', direct: true },
    });
    expect(await h.enrollChild({ ...request, unit: '甲单位' })).toEqual({
      ok: false,
      reason: 'token-used',
    });
    await store.createEnrollmentToken({
      kind: 'collector',
      tokenHash: hashSecret('tok-old'),
      unit: '甲单位',
      createdAt: T0,
      expiresAt: T0,
    });
    expect(await h.enrollChild({ ...request, tokenHash: hashSecret('tok-old'), unit: '甲单位' })).toEqual({
      ok: false,
      reason: 'token-expired',
    });
    expect((await h.getSubordinate(child.id))?.cert.child).toBe(child.id);
  });

  it('stores received reports once, forwards them with the sender’s certificate, and scopes them by unit', async () => {
    const h = store.hierarchy;
    const child = key();
    const other = key();
    await store.createEnrollmentToken({
      kind: 'collector',
      tokenHash: hashSecret('t1'),
      unit: '甲单位',
      createdAt: T0,
      expiresAt: T2,
    });
    await store.createEnrollmentToken({
      kind: 'collector',
      tokenHash: hashSecret('t2'),
      unit: '乙单位',
      createdAt: T0,
      expiresAt: T2,
    });
    const common = { now: T1, alg: 'ed25519' as const, level: 'unit' as const };
    await h.enrollChild({
      ...common,
      tokenHash: hashSecret('t1'),
      id: child.id,
      publicKey: child.publicKey,
      unit: '甲单位',
      certify: (u) => cert(self, child, u),
    });
    await h.enrollChild({
      ...common,
      tokenHash: hashSecret('t2'),
      id: other.id,
      publicKey: other.publicKey,
      unit: '乙单位',
      certify: (u) => cert(self, other, u),
    });
    await h.setParent(parent);

    const childOrigin = { identity: child, unit: '甲单位', level: 'unit' as const };
    const r1 = ownReport(childOrigin, 1, T0, 'incident', 'incident:1', { id: '1' });
    const first = await h.receive(
      child.id,
      [{ linkSeq: 5, report: r1, chain: [], pathUnits: ['甲单位'] }],
      T1,
    );
    const repeat = await h.receive(
      child.id,
      [{ linkSeq: 9, report: r1, chain: [], pathUnits: ['甲单位'] }],
      T2,
    );
    expect(first).toEqual([{ linkSeq: 5, origin: child.id, seq: 1, receivedAt: T1, duplicate: false }]);
    expect(repeat).toEqual([{ linkSeq: 9, origin: child.id, seq: 1, receivedAt: T1, duplicate: true }]);
    const forwarded = await h.pendingOutbox(10);
    expect(forwarded).toHaveLength(1);
    expect(forwarded[0]!.record.report).toEqual(r1);
    expect(forwarded[0]!.record.chain.map((c) => c.child)).toEqual([child.id]);

    const r2 = ownReport({ identity: other, unit: '乙单位', level: 'unit' }, 1, T0, 'warning', 'w', {});
    await h.receive(other.id, [{ linkSeq: 1, report: r2, chain: [], pathUnits: ['乙单位'] }], T1);
    expect((await h.listReports({ limit: 10 })).map((r) => r.unit).sort()).toEqual(['乙单位', '甲单位']);
    expect((await h.listReports({ units: ['甲单位'], limit: 10 })).map((r) => r.origin)).toEqual([child.id]);
    expect(await h.listReports({ units: ['丙单位'], limit: 10 })).toEqual([]);
    expect((await h.listReports({ type: 'warning', limit: 10 })).map((r) => r.origin)).toEqual([other.id]);
    expect((await h.listSubordinates({ units: ['乙单位'] })).map((s) => s.id)).toEqual([other.id]);
  });

  it('keeps notices, acknowledges a received one upward in the same step, and tracks answers', async () => {
    const h = store.hierarchy;
    await h.setParent(parent);
    const notice = sign(
      {
        v: HIERARCHY_VERSION,
        kind: 'smew.hierarchy.notice' as const,
        id: 'nt-1',
        type: 'notice' as const,
        issuer: parentKey.id,
        issuerUnit: '某市',
        issuerLevel: 'city' as const,
        ts: T0,
        title: '预警通报',
        body: '请排查',
      },
      parentKey,
    );
    const relayed = { notice, issuerAlg: 'ed25519' as const, issuerPublicKey: parentKey.publicKey };
    const ack = (seq: number) =>
      ownReport(origin, seq, T1, 'notice.ack', 'notice:nt-1', { notice: 'nt-1', ackedAt: T1 });
    expect(await h.addNotice(relayed, 'received', T1, ack)).toBe(true);
    expect(await h.addNotice(relayed, 'received', T2, ack)).toBe(false);
    expect((await h.pendingOutbox(10)).map((p) => p.type)).toEqual(['notice.ack']);
    expect(await h.getNotice('nt-1')).toMatchObject({ source: 'received', ackedAt: T1, result: null });

    const result = (seq: number) =>
      ownReport(origin, seq, T2, 'notice.result', 'notice:nt-1', { notice: 'nt-1', result: '无' });
    expect(await h.setOwnResult('nt-1', '无', T2, result)).toBe(true);
    expect(await h.setOwnResult('nt-1', '再次', T2, result)).toBe(false);
    expect((await h.getNotice('nt-1'))?.result).toBe('无');

    // As a parent: the child is offered the notice until its acknowledgement arrives.
    const child = key();
    await store.createEnrollmentToken({
      kind: 'collector',
      tokenHash: hashSecret('tc'),
      unit: '甲单位',
      createdAt: T0,
      expiresAt: T2,
    });
    await h.enrollChild({
      tokenHash: hashSecret('tc'),
      now: T1,
      id: child.id,
      alg: 'ed25519',
      publicKey: child.publicKey,
      level: 'unit',
      unit: '甲单位',
      certify: (u) => cert(self, child, u),
    });
    expect((await h.noticesFor(child.id, 10)).map((n) => n.notice.id)).toEqual(['nt-1']);
    const childAck = ownReport(
      { identity: child, unit: '甲单位', level: 'unit' },
      1,
      T2,
      'notice.ack',
      'notice:nt-1',
      { notice: 'nt-1', ackedAt: T2 },
    );
    await h.receive(child.id, [{ linkSeq: 1, report: childAck, chain: [], pathUnits: ['甲单位'] }], T2);
    expect(await h.noticesFor(child.id, 10)).toEqual([]);
    expect(await h.listResponses('nt-1')).toEqual([
      { collector: child.id, unit: '甲单位', level: 'unit', ackedAt: T2, result: null, resultAt: null },
    ]);
  });

  /** Enrolls `child` directly below this collector for `unit`. */
  async function enrollDirect(child: SigningKey & { publicKey: string }, unit: string): Promise<void> {
    await store.createEnrollmentToken({
      kind: 'collector',
      tokenHash: hashSecret(`tok-${child.id}`),
      unit,
      createdAt: T0,
      expiresAt: T2,
    });
    const enrolled = await store.hierarchy.enrollChild({
      tokenHash: hashSecret(`tok-${child.id}`),
      now: T1,
      id: child.id,
      alg: 'ed25519',
      publicKey: child.publicKey,
      level: 'unit',
      unit,
      certify: (u) => cert(self, child, u),
    });
    expect(enrolled.ok).toBe(true);
  }

  it('keeps the parent’s last contact and last error', async () => {
    const h = store.hierarchy;
    expect(await h.getParent()).toBeUndefined();
    await h.setParent(parent);
    await h.recordParentContact(T1, null);
    await h.recordParentContact(T2, 'connection refused');
    expect(await h.getParent()).toEqual({ ...parent, lastContactAt: T1, lastError: 'connection refused' });
    await h.setParent({ ...parent, url: 'http://127.0.0.1:2' });
    expect(await (await second()).hierarchy.getParent()).toMatchObject({
      url: 'http://127.0.0.1:2',
      lastContactAt: T1,
      lastError: null,
    });
  });

  it('lists delivered reports of one type oldest first, and the outbox’s times', async () => {
    const h = store.hierarchy;
    await h.setParent(parent);
    const queue = (k: string, type: 'incident' | 'agent.health', at: string) =>
      h.enqueueOwn(k, at, (seq) => ownReport(origin, seq, at, type, k, {}));
    const i1 = (await queue('i1', 'incident', T0))!;
    const h1 = (await queue('h1', 'agent.health', T1))!;
    const i2 = (await queue('i2', 'incident', T1))!;
    expect(await h.outboxStats()).toEqual({
      pending: 3,
      delivered: 0,
      rejected: 0,
      oldestPendingAt: T0,
      lastReceiptAt: null,
    });
    await h.applyReceipt([{ linkSeq: i2.linkSeq, receivedAt: T1 }], [], T1);
    await h.applyReceipt([{ linkSeq: i1.linkSeq, receivedAt: T2 }], [], T2);
    expect((await h.deliveredOutbox('incident')).map((d) => [d.linkSeq, d.report.key, d.receivedAt])).toEqual(
      [
        [i1.linkSeq, 'i1', T2],
        [i2.linkSeq, 'i2', T1],
      ],
    );
    expect(await h.deliveredOutbox('agent.health')).toEqual([]);
    expect(await h.outboxStats()).toEqual({
      pending: 1,
      delivered: 2,
      rejected: 0,
      oldestPendingAt: T1,
      lastReceiptAt: T2,
    });
    expect(await h.ownReport('h1')).toMatchObject({ receivedAt: null, firstSentAt: null });
    expect((await h.ownReport('h1'))?.report.seq).toBe(2);
    expect(await h.ownReport('nothing')).toBeUndefined();
    expect(h1.created).toBe(true);
  });

  it('two collectors queueing the same producer keys at once queue each once, seqs 1…n without gaps', async () => {
    const h = store.hierarchy;
    await h.setParent(parent);
    const other = (await second()).hierarchy;
    const keys = Array.from({ length: 8 }, (_, i) => `same-${i}`);
    let built = 0;
    const build = (k: string) => (seq: number) => {
      built += 1;
      return ownReport(origin, seq, T0, 'agent.health', k, {});
    };
    const results = await Promise.all(
      keys.flatMap((k) => [h.enqueueOwn(k, T0, build(k)), other.enqueueOwn(k, T0, build(k))]),
    );
    expect(built).toBe(keys.length);
    expect(results.filter((r) => r?.created)).toHaveLength(keys.length);
    for (let i = 0; i < keys.length; i += 1)
      expect(results[2 * i]!.linkSeq).toBe(results[2 * i + 1]!.linkSeq);
    const pending = await h.pendingOutbox(100);
    expect(pending.map((p) => p.record.report.key).sort()).toEqual([...keys].sort());
    expect(pending.map((p) => p.record.report.seq).sort((a, b) => a - b)).toEqual(keys.map((_, i) => i + 1));
  });

  it('a batch two collectors receive at once is stored, applied and forwarded once', async () => {
    const h = store.hierarchy;
    const child = key();
    await enrollDirect(child, '甲单位');
    await h.setParent(parent);
    const other = (await second()).hierarchy;
    const childOrigin = { identity: child, unit: '甲单位', level: 'unit' as const };
    const records = [1, 2, 3, 4, 5, 6].map((seq) => ({
      linkSeq: seq,
      report: ownReport(childOrigin, seq, T0, 'warning', `w${seq}`, {}),
      chain: [],
      pathUnits: ['甲单位'],
    }));
    const [mine, theirs] = await Promise.all([
      h.receive(child.id, records, T1),
      // The other collector got them in another order: no deadlock, the same answer per record.
      other.receive(child.id, [...records].reverse(), T1),
    ]);
    expect(mine!.map((a) => a.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(theirs!.map((a) => a.seq)).toEqual([6, 5, 4, 3, 2, 1]);
    for (const seq of [1, 2, 3, 4, 5, 6]) {
      const answers = [...mine!, ...theirs!].filter((a) => a.seq === seq);
      expect(answers.map((a) => a.duplicate).sort()).toEqual([false, true]);
      expect(answers.every((a) => a.receivedAt === T1)).toBe(true);
    }
    expect(await h.listReports({ limit: 100 })).toHaveLength(6);
    const forwarded = await h.pendingOutbox(100);
    expect(forwarded.map((f) => f.record.report.seq).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await h.getSubordinate(child.id))?.lastSeenAt).toBe(T1);
  });

  it('a receipt two collectors apply at once delivers each entry once', async () => {
    const h = store.hierarchy;
    await h.setParent(parent);
    const other = (await second()).hierarchy;
    for (const k of ['p', 'q', 'r'])
      await h.enqueueOwn(k, T0, (seq) => ownReport(origin, seq, T0, 'agent.health', k, {}));
    const accepted = (await h.pendingOutbox(10)).map((p) => ({ linkSeq: p.linkSeq, receivedAt: T1 }));
    const [mine, theirs] = await Promise.all([
      h.applyReceipt(accepted, [], T1),
      other.applyReceipt([...accepted].reverse(), [], T1),
    ]);
    expect([...mine!, ...theirs!].map((d) => d.linkSeq).sort()).toEqual(
      accepted.map((a) => a.linkSeq).sort(),
    );
    expect(await h.outboxStats()).toMatchObject({ pending: 0, delivered: 3 });
  });

  it('two collectors pulling one notice and recording its result at once queue one ack and one result', async () => {
    const h = store.hierarchy;
    await h.setParent(parent);
    const other = (await second()).hierarchy;
    const notice = sign(
      {
        v: HIERARCHY_VERSION,
        kind: 'smew.hierarchy.notice' as const,
        id: 'nt-2',
        type: 'notice' as const,
        issuer: parentKey.id,
        issuerUnit: '某市',
        issuerLevel: 'city' as const,
        ts: T0,
        title: '预警通报',
        body: '请排查',
      },
      parentKey,
    );
    const relayed = { notice, issuerAlg: 'ed25519' as const, issuerPublicKey: parentKey.publicKey };
    const answer = (type: 'notice.ack' | 'notice.result') => (seq: number) =>
      ownReport(origin, seq, T1, type, 'notice:nt-2', { notice: 'nt-2', ackedAt: T1, result: '无' });
    const added = await Promise.all([
      h.addNotice(relayed, 'received', T1, answer('notice.ack')),
      other.addNotice(relayed, 'received', T1, answer('notice.ack')),
    ]);
    expect(added.sort()).toEqual([false, true]);
    const recorded = await Promise.all([
      h.setOwnResult('nt-2', '无', T2, answer('notice.result')),
      other.setOwnResult('nt-2', '无异常', T2, answer('notice.result')),
    ]);
    expect(recorded.sort()).toEqual([false, true]);
    const queued = await h.pendingOutbox(10);
    expect(queued.map((q) => q.type)).toEqual(['notice.ack', 'notice.result']);
    expect(queued.map((q) => q.record.report.seq)).toEqual([1, 2]);
    expect(await h.listNotices(10)).toHaveLength(1);
  });

  it('learns subordinates below a child and notice results from reports, never overriding a direct child', async () => {
    const h = store.hierarchy;
    const child = key();
    const grandchild = key();
    await enrollDirect(child, '甲单位');
    const childOrigin = { identity: child, unit: '甲单位', level: 'unit' as const };
    const enrolled = ownReport(childOrigin, 1, T1, 'collector.enrolled', grandchild.id, {
      cert: cert(child, grandchild, '甲科'),
    });
    // A report claiming the direct child sits elsewhere changes nothing about it.
    const claim = ownReport(childOrigin, 2, T1, 'collector.enrolled', child.id, {
      cert: cert(grandchild, child, '伪单位'),
    });
    const answer = ownReport(childOrigin, 3, T2, 'notice.result', 'notice:nt-9', {
      notice: 'nt-9',
      result: '已排查',
    });
    await h.receive(
      child.id,
      [enrolled, claim, answer].map((report, i) => ({
        linkSeq: i + 1,
        report,
        chain: [],
        pathUnits: ['甲单位'],
      })),
      T2,
    );
    expect(await h.getSubordinate(grandchild.id)).toMatchObject({
      unit: '甲科',
      parent: child.id,
      direct: false,
    });
    expect(await h.getSubordinate(child.id)).toMatchObject({ unit: '甲单位', direct: true });
    expect((await h.listSubordinates({ units: ['甲单位'] })).map((s) => s.id)).toEqual([
      child.id,
      grandchild.id,
    ]);
    expect((await h.listSubordinates({ units: ['甲科'] })).map((s) => s.id)).toEqual([grandchild.id]);
    expect(await h.listSubordinates({ units: [] })).toEqual([]);
    expect(await h.listResponses('nt-9')).toEqual([
      { collector: child.id, unit: '甲单位', level: 'unit', ackedAt: T2, result: '已排查', resultAt: T2 },
    ]);
    expect((await h.listReports({ origin: child.id, limit: 2 })).map((r) => r.seq)).toEqual([3, 2]);
  });

  it('stores a signed report whatever text it carries, NUL included', async () => {
    const h = store.hierarchy;
    const child = key();
    await enrollDirect(child, '甲单位');
    const report = ownReport(
      { identity: child, unit: '甲单位', level: 'unit' },
      1,
      T0,
      'warning',
      'k\u0000x',
      {
        note: 'a\u0000b',
      },
    );
    const [accepted] = await h.receive(
      child.id,
      [{ linkSeq: 1, report, chain: [], pathUnits: ['甲单位'] }],
      T1,
    );
    expect(accepted).toMatchObject({ duplicate: false });
    const [stored] = await h.listReports({ limit: 1 });
    expect(stored!.report).toEqual(report);
  });

  it('gives the stored envelopes of events with their agents’ keys', async () => {
    await store.createEnrollmentToken({
      tokenHash: 'agent-tok',
      unit: '甲单位',
      createdAt: T0,
      expiresAt: T2,
    });
    const agentId = 'ag-aaaaaaaaaaaaaaaaaaaa';
    await store.enrollAgent(enrollment({ tokenHash: 'agent-tok', agentId, publicKey: 'AGENTKEY', now: T0 }));
    const [one, two] = await store.insertEvents([
      event(1, { agentId, envelope: 'E1' }),
      event(2, { agentId, envelope: 'E2' }),
    ]);
    const ids = [one, two].map((r) => (r!.outcome === 'inserted' ? r!.id : -1));
    expect(await store.hierarchy.evidenceEnvelopes([ids[1]!, ids[0]!, 999_999])).toEqual([
      { envelope: 'E1', agent: { id: agentId, alg: 'ed25519', publicKey: 'AGENTKEY' } },
      { envelope: 'E2', agent: { id: agentId, alg: 'ed25519', publicKey: 'AGENTKEY' } },
    ]);
    expect(await store.hierarchy.evidenceEnvelopes([])).toEqual([]);
  });

  it('the outbox and the seq counter survive closing and reopening the database', async () => {
    const pair = ed25519Suite.generateKeyPair();
    const identity = {
      id: collectorIdFromPublicKey(pair.publicKey),
      alg: 'ed25519' as const,
      sign: ed25519Suite.signer(pair.privateKey),
    };
    const origin = { identity, unit: '甲单位', level: 'unit' as const };
    const cert = sign(
      {
        v: HIERARCHY_VERSION,
        kind: 'smew.hierarchy.child' as const,
        parent: identity.id,
        child: identity.id,
        unit: '甲单位',
        level: 'unit' as const,
        childAlg: 'ed25519' as const,
        publicKey: pair.publicKey,
        enrolledAt: '2026-11-27T00:00:00.000Z',
      },
      identity,
    );
    const t = '2026-11-27T00:00:00.000Z';
    let handle = await fixture.open();
    expect(await handle.schemaVersion()).toBeGreaterThanOrEqual(6);
    await handle.hierarchy.setParent({
      url: 'http://127.0.0.1:1',
      id: identity.id,
      alg: 'ed25519',
      publicKey: pair.publicKey,
      unit: '某县',
      level: 'county',
      cert,
      enrolledAt: t,
    });
    await handle.hierarchy.enqueueOwn('one', t, (seq) =>
      ownReport(origin, seq, t, 'agent.health', 'one', {}),
    );
    await handle.close();
    handle = await fixture.open();
    await handle.hierarchy.enqueueOwn('two', t, (seq) =>
      ownReport(origin, seq, t, 'agent.health', 'two', {}),
    );
    const pending = await handle.hierarchy.pendingOutbox(10);
    expect(pending.map((p) => [p.record.report.key, p.record.report.seq])).toEqual([
      ['one', 1],
      ['two', 2],
    ]);
    expect((await handle.hierarchy.getParent())?.unit).toBe('某县');
    await handle.close();
  });
});
