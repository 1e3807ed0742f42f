/**
 * A thread that sets one PDF (pdf-thread.ts): parsing CJK font collections and subsetting them
 * takes a few hundred milliseconds, which must not stall the collector's event loop.
 */
import { parentPort } from 'node:worker_threads';
import type { DocumentFonts } from './documents-config.js';
import type { OfficialDocument } from './official-document.js';
import { renderPdf } from './render-pdf.js';

export interface PdfJob {
  document: OfficialDocument;
  fonts: DocumentFonts;
}

export type PdfResult = { ok: true; pdf: Uint8Array } | { ok: false; error: string };

parentPort!.once('message', (job: PdfJob) => {
  renderPdf(job.document, job.fonts).then(
    (pdf) => parentPort!.postMessage({ ok: true, pdf } satisfies PdfResult),
    (err: unknown) =>
      parentPort!.postMessage({ ok: false, error: (err as Error).message } satisfies PdfResult),
  );
});
