import { z } from 'zod';
import { LEVELS } from '../levels.js';
import { SECRET_TERM_PATTERN } from '../secret-mark.js';
import { isoTime, listOf, nullableIsoTime } from './common.js';

/**
 * Official documents (公文) and their sign-off (签发): `GET|POST /api/v1/documents`,
 * `POST /api/v1/documents/{id}/signoff`, `POST /api/v1/documents/{id}/sent`,
 * `GET /api/v1/documents/{id}.docx|.pdf`. A document is a draft until a secadmin signs it off;
 * an incident report and the annual report leave the unit only then (SPEC §7).
 */
export const DOCUMENT_KINDS = [
  'incident-report',
  'warning-notice',
  'notice-reply',
  'annual-report',
  'self-inspection',
] as const;
/** Kinds made through the API; the self-inspection report is made by the self-inspection. */
export const CREATABLE_DOCUMENT_KINDS = [
  'incident-report',
  'warning-notice',
  'notice-reply',
  'annual-report',
  'self-inspection',
] as const;
export const DOCUMENT_STATES = ['draft', 'signed', 'sent'] as const;
export const URGENCIES = ['特急', '加急'] as const;
export const LEAK_NATURES = ['已泄露', '可能泄露'] as const;

export const document = z.object({
  id: z.string(),
  kind: z.enum(DOCUMENT_KINDS),
  subject: z.string().meta({ description: 'incident:ID, notice:ID, notice:ID:UNIT or annual:YEAR' }),
  unit: z.string(),
  title: z.string(),
  level: z.enum(LEVELS),
  term: z.string().nullable(),
  urgency: z.string().nullable(),
  number: z.string().nullable().meta({ description: '发文字号' }),
  state: z.enum(DOCUMENT_STATES),
  createdAt: isoTime,
  createdBy: z.string(),
  signedBy: z.string().nullable().meta({ description: '签发人' }),
  signedAt: nullableIsoTime,
  sentAt: nullableIsoTime,
});
export type DocumentView = z.infer<typeof document>;
export const documentList = listOf(document);

export const documentQuery = z.object({
  kind: z.enum(DOCUMENT_KINDS).optional(),
  state: z.enum(DOCUMENT_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

const term = z
  .string()
  .regex(
    new RegExp(`^(?:${SECRET_TERM_PATTERN})$`, 'u'),
    '保密期限 such as 1年, 6个月, 长期 or 2030年12月31日',
  )
  .meta({ description: '保密期限, written after ★ in the 国家秘密标志' });

/** What each kind needs: its subject's id, and its own text where the unit writes one. */
export const newDocumentBody = z.strictObject({
  kind: z.enum(CREATABLE_DOCUMENT_KINDS),
  incidentId: z.string().max(100).optional().meta({ description: 'incident-report' }),
  nature: z.enum(LEAK_NATURES).optional().meta({ description: 'incident-report: 已泄露 or 可能泄露' }),
  noticeId: z.string().max(100).optional().meta({ description: 'warning-notice, notice-reply' }),
  unit: z
    .string()
    .max(200)
    .optional()
    .meta({ description: 'notice-reply: the answering unit; default the caller’s' }),
  inspectionId: z
    .string()
    .max(100)
    .optional()
    .meta({ description: 'self-inspection: a finalised 保密自查自评' }),
  year: z.int().min(2000).max(2100).optional().meta({ description: 'annual-report' }),
  text: z.string().max(50_000).optional().meta({ description: 'annual-report: the unit’s own account' }),
  level: z.enum(LEVELS).optional().meta({ description: 'default the incident’s level, else 非密' }),
  term: term.optional(),
  urgency: z.enum(URGENCIES).optional(),
  number: z.string().max(100).optional(),
});
export type NewDocumentBody = z.infer<typeof newDocumentBody>;

export const signOffBody = z.strictObject({
  number: z.string().max(100).optional().meta({ description: '发文字号, if not given at drafting' }),
});

export const documentFileParams = z.object({
  id: z.string().min(1).max(100),
  format: z.enum(['docx', 'pdf']),
});
