/**
 * The terminal register (issue 17) on SQLite and PostgreSQL: one contract. Terminals, persons and
 * their accounts; every change audited with before and after; an import is all or nothing.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import {
  RegisterConflict,
  type PersonFields,
  type RegisterActor,
  type TerminalFields,
} from '../../collector/store/register/register-store.js';
import type { SqlStore } from '../../collector/store/sql-store.js';
import { sql } from '../../collector/store/sql/query.js';
import type { Store } from '../../collector/store/store.js';
import { enrollment } from '../unit/store-contract.js';
import { describeEachDialect, type DialectFixture } from './dialects.js';

const T0 = '2026-12-01T00:00:00.000Z';
const T1 = '2026-12-01T01:00:00.000Z';
const T2 = '2026-12-01T02:00:00.000Z';
const A = 'ag-aaaaaaaaaaaaaaaaaaaa';
const B = 'ag-bbbbbbbbbbbbbbbbbbbb';
const OFFICER: RegisterActor = {
  actor: '张三',
  actorKind: 'user',
  role: 'secadmin',
  unit: '一处',
  ip: '127.0.0.1',
};

function terminalFields(overrides: Partial<TerminalFields> = {}): TerminalFields {
  return {
    assetNo: 'JSJ-001',
    level: '机密',
    use: '涉密',
    ownerId: null,
    department: '办公室',
    location: '3号楼201',
    keyPart: null,
    systemId: null,
    state: '在用',
    stateSince: '2026-01-05',
    agentId: null,
    hostname: null,
    ...overrides,
  };
}

function personFields(overrides: Partial<PersonFields> = {}): PersonFields {
  return {
    name: '李四',
    department: '办公室',
    clearance: '重要',
    state: '在岗',
    stateSince: null,
    stateUntil: null,
    accounts: ['lisi'],
    ...overrides,
  };
}

describeEachDialect('RegisterStore contract', (makeFixture) => {
  let fixture: DialectFixture;
  let store: Store;
  beforeEach(async () => {
    fixture = await makeFixture();
    store = await fixture.open();
  });
  afterEach(async () => {
    await store.close();
    await fixture.dispose();
  });

  async function enroll(id: string, hostname: string, unit = '一处'): Promise<void> {
    await store.createEnrollmentToken({ tokenHash: `tok-${id}`, unit, createdAt: T0, expiresAt: T2 });
    const result = await store.enrollAgent(
      enrollment({ tokenHash: `tok-${id}`, agentId: id, publicKey: `PUB-${id}`, hostname, now: T0 }),
    );
    expect(result.ok).toBe(true);
  }

  it('creates a terminal with its 责任人 and system, reads it back joined, and audits the creation', async () => {
    const person = await store.register.createPerson('ps-1', '一处', personFields(), OFFICER, T0);
    expect(person).toMatchObject({ id: 'ps-1', name: '李四', accounts: ['lisi'], terminals: 0 });
    await store.clocks.createSystem({
      id: 'sys-1',
      name: '办公网',
      level: '秘密',
      unit: '一处',
      scope: null,
      environment: null,
      commissionedAt: '2026-01-01',
      approvalRef: null,
      approvedBy: null,
      approvedAt: null,
      createdAt: T0,
      createdBy: 'test',
    });
    await enroll(A, 'ws-01');
    const created = await store.register.createTerminal(
      'tm-1',
      '一处',
      terminalFields({ ownerId: 'ps-1', systemId: 'sys-1', agentId: A, keyPart: '机要室' }),
      OFFICER,
      T1,
    );
    expect(created).toMatchObject({
      id: 'tm-1',
      unit: '一处',
      assetNo: 'JSJ-001',
      ownerName: '李四',
      ownerState: '在岗',
      systemName: '办公网',
      systemLevel: '秘密',
      agentHostname: 'ws-01',
      keyPart: '机要室',
      online: false,
      openWarnings: 0,
      inventory: null,
      createdAt: T1,
      updatedAt: T1,
    });
    expect((await store.register.getPerson('ps-1'))?.terminals).toBe(1);
    const [entry] = await store.register.history('terminal:tm-1');
    expect(entry).toMatchObject({ actor: '张三', action: 'register.terminal.create', before: null, at: T1 });
    expect(entry?.after).toMatchObject({ assetNo: 'JSJ-001', level: '机密', ownerId: 'ps-1' });
  });

  it('a change records only the fields it changes, before and after; no change is no entry', async () => {
    await store.register.createTerminal('tm-1', '一处', terminalFields(), OFFICER, T0);
    const changed = await store.register.updateTerminal(
      'tm-1',
      { level: '秘密', location: '5号楼' },
      OFFICER,
      T1,
    );
    expect(changed).toMatchObject({ level: '秘密', location: '5号楼', updatedAt: T1 });
    await store.register.updateTerminal('tm-1', { level: '秘密' }, OFFICER, T2);
    const history = await store.register.history('terminal:tm-1');
    expect(history.map((h) => h.action)).toEqual(['register.terminal.change', 'register.terminal.create']);
    expect(history[0]).toMatchObject({
      before: { level: '机密', location: '3号楼201' },
      after: { level: '秘密', location: '5号楼' },
    });
    expect(await store.register.updateTerminal('tm-x', { level: '秘密' }, OFFICER, T1)).toBeUndefined();
    // The entry is in the audit log itself, the one record of who changed what.
    const audit = await store.audit.list({ limit: 10 });
    expect(audit.map((a) => a.action)).toEqual(['register.terminal.change', 'register.terminal.create']);
    // Chained like every other entry: the subject is part of what is hashed.
    expect(audit.map((a) => a.seq)).toEqual([2, 1]);
    expect(audit[0]).toMatchObject({ subject: 'terminal:tm-1', prevHash: audit[1]!.hash });
  });

  it('编号 is unique in a unit, an agent is linked to one terminal, and a refusal changes nothing', async () => {
    await enroll(A, 'ws-01');
    await store.register.createTerminal('tm-1', '一处', terminalFields({ agentId: A }), OFFICER, T0);
    await expect(
      store.register.createTerminal('tm-2', '一处', terminalFields(), OFFICER, T0),
    ).rejects.toThrow(RegisterConflict);
    await expect(
      store.register.createTerminal(
        'tm-2',
        '一处',
        terminalFields({ assetNo: 'JSJ-002', agentId: A }),
        OFFICER,
        T0,
      ),
    ).rejects.toThrow(/already linked/);
    // Another unit may use the same 编号; devices without one are many.
    await store.register.createTerminal('tm-3', '二处', terminalFields(), OFFICER, T0);
    await store.register.createTerminal('tm-4', '一处', terminalFields({ assetNo: null }), OFFICER, T0);
    await store.register.createTerminal('tm-5', '一处', terminalFields({ assetNo: null }), OFFICER, T0);
    expect((await store.register.listTerminals({})).map((t) => t.id)).toEqual([
      'tm-1',
      'tm-4',
      'tm-5',
      'tm-3',
    ]);
    expect(await store.register.history('terminal:tm-2')).toEqual([]);
  });

  it('filters by unit, level, state, online, open warnings, and searches 编号, hostname, 责任人, place', async () => {
    await store.register.createPerson('ps-1', '一处', personFields({ name: '王五' }), OFFICER, T0);
    await enroll(A, 'Finance-PC');
    await enroll(B, 'ws-02');
    await store.setAgentOnline(A, true, T1);
    const r = store.register;
    await r.createTerminal('tm-1', '一处', terminalFields({ agentId: A, ownerId: 'ps-1' }), OFFICER, T0);
    await r.createTerminal(
      'tm-2',
      '一处',
      terminalFields({ assetNo: 'JSJ-100%', agentId: B, level: '秘密' }),
      OFFICER,
      T0,
    );
    await r.createTerminal(
      'tm-3',
      '二处',
      terminalFields({ assetNo: 'X-3', state: '维修', location: '机房' }),
      OFFICER,
      T0,
    );
    await (store as SqlStore).database.run(
      sql`INSERT INTO warnings (id, rule, slot, unit, agent, state, severity, count, first_seen, last_seen, created_at, updated_at, doc)
          VALUES ('w-1', 'r', 's', '一处', ${B}, 'discovered', 'high', 1, ${T0}, ${T0}, ${T0}, ${T0}, '{}'),
                 ('w-2', 'r', 's2', '一处', ${A}, 'closed', 'high', 1, ${T0}, ${T0}, ${T0}, ${T0}, '{}')`,
    );
    const ids = async (filter: Parameters<typeof r.listTerminals>[0]) =>
      (await r.listTerminals(filter)).map((t) => t.id);
    expect(await ids({ units: ['一处'] })).toEqual(['tm-1', 'tm-2']);
    expect(await ids({ units: [] })).toEqual([]);
    expect(await ids({ level: '秘密' })).toEqual(['tm-2']);
    expect(await ids({ state: '维修' })).toEqual(['tm-3']);
    expect(await ids({ online: true })).toEqual(['tm-1']);
    expect(await ids({ online: false })).toEqual(['tm-2', 'tm-3']);
    expect(await ids({ openWarnings: true })).toEqual(['tm-2']);
    expect(await ids({ openWarnings: false })).toEqual(['tm-1', 'tm-3']);
    expect((await r.getTerminal('tm-2'))?.openWarnings).toBe(1);
    expect(await ids({ search: 'finance' })).toEqual(['tm-1']);
    expect(await ids({ search: '王五' })).toEqual(['tm-1']);
    expect(await ids({ search: '机房' })).toEqual(['tm-3']);
    expect(await ids({ search: '100%' })).toEqual(['tm-2']);
    expect(await ids({ search: '%' })).toEqual(['tm-2']);
    expect(await ids({ agentIds: [B] })).toEqual(['tm-2']);
    expect(await ids({ ownerId: 'ps-1' })).toEqual(['tm-1']);
  });

  it('keeps the latest inventory of an agent’s terminal, and lists enrolled agents the register lacks', async () => {
    await enroll(A, 'ws-01');
    await enroll(B, 'ws-02', '二处');
    expect((await store.register.listUnregisteredAgents(undefined)).map((a) => a.agentId)).toEqual([A, B]);
    await store.register.createTerminal('tm-1', '一处', terminalFields({ agentId: A }), OFFICER, T0);
    await store.register.createTerminal('tm-2', '二处', terminalFields({ hostname: 'ws-02' }), OFFICER, T0);
    expect(await store.register.listUnregisteredAgents(undefined)).toEqual([
      {
        agentId: B,
        unit: '二处',
        hostname: 'ws-02',
        online: false,
        enrolledAt: T0,
        lastSeen: null,
        candidateTerminalId: 'tm-2',
      },
    ]);
    expect(await store.register.listUnregisteredAgents(['一处'])).toEqual([]);
    const inventory = { hostname: 'ws-01', os: {}, cpu: {}, interfaces: [], disks: [], board: {}, bios: {} };
    expect(await store.register.setInventory(A, { ...inventory, systemUuid: 'new' }, T2)).toBe(true);
    expect(await store.register.setInventory(A, { ...inventory, systemUuid: 'old' }, T1)).toBe(false);
    expect(await store.register.setInventory(B, inventory, T2)).toBe(false);
    const terminal = await store.register.getTerminal('tm-1');
    expect(terminal).toMatchObject({ inventory: { systemUuid: 'new' }, inventoryAt: T2 });
  });

  it('persons: accounts are unique in a unit and map to the person; a 责任人 cannot be deleted', async () => {
    const r = store.register;
    await r.createPerson('ps-1', '一处', personFields({ accounts: ['lisi', 'ls2'] }), OFFICER, T0);
    await r.createPerson('ps-2', '二处', personFields({ name: '赵六', accounts: ['lisi'] }), OFFICER, T0);
    await expect(r.createPerson('ps-3', '一处', personFields({ name: '钱七' }), OFFICER, T0)).rejects.toThrow(
      /account lisi already belongs to 李四/,
    );
    expect(await r.getPerson('ps-3')).toBeUndefined();
    const mapped = await r.personsByAccount('一处', ['ls2', 'root']);
    expect([...mapped].map(([account, p]) => [account, p.id])).toEqual([['ls2', 'ps-1']]);
    const left = await r.updatePerson(
      'ps-1',
      { state: '离岗', stateSince: '2026-12-01', accounts: ['ls2'] },
      OFFICER,
      T1,
    );
    expect(left).toMatchObject({ state: '离岗', stateSince: '2026-12-01', accounts: ['ls2'] });
    expect((await r.history('person:ps-1'))[0]).toMatchObject({
      before: { state: '在岗', stateSince: null, accounts: ['lisi', 'ls2'] },
      after: { state: '离岗', stateSince: '2026-12-01', accounts: ['ls2'] },
    });
    expect((await r.listPersons({ search: 'ls2' })).map((p) => p.id)).toEqual(['ps-1']);
    expect((await r.listPersons({ units: ['二处'] })).map((p) => p.id)).toEqual(['ps-2']);
    await r.createTerminal('tm-1', '一处', terminalFields({ ownerId: 'ps-1' }), OFFICER, T1);
    await expect(r.deletePerson('ps-1', OFFICER, T2)).rejects.toThrow(/still 责任人 of 1/);
    expect(await r.deletePerson('ps-2', OFFICER, T2)).toBe(true);
    expect(await r.deletePerson('ps-2', OFFICER, T2)).toBe(false);
    expect((await r.history('person:ps-2'))[0]).toMatchObject({
      action: 'register.person.delete',
      after: null,
    });
  });

  it('an import creates and updates by 编号 in one transaction; a conflict names its line and keeps nothing', async () => {
    const r = store.register;
    await r.createTerminal('tm-1', '一处', terminalFields(), OFFICER, T0);
    let n = 0;
    const newId = () => `tm-new-${++n}`;
    const result = await r.importTerminals(
      [
        { line: 2, unit: '一处', fields: terminalFields({ location: '新址' }) },
        { line: 3, unit: '一处', fields: terminalFields({ assetNo: 'JSJ-002' }) },
      ],
      newId,
      OFFICER,
      T1,
    );
    expect(result).toEqual({ created: 1, updated: 1 });
    expect((await r.getTerminal('tm-1'))?.location).toBe('新址');
    await enroll(A, 'ws-01');
    await r.updateTerminal('tm-1', { agentId: A }, OFFICER, T1);
    const before = await r.listTerminals({});
    await expect(
      r.importTerminals(
        [
          { line: 2, unit: '一处', fields: terminalFields({ assetNo: 'JSJ-003' }) },
          { line: 3, unit: '一处', fields: terminalFields({ assetNo: 'JSJ-004', agentId: A }) },
        ],
        newId,
        OFFICER,
        T2,
      ),
    ).rejects.toThrow(/^line 3: agent .* already linked/);
    expect(await r.listTerminals({})).toEqual(before);
    const persons = await r
      .importPersons(
        [
          { line: 2, unit: '一处', fields: personFields() },
          { line: 3, unit: '一处', fields: personFields({ name: '周八', accounts: ['lisi'] }) },
        ],
        () => `ps-${++n}`,
        OFFICER,
        T2,
      )
      .catch((err: Error) => err);
    expect(persons).toBeInstanceOf(RegisterConflict);
    expect((persons as RegisterConflict).line).toBe(3);
    expect(await r.listPersons({})).toEqual([]);
  });
});
