/**
 * The AuditStore contract on SQLite and PostgreSQL: entries newest first, filtered, chained by
 * hash without a fork under concurrent writers; and the verifier (collector/audit/audit-chain.ts)
 * catching an entry edited (with or without its hash recomputed), deleted (in the middle, or at the
 * end under a signed head) or reordered, and a forged head.
 */
import { afterAll, afterEach, beforeEach, expect, it } from 'vitest';
import { describeChainReport, verifyAuditLog } from '../../collector/audit/audit-log.js';
import { signAuditHead } from '../../collector/audit/audit-seal.js';
import { auditEntryHash } from '../../collector/audit/audit-chain.js';
import { loadOrCreateCollectorIdentity } from '../../collector/identity.js';
import type { NewAuditEntry } from '../../collector/store/audit/audit-store.js';
import type { Database } from '../../collector/store/sql/database.js';
import { sql } from '../../collector/store/sql/query.js';
import type { Store } from '../../collector/store/store.js';
import { ManualClock } from '../../shared/clock.js';
import { tempDir } from '../support/collector-harness.js';
import { describeEachDialect, type DialectFixture } from './dialects.js';

describeEachDialect('AuditStore contract', (makeFixture) => {
  let fixture: DialectFixture;
  let store: Store;
  const others: Store[] = [];
  const keys = tempDir('smew-audit-key-');
  const identity = loadOrCreateCollectorIdentity(keys.path);
  const trusted = [identity.id];
  afterAll(() => keys.remove());
  beforeEach(async () => {
    fixture = await makeFixture();
    store = await fixture.open();
  });
  afterEach(async () => {
    for (const other of others.splice(0)) await other.close();
    await store.close();
    await fixture.dispose();
  });

  const db = (): Database => (store as unknown as { database: Database }).database;
  const entry = (n: number, overrides: Partial<NewAuditEntry> = {}): NewAuditEntry => ({
    at: `2026-12-01T08:00:${String(n).padStart(2, '0')}.000Z`,
    actor: `user-${n}`,
    actorKind: 'user',
    role: 'sysadmin',
    unit: null,
    action: `POST /api/v1/users/u${n}/disable`,
    status: 200,
    ip: '10.0.0.1',
    detail: `{"n":${n}}`,
    ...overrides,
  });
  /** Five entries, the head signed after the fifth. */
  async function fiveSigned(): Promise<void> {
    for (let n = 1; n <= 5; n++) await store.audit.append(entry(n));
    await signAuditHead(store, identity, new ManualClock(new Date('2026-12-01T09:00:00Z')));
  }
  const verify = () => verifyAuditLog(store, trusted);

  it('orders the audit log by when it was written, not by the time an entry claims', async () => {
    // Collectors' clocks differ: the entry stored last is newest even with an earlier `at`.
    const base = {
      actorKind: 'anonymous' as const,
      role: null,
      unit: null,
      status: null,
      ip: '10.0.0.1',
      detail: '',
    };
    await store.audit.append({
      ...base,
      at: '2026-11-26T12:05:00.000Z',
      actor: 'first',
      action: 'login.refused',
    });
    await store.audit.append({
      ...base,
      at: '2026-11-26T12:00:00.000Z',
      actor: 'second',
      action: 'login.refused',
    });
    const entries = await store.audit.list({ limit: 10 });
    expect(entries.map((e) => e.actor)).toEqual(['second', 'first']);
    expect(entries[0]!.id).toBeGreaterThan(entries[1]!.id);
    expect(entries[0]).toMatchObject({ role: null, unit: null, status: null, actorKind: 'anonymous' });
  });

  it('keeps the audit log newest first, filtered by unit and actor, paged by id', async () => {
    const entry = (actor: string, unit: string | null, at: string) => ({
      at,
      actor,
      actorKind: 'user' as const,
      role: 'secadmin' as const,
      unit,
      action: 'POST /api/v1/warnings/w-1/transitions',
      status: 200,
      ip: '10.200.0.5',
      detail: '{"to":"identified"}',
    });
    await store.audit.append(entry('张三', '一处', '2026-11-26T12:00:00.000Z'));
    await store.audit.append(entry('李四', '二处', '2026-11-26T12:01:00.000Z'));
    await store.audit.append(entry('root', null, '2026-11-26T12:02:00.000Z'));
    const all = await store.audit.list({ limit: 10 });
    expect(all.map((e) => e.actor)).toEqual(['root', '李四', '张三']);
    expect(all[2]).toMatchObject(entry('张三', '一处', '2026-11-26T12:00:00.000Z'));
    expect((await store.audit.list({ units: ['一处'], limit: 10 })).map((e) => e.actor)).toEqual(['张三']);
    expect(await store.audit.list({ units: [], limit: 10 })).toEqual([]);
    expect((await store.audit.list({ actor: '李四', limit: 10 })).map((e) => e.unit)).toEqual(['二处']);
    const page = await store.audit.list({ beforeId: all[0]!.id, limit: 1 });
    expect(page.map((e) => e.actor)).toEqual(['李四']);
  });

  it('chains each entry onto the one before: seq without gaps, prevHash, a hash over its fields', async () => {
    const first = await store.audit.append(entry(1));
    const second = await store.audit.append(entry(2, { detail: 'NUL \u0000 kept as its escape' }));
    expect(first).toMatchObject({ seq: 1, prevHash: '0'.repeat(64) });
    expect(second).toMatchObject({ seq: 2, prevHash: first.hash, detail: 'NUL \\u0000 kept as its escape' });
    expect(second.hash).toBe(auditEntryHash(second, 2, first.hash));
    const [stored] = await store.audit.list({ limit: 1 });
    expect(stored).toMatchObject({ seq: 2, prevHash: first.hash, hash: second.hash });
    expect(await verify()).toMatchObject({ ok: true, entries: 2, verifiedThrough: 2, heads: 0, unsigned: 2 });
  });

  it('filters by action text and time', async () => {
    for (let n = 1; n <= 3; n++) await store.audit.append(entry(n));
    await store.audit.append(entry(4, { action: 'login' }));
    expect((await store.audit.list({ action: 'u2/', limit: 10 })).map((e) => e.actor)).toEqual(['user-2']);
    expect((await store.audit.list({ action: '%', limit: 10 })).map((e) => e.actor)).toEqual([]);
    const window = { since: '2026-12-01T08:00:02.000Z', until: '2026-12-01T08:00:04.000Z', limit: 10 };
    expect((await store.audit.list(window)).map((e) => e.actor)).toEqual(['user-3', 'user-2']);
  });

  it('two writers at once never fork the chain', async () => {
    const second = await fixture.open();
    others.push(second);
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? store : second).audit.append(entry(i % 60))),
    );
    const report = await verify();
    expect(report).toMatchObject({ ok: true, entries: 40, verifiedThrough: 40 });
    const seqs = (await store.audit.list({ limit: 100 })).map((e) => e.seq);
    expect(new Set(seqs).size).toBe(40);
  });

  it('signs the head only when entries were added since, and verifies the signature and the signer', async () => {
    await fiveSigned();
    expect(await signAuditHead(store, identity, new ManualClock(new Date()))).toBeUndefined();
    const report = await verify();
    expect(report).toMatchObject({
      ok: true,
      heads: 1,
      newestHead: { seq: 5, collector: identity.id },
      unsigned: 0,
    });
    expect(describeChainReport(report)).toContain('chain intact through seq 5');
    expect(await verifyAuditLog(store, [])).toMatchObject({
      ok: false,
      problem: { kind: 'unknown-signer', seq: 5 },
    });
  });

  it('catches an edited entry', async () => {
    await fiveSigned();
    await db().run(sql`UPDATE audit_log SET detail = ${'{"n":"forged"}'} WHERE seq = 3`);
    const report = await verify();
    expect(report).toMatchObject({ ok: false, verifiedThrough: 2, problem: { kind: 'edited', seq: 3 } });
    expect(describeChainReport(report)).toMatch(/BROKEN at entry \d+ \(seq 3\): edited/);
  });

  it('catches an edited entry whose hash was recomputed to hide it', async () => {
    await fiveSigned();
    const [third] = await store.audit.list({ actor: 'user-3', limit: 1 });
    const forged = { ...third!, actor: 'someone-else' };
    const hash = auditEntryHash(forged, 3, third!.prevHash!);
    await db().run(sql`UPDATE audit_log SET actor = ${forged.actor}, hash = ${hash} WHERE seq = 3`);
    expect(await verify()).toMatchObject({ ok: false, problem: { kind: 'edited', id: third!.id, seq: 3 } });
  });

  it('catches a deleted entry', async () => {
    await fiveSigned();
    await db().run(sql`DELETE FROM audit_log WHERE seq = 3`);
    const report = await verify();
    expect(report).toMatchObject({ ok: false, verifiedThrough: 2, problem: { kind: 'deleted', seq: 4 } });
    expect(report.problem!.detail).toContain('seq 3');
  });

  it('catches the last entries deleted, by the signed head that names them', async () => {
    await fiveSigned();
    await db().run(sql`DELETE FROM audit_log WHERE seq >= 4`);
    expect(await verify()).toMatchObject({ ok: false, problem: { kind: 'deleted', seq: 5 } });
  });

  it('catches reordered entries', async () => {
    await fiveSigned();
    const ids = (await store.audit.list({ limit: 10 })).map((e) => e.id).reverse();
    // Entries 2 and 3 trade places: what an auditor reads in id order is no longer the order written.
    await db().run(sql`UPDATE audit_log SET id = ${-1} WHERE id = ${ids[1]}`);
    await db().run(sql`UPDATE audit_log SET id = ${ids[1]} WHERE id = ${ids[2]}`);
    await db().run(sql`UPDATE audit_log SET id = ${ids[2]} WHERE id = ${-1}`);
    const report = await verify();
    expect(report).toMatchObject({
      ok: false,
      verifiedThrough: 1,
      problem: { kind: 'reordered', id: ids[1], seq: 3 },
    });
  });

  it('catches a forged head', async () => {
    await fiveSigned();
    await db().run(sql`UPDATE audit_heads SET seq = 4`);
    expect(await verify()).toMatchObject({ ok: false, problem: { kind: 'bad-signature', seq: 4 } });
  });
});
