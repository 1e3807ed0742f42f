import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { internetReachableDetector } from '../../agent/detectors/internet-reachable.js';
import { AgentKeys } from '../../agent/beacon/agent-keys.js';
import { checkBeacon, createBeacon, type BeaconSigner } from '../../agent/beacon/message.js';
import { startReceiver, type BeaconReceiver } from '../../agent/beacon/receiver.js';
import { sendBeacon } from '../../agent/beacon/send.js';
import { SightingLog } from '../../agent/beacon/sightings.js';
import { beaconFromName, beaconToName } from '../../agent/beacon/dns.js';
import { beaconProbe } from '../../agent/probes/beacon.js';
import { ManualClock, systemClock, type Clock } from '../../shared/clock.js';
import { ed25519Suite } from '../../shared/crypto/ed25519.js';
import { agentIdFromPublicKey } from '../../shared/identity.js';
import { verifyMessage } from '../../shared/envelope.js';
import { policySchema } from '../../shared/policy.js';

/** Beacons on loopback: signing, the receiver's checks, and the probe that sends them. */
const keys = ed25519Suite.generateKeyPair();
const signer: BeaconSigner = {
  agentId: agentIdFromPublicKey(keys.publicKey),
  alg: 'ed25519',
  sign: ed25519Suite.signer(keys.privateKey),
};
const verify = ed25519Suite.verifier(keys.publicKey);
const NOW = new Date('2026-11-27T03:00:00Z');
const check = (text: string, seen = false) =>
  checkBeacon(text, {
    verifierFor: (id) => (id === signer.agentId ? verify : undefined),
    now: NOW,
    maxSkewMs: 600_000,
    seen: () => seen,
  });

describe('checkBeacon', () => {
  it('accepts a fresh beacon signed by a known agent', () => {
    const beacon = createBeacon(signer, 'tcp', '203.0.113.10:7443', NOW);
    expect(check(JSON.stringify(beacon))).toEqual({ ok: true, beacon });
  });

  it('refuses each kind of bad beacon with its reason', () => {
    const beacon = createBeacon(signer, 'tcp', 't:1', NOW);
    const other = ed25519Suite.generateKeyPair();
    const stranger = createBeacon(
      {
        agentId: agentIdFromPublicKey(other.publicKey),
        alg: 'ed25519',
        sign: ed25519Suite.signer(other.privateKey),
      },
      'tcp',
      't:1',
      NOW,
    );
    expect(check('not json')).toMatchObject({ reason: 'malformed' });
    expect(check(JSON.stringify({ ...beacon, extra: 1 }))).toMatchObject({ reason: 'malformed' });
    expect(check(JSON.stringify({ ...beacon, target: 'x'.repeat(5000) }))).toMatchObject({
      reason: 'malformed',
    });
    expect(check(JSON.stringify(stranger))).toMatchObject({ reason: 'unknown-agent' });
    expect(check(JSON.stringify({ ...beacon, target: 't:2' }))).toMatchObject({ reason: 'bad-signature' });
    const old = createBeacon(signer, 'tcp', 't:1', new Date(NOW.getTime() - 3_600_000));
    expect(check(JSON.stringify(old))).toMatchObject({ reason: 'stale' });
    expect(check(JSON.stringify(beacon), true)).toMatchObject({ reason: 'replayed' });
  });
});

let receiver: BeaconReceiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

async function startLoopbackReceiver(
  clock: Clock = new ManualClock(NOW),
): Promise<{ receiver: BeaconReceiver; log: SightingLog; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'smew-beacon-'));
  writeFileSync(
    join(dir, 'agents.json'),
    JSON.stringify([{ id: signer.agentId, alg: 'ed25519', publicKey: keys.publicKey }]),
  );
  const log = new SightingLog(join(dir, 'data'));
  receiver = await startReceiver({
    listen: { tcp: '127.0.0.1:0', http: '127.0.0.1:0', dns: '127.0.0.1:0' },
    keys: new AgentKeys(join(dir, 'agents.json')),
    log,
    clock,
    maxSkewMs: 600_000,
    logger: pino({ level: 'silent' }),
  });
  return { receiver, log, dir };
}

