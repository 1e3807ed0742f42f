import { z } from 'zod';
import { isoTime, listOf, nullableIsoTime } from './common.js';
import { rectification, rectificationInputs } from './rectifications.js';

/**
 * 第58条 保密自查自评 over HTTP: the year's inspection, its checklist answered item by item with
 * evidence, and the result. The checklist's wording is the article's (collector/self-inspection/
 * checklist.ts) and travels with each item, so the dashboard and documents show the same words.
 */
/** 符合 / 基本符合 / 不符合 / 不适用. */
export const INSPECTION_ANSWERS = ['compliant', 'partly', 'non-compliant', 'not-applicable'] as const;
export type InspectionAnswer = (typeof INSPECTION_ANSWERS)[number];
/** Answers that are findings: each needs its 整改 items (第59条). */
export const FINDING_ANSWERS: readonly InspectionAnswer[] = ['partly', 'non-compliant'];
export const INSPECTION_RESULTS = ['compliant', 'findings'] as const;
export type InspectionResult = (typeof INSPECTION_RESULTS)[number];
/** smew's own records an answer may point to, each shown with its live figures. */
export const EVIDENCE_LINKS = [
  'terminals',
  'assessments',
  'warnings',
  'incidents',
  'rectifications',
] as const;
export type EvidenceLink = (typeof EVIDENCE_LINKS)[number];
/** An uploaded evidence file is kept in the store: this is its bound. */
export const MAX_EVIDENCE_FILE_BYTES = 2 * 1024 * 1024;

export const evidenceFile = z.object({
  id: z.int(),
  name: z.string(),
  mediaType: z.string(),
  size: z.int(),
  sha256: z.string(),
  uploadedAt: isoTime,
  uploadedBy: z.string(),
});

/** One evidence link's figures by name (e.g. terminals: enrolled, online). */
export const evidenceFigures = z.record(z.string(), z.record(z.string(), z.number()));
export type EvidenceFigures = z.infer<typeof evidenceFigures>;

export const checklistItem = z.object({
  item: z.string().meta({ description: 'the item key, e.g. systems' }),
  number: z.string().meta({ description: 'as the article numbers it, e.g. （七）' }),
  title: z.string(),
  suggestedLinks: z.array(z.enum(EVIDENCE_LINKS)),
  answer: z.enum(INSPECTION_ANSWERS).nullable(),
  note: z.string().nullable(),
  links: z.array(z.enum(EVIDENCE_LINKS)),
  answeredAt: nullableIsoTime,
  answeredBy: z.string().nullable(),
  files: z.array(evidenceFile),
  rectifications: z.array(rectification),
});
export type ChecklistItem = z.infer<typeof checklistItem>;

export const selfInspection = z.object({
  id: z.string(),
  unit: z.string(),
  year: z.int(),
  state: z.enum(['open', 'finalised']),
  createdAt: isoTime,
  createdBy: z.string(),
  finalizedAt: nullableIsoTime,
  finalizedBy: z.string().nullable(),
  result: z.enum(INSPECTION_RESULTS).nullable(),
  summary: z.string().nullable(),
  counts: z.object({ items: z.int(), answered: z.int(), findings: z.int(), openRectifications: z.int() }),
  figures: evidenceFigures.meta({
    description: 'live while open; as they stood at finalising once finalised',
  }),
  items: z.array(checklistItem),
});
export type SelfInspection = z.infer<typeof selfInspection>;
export const selfInspectionList = listOf(selfInspection);

export const createInspectionBody = z.strictObject({
  year: z.int().min(2000).max(2100),
  unit: z.string().min(1).max(200).optional(),
});

export const inspectionItemParams = z.object({ id: z.string().max(64), item: z.string().max(64) });
export const inspectionFileParams = z.object({
  id: z.string().max(64),
  file: z.string().regex(/^\d{1,12}$/),
});

export const answerBody = z.strictObject({
  answer: z.enum(INSPECTION_ANSWERS),
  note: z.string().max(10_000).nullable().optional(),
  links: z.array(z.enum(EVIDENCE_LINKS)).max(EVIDENCE_LINKS.length).optional(),
  rectifications: rectificationInputs
    .optional()
    .meta({ description: '整改 items this finding opens (what, who, deadline; 第59条)' }),
});

export const fileBody = z.strictObject({
  name: z.string().trim().min(1).max(255),
  mediaType: z.string().min(1).max(100),
  content: z
    .string()
    .max(Math.ceil(MAX_EVIDENCE_FILE_BYTES / 3) * 4)
    .meta({ description: 'base64' }),
});

export const finaliseBody = z.strictObject({ summary: z.string().max(20_000).nullable().optional() });
