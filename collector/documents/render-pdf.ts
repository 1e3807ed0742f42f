import PDFDocument from 'pdfkit';
import { checkFonts, type DocumentFonts, type FontRole } from './documents-config.js';
import {
  attachmentLabel,
  attachmentNote,
  chineseDate,
  classificationText,
  PAGE,
  printedText,
  type Block,
  type OfficialDocument,
  type Table,
} from './official-document.js';

/**
 * An official document as a PDF for filing, laid out on GB/T 9704's grid (official-document.ts
 * PAGE): 22 lines of 28 characters in a 156 × 225 mm 版心. Fonts come from the machine
 * (documents-config.ts); pdfkit embeds the subset of glyphs used, so the file reads the same on
 * any machine and carries no font it does not need.
 */
const MM = 72 / 25.4;
const PAGE_WIDTH = PAGE.widthMm * MM;
const PAGE_HEIGHT = PAGE.heightMm * MM;
const LEFT = PAGE.leftMm * MM;
const TOP = PAGE.topMm * MM;
const WIDTH = PAGE.textWidthMm * MM;
const HEIGHT = PAGE.textHeightMm * MM;
const BOTTOM = TOP + HEIGHT;
/** One line of the grid, and one character of it (CJK glyphs are 1 em wide; spacing makes 28 fit). */
const LINE = HEIGHT / PAGE.linesPerPage;
const CHAR = WIDTH / PAGE.charsPerLine;
const BODY_SPACING = CHAR - PAGE.bodyPt;
const BLACK = '#000000';

type Pdf = InstanceType<typeof PDFDocument>;

export async function renderPdf(document: OfficialDocument, fonts: DocumentFonts): Promise<Buffer> {
  checkFonts(fonts);
  const pdf = new PDFDocument({
    size: 'A4',
    margins: { top: TOP, left: LEFT, right: PAGE_WIDTH - LEFT - WIDTH, bottom: PAGE_HEIGHT - BOTTOM },
    bufferPages: true,
    info: { Title: document.title, Author: document.signature, Subject: classificationText(document) ?? '' },
  });
  for (const role of Object.keys(fonts) as FontRole[]) {
    const face = fonts[role];
    if (face.name === undefined) pdf.registerFont(role, face.file);
    else pdf.registerFont(role, face.file, face.name);
  }
  const chunks: Buffer[] = [];
  pdf.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });

  head(pdf, document);
  mainBody(pdf, document);
  for (const [index, attachment] of (document.attachments ?? []).entries()) {
    pdf.addPage();
    put(pdf, 'heading', PAGE.bodyPt, attachmentLabel(document.attachments!, index), 0);
    pdf.y = TOP + 2 * LINE;
    paragraph(pdf, attachment.title, { font: 'title', size: PAGE.titlePt, align: 'center', indent: 0 });
    pdf.y += LINE;
    for (const block of attachment.blocks) drawBlock(pdf, block);
  }
  if (document.printed) colophon(pdf, document.printed);
  pageNumbers(pdf);
  pdf.end();
  return done;
}

/** Text on grid line `line` of the current page, vertically centred in it. */
function put(
  pdf: Pdf,
  font: FontRole,
  size: number,
  text: string,
  line: number,
  options: { align?: 'left' | 'center' | 'right'; color?: string; x?: number; width?: number } = {},
): void {
  pdf
    .font(font)
    .fontSize(size)
    .fillColor(options.color ?? BLACK);
  const y = TOP + line * LINE + (LINE - pdf.currentLineHeight()) / 2;
  pdf.text(text, options.x ?? LEFT, y, {
    width: options.width ?? WIDTH,
    align: options.align ?? 'left',
    lineBreak: false,
  });
}