describe('the receiver and sendBeacon on loopback', () => {
  it('keeps a verified beacon once, refuses its replay, and survives a restart with its log', async () => {
    const { receiver, log, dir } = await startLoopbackReceiver();
    const beacon = createBeacon(signer, 'tcp', `127.0.0.1:${receiver.tcpPort}`, NOW);
    expect(await sendBeacon(beacon, 2000)).toEqual({ reached: true, detail: 'reply: ok' });
    expect(await sendBeacon(beacon, 2000)).toEqual({ reached: true, detail: 'reply: refused replayed' });
    const http = createBeacon(signer, 'http', `http://127.0.0.1:${receiver.httpPort}/b`, NOW);
    expect(await sendBeacon(http, 2000)).toEqual({ reached: true, detail: 'http 200' });
    expect(log.all().map((s) => [s.via, s.from, s.beacon.nonce])).toEqual([
      ['tcp', '127.0.0.1', beacon.nonce],
      ['http', '127.0.0.1', http.nonce],
    ]);
    expect(receiver.counts).toEqual({ accepted: 2, replayed: 1 });
    expect(new SightingLog(join(dir, 'data')).seen(signer.agentId, beacon.nonce)).toBe(true);
  });

  it('a closed port or an unparsable target is not reached', async () => {
    expect((await sendBeacon(createBeacon(signer, 'tcp', '127.0.0.1:1', NOW), 2000)).reached).toBe(false);
    expect(await sendBeacon(createBeacon(signer, 'tcp', 'no-port', NOW), 2000)).toEqual({
      reached: false,
      detail: 'target is not host:port',
    });
    expect((await sendBeacon(createBeacon(signer, 'http', 'ftp://x/', NOW), 2000)).reached).toBe(false);
  });
});

describe('beacon probe and net.internet.reachable', () => {
  const paths = { sysfs: '/sys', procfs: '/proc', devfs: '/dev' };

  it('probes nothing without targets, and refuses to probe unsigned', async () => {
    expect(await beaconProbe.collect(paths, { policy: policySchema.parse({}) })).toEqual({
      beaconProbes: [],
    });
    const policy = policySchema.parse({ beacon: { targets: [{ method: 'tcp', target: '127.0.0.1:1' }] } });
    await expect(beaconProbe.collect(paths, { policy })).rejects.toThrow(/no key to sign/);
  });

  it('a reached target is a finding; severity follows the host level', async () => {
    const { receiver } = await startLoopbackReceiver();
    const targets = [
      { method: 'tcp' as const, target: `127.0.0.1:${receiver.tcpPort}` },
      { method: 'tcp' as const, target: '127.0.0.1:1' },
    ];
    const policy = policySchema.parse({ level: '非密', beacon: { targets } });
    const observed = await beaconProbe.collect(paths, { policy, beacon: signer });
    expect(observed.beaconProbes?.map((p) => p.reached)).toEqual([true, false]);
    expect(internetReachableDetector.detect({ at: '', ...observed }, policy)).toEqual([
      {
        type: 'net.internet.reachable',
        key: `net.internet.reachable:tcp:127.0.0.1:${receiver.tcpPort}`,
        severity: 'high',
        data: { target: `127.0.0.1:${receiver.tcpPort}`, method: 'tcp' },
      },
    ]);
  });
});

describe('DNS beacons', () => {
  it('a beacon survives the trip through a DNS name (any letter case) with its signature intact', () => {
    const beacon = createBeacon(signer, 'dns', 'beacon.example.org', NOW);
    const name = beaconToName(beacon);
    expect(name.length).toBeLessThanOrEqual(253);
    expect(name.split('.').every((label) => label.length <= 63)).toBe(true);
    expect(beaconFromName(name.toUpperCase())).toEqual(beacon);
    expect(check(JSON.stringify(beaconFromName(name)))).toEqual({ ok: true, beacon });
    expect(beaconFromName('www.example.org')).toBeUndefined();
  });

  it('the probe resolves through the receiver, which keeps the verified beacon', async () => {
    // The probe stamps its beacons with the real time.
    const { receiver, log } = await startLoopbackReceiver(systemClock);
    const target = `Beacon.Example.ORG@127.0.0.1:${receiver.dnsPort}`;
    const policy = policySchema.parse({ beacon: { targets: [{ method: 'dns', target }] } });
    const observed = await beaconProbe.collect(
      { sysfs: '/sys', procfs: '/proc', devfs: '/dev' },
      { policy, beacon: signer },
    );
    expect(observed.beaconProbes).toEqual([
      { method: 'dns', target, reached: true, detail: 'resolved 192.0.2.53' },
    ]);
    expect(log.all().map((s) => [s.via, s.beacon.method, s.beacon.target])).toEqual([
      ['dns', 'dns', 'beacon.example.org'],
    ]);
    expect(verifyMessage(log.all()[0]!.beacon, verify)).toBe(true);
  });
});
