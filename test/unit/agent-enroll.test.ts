import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { enrollAgent } from '../../agent/enroll.js';
import { loadIdentity } from '../../agent/identity.js';
import { policyFile } from '../../agent/policy-store.js';
import { ManualClock } from '../../shared/clock.js';
import { ed25519Suite } from '../../shared/crypto/ed25519.js';
import { enrollmentProofProblem } from '../../shared/enrollment-proof.js';
import { UserError } from '../../shared/errors.js';
import { agentIdFromPublicKey, collectorIdFromPublicKey } from '../../shared/identity.js';

const collectorKeys = ed25519Suite.generateKeyPair();
const collector = {
  id: collectorIdFromPublicKey(collectorKeys.publicKey),
  alg: 'ed25519',
  publicKey: collectorKeys.publicKey,
};

type Handler = (body: Record<string, string>, res: ServerResponse) => void;
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function fakeCollector(handler: Handler): Promise<{ url: string; requests: Record<string, string>[] }> {
  const requests: Record<string, string>[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      expect(req.url).toBe('/api/v1/enroll');
      // GET: whom to sign for; POST: the signed request, which the fake checks as a collector would.
      if (req.method === 'GET') return reply(res, 200, { collector: collector.id });
      expect(req.method).toBe('POST');
      const body = JSON.parse(text) as Record<string, string>;
      const proof = enrollmentProofProblem(body as { token: string; publicKey: string; alg: string }, {
        collector: collector.id,
        now: clock.now(),
        maxSkewMs: 300_000,
      });
      expect(proof).toBeUndefined();
      requests.push(body);
      handler(body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, requests };
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const accept: Handler = (body, res) =>
  reply(res, 200, {
    agentId: agentIdFromPublicKey(body.publicKey!),
    unit: '某单位',
    collector,
    broker: {
      url: 'mqtt://127.0.0.1:1883',
      username: agentIdFromPublicKey(body.publicKey!),
      password: 's3cret',
    },
  });

function newDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'smew-enroll-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'agent');
}

const clock = new ManualClock('2026-06-01T00:00:00Z');

describe('agent enrollment', () => {
  it('registers a new ed25519 key and writes a private identity file', async () => {
    const site = await fakeCollector(accept);
    const dir = newDir();
    const { identity, reusedKey } = await enrollAgent({ dir, collectorUrl: site.url, token: 'tok-1', clock });
    expect(reusedKey).toBe(false);
    expect(site.requests[0]).toMatchObject({
      token: 'tok-1',
      alg: 'ed25519',
      publicKey: identity.publicKey,
      collector: collector.id,
      ts: '2026-06-01T00:00:00.000Z',
    });
    expect(typeof site.requests[0]!.hostname).toBe('string');
    expect(typeof site.requests[0]!.version).toBe('string');
    expect(identity.agentId).toBe(agentIdFromPublicKey(identity.publicKey));
    expect(loadIdentity(dir)).toEqual({
      ...identity,
      collectorUrl: site.url.replace(/\/$/, ''),
      unit: '某单位',
      collector,
      broker: { url: 'mqtt://127.0.0.1:1883', username: identity.agentId, password: 's3cret' },
      enrolledAt: '2026-06-01T00:00:00.000Z',
    });
    expect(statSync(join(dir, 'identity.json')).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('keeps the key (and so the id) when enrolling again', async () => {
    const site = await fakeCollector(accept);
    const dir = newDir();
    const first = await enrollAgent({ dir, collectorUrl: site.url, token: 'tok-1', clock });
    const second = await enrollAgent({ dir, collectorUrl: site.url, token: 'tok-2', clock });
    expect(second.reusedKey).toBe(true);
    expect(second.identity.agentId).toBe(first.identity.agentId);
    expect(site.requests[1]!.publicKey).toBe(site.requests[0]!.publicKey);
  });

  it('keeps the key of a failed attempt, so the retry registers the same one', async () => {
    let refuse = true;
    const site = await fakeCollector((body, res) =>
      refuse ? reply(res, 503, { error: 'store unavailable' }) : accept(body, res),
    );
    const dir = newDir();
    await expect(enrollAgent({ dir, collectorUrl: site.url, token: 't', clock })).rejects.toThrow(UserError);
    expect(() => loadIdentity(dir)).toThrow(/enrollment did not finish; run smew agent enroll first/);
    refuse = false;
    const { identity, reusedKey } = await enrollAgent({ dir, collectorUrl: site.url, token: 't', clock });
    expect(reusedKey).toBe(true);
    expect(identity.publicKey).toBe(site.requests[0]!.publicKey);
  });

  it('turns a refusal into a UserError naming the URL and the reason', async () => {
    const site = await fakeCollector((_body, res) =>
      reply(res, 401, { error: 'enrollment token has expired' }),
    );
    const error = await enrollAgent({ dir: newDir(), collectorUrl: site.url, token: 'old', clock }).catch(
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toBe(
      `the collector at ${site.url}api/v1/enroll refused enrollment (HTTP 401): enrollment token has expired`,
    );
  });

  it('turns an unreachable collector into a UserError naming the URL', async () => {
    const site = await fakeCollector(accept);
    // Close it again: nothing listens on that port now.
    await cleanup.pop()!();
    const error = await enrollAgent({ dir: newDir(), collectorUrl: site.url, token: 't', clock }).catch(
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toContain(`cannot reach the collector at ${site.url}api/v1/enroll`);
  });

  it('refuses an answer whose agent id is not our key', async () => {
    const site = await fakeCollector((body, res) =>
      reply(res, 200, {
        agentId: agentIdFromPublicKey(ed25519Suite.generateKeyPair().publicKey),
        unit: 'u',
        collector,
        broker: { url: 'mqtt://x', username: 'u', password: 'p' },
      }),
    );
    await expect(enrollAgent({ dir: newDir(), collectorUrl: site.url, token: 't', clock })).rejects.toThrow(
      /assigned agent id .* but our key makes/,
    );
  });

  it('keeps no unsigned policy from the answer (the signed one comes on the policy topic)', async () => {
    const site = await fakeCollector((body, res) =>
      reply(res, 200, {
        agentId: agentIdFromPublicKey(body.publicKey!),
        unit: 'u',
        collector,
        broker: { url: 'mqtt://x', username: 'u', password: 'p' },
        policy: { level: '绝密', wireless: { approved: ['wlan9'] } },
      }),
    );
    const dir = newDir();
    await enrollAgent({ dir, collectorUrl: site.url, token: 't', clock });
    expect(existsSync(policyFile(dir))).toBe(false);
  });

  it('moves the outbox of a vanished key aside before making a new one', async () => {
    const site = await fakeCollector(accept);
    const dir = newDir();
    await enrollAgent({ dir, collectorUrl: site.url, token: 't', clock });
    writeFileSync(join(dir, 'outbox.db'), 'old');
    rmSync(join(dir, 'identity.json'));
    const outcome = await enrollAgent({ dir, collectorUrl: site.url, token: 't2', clock });
    expect(outcome.reusedKey).toBe(false);
    expect(existsSync(join(dir, 'outbox.db'))).toBe(false);
    expect(readFileSync(outcome.movedOutbox!, 'utf8')).toBe('old');
  });

  it('says how to enroll when there is no identity', () => {
    const dir = newDir();
    expect(() => loadIdentity(dir)).toThrow(UserError);
    expect(() => loadIdentity(dir)).toThrow(
      /not enrolled: .*identity\.json does not exist .*run smew agent enroll first/,
    );
  });
});
