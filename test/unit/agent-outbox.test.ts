import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Outbox, type EventDraft } from '../../agent/outbox.js';
import { ManualClock } from '../../shared/clock.js';
import { ed25519Suite } from '../../shared/crypto/ed25519.js';
import { eventEnvelopeSchema, signMessage, verifyMessage } from '../../shared/envelope.js';
import { agentIdFromPublicKey, collectorIdFromPublicKey } from '../../shared/identity.js';

const agentKeys = ed25519Suite.generateKeyPair();
const agentId = agentIdFromPublicKey(agentKeys.publicKey);
const collectorKeys = ed25519Suite.generateKeyPair();
const collector = {
  id: collectorIdFromPublicKey(collectorKeys.publicKey),
  alg: 'ed25519',
  publicKey: collectorKeys.publicKey,
};
const signAsCollector = ed25519Suite.signer(collectorKeys.privateKey);

const dirs: string[] = [];
const opened: Outbox[] = [];
afterEach(() => {
  for (const outbox of opened.splice(0)) outbox.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function newDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'smew-outbox-'));
  dirs.push(dir);
  return dir;
}

function open(dir: string, clock = new ManualClock('2026-05-01T08:00:00Z'), id = agentId): Outbox {
  const outbox = Outbox.open({
    dir,
    agentId: id,
    alg: 'ed25519',
    sign: ed25519Suite.signer(agentKeys.privateKey),
    collector,
    clock,
  });
  opened.push(outbox);
  return outbox;
}

function draft(key: string, state: 'raised' | 'cleared' = 'raised'): EventDraft {
  return { type: 'net.wireless.present', state, key, severity: 'high', data: { iface: key } };
}

function ack(upTo: number, overrides: Record<string, unknown> = {}, sign = signAsCollector): string {
  return JSON.stringify(
    signMessage(
      {
        v: 1,
        agent: agentId,
        ack: upTo,
        ts: '2026-05-01T08:00:01Z',
        collector: collector.id,
        alg: 'ed25519',
        ...overrides,
      },
      sign,
    ),
  );
}

