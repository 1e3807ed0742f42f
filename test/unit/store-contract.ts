/**
 * The Store contract's fixtures (the contract itself is test/contract/store.test.ts): an
 * enrollment request, an event, an enrolled agent — what tests of every other domain start from.
 */
import type { EnrollAgentRequest, NewEvent, Store } from '../../collector/store/store.js';

export interface StoreFixture {
  /** A new handle on this fixture's database (migrated on first open). */
  open(): Promise<Store>;
  /** Removes the database; every handle is closed by then. */
  dispose(): Promise<void>;
}

export const NOW = '2026-11-26T12:00:00.000Z';
export const LATER = '2026-11-27T12:00:00.000Z';
export const AGENT = 'ag-aaaaaaaaaaaaaaaaaaaa';

export function enrollment(overrides: Partial<EnrollAgentRequest> = {}): EnrollAgentRequest {
  return {
    tokenHash: 'token-1',
    agentId: AGENT,
    alg: 'ed25519',
    publicKey: 'PUBKEY',
    hostname: 'ws-01',
    version: '0.1.0',
    brokerSecretHash: 'secret-1',
    now: NOW,
    ...overrides,
  };
}

/** Enrolls AGENT in 一处 through the token enrollment() names: what a test beside the contract needs first. */
export async function enrollAgentIn(
  store: Pick<Store, 'createEnrollmentToken' | 'enrollAgent'>,
): Promise<void> {
  await store.createEnrollmentToken({
    tokenHash: 'token-1',
    unit: '一处',
    createdAt: '2026-01-01T00:00:00Z',
    expiresAt: '2999-01-01T00:00:00Z',
  });
  await store.enrollAgent(enrollment());
}

export function event(seq: number, overrides: Partial<NewEvent> = {}): NewEvent {
  return {
    agentId: AGENT,
    seq,
    ts: NOW,
    receivedAt: NOW,
    type: 'net.wireless.present',
    state: 'raised',
    key: 'net.wireless.present:wlp2s0',
    severity: 'high',
    data: { iface: 'wlp2s0', nested: { list: [1, 'два', null] } },
    envelope: JSON.stringify({ seq }),
    skewed: false,
    ...overrides,
  };
}
