import ExcelJS from 'exceljs';
import { ClockRefusal } from '../clocks/clock-requests.js';

/**
 * The register as a table (units keep their 台账 in Excel): CSV and XLSX, read and written here.
 * A table is its header row and its rows of text; each row read keeps the line it came from, so
 * a refusal names it. Text a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) is
 * written behind a `'`, and that `'` is taken off again when read, so a hostile hostname stays text.
 */
export type SheetFormat = 'csv' | 'xlsx';

export interface SheetRow {
  /** The line (CSV) or row number (XLSX) the row starts on; the header is line 1. */
  line: number;
  cells: string[];
}

export interface Sheet {
  header: string[];
  rows: SheetRow[];
}

export const SHEET_TYPES: Readonly<Record<SheetFormat, string>> = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

/** Sheets larger than this are refused before they are parsed. */
export const MAX_SHEET_BYTES = 8 * 1024 * 1024;
const MAX_ROWS = 50_000;

const FORMULA_START = /^[=+\-@\t\r]/;

function defuse(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

function restore(text: string): string {
  return text.startsWith("'") && FORMULA_START.test(text.slice(1)) ? text.slice(1) : text;
}

export function refuse(message: string, line?: number): ClockRefusal {
  return new ClockRefusal(400, line === undefined ? message : `line ${line}: ${message}`);
}

export async function writeSheet(format: SheetFormat, title: string, table: string[][]): Promise<Buffer> {
  const cells = table.map((row) => row.map(defuse));
  if (format === 'csv') return writeCsv(cells);
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet(title);
  for (const row of cells) sheet.addRow(row);
  sheet.getRow(1).font = { bold: true };
  sheet.columns.forEach((column) => (column.width = 16));
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

export async function readSheet(format: SheetFormat, body: Buffer): Promise<Sheet> {
  if (body.length > MAX_SHEET_BYTES) throw refuse(`the file is over ${MAX_SHEET_BYTES} bytes`);
  const rows = format === 'csv' ? readCsv(body.toString('utf8')) : await readXlsx(body);
  const [header, ...data] = rows.filter((row) => row.cells.some((cell) => cell.trim() !== ''));
  if (!header) throw refuse('the file has no header row');
  if (data.length > MAX_ROWS) throw refuse(`the file has over ${MAX_ROWS} rows`);
  return {
    header: header.cells.map((cell) => restore(cell).trim()),
    rows: data.map((row) => ({ line: row.line, cells: row.cells.map((cell) => restore(cell).trim()) })),
  };
}

/** RFC 4180, with a BOM so Excel opens UTF-8 Chinese as such, and CRLF line ends. */
function writeCsv(table: string[][]): Buffer {
  const quote = (cell: string) => (/[",\r\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell);
  const text = table.map((row) => row.map(quote).join(',')).join('\r\n');
  return Buffer.from(`\uFEFF${text}\r\n`, 'utf8');
}

/** RFC 4180 records; a quoted cell may hold commas, quotes and line breaks. */
function readCsv(text: string): SheetRow[] {
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const rows: SheetRow[] = [];
  let line = 1;
  let start = 1;
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  const endRow = () => {
    cells.push(cell);
    rows.push({ line: start, cells });
    cells = [];
    cell = '';
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\n') line++;
    if (quoted) {
      if (c !== '"') cell += c;
      else if (source[i + 1] === '"') cell += source[++i];
      else quoted = false;
    } else if (c === '"' && cell === '') {
      quoted = true;
    } else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else if (c === '\r' || c === '\n') {
      if (c === '\r' && source[i + 1] === '\n') continue; // the \n ends the row
      endRow();
      start = line + (c === '\r' ? 1 : 0);
      if (c === '\r') line++;
    } else {
      cell += c;
    }
  }
  if (quoted) throw refuse('a quoted cell is not closed', start);
  if (cell !== '' || cells.length > 0) endRow();
  return rows;
}

async function readXlsx(body: Buffer): Promise<SheetRow[]> {
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(body as unknown as ArrayBuffer);
  } catch {
    throw refuse('the file is not an Excel workbook (.xlsx)');
  }
  const sheet = workbook.worksheets[0];
  if (!sheet) throw refuse('the workbook has no sheet');
  const rows: SheetRow[] = [];
  sheet.eachRow({ includeEmpty: false }, (row, number) => {
    const cells: string[] = [];
    for (let column = 1; column <= row.cellCount; column++) cells.push(cellText(row.getCell(column).value));
    rows.push({ line: number, cells });
  });
  return rows;
}

/** A cell as text: a date as YYYY-MM-DD (Excel turns typed dates into dates), rich text joined. */
function cellText(value: ExcelJS.CellValue): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  if (typeof value !== 'object') return String(value);
  if ('richText' in value) return value.richText.map((part) => part.text).join('');
  if ('text' in value) return String(value.text);
  if ('result' in value) return value.result === undefined ? '' : cellText(value.result as ExcelJS.CellValue);
  return '';
}
