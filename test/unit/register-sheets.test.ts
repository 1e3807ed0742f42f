import { describe, expect, it } from 'vitest';
import { readSheet, writeSheet } from '../../collector/register/register-sheets.js';

describe('register sheets: CSV', () => {
  it('reads quoted cells with commas, quotes and line breaks, each row with the line it starts on', async () => {
    const text = '\uFEFF编号,位置\r\nA-1,"2号楼\r\n201"\r\n\r\nA-2,"say ""hi"", twice"\nA-3,x';
    expect(await readSheet('csv', Buffer.from(text))).toEqual({
      header: ['编号', '位置'],
      rows: [
        { line: 2, cells: ['A-1', '2号楼\r\n201'] },
        { line: 5, cells: ['A-2', 'say "hi", twice'] },
        { line: 6, cells: ['A-3', 'x'] },
      ],
    });
  });

  it('refuses an unclosed quote by its line; writes what it reads, formulas defused and restored', async () => {
    await expect(readSheet('csv', Buffer.from('a,b\n1,"open\n'))).rejects.toThrow(
      'line 2: a quoted cell is not closed',
    );
    const table = [
      ['编号', '主机名'],
      ['=1+1', '@SUM(A1)'],
      ['-x', 'plain, "quoted"'],
    ];
    const written = await writeSheet('csv', 't', table);
    expect(written.toString('utf8')).toContain(`'=1+1,'@SUM(A1)`);
    for (const format of ['csv', 'xlsx'] as const) {
      const read = await readSheet(format, await writeSheet(format, 't', table));
      expect([read.header, ...read.rows.map((r) => r.cells)]).toEqual(table);
    }
  });
});