describe('outbox', () => {
  it('numbers events from 1 without gaps, and carries on after reopening', () => {
    const dir = newDir();
    let outbox = open(dir);
    expect(outbox.lastSeq()).toBe(0);
    expect(outbox.append([draft('a'), draft('b')]).map((e) => e.seq)).toEqual([1, 2]);
    outbox.close();
    outbox = open(dir);
    expect(outbox.append([draft('c')]).map((e) => e.seq)).toEqual([3]);
    // Acknowledged rows leave, but their numbers are never handed out again.
    expect(outbox.acceptAck(ack(3))).toMatchObject({ accepted: true, removed: 3 });
    outbox.close();
    outbox = open(dir);
    expect(outbox.pendingCount()).toBe(0);
    expect(outbox.append([draft('d')]).map((e) => e.seq)).toEqual([4]);
    expect(outbox.lastSeq()).toBe(4);
  });

  it('stores signed envelopes that pass the schema and verify with the agent key', () => {
    const outbox = open(newDir());
    const [envelope] = outbox.append([draft('wlp2s0')]);
    const stored = JSON.parse(outbox.pending()[0]!.payload) as Record<string, unknown>;
    expect(stored).toEqual(envelope);
    expect(eventEnvelopeSchema.parse(stored)).toMatchObject({
      v: 1,
      agent: agentId,
      seq: 1,
      ts: '2026-05-01T08:00:00.000Z',
      type: 'net.wireless.present',
      state: 'raised',
      key: 'wlp2s0',
      severity: 'high',
      alg: 'ed25519',
    });
    expect(verifyMessage(stored, ed25519Suite.verifier(agentKeys.publicKey))).toBe(true);
  });

  it('rolls back the seq with the transaction when a step fails', () => {
    const outbox = open(newDir());
    expect(() =>
      outbox.transaction(() => {
        outbox.append([draft('a')]);
        throw new Error('disk full');
      }),
    ).toThrow('disk full');
    expect(outbox.lastSeq()).toBe(0);
    expect(outbox.append([draft('a')])[0]!.seq).toBe(1);
  });

  it('removes exactly the events an ack covers', () => {
    const outbox = open(newDir());
    outbox.append([draft('a'), draft('b'), draft('c'), draft('d')]);
    expect(outbox.acceptAck(ack(2))).toEqual({ accepted: true, ack: 2, removed: 2, advancedSeq: false });
    expect(outbox.pending().map((r) => r.seq)).toEqual([3, 4]);
    // An older ack (a retained one redelivered) changes nothing.
    expect(outbox.acceptAck(ack(1))).toMatchObject({ accepted: true, removed: 0 });
    expect(outbox.pending().map((r) => r.seq)).toEqual([3, 4]);
  });

  it('ignores forged, foreign and malformed acks', () => {
    const outbox = open(newDir());
    outbox.append([draft('a'), draft('b')]);
    const stranger = ed25519Suite.generateKeyPair();
    const otherAgent = agentIdFromPublicKey(stranger.publicKey);
    const tampered = JSON.parse(ack(1)) as Record<string, unknown>;
    tampered.ack = 2;
    const refusals = [
      ack(2, {}, ed25519Suite.signer(stranger.privateKey)),
      ack(2, { agent: otherAgent }),
      ack(2, { collector: collectorIdFromPublicKey(stranger.publicKey) }),
      JSON.stringify(tampered),
      '{"v":1,"agent":"nope"}',
      'not json',
      '',
      'x'.repeat(70_000),
    ].map((payload) => outbox.acceptAck(payload));
    for (const outcome of refusals) expect(outcome.accepted).toBe(false);
    expect(refusals.map((r) => (r.accepted ? '' : r.reason)).slice(0, 4)).toEqual([
      'bad signature',
      `for another agent (${otherAgent})`,
      `not from our collector (${collectorIdFromPublicKey(stranger.publicKey)})`,
      'bad signature',
    ]);
    expect(outbox.pendingCount()).toBe(2);
  });

  it('continues numbering after an ack beyond our last seq (restored database)', () => {
    const outbox = open(newDir());
    outbox.append([draft('a')]);
    expect(outbox.acceptAck(ack(40))).toMatchObject({ accepted: true, advancedSeq: true, removed: 1 });
    expect(outbox.append([draft('b')])[0]!.seq).toBe(41);
  });

  it('selects for sending what was never sent or stayed unacknowledged past the timeout', () => {
    const clock = new ManualClock('2026-05-01T08:00:00Z');
    const outbox = open(newDir(), clock);
    outbox.append([draft('a'), draft('b'), draft('c')]);
    const now = () => clock.now().getTime();
    expect(outbox.dueForSending(now(), 30_000).map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(outbox.dueForSending(now(), 30_000, 2).map((r) => r.seq)).toEqual([1, 2]);
    outbox.markSent([1, 2], now());
    expect(outbox.dueForSending(now(), 30_000).map((r) => r.seq)).toEqual([3]);
    clock.advance(10_000);
    outbox.markSent([3], now());
    clock.advance(20_000);
    // 1 and 2 are 30 s old now; 3 only 20 s.
    expect(outbox.dueForSending(now(), 30_000).map((r) => r.seq)).toEqual([1, 2]);
    expect(outbox.pending()[0]).toMatchObject({ seq: 1, sendCount: 1, lastSentAt: now() - 30_000 });
    // After a reconnect everything unacknowledged is due at once.
    outbox.markAllUnsent();
    expect(outbox.dueForSending(now(), 30_000).map((r) => r.seq)).toEqual([1, 2, 3]);
  });

  it('keeps open conditions with the events that opened and closed them', () => {
    const dir = newDir();
    let outbox = open(dir);
    outbox.append([draft('x'), draft('y')], { tracksConditions: true });
    outbox.append([draft('x', 'cleared')], { tracksConditions: true });
    outbox.append([
      { type: 'agent.started', state: 'raised', key: 'agent.started', severity: 'info', data: {} },
    ]);
    outbox.close();
    outbox = open(dir);
    expect([...outbox.openConditions()]).toEqual([
      ['y', { type: 'net.wireless.present', severity: 'high', data: { iface: 'y' }, seq: 2 }],
    ]);
  });

  it('refuses a database that belongs to another agent key', () => {
    const dir = newDir();
    open(dir).close();
    const other = agentIdFromPublicKey(ed25519Suite.generateKeyPair().publicKey);
    expect(() => open(dir, new ManualClock(), other)).toThrow(/belongs to agent/);
  });
});
