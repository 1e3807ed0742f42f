import { describe, expect, it } from 'vitest';
import { ed25519Suite } from '../../shared/crypto/ed25519.js';
import { suiteFor } from '../../shared/crypto/suites.js';
import {
  checkEventData,
  eventEnvelopeSchema,
  heartbeatSchema,
  signMessage,
  verifyMessage,
} from '../../shared/envelope.js';
import { agentIdFromPublicKey, base32Lower } from '../../shared/identity.js';
import { makeTestAgent, signedEvent } from '../support/collector-harness.js';

const testAgent = makeTestAgent();
const { keys, id: agent, sign } = testAgent;
const verify = ed25519Suite.verifier(keys.publicKey);

/** The harness's signed event, pinned to a fixed seq and time so the wire form is checked exactly. */
const event = (overrides: Record<string, unknown> = {}) =>
  signedEvent(testAgent, 42, { ts: '2026-11-26T14:30:00.123Z', ...overrides });

describe('agent identity', () => {
  it('derives ag- plus 20 base32 characters from the key', () => {
    expect(agent).toMatch(/^ag-[a-z2-7]{20}$/);
    expect(agentIdFromPublicKey(keys.publicKey)).toBe(agent);
    expect(agentIdFromPublicKey(ed25519Suite.generateKeyPair().publicKey)).not.toBe(agent);
  });

  it('encodes base32 as RFC 4648 test vectors (lowercase, unpadded)', () => {
    expect(base32Lower(Buffer.from(''))).toBe('');
    expect(base32Lower(Buffer.from('f'))).toBe('my');
    expect(base32Lower(Buffer.from('foobar'))).toBe('mzxw6ytboi');
  });
});

describe('signed envelopes', () => {
  it('verifies a signed event and its schema holds', () => {
    const envelope = event();
    expect(eventEnvelopeSchema.safeParse(envelope).success).toBe(true);
    expect(verifyMessage(envelope, verify)).toBe(true);
    // Key order on the wire does not matter: the signature covers the canonical form.
    const reordered = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(envelope).reverse())));
    expect(verifyMessage(reordered, verify)).toBe(true);
  });

  it('fails when any field changes, the signature is garbage or the key is another', () => {
    const envelope = event();
    expect(verifyMessage({ ...envelope, seq: 43 }, verify)).toBe(false);
    expect(verifyMessage({ ...envelope, data: { ...envelope.data, iface: 'eth0' } }, verify)).toBe(false);
    expect(verifyMessage({ ...envelope, extra: 1 }, verify)).toBe(false);
    expect(verifyMessage({ ...envelope, sig: 'not base64!!' }, verify)).toBe(false);
    expect(verifyMessage({ ...envelope, sig: undefined }, verify)).toBe(false);
    const other = ed25519Suite.generateKeyPair();
    expect(verifyMessage(envelope, ed25519Suite.verifier(other.publicKey))).toBe(false);
  });

  it('rejects malformed envelopes by schema', () => {
    const bad = [
      { ...event(), v: 2 },
      { ...event(), seq: 0 },
      { ...event(), seq: 1.5 },
      { ...event(), seq: '42' },
      { ...event(), agent: 'host-1' },
      { ...event(), ts: 'yesterday' },
      { ...event(), state: 'maybe' },
      { ...event(), severity: 'apocalyptic' },
      { ...event(), type: 'Net Wireless' },
      { ...event(), alg: 'rsa' },
    ];
    for (const envelope of bad)
      expect(eventEnvelopeSchema.safeParse(envelope).success, JSON.stringify(envelope)).toBe(false);
  });

  it('checks event data against the catalogue and lets unknown types through', () => {
    expect(checkEventData('net.wireless.present', { iface: 'wlan0' })).toBeUndefined();
    expect(checkEventData('net.wireless.present', { mac: 'x' })).toBeDefined();
    expect(
      checkEventData('net.connection.prohibited', { remote: '203.0.113.5', port: 99999, proto: 'tcp' }),
    ).toBeDefined();
    expect(checkEventData('net.future.thing', { anything: true })).toBeUndefined();
  });

  it('signs heartbeats without a seq', () => {
    const heartbeat = signMessage(
      { v: 1, agent, ts: '2026-11-26T14:30:00Z', type: 'agent.heartbeat', lastSeq: 41, alg: 'ed25519' },
      sign,
    );
    expect(heartbeatSchema.safeParse(heartbeat).success).toBe(true);
    expect(verifyMessage(heartbeat, verify)).toBe(true);
  });

  it('names the algorithms it knows', () => {
    expect(suiteFor('ed25519').alg).toBe('ed25519');
    expect(() => suiteFor('rsa')).toThrow(/rsa/);
  });
});
