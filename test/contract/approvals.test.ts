/**
 * The enrollment-approval store (enroll.approval: manual) on SQLite and PostgreSQL: one contract.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Store } from '../../collector/store/store.js';
import { enrollment } from '../unit/store-contract.js';
import { describeEachDialect, type DialectFixture } from './dialects.js';

const T0 = '2026-11-27T00:00:00.000Z';
const T1 = '2026-11-27T01:00:00.000Z';
const T2 = '2026-11-27T02:00:00.000Z';
const A = 'ag-aaaaaaaaaaaaaaaaaaaa';
const B = 'ag-bbbbbbbbbbbbbbbbbbbb';
const C = 'ag-cccccccccccccccccccc';

describeEachDialect('AgentApprovalStore contract', (makeFixture) => {
  let fixture: DialectFixture;
  let store: Store;
  const handles: Store[] = [];
  beforeEach(async () => {
    fixture = await makeFixture();
    store = await fixture.open();
    handles.push(store);
  });
  afterEach(async () => {
    for (const handle of handles.splice(0)) await handle.close();
    await fixture.dispose();
  });

  async function enroll(id: string): Promise<void> {
    await store.createEnrollmentToken({
      tokenHash: `tok-${id}`,
      unit: '一处',
      createdAt: T0,
      expiresAt: T2,
    });
    const result = await store.enrollAgent(
      enrollment({ tokenHash: `tok-${id}`, agentId: id, publicKey: `PUB-${id}`, now: T0 }),
    );
    expect(result.ok).toBe(true);
  }

  it('an agent without a row is approved; a request makes it pending until decided', async () => {
    expect(await store.approvals.isApproved(A)).toBe(true);
    await store.approvals.requestApproval(A, T0);
    await store.approvals.requestApproval(A, T1); // a repeat keeps the first request
    await enroll(A);
    expect(await store.approvals.isApproved(A)).toBe(false);
    expect(await store.approvals.get(A)).toEqual({
      agentId: A,
      state: 'pending',
      requestedAt: T0,
      decidedAt: null,
      decidedBy: null,
    });
    expect(await store.approvals.listUnapproved()).toEqual([A]);
  });

  it('lists pending agents that finished enrolling, oldest request first; a withdrawn request goes', async () => {
    await store.approvals.requestApproval(B, T1);
    await store.approvals.requestApproval(A, T0);
    await store.approvals.requestApproval(C, T0); // never enrolled
    await enroll(A);
    await enroll(B);
    expect((await store.approvals.listPending()).map((r) => r.agentId)).toEqual([A, B]);
    await store.approvals.withdrawRequest(C);
    expect(await store.approvals.get(C)).toBeUndefined();
  });

  it('decides once: two collectors deciding at once, one wins; decisions are listed since a time', async () => {
    await store.approvals.requestApproval(A, T0);
    await store.approvals.requestApproval(B, T0);
    await enroll(A);
    await enroll(B);
    const other = await fixture.open();
    handles.push(other);
    const outcomes = await Promise.all([
      store.approvals.decide(A, 'approved', 'admin-1', T1),
      other.approvals.decide(A, 'rejected', 'admin-2', T1),
    ]);
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    expect(await store.approvals.decide(B, 'rejected', 'admin-1', T2)).toBe(true);
    expect(await store.approvals.decide(B, 'approved', 'admin-1', T2)).toBe(false);
    expect((await store.approvals.listDecidedSince(T2)).map((r) => [r.agentId, r.state])).toEqual([
      [B, 'rejected'],
    ]);
    expect(await store.approvals.isApproved(B)).toBe(false);
    // A withdrawal touches only a pending row.
    await store.approvals.withdrawRequest(B);
    expect((await store.approvals.get(B))?.state).toBe('rejected');
  });
});