/** 版头: 份号, 密级和保密期限, 紧急程度, 发文机关标志, 发文字号 (and 签发人), the red line. */
function head(pdf: Pdf, document: OfficialDocument): void {
  let line = 0;
  if (document.copyNumber) put(pdf, 'body', PAGE.bodyPt, document.copyNumber, line++);
  const mark = classificationText(document);
  if (mark) put(pdf, 'heading', PAGE.bodyPt, mark, line++);
  if (document.urgency) put(pdf, 'heading', PAGE.bodyPt, document.urgency, line);
  if (document.draftNote)
    put(pdf, 'heading', PAGE.bodyPt, document.draftNote, 0, { align: 'right', color: PAGE.red });

  // The mark's top sits 35 mm below the 版心's top; 80 mm for a 上行文, leaving room to endorse it.
  const markTop = TOP + (document.upward ? 80 : 35) * MM;
  pdf.font('title').fillColor(PAGE.red);
  let size: number = PAGE.issuerPt;
  pdf.fontSize(size);
  while (size > 16 && pdf.widthOfString(document.issuerMark) > WIDTH) pdf.fontSize(--size);
  pdf.text(document.issuerMark, LEFT, markTop, { width: WIDTH, align: 'center', lineBreak: false });
  const numberLine = Math.ceil((markTop + pdf.currentLineHeight() - TOP) / LINE) + 1;

  const number = document.number ?? '';
  if (document.upward) {
    put(pdf, 'body', PAGE.bodyPt, number, numberLine, { x: LEFT + CHAR, width: WIDTH - 2 * CHAR });
    if (document.signer) {
      put(pdf, 'body', PAGE.bodyPt, `签发人：${document.signer}`, numberLine, {
        x: LEFT + CHAR,
        width: WIDTH - 2 * CHAR,
        align: 'right',
      });
    }
  } else {
    put(pdf, 'body', PAGE.bodyPt, number, numberLine, { align: 'center' });
  }
  // The separator: 4 mm below the 发文字号, as wide as the 版心.
  const ruleY = TOP + (numberLine + 1) * LINE + 4 * MM - (LINE - PAGE.bodyPt) / 2;
  pdf
    .save()
    .lineWidth(1)
    .strokeColor(PAGE.red)
    .moveTo(LEFT, ruleY)
    .lineTo(LEFT + WIDTH, ruleY)
    .stroke()
    .restore();
  // 标题 two lines below the rule.
  pdf.y = TOP + (Math.ceil((ruleY - TOP) / LINE) + 2) * LINE;
}

interface ParagraphOptions {
  font?: FontRole;
  size?: number;
  align?: 'left' | 'center' | 'right' | 'justify';
  /** First-line indent in characters; default 2 (正文). */
  indent?: number;
  color?: string;
}

/** Flowing text on the grid: every line one LINE high, continuing on the next page as needed. */
function paragraph(pdf: Pdf, text: string, options: ParagraphOptions = {}): void {
  const size = options.size ?? PAGE.bodyPt;
  pdf
    .font(options.font ?? 'body')
    .fontSize(size)
    .fillColor(options.color ?? BLACK);
  // The 标题 (2号) sets its lines 1.5 apart; everything else keeps to the grid.
  const pitch = size > PAGE.bodyPt ? size * 1.5 : LINE;
  const lineGap = pitch - pdf.currentLineHeight();
  pdf.text(text, LEFT, pdf.y + lineGap / 2, {
    width: WIDTH,
    align: options.align ?? 'justify',
    indent: (options.indent ?? 2) * CHAR,
    lineGap,
    characterSpacing: size === PAGE.bodyPt ? BODY_SPACING : 0,
  });
  pdf.y -= lineGap / 2;
}

/** 主体: 标题, 主送机关, 正文, 附件说明, 署名 and 成文日期. */
function mainBody(pdf: Pdf, document: OfficialDocument): void {
  paragraph(pdf, document.title, { font: 'title', size: PAGE.titlePt, align: 'center', indent: 0 });
  pdf.y += LINE;
  if (document.recipients) paragraph(pdf, `${document.recipients}：`, { indent: 0 });
  for (const block of document.body) drawBlock(pdf, block);
  if (document.attachments?.length) {
    pdf.y += LINE;
    for (const text of attachmentNote(document.attachments)) paragraph(pdf, text, { align: 'left' });
  }
  signatureAndDate(pdf, document.signature, chineseDate(document.date));
}

function drawBlock(pdf: Pdf, block: Block): void {
  if (block.kind === 'heading') {
    paragraph(pdf, block.text, { font: block.level === 1 ? 'heading' : 'body' });
  } else if (block.kind === 'paragraph') {
    paragraph(pdf, block.text);
  } else {
    table(pdf, block.table);
  }
}

