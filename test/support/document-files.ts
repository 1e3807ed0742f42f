import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './collector-harness.js';

/**
 * Reading generated documents back as a person's tools would: poppler's pdftotext, pdffonts and
 * pdftoppm for a PDF, unzip for a .docx (a zip whose text is word/document.xml). Without
 * poppler-utils the tests that need it skip; in CI (.ci/run installs it) they fail instead.
 */
export const hasPoppler = existsSync('/usr/bin/pdftotext') || process.env.CI === 'true';

function withFile<T>(bytes: Buffer, name: string, read: (path: string, dir: string) => T): T {
  const dir = tempDir('smew-document-');
  try {
    const path = join(dir.path, name);
    writeFileSync(path, bytes);
    return read(path, dir.path);
  } finally {
    dir.remove();
  }
}

/** The PDF's text, in reading order (pdftotext, UTF-8). */
export function pdfText(pdf: Buffer): string {
  return withFile(pdf, 'd.pdf', (path) =>
    execFileSync('pdftotext', ['-enc', 'UTF-8', path, '-'], { encoding: 'utf8' }),
  );
}

export interface PdfFont {
  name: string;
  type: string;
  embedded: boolean;
  subset: boolean;
}

/** Every font the PDF uses, as pdffonts lists them. */
export function pdfFonts(pdf: Buffer): PdfFont[] {
  const out = withFile(pdf, 'd.pdf', (path) => execFileSync('pdffonts', [path], { encoding: 'utf8' }));
  return out
    .split('\n')
    .slice(2)
    .filter((line) => line.trim().length > 0)
    .map((line) => {
      // name type… encoding emb sub uni object ID: the flags are the 3rd–5th columns from the end.
      const cols = line.trim().split(/\s+/);
      const n = cols.length;
      return {
        name: cols[0]!,
        type: cols.slice(1, n - 6).join(' '),
        embedded: cols[n - 5] === 'yes',
        subset: cols[n - 4] === 'yes',
      };
    });
}

export function pdfPages(pdf: Buffer): number {
  const info = withFile(pdf, 'd.pdf', (path) => execFileSync('pdfinfo', [path], { encoding: 'utf8' }));
  return Number(/^Pages:\s+(\d+)/m.exec(info)?.[1]);
}

/** The first page as a PNG at `dpi` (pdftoppm -png -r DPI -f 1 -l 1). */
export function firstPagePng(pdf: Buffer, dpi = 60): Buffer {
  return withFile(pdf, 'd.pdf', (path, dir) => {
    execFileSync('pdftoppm', [
      '-png',
      '-r',
      String(dpi),
      '-f',
      '1',
      '-l',
      '1',
      '-singlefile',
      path,
      join(dir, 'page'),
    ]);
    return readFileSync(join(dir, 'page.png'));
  });
}

/** The .docx's body XML (word/document.xml). */
export function docxXml(docx: Buffer): string {
  return withFile(docx, 'd.docx', (path) =>
    execFileSync('unzip', ['-p', path, 'word/document.xml'], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    }),
  );
}

/** The .docx's text: each paragraph's runs joined, paragraphs on lines of their own. */
export function docxText(docx: Buffer): string {
  return docxXml(docx)
    .replace(/<\/w:p>/g, '\n')
    .replace(/<w:tab\/>/g, '\t')
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}
