import ExcelJS from 'exceljs';

/**
 * Lists as Excel workbooks (.xlsx): the one writer every export uses (warnings, incidents,
 * assessments, terminals). A sheet is a header row and rows of plain values; every value is
 * written as a value, never a formula, so text an agent reported (`=HYPERLINK(…)`) stays text.
 * Characters XML 1.0 cannot carry (C0 controls) would make the file unreadable, so they are
 * written as their \u escape, as the dashboard shows them.
 */
export const XLSX_CONTENT_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

export type CellValue = string | number | boolean | null | undefined;

export interface SheetColumn {
  header: string;
  /** Width in characters; a CJK character counts two. */
  width?: number;
}

export interface Sheet {
  /** At most 31 characters, no []:*?/\ (Excel's rule); longer names are cut. */
  name: string;
  columns: readonly SheetColumn[];
  rows: readonly (readonly CellValue[])[];
}

// eslint-disable-next-line no-control-regex -- the controls XML 1.0 forbids are what is matched
const XML_ILLEGAL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

function cell(value: CellValue): string | number | boolean | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') return value;
  return value.replace(XML_ILLEGAL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function sheetName(name: string): string {
  return name.replace(/[[\]:*?/\\]/g, ' ').slice(0, 31) || 'Sheet';
}

export async function writeXlsx(sheets: readonly Sheet[], meta: { creator?: string } = {}): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = meta.creator ?? 'smew';
  for (const sheet of sheets) {
    const ws = workbook.addWorksheet(sheetName(sheet.name), { views: [{ state: 'frozen', ySplit: 1 }] });
    ws.columns = sheet.columns.map((c) => ({
      header: c.header,
      width: c.width ?? Math.max(10, c.header.length * 2 + 2),
    }));
    ws.getRow(1).font = { bold: true };
    for (const row of sheet.rows) ws.addRow(row.map(cell));
  }
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
