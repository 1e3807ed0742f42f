import { z } from 'zod';

/** `rules:` in the collector config: the 第64条 rule file; default the shipped config/rules.yaml. */
export const rulesConfigSchema = z.strictObject({ file: z.string().min(1).optional() }).default({});
export type RulesConfig = z.infer<typeof rulesConfigSchema>;
