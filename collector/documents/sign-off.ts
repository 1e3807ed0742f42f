import type { DocumentKind, DocumentRecord, DocumentStore } from '../store/documents/document-store.js';

/**
 * 签发 (issue 16 item 10, SPEC §7): a person signs off what leaves the unit. The one home of the
 * rule: the hierarchy forwards an incident and the annual figures only once their document is
 * signed off, and the 24 h reminders name what still waits (awaiting-signature.ts). Drafts stay
 * visible locally; the legal clock runs regardless.
 */

/** The subject of each kind's document: what producers and the documents desk agree on. */
export const SUBJECTS = {
  incident: (incidentId: string) => `incident:${incidentId}`,
  annual: (year: number) => `annual:${year}`,
  notice: (noticeId: string) => `notice:${noticeId}`,
  noticeReply: (noticeId: string, unit: string) => `notice:${noticeId}:${unit}`,
  selfInspection: (inspectionId: string) => `self-inspection:${inspectionId}`,
} as const;

export function isSignedOff(document: DocumentRecord | undefined): boolean {
  return document !== undefined && document.state !== 'draft';
}

/** Whether the document of `kind` about `subject` has been signed off (or sent since). */
export async function signedOff(store: DocumentStore, kind: DocumentKind, subject: string): Promise<boolean> {
  return isSignedOff(await store.findBySubject(kind, subject));
}

/** What a reminder says waits for signature; undefined when nothing does. */
export async function awaitingSignature(
  store: DocumentStore,
  incidentId: string,
): Promise<string | undefined> {
  const document = await store.findBySubject('incident-report', SUBJECTS.incident(incidentId));
  if (!document) return '泄密事件报告尚未起草，请起草并签发后报送';
  if (document.state === 'draft') return `泄密事件报告《${document.title}》待签发`;
  return undefined;
}

/** Marks the document sent once what it covers has gone up; a document not signed off stays as it is. */
export async function markSent(
  store: DocumentStore,
  kind: DocumentKind,
  subject: string,
  at: string,
): Promise<void> {
  const document = await store.findBySubject(kind, subject);
  if (document?.state === 'signed') await store.markSent(document.id, at);
}
