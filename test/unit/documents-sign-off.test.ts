/**
 * What waits for 签发 is said in the 第61条 reminders (collector/documents/awaiting-signature.ts),
 * over a real SQLite store; and the Excel writer keeps hostile text inert and the file readable.
 */
import ExcelJS from 'exceljs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withAwaitingSignature } from '../../collector/documents/awaiting-signature.js';
import { writeXlsx } from '../../collector/documents/xlsx.js';
import type { SqliteStore } from '../../collector/store/sqlite-store.js';
import type { CollectorCondition } from '../../collector/warnings/conditions.js';
import { signOffIncidentReport } from '../support/collector-chain.js';
import { openTempSqliteStore } from '../support/sqlite-temp-store.js';

const AT = '2026-12-07T02:00:00.000Z';

function reminder(incidentId: string, from = 'unit', type = 'incident.report.reminder'): CollectorCondition {
  return {
    type,
    state: 'raised',
    key: `${type}:${incidentId}:unit>county:reminder-2h`,
    unit: '甲单位',
    severity: 'high',
    data: { incidentId, title: '疑似泄密', from, to: 'county', deadline: 'reminder-2h' },
    at: AT,
  };
}

describe('reminders say what waits for signature', () => {
  let opened: { store: SqliteStore; close(): Promise<void> };
  let seen: CollectorCondition[];
  beforeEach(() => {
    opened = openTempSqliteStore('smew-signoff-');
    seen = [];
  });
  afterEach(() => opened.close());

  const sinks = () => ({
    single: withAwaitingSignature({ report: async (c) => void seen.push(c) }, opened.store.documents),
    batch: withAwaitingSignature(
      { report: async (c) => void seen.push(c), reportAll: async (cs) => void seen.push(...cs) },
      opened.store.documents,
    ),
  });

  it('no report drafted, a draft, a signed one: each reminder says so, or nothing once signed', async () => {
    const { single } = sinks();
    await single.report(reminder('inc-1'));
    expect(seen.at(-1)!.data.awaitingSignature).toBe('泄密事件报告尚未起草，请起草并签发后报送');

    await opened.store.documents.create({
      id: 'doc-1',
      kind: 'incident-report',
      subject: 'incident:inc-1',
      unit: '甲单位',
      title: '关于可能泄露国家秘密事件的报告',
      level: '秘密',
      term: null,
      urgency: null,
      number: null,
      fields: {},
      createdAt: AT,
      createdBy: '张三',
    });
    await single.report(reminder('inc-1', 'unit', 'incident.report.late'));
    expect(seen.at(-1)!.data.awaitingSignature).toBe('泄密事件报告《关于可能泄露国家秘密事件的报告》待签发');

    await opened.store.documents.signOff('doc-1', '王保密', AT);
    await single.report(reminder('inc-1'));
    expect(seen.at(-1)!.data).not.toHaveProperty('awaitingSignature');
  });

  it('only the unit’s own hops wait for its signature; a batch sink keeps taking batches', async () => {
    await signOffIncidentReport(opened.store, { id: 'inc-2', unit: '甲单位', level: '秘密' }, AT);
    const { batch } = sinks();
    expect('reportAll' in batch).toBe(true);
    if (!('reportAll' in batch)) return;
    await batch.reportAll([reminder('inc-1'), reminder('inc-1', 'county'), reminder('inc-2')]);
    expect(seen.map((c) => c.data.awaitingSignature)).toEqual([
      '泄密事件报告尚未起草，请起草并签发后报送',
      undefined,
      undefined,
    ]);
    // A cleared condition is passed as it is.
    await batch.report({ ...reminder('inc-1'), state: 'cleared' });
    expect(seen.at(-1)!.data).not.toHaveProperty('awaitingSignature');
  });
});

describe('the Excel writer', () => {
  it('writes formulas and controls as text, and cuts an illegal sheet name', async () => {
    const file = await writeXlsx([
      {
        name: 'a/b:c*d?e[f]g — a name far longer than thirty-one characters',
        columns: [{ header: '终端' }, { header: '次数' }],
        rows: [
          ['=HYPERLINK("http://x","点击")', 3],
          ['office\u0007\u001bgpj.exe', null],
        ],
      },
    ]);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(file as unknown as ArrayBuffer);
    const sheet = workbook.worksheets[0]!;
    expect(sheet.name).toBe('a b c d e f g — a name far long'); // 31 characters
    expect(sheet.getCell('A2').value).toBe('=HYPERLINK("http://x","点击")');
    expect(sheet.getCell('A2').formula).toBeUndefined();
    expect(sheet.getCell('B2').value).toBe(3);
    expect(sheet.getCell('A3').value).toBe('office\\u0007\\u001bgpj.exe');
    expect(sheet.getCell('A1').value).toBe('终端');
  });
});