/**
 * GB/T 9704 7.3.5.2 (no seal): the 署名 one line below the text, two characters in from the right;
 * the date on the next line, its first character two to the right of the 署名's — or, when the
 * date is the longer, the date two in from the right and the 署名 moved left to keep the offset.
 */
function signatureAndDate(pdf: Pdf, signature: string, date: string): void {
  pdf.font('body').fontSize(PAGE.bodyPt);
  const width = (text: string) => pdf.widthOfString(text, { characterSpacing: BODY_SPACING });
  const right = LEFT + WIDTH - 2 * CHAR;
  let signatureX = right - width(signature);
  let dateX = signatureX + 2 * CHAR;
  if (dateX + width(date) > right) {
    dateX = right - width(date);
    signatureX = dateX - 2 * CHAR;
  }
  if (pdf.y + 3 * LINE > BOTTOM) pdf.addPage();
  const line = Math.round((pdf.y - TOP) / LINE) + 1;
  put(pdf, 'body', PAGE.bodyPt, signature, line, { x: signatureX, width: WIDTH });
  put(pdf, 'body', PAGE.bodyPt, date, line + 1, { x: dateX, width: WIDTH });
  pdf.y = TOP + (line + 2) * LINE;
}

/** A ruled table in 小四 (12 pt), the header row in 黑体; a row that does not fit starts a new page. */
function table(pdf: Pdf, table: Table): void {
  const weights = table.widths ?? table.columns.map(() => 1);
  const total = weights.reduce((a, b) => a + b, 0);
  const widths = weights.map((w) => (w / total) * WIDTH);
  const pad = 4;
  const drawRow = (cells: readonly string[], font: FontRole) => {
    pdf.font(font).fontSize(PAGE.tablePt);
    const height =
      Math.max(...cells.map((c, i) => pdf.heightOfString(c, { width: widths[i]! - 2 * pad }))) + 2 * pad;
    if (pdf.y + height > BOTTOM) pdf.addPage();
    const top = pdf.y;
    let x = LEFT;
    cells.forEach((cell, i) => {
      pdf.rect(x, top, widths[i]!, height).lineWidth(0.5).strokeColor(BLACK).stroke();
      pdf.fillColor(BLACK).text(cell, x + pad, top + pad, {
        width: widths[i]! - 2 * pad,
        align: i === 0 ? 'left' : 'center',
      });
      x += widths[i]!;
    });
    pdf.y = top + height;
  };
  drawRow(table.columns, 'heading');
  for (const row of table.rows) drawRow(row, 'body');
  pdf.y += LINE / 2;
}

/** 版记 at the foot of the last page: 印发机关 left, 印发日期 right, between two rules. */
function colophon(pdf: Pdf, printed: { by: string; date: string }): void {
  if (pdf.y > BOTTOM - 2 * LINE) pdf.addPage();
  const { by, date } = printedText(printed);
  const line = PAGE.linesPerPage - 1;
  const rule = (y: number) =>
    pdf
      .save()
      .lineWidth(1)
      .strokeColor(BLACK)
      .moveTo(LEFT, y)
      .lineTo(LEFT + WIDTH, y)
      .stroke()
      .restore();
  rule(TOP + line * LINE);
  put(pdf, 'body', PAGE.pageNumberPt, by, line, { x: LEFT + CHAR, width: WIDTH - 2 * CHAR });
  put(pdf, 'body', PAGE.pageNumberPt, date, line, {
    x: LEFT + CHAR,
    width: WIDTH - 2 * CHAR,
    align: 'right',
  });
  rule(BOTTOM);
}

/** 页码 `— 1 —` 7 mm below the 版心: odd pages on the right, even on the left, one character in. */
function pageNumbers(pdf: Pdf): void {
  const range = pdf.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    pdf.switchToPage(i);
    // Below the bottom margin pdfkit would start a new page: lift the margin while writing there.
    const margin = pdf.page.margins.bottom;
    pdf.page.margins.bottom = 0;
    const odd = (i - range.start) % 2 === 0;
    pdf
      .font('body')
      .fontSize(PAGE.pageNumberPt)
      .fillColor(BLACK)
      .text(`— ${i - range.start + 1} —`, LEFT + CHAR, BOTTOM + 7 * MM, {
        width: WIDTH - 2 * CHAR,
        align: odd ? 'right' : 'left',
        lineBreak: false,
      });
    pdf.page.margins.bottom = margin;
  }
}
