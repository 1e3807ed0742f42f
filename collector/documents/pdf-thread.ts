import { siblingWorker } from '../worker-thread.js';
import { checkFonts, type DocumentFonts } from './documents-config.js';
import type { OfficialDocument } from './official-document.js';
import type { PdfJob, PdfResult } from './pdf-worker.js';

/**
 * renderPdf (render-pdf.ts) on a thread of its own, one per document: the collector keeps serving
 * ingest and the API while a PDF is set. Fonts are checked here first, so a missing one is the
 * user error it is (the route answers 503 with the key to fix), not a failure of the thread.
 */
export async function renderPdfOffThread(document: OfficialDocument, fonts: DocumentFonts): Promise<Buffer> {
  checkFonts(fonts);
  const worker = siblingWorker(import.meta.url, 'pdf-worker');
  try {
    const result = await new Promise<PdfResult>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the PDF thread exited (${code}) before answering`)));
      worker.postMessage({ document, fonts } satisfies PdfJob);
    });
    if (!result.ok) throw new Error(`setting the PDF failed: ${result.error}`);
    return Buffer.from(result.pdf.buffer, result.pdf.byteOffset, result.pdf.byteLength);
  } finally {
    await worker.terminate();
  }
}
