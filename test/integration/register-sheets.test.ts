import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/server.js';
import { ManualClock } from '../../shared/clock.js';
import { tempDir } from '../support/collector-harness.js';
import { apiClient, keyFor, RecordingSink, startClockCollector, type Json } from './clocks-harness.js';

/**
 * The register as a 台账 file through the API of a real collector: export, edit, import round
 * trips for CSV and Excel; a bad row refuses the whole file with its line, and nothing is kept.
 */
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

describe('register import and export (CSV, XLSX)', () => {
  const clock = new ManualClock('2026-12-01T02:00:00Z');
  let dir: ReturnType<typeof tempDir>;
  let collector: RunningCollector;
  let call: ReturnType<typeof apiClient>;
  let officer: string;

  beforeAll(async () => {
    dir = tempDir('smew-register-sheets-');
    collector = await startClockCollector(dir.path, clock, new RecordingSink());
    call = apiClient(collector);
    officer = await keyFor(collector, 'secadmin', '一处');
    const person = await call('POST', '/api/v1/persons', officer, {
      name: '李四',
      clearance: '核心',
      accounts: ['lisi', 'li4'],
    });
    await call('POST', '/api/v1/persons', officer, { name: '王五', clearance: '一般' });
    await call('POST', '/api/v1/systems', officer, {
      name: '办公网',
      level: '机密',
      commissionedAt: '2026-01-01',
    });
    await call('POST', '/api/v1/terminals', officer, {
      assetNo: 'JSJ-001',
      level: '机密',
      ownerId: person.body.id,
      location: '3号楼, 201',
      hostname: '=HYPERLINK("x")',
    });
  });
  afterAll(async () => {
    await collector.stop();
    dir.remove();
  });

  async function download(resource: string, format: 'csv' | 'xlsx'): Promise<Response> {
    const response = await fetch(`${collector.httpUrl}/api/v1/${resource}/export?format=${format}`, {
      headers: { authorization: `Bearer ${officer}` },
    });
    expect(response.status).toBe(200);
    return response;
  }

  async function upload(
    resource: string,
    type: string,
    body: Buffer | string,
  ): Promise<{ status: number; body: Json }> {
    const response = await fetch(`${collector.httpUrl}/api/v1/${resource}/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${officer}`, 'content-type': type },
      body,
    });
    return { status: response.status, body: await response.json() };
  }

  const terminals = async () => (await call('GET', '/api/v1/terminals', officer)).body.items as Json[];

  it('CSV: exported with Chinese headers and a defused formula; edited and imported back', async () => {
    const response = await download('terminals', 'csv');
    expect(response.headers.get('content-type')).toMatch(/text\/csv/);
    expect(response.headers.get('content-disposition')).toContain("filename*=UTF-8''");
    const text = await response.text();
    const lines = text
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\r\n');
    expect(lines[0]).toBe(
      '单位,编号,密级,用途,责任人,部门,位置,要害部门部位,涉密信息系统,状态,状态日期,终端标识,主机名',
    );
    expect(lines[1]).toBe(`一处,JSJ-001,机密,涉密,李四,,"3号楼, 201",,,在用,,,"'=HYPERLINK(""x"")"`);

    const edited = [
      lines[0],
      lines[1]!.replace('李四', '王五').replace(',,,在用', ',,办公网,在用'),
      '一处,JSJ-002,秘密,涉密,李四,保密办,"2号楼",机要室,,停用,2026-11-30,,ws-hand',
    ].join('\r\n');
    const imported = await upload('terminals', 'text/csv', edited);
    expect(imported).toEqual({ status: 200, body: { created: 1, updated: 1 } });
    const [one, two] = await terminals();
    expect(one).toMatchObject({
      assetNo: 'JSJ-001',
      owner: '王五',
      systemName: '办公网',
      hostname: '=HYPERLINK("x")',
    });
    expect(two).toMatchObject({
      assetNo: 'JSJ-002',
      level: '秘密',
      state: '停用',
      stateSince: '2026-11-30',
      keyPart: '机要室',
      hostname: 'ws-hand',
    });
    const history = (await call('GET', `/api/v1/terminals/${one.id}`, officer)).body.history;
    expect(history[0]).toMatchObject({
      action: 'register.terminal.change',
      after: { systemId: one.systemId },
    });
  });

  it('CSV: a bad row is refused with its line and the reason; rows before it are not kept', async () => {
    const before = await terminals();
    const bad = ['编号,密级,责任人', 'JSJ-010,秘密,李四', 'JSJ-011,高,李四'].join('\n');
    expect(await upload('terminals', 'text/csv', bad)).toEqual({
      status: 400,
      body: { error: 'line 3: 密级 "高" is not one of 绝密, 机密, 秘密, 非密' },
    });
    const unknownOwner = ['编号,密级,责任人', 'JSJ-010,秘密,李四', 'JSJ-011,秘密,赵六'].join('\n');
    expect((await upload('terminals', 'text/csv', unknownOwner)).body.error).toBe(
      'line 3: 责任人 赵六 is not in the persons of unit 一处',
    );
    const dates = ['编号,密级,状态日期', 'JSJ-020,秘密,2026-02-30'].join('\n');
    expect((await upload('terminals', 'text/csv', dates)).body.error).toMatch(
      /^line 2: 状态日期 "2026-02-30" is not a calendar date/,
    );
    const unknownColumn = ['编号,密级,颜色', 'JSJ-020,秘密,红'].join('\n');
    expect((await upload('terminals', 'text/csv', unknownColumn)).body.error).toMatch(
      /^line 1: unknown column "颜色"/,
    );
    expect(await terminals()).toEqual(before);
  });

  it('XLSX: exported as a workbook, edited in it, imported back; a bad row refuses the workbook', async () => {
    const response = await download('terminals', 'xlsx');
    expect(response.headers.get('content-type')).toBe(XLSX);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(await response.arrayBuffer());
    const sheet = workbook.worksheets[0]!;
    expect(sheet.name).toBe('涉密计算机台账');
    expect(sheet.getRow(1).getCell(2).value).toBe('编号');
    const row = sheet.getRow(2);
    expect(row.getCell(2).value).toBe('JSJ-001');
    row.getCell(7).value = '6号楼';
    row.getCell(11).value = new Date(Date.UTC(2026, 10, 15)); // Excel turns a typed date into a date
    row.commit();
    const imported = await upload('terminals', XLSX, Buffer.from(await workbook.xlsx.writeBuffer()));
    expect(imported.status).toBe(200);
    expect((await terminals()).find((t: Json) => t.assetNo === 'JSJ-001')).toMatchObject({
      location: '6号楼',
      stateSince: '2026-11-15',
    });

    const before = await terminals();
    sheet.getRow(2).getCell(7).value = '7号楼';
    sheet.getRow(3).getCell(10).value = '丢失';
    const bad = await upload('terminals', XLSX, Buffer.from(await workbook.xlsx.writeBuffer()));
    expect(bad).toEqual({
      status: 400,
      body: { error: 'line 3: 状态 "丢失" is not one of 在用, 停用, 维修, 报废' },
    });
    expect(await terminals()).toEqual(before);
    expect((await upload('terminals', XLSX, Buffer.from('not a workbook'))).body.error).toMatch(
      /not an Excel workbook/,
    );
  });

  it('persons: CSV and XLSX round trip with accounts; a taken account refuses the file by line', async () => {
    const csv = (await (await download('persons', 'csv')).text())
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\r\n');
    expect(csv).toEqual([
      '单位,姓名,部门,涉密等级,状态,状态日期,脱密期截止,操作系统账户',
      '一处,李四,,核心,在岗,,,li4; lisi',
      '一处,王五,,一般,在岗,,,',
    ]);
    const edited = [
      csv[0],
      csv[1]!.replace('在岗,,', '脱密期,2026-12-01,2027-06-01'),
      '一处,赵六,保密办,重要,在岗,,,zhao6',
    ];
    expect(await upload('persons', 'text/csv', edited.join('\n'))).toEqual({
      status: 200,
      body: { created: 1, updated: 1 },
    });
    const persons = (await call('GET', '/api/v1/persons', officer)).body.items as Json[];
    expect(persons.find((p) => p.name === '李四')).toMatchObject({
      state: '脱密期',
      stateUntil: '2027-06-01',
    });

    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(await (await download('persons', 'xlsx')).arrayBuffer());
    const sheet = workbook.worksheets[0]!;
    sheet.addRow(['一处', '周八', '', '一般', '在岗', '', '', 'zhao6']);
    const taken = await upload('persons', XLSX, Buffer.from(await workbook.xlsx.writeBuffer()));
    expect(taken).toEqual({
      status: 400,
      body: { error: 'line 5: account zhao6 already belongs to 赵六 in unit 一处' },
    });
    expect((await call('GET', '/api/v1/persons', officer)).body.items).toEqual(persons);
  });
});
