import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/server.js';
import { ManualClock } from '../../shared/clock.js';
import { tempDir } from '../support/collector-harness.js';
import { enrollment } from '../unit/store-contract.js';
import { apiClient, keyFor, RecordingSink, startClockCollector } from './clocks-harness.js';

/**
 * The terminal register through the HTTP API of a real collector (SQLite in a temp dir): roles,
 * unit scope, filters, history, unregistered agents.
 */
describe('register API: terminals and persons', () => {
  const clock = new ManualClock('2026-12-01T02:00:00Z');
  let dir: ReturnType<typeof tempDir>;
  let collector: RunningCollector;
  let call: ReturnType<typeof apiClient>;
  let officer: string;
  let viewer: string;
  let otherUnit: string;
  let auditor: string;

  beforeAll(async () => {
    dir = tempDir('smew-register-api-');
    collector = await startClockCollector(dir.path, clock, new RecordingSink());
    call = apiClient(collector);
    officer = await keyFor(collector, 'secadmin', '一处');
    viewer = await keyFor(collector, 'viewer', '一处');
    otherUnit = await keyFor(collector, 'secadmin', '二处');
    auditor = await keyFor(collector, 'auditor');
    const { store } = collector;
    for (const [id, host] of [
      ['ag-aaaaaaaaaaaaaaaaaaaa', 'ws-01'],
      ['ag-bbbbbbbbbbbbbbbbbbbb', 'ws-02'],
    ] as const) {
      await store.createEnrollmentToken({
        tokenHash: `tok-${id}`,
        unit: '一处',
        createdAt: '2026-12-01T00:00:00Z',
        expiresAt: '2026-12-02T00:00:00Z',
      });
      await store.enrollAgent(
        enrollment({ tokenHash: `tok-${id}`, agentId: id, publicKey: `PUB-${id}`, hostname: host }),
      );
    }
  });
  afterAll(async () => {
    await collector.stop();
    dir.remove();
  });

  it('an officer registers a person and a terminal; the agent leaves the unregistered list', async () => {
    const unregistered = await call('GET', '/api/v1/terminals/unregistered', officer);
    expect(unregistered.body.items.map((a: { hostname: string }) => a.hostname)).toEqual(['ws-01', 'ws-02']);
    const person = await call('POST', '/api/v1/persons', officer, {
      name: '李四',
      clearance: '重要',
      department: '办公室',
      accounts: ['lisi'],
    });
    expect(person.status).toBe(201);
    expect(person.body).toMatchObject({ unit: '一处', state: '在岗', accounts: ['lisi'], terminals: 0 });
    const created = await call('POST', '/api/v1/terminals', officer, {
      assetNo: 'JSJ-001',
      level: '机密',
      ownerId: person.body.id,
      location: '3号楼201',
      agentId: 'ag-aaaaaaaaaaaaaaaaaaaa',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      assetNo: 'JSJ-001',
      level: '机密',
      use: '涉密',
      state: '在用',
      owner: '李四',
      hostname: 'ws-01',
      online: false,
      inventory: null,
    });
    const after = await call('GET', '/api/v1/terminals/unregistered', officer);
    expect(after.body.items.map((a: { hostname: string }) => a.hostname)).toEqual(['ws-02']);
  });

  it('a change is audited with before and after and shown as the terminal’s history', async () => {
    const [row] = (await call('GET', '/api/v1/terminals?q=JSJ-001', officer)).body.items;
    const changed = await call('PATCH', `/api/v1/terminals/${row.id}`, officer, {
      state: '维修',
      stateSince: '2026-12-01',
    });
    expect(changed.status).toBe(200);
    expect(changed.body.history[0]).toMatchObject({
      actor: 'secadmin-一处',
      action: 'register.terminal.change',
      before: { state: '在用', stateSince: null },
      after: { state: '维修', stateSince: '2026-12-01' },
    });
    const audit = await call('GET', '/api/v1/audit?limit=5', auditor);
    expect(audit.body.items.map((a: { action: string }) => a.action)).toContain('register.terminal.change');
    const bad = await call('PATCH', `/api/v1/terminals/${row.id}`, officer, { stateSince: '2026-02-30' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/stateSince.*not a calendar date/);
  });

  it('filters by level, state, online and open warnings; a viewer reads but may not write', async () => {
    await call('POST', '/api/v1/terminals', officer, {
      assetNo: 'JSJ-002',
      level: '秘密',
      hostname: 'hand-1',
    });
    const ids = async (query: string) =>
      (await call('GET', `/api/v1/terminals?${query}`, viewer)).body.items.map(
        (t: { assetNo: string }) => t.assetNo,
      );
    expect(await ids('')).toEqual(['JSJ-001', 'JSJ-002']);
    expect(await ids('level=秘密')).toEqual(['JSJ-002']);
    expect(await ids(`state=${encodeURIComponent('维修')}`)).toEqual(['JSJ-001']);
    expect(await ids('online=true')).toEqual([]);
    expect(await ids('openWarnings=false')).toEqual(['JSJ-001', 'JSJ-002']);
    expect(await ids('q=hand')).toEqual(['JSJ-002']);
    expect(await ids('unit=二处')).toEqual([]);
    const refused = await call('POST', '/api/v1/terminals', viewer, { assetNo: 'X', level: '秘密' });
    expect(refused.status).toBe(403);
  });

  it('another unit sees none of it; a taken 编号 is a conflict; a 责任人 cannot be removed', async () => {
    expect((await call('GET', '/api/v1/terminals', otherUnit)).body.items).toEqual([]);
    expect((await call('GET', '/api/v1/persons', otherUnit)).body.items).toEqual([]);
    const [row] = (await call('GET', '/api/v1/terminals?q=JSJ-001', officer)).body.items;
    expect((await call('GET', `/api/v1/terminals/${row.id}`, otherUnit)).status).toBe(404);
    expect((await call('PATCH', `/api/v1/terminals/${row.id}`, otherUnit, { level: '秘密' })).status).toBe(
      404,
    );
    const taken = await call('POST', '/api/v1/terminals', officer, { assetNo: 'JSJ-001', level: '秘密' });
    expect(taken.status).toBe(409);
    expect(taken.body.error).toMatch(/编号 JSJ-001 is already/);
    const removed = await call('DELETE', `/api/v1/persons/${row.ownerId}`, officer);
    expect(removed.status).toBe(409);
    const foreignAgent = await call('PATCH', `/api/v1/terminals/${row.id}`, otherUnit, { agentId: 'ag-x' });
    expect(foreignAgent.status).toBe(404);
  });
});
