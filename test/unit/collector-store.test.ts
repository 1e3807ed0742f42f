import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore, type SqliteStore } from '../../collector/store/sqlite-store.js';
import { SQLITE_MIGRATIONS } from '../../collector/store/sqlite-migrations.js';
import type { EnrollAgentRequest, NewEvent } from '../../collector/store/store.js';
import { openStore } from '../../collector/store/open-store.js';
import { UserError } from '../../shared/errors.js';
import { tempDir } from '../integration/collector-harness.js';
import { join } from 'node:path';
import Database from 'better-sqlite3';

const NOW = '2026-11-26T12:00:00.000Z';
const LATER = '2026-11-27T12:00:00.000Z';
const AGENT = 'ag-aaaaaaaaaaaaaaaaaaaa';

function enrollment(overrides: Partial<EnrollAgentRequest> = {}): EnrollAgentRequest {
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

function event(seq: number, overrides: Partial<NewEvent> = {}): NewEvent {
  return {
    agentId: AGENT,
    seq,
    ts: NOW,
    receivedAt: NOW,
    type: 'net.wireless.present',
    state: 'raised',
    key: 'net.wireless.present:wlp2s0',
    severity: 'high',
    data: { iface: 'wlp2s0' },
    envelope: JSON.stringify({ seq }),
    skewed: false,
    ...overrides,
  };
}

describe('SQLite store', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: SqliteStore;
  let path: string;

  beforeEach(async () => {
    dir = tempDir('smew-store-');
    path = join(dir.path, 'nested', 'smew.db');
    store = openSqliteStore(path);
    await store.createEnrollmentToken({
      tokenHash: 'token-1',
      unit: '一处',
      createdAt: NOW,
      expiresAt: LATER,
    });
  });
  afterEach(async () => {
    await store.close();
    dir.remove();
  });

  describe('migrations', () => {
    it('creates the directory, applies every migration once and records it', async () => {
      expect(await store.schemaVersion()).toBe(SQLITE_MIGRATIONS.at(-1)!.version);
      await store.close();
      // Opening again applies nothing and keeps the data.
      store = openSqliteStore(path);
      expect(await store.schemaVersion()).toBe(SQLITE_MIGRATIONS.at(-1)!.version);
      const db = new Database(path, { readonly: true });
      const rows = db.prepare('SELECT version FROM schema_migrations').all();
      const mode = db.pragma('journal_mode', { simple: true });
      db.close();
      expect(rows).toHaveLength(SQLITE_MIGRATIONS.length);
      expect(mode).toBe('wal');
      expect((await store.enrollAgent(enrollment())).ok).toBe(true);
    });

    it('applies only the migrations a database lacks', async () => {
      await store.close();
      const next = { version: 999, name: 'test column', sql: 'ALTER TABLE agents ADD COLUMN note TEXT' };
      store = openSqliteStore(path, { migrations: [...SQLITE_MIGRATIONS, next] });
      expect(await store.schemaVersion()).toBe(999);
      await store.close();
      // The same list again: nothing to do (ALTER TABLE twice would fail).
      store = openSqliteStore(path, { migrations: [...SQLITE_MIGRATIONS, next] });
      expect(await store.schemaVersion()).toBe(999);
    });

    it('refuses a database written by a newer smew, naming the key', async () => {
      await store.close();
      const next = { version: 999, name: 'future', sql: 'SELECT 1' };
      store = openSqliteStore(path, { migrations: [...SQLITE_MIGRATIONS, next] });
      await store.close();
      expect(() => openSqliteStore(path)).toThrow(/store\.url: .* schema version 999/);
      store = openSqliteStore(path, { migrations: [...SQLITE_MIGRATIONS, next] });
    });
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
        agent: { id: AGENT, unit: '一处', online: false },
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

    it('re-enrolls a known key: same id and watermark, new unit and secret', async () => {
      await store.enrollAgent(enrollment());
      await store.insertEvent(event(1));
      expect(await store.advanceAckedSeq(AGENT)).toBe(1);
      await store.createEnrollmentToken({
        tokenHash: 'token-2',
        unit: '二处',
        createdAt: NOW,
        expiresAt: LATER,
      });
      const again = await store.enrollAgent(
        enrollment({ tokenHash: 'token-2', brokerSecretHash: 'secret-2' }),
      );
      expect(again).toMatchObject({
        ok: true,
        reenrolled: true,
        agent: { id: AGENT, unit: '二处', brokerSecretHash: 'secret-2', ackedSeq: 1, enrolledAt: NOW },
      });
      expect(await store.listEvents({ limit: 10 })).toHaveLength(1);
    });

    it('keeps a revoked key revoked and leaves the token unused', async () => {
      await store.enrollAgent(enrollment());
      expect(await store.revokeAgent(AGENT, NOW)).toBe(true);
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
        enrollment({ tokenHash: 'token-2', agentId: 'ag-bbbbbbbbbbbbbbbbbbbb', publicKey: 'OTHER' }),
      );
      expect(other.ok).toBe(true);
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
      expect(await store.listEvents({ limit: 10 })).toHaveLength(1);
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
    });

    it('walks a long run of stored seqs past one page', async () => {
      for (let seq = 1500; seq >= 1; seq--) await store.insertEvent(event(seq));
      expect(await store.advanceAckedSeq(AGENT)).toBe(1500);
    });

    it('filters by agent, type, time and unit, newest first', async () => {
      await store.createEnrollmentToken({
        tokenHash: 'token-2',
        unit: '二处',
        createdAt: NOW,
        expiresAt: LATER,
      });
      const other = 'ag-bbbbbbbbbbbbbbbbbbbb';
      await store.enrollAgent(enrollment({ tokenHash: 'token-2', agentId: other, publicKey: 'OTHER' }));
      await store.insertEvent(event(1, { ts: '2026-11-26T10:00:00.000Z' }));
      await store.insertEvent(event(2, { ts: '2026-11-26T11:00:00.000Z', type: 'usb.storage.attached' }));
      await store.insertEvent(event(1, { agentId: other, ts: '2026-11-26T12:00:00.000Z' }));

      expect((await store.listEvents({ limit: 10 })).map((e) => [e.agentId, e.seq])).toEqual([
        [other, 1],
        [AGENT, 2],
        [AGENT, 1],
      ]);
      expect(await store.listEvents({ agentId: AGENT, limit: 10 })).toHaveLength(2);
      expect(await store.listEvents({ type: 'usb.storage.attached', limit: 10 })).toHaveLength(1);
      expect(await store.listEvents({ since: '2026-11-26T11:00:00.000Z', limit: 10 })).toHaveLength(2);
      expect((await store.listEvents({ units: ['二处'], limit: 10 })).map((e) => e.agentId)).toEqual([other]);
      expect(await store.listEvents({ units: [], limit: 10 })).toEqual([]);
      expect(await store.listEvents({ limit: 1 })).toHaveLength(1);
      expect((await store.listAgents({ units: ['一处'] })).map((a) => a.id)).toEqual([AGENT]);
    });
  });

  it('tracks heartbeats, status and counts', async () => {
    await store.enrollAgent(enrollment());
    await store.recordHeartbeat(AGENT, NOW, 7);
    expect(await store.getAgent(AGENT)).toMatchObject({ online: true, lastSeen: NOW, reportedSeq: 7 });
    expect(await store.countAgents()).toEqual({ enrolled: 1, online: 1 });
    await store.setAgentOnline(AGENT, false, LATER);
    expect(await store.getAgent(AGENT)).toMatchObject({ online: false, lastSeen: LATER });
    await store.setAgentOnline(AGENT, true, NOW);
    // A late message does not move last-seen backwards.
    expect(await store.getAgent(AGENT)).toMatchObject({ online: true, lastSeen: LATER });
    await store.markAllAgentsOffline();
    expect(await store.countAgents()).toEqual({ enrolled: 1, online: 0 });
  });

  it('keeps quarantined payloads as bytes', async () => {
    const payload = Buffer.from([0xff, 0x00, 0x7b]);
    await store.addQuarantine({
      receivedAt: NOW,
      topic: 't',
      reason: 'malformed-json',
      detail: 'd',
      claimedAgentId: null,
      payload,
      payloadBytes: 3,
    });
    const [entry] = await store.listQuarantine({ limit: 5 });
    expect(entry).toMatchObject({ reason: 'malformed-json', payloadBytes: 3 });
    expect(Buffer.compare(entry!.payload, payload)).toBe(0);
  });

  it('stores api keys and users by name, refusing a second user of the same name', async () => {
    await store.createApiKey({ keyHash: 'h', name: 'ops', role: 'viewer', unit: null, createdAt: NOW });
    expect(await store.findApiKey('h')).toMatchObject({ name: 'ops', role: 'viewer', revokedAt: null });
    expect(await store.findApiKey('x')).toBeUndefined();
    const user = {
      name: '张三',
      passwordHash: 'scrypt$…',
      role: 'officer' as const,
      unit: '一处',
      createdAt: NOW,
    };
    expect(await store.addUser(user)).toBe(true);
    expect(await store.addUser({ ...user, role: 'admin' })).toBe(false);
    expect(await store.getUser('张三')).toMatchObject({ role: 'officer', unit: '一处' });
  });
});

describe('openStore', () => {
  it('explains a store.url it cannot use, without printing a password', async () => {
    await expect(openStore('mysql://x')).rejects.toThrow(UserError);
    await expect(openStore('sqlite:')).rejects.toThrow(/store\.url: .*sqlite:PATH/);
    const refusal = openStore('postgres://smew:hunter2@db/smew');
    await expect(refusal).rejects.toThrow(/store\.url/);
    await expect(refusal).rejects.not.toThrow(/hunter2/);
  });
});
