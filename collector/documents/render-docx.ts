import {
  AlignmentType,
  BorderStyle,
  Document,
  Footer,
  LineRuleType,
  Packer,
  PageNumber,
  Paragraph,
  Tab,
  Table as DocxTable,
  TableCell,
  TableRow,
  TabStopType,
  TextRun,
  WidthType,
  type IParagraphOptions,
} from 'docx';
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
 * An official document as .docx, for editing and 签发 on the unit's office machine: the same model
 * and grid as the PDF (render-pdf.ts), in the faces GB/T 9704 names — 仿宋 for the text, 黑体,
 * 楷体, and 方正小标宋简体 for the 标题 and 发文机关标志 — which Word and WPS on such a machine have;
 * where one is missing the word processor substitutes, and the PDF remains the filed copy.
 */
const FACES = { body: '仿宋_GB2312', heading: '黑体', kai: '楷体_GB2312', title: '方正小标宋简体' } as const;
type Face = keyof typeof FACES;

const TWIP_PER_MM = 1440 / 25.4;
const twips = (mm: number) => Math.round(mm * TWIP_PER_MM);
/** One grid line and one character, in twips (see PAGE). */
const LINE = Math.round((PAGE.textHeightMm * TWIP_PER_MM) / PAGE.linesPerPage);
const CHAR = Math.round((PAGE.textWidthMm * TWIP_PER_MM) / PAGE.charsPerLine);
const RED = PAGE.red.slice(1);

function run(text: string, face: Face, pt: number = PAGE.bodyPt, color?: string): TextRun {
  const font = FACES[face];
  return new TextRun({ text, font: { ascii: font, eastAsia: font, hAnsi: font }, size: pt * 2, color });
}

/** A paragraph on the grid: exactly one line high (a large font takes whole lines). */
function line(children: IParagraphOptions['children'], options: Partial<IParagraphOptions> = {}): Paragraph {
  return new Paragraph({
    spacing: { line: LINE, lineRule: LineRuleType.EXACT, before: 0, after: 0 },
    ...options,
    children,
  });
}

const BLANK = () => line([]);

export async function renderDocx(document: OfficialDocument): Promise<Buffer> {
  const children: (Paragraph | DocxTable)[] = [...head(document), ...mainBody(document)];
  for (const [index, attachment] of (document.attachments ?? []).entries()) {
    children.push(
      line([run(attachmentLabel(document.attachments!, index), 'heading')], { pageBreakBefore: true }),
      BLANK(),
      title(attachment.title),
      BLANK(),
      ...attachment.blocks.flatMap(block),
    );
  }
  if (document.printed) children.push(...colophon(document.printed));
  const pageNumber = (alignment: (typeof AlignmentType)[keyof typeof AlignmentType]) =>
    new Footer({
      children: [
        new Paragraph({
          alignment,
          indent: { left: CHAR, right: CHAR },
          children: [
            new TextRun({
              children: ['— ', PageNumber.CURRENT, ' —'],
              font: '宋体',
              size: PAGE.pageNumberPt * 2,
            }),
          ],
        }),
      ],
    });
  const doc = new Document({
    title: document.title,
    creator: document.signature,
    evenAndOddHeaderAndFooters: true,
    styles: { default: { document: { run: { font: FACES.body, size: PAGE.bodyPt * 2 } } } },
    sections: [
      {
        properties: {
          page: {
            size: { width: twips(PAGE.widthMm), height: twips(PAGE.heightMm) },
            margin: {
              top: twips(PAGE.topMm),
              left: twips(PAGE.leftMm),
              right: twips(PAGE.widthMm - PAGE.leftMm - PAGE.textWidthMm),
              bottom: twips(PAGE.heightMm - PAGE.topMm - PAGE.textHeightMm),
              footer: twips(PAGE.heightMm - PAGE.topMm - PAGE.textHeightMm - 7) - 280,
            },
          },
        },
        footers: { default: pageNumber(AlignmentType.RIGHT), even: pageNumber(AlignmentType.LEFT) },
        children,
      },
    ],
  });
  return Packer.toBuffer(doc);
}

function title(text: string): Paragraph {
  return new Paragraph({
    alignment: AlignmentType.CENTER,
    spacing: { line: 2 * LINE * 0.6, lineRule: LineRuleType.EXACT },
    children: [run(text, 'title', PAGE.titlePt)],
  });
}

