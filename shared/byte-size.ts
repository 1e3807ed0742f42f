import { z } from 'zod';

const UNIT_BYTES: Record<string, number> = {
  B: 1,
  KB: 1000,
  MB: 1000 ** 2,
  GB: 1000 ** 3,
  KIB: 1024,
  MIB: 1024 ** 2,
  GIB: 1024 ** 3,
};
const BYTE_SIZE = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i;

/** Parses "512KiB", "64MiB", "100MB", "4096" into bytes; undefined when malformed. */
export function parseByteSize(text: string): number | undefined {
  const match = BYTE_SIZE.exec(text.trim());
  if (!match) return undefined;
  const unit = UNIT_BYTES[(match[2] || 'B').toUpperCase()];
  if (unit === undefined) return undefined;
  return Math.floor(Number(match[1]) * unit);
}

/** A config size: a string like "64MiB" (or a bare number of bytes), as bytes. */
export const byteSizeSchema = z
  .union([z.number().int().nonnegative(), z.string()])
  .transform((value, ctx) => {
    if (typeof value === 'number') return value;
    const bytes = parseByteSize(value);
    if (bytes === undefined) {
      ctx.addIssue({ code: 'custom', message: 'expected a size such as 512KiB, 64MiB or 1GB' });
      return z.NEVER;
    }
    return bytes;
  });