/** 版头, as render-pdf.ts draws it. */
function head(document: OfficialDocument): Paragraph[] {
  const out: Paragraph[] = [];
  const top: TextRun[][] = [];
  if (document.copyNumber) top.push([run(document.copyNumber, 'body')]);
  const mark = classificationText(document);
  if (mark) top.push([run(mark, 'heading')]);
  if (document.urgency) top.push([run(document.urgency, 'heading')]);
  if (document.draftNote) {
    const first = top[0] ?? [];
    top[0] = [
      ...first,
      new TextRun({ children: [new Tab()] }),
      run(document.draftNote, 'heading', PAGE.bodyPt, RED),
    ];
  }
  for (const children of top) {
    out.push(line(children, { tabStops: [{ type: TabStopType.RIGHT, position: twips(PAGE.textWidthMm) }] }));
  }
  // 35 mm (80 mm for a 上行文) from the 版心's top to the 发文机关标志.
  const markLine = Math.round(twips(document.upward ? 80 : 35) / LINE);
  while (out.length < markLine) out.push(BLANK());
  out.push(
    new Paragraph({
      alignment: AlignmentType.CENTER,
      spacing: { line: 2 * LINE, lineRule: LineRuleType.EXACT },
      children: [run(document.issuerMark, 'title', PAGE.issuerPt, RED)],
    }),
    BLANK(),
  );
  const rule = {
    border: { bottom: { color: RED, space: 6, style: BorderStyle.SINGLE, size: 8 } },
  } satisfies Partial<IParagraphOptions>;
  if (document.upward) {
    const signer = document.signer
      ? [new TextRun({ children: [new Tab()] }), run('签发人：', 'body'), run(document.signer, 'kai')]
      : [];
    out.push(
      line([run(document.number ?? '', 'body'), ...signer], {
        ...rule,
        indent: { left: CHAR, right: CHAR },
        tabStops: [{ type: TabStopType.RIGHT, position: twips(PAGE.textWidthMm) - 2 * CHAR }],
      }),
    );
  } else {
    out.push(line([run(document.number ?? '', 'body')], { ...rule, alignment: AlignmentType.CENTER }));
  }
  out.push(BLANK());
  return out;
}

function mainBody(document: OfficialDocument): (Paragraph | DocxTable)[] {
  const out: (Paragraph | DocxTable)[] = [title(document.title), BLANK()];
  if (document.recipients) out.push(line([run(`${document.recipients}：`, 'body')]));
  out.push(...document.body.flatMap(block));
  if (document.attachments?.length) {
    out.push(BLANK());
    for (const text of attachmentNote(document.attachments)) out.push(text2(text));
  }
  out.push(BLANK(), ...signatureAndDate(document.signature, chineseDate(document.date)));
  return out;
}

/** A 正文 paragraph: first line indented two characters, justified. */
function text2(text: string, face: Face = 'body'): Paragraph {
  return line([run(text, face)], { indent: { firstLine: 2 * CHAR }, alignment: AlignmentType.JUSTIFIED });
}

function block(b: Block): (Paragraph | DocxTable)[] {
  if (b.kind === 'heading') return [text2(b.text, b.level === 1 ? 'heading' : 'kai')];
  if (b.kind === 'paragraph') return [text2(b.text)];
  return [table(b.table), BLANK()];
}

/** Characters as the grid counts them: Latin letters and digits take half a character. */
function gridWidth(text: string): number {
  let n = 0;
  for (const ch of text) n += ch.charCodeAt(0) < 0x2e80 ? 0.5 : 1;
  return n;
}

/** 署名 and 成文日期 by GB/T 9704 7.3.5.2 (see render-pdf.ts signatureAndDate). */
function signatureAndDate(signature: string, date: string): Paragraph[] {
  const s = gridWidth(signature);
  const d = gridWidth(date);
  let dateRight = 2 + s - 2 - d;
  let signatureRight = 2;
  if (dateRight < 2) {
    dateRight = 2;
    signatureRight = dateRight + d + 2 - s;
  }
  const right = (chars: number, text: string) =>
    line([run(text, 'body')], {
      alignment: AlignmentType.RIGHT,
      indent: { right: Math.round(chars * CHAR) },
    });
  return [right(signatureRight, signature), right(dateRight, date)];
}

function table(t: Table): DocxTable {
  const weights = t.widths ?? t.columns.map(() => 1);
  const total = weights.reduce((a, b) => a + b, 0);
  const cell = (text: string, face: Face, first: boolean, width: number) =>
    new TableCell({
      width: { size: Math.round((width / total) * 100), type: WidthType.PERCENTAGE },
      children: [
        new Paragraph({
          alignment: first ? AlignmentType.LEFT : AlignmentType.CENTER,
          children: [run(text, face, PAGE.tablePt)],
        }),
      ],
    });
  const row = (cells: readonly string[], face: Face, header = false) =>
    new TableRow({
      tableHeader: header,
      children: cells.map((c, i) => cell(c, face, i === 0, weights[i] ?? 1)),
    });
  return new DocxTable({
    width: { size: 100, type: WidthType.PERCENTAGE },
    rows: [row(t.columns, 'heading', true), ...t.rows.map((r) => row(r, 'body'))],
  });
}

/** 版记: 印发机关 and 印发日期 on one line between two rules. */
function colophon(printed: { by: string; date: string }): Paragraph[] {
  const { by, date } = printedText(printed);
  const rule = { color: '000000', space: 4, style: BorderStyle.SINGLE, size: 8 } as const;
  return [
    BLANK(),
    line(
      [
        run(by, 'body', PAGE.pageNumberPt),
        new TextRun({ children: [new Tab()] }),
        run(date, 'body', PAGE.pageNumberPt),
      ],
      {
        border: { top: rule, bottom: rule },
        indent: { left: CHAR, right: CHAR },
        tabStops: [{ type: TabStopType.RIGHT, position: twips(PAGE.textWidthMm) - 2 * CHAR }],
      },
    ),
  ];
}
