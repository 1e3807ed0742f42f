import { constants, inflateRawSync } from 'node:zlib';
import { SECRET_TERM_PATTERN } from '../../shared/secret-mark.js';

/**
 * Recognising national-secret markings (国家秘密标志, 第21条: 密级 and 保密期限) in file content.
 * The marking is the level word followed by ★ and, optionally, the secrecy term: `机密★`,
 * `秘密★10年`, `绝密★长期`, `机密★6个月`, `秘密★2030年12月31日`. The ★ is required: the bare words
 * 机密/秘密 occur in ordinary prose (规章, 保密制度) and would flood the officers with noise.
 *
 * Supported formats (what `decodeContent` reads):
 * - text: UTF-8, UTF-16 LE/BE with a byte-order mark, and GB18030/GBK (the usual legacy encoding
 *   of Chinese documents) when the bytes are not valid UTF-8; the first TEXT_READ_BYTES only;
 * - Office Open XML (.docx, .xlsx, .pptx and their macro variants): the document, shared-strings
 *   and slide parts, decompressed up to OOXML_PART_BYTES each, in files up to OOXML_FILE_BYTES.
 * Not supported: PDF (text sits in compressed streams behind font encodings), legacy binary Office
 * (.doc/.xls/.ppt, WPS), images and archives. Those are left to other tooling.
 */
export const TEXT_READ_BYTES = 64 * 1024;
export const OOXML_FILE_BYTES = 16 * 1024 * 1024;
export const OOXML_PART_BYTES = 4 * 1024 * 1024;

export type MarkingLevel = '绝密' | '机密' | '秘密';

export interface Marking {
  level: MarkingLevel;
  /** the marking as written, normalised (NFKC): 机密★10年 */
  text: string;
  /** the 保密期限 when one follows the star: 10年, 长期, 6个月, 2030年12月31日 */
  term?: string;
}

// A plain string (see SECRET_TERM_PATTERN): the agent's bundle must keep its source one-byte text.
const MARKING = new RegExp(`(绝密|机密|秘密)[ \\t]*★[ \\t]*(${SECRET_TERM_PATTERN})?`, 'gu');
const RANK: Record<MarkingLevel, number> = { 秘密: 1, 机密: 2, 绝密: 3 };

/**
 * The markings in a text, highest level first (the one that decides). NFKC folds full-width
 * digits and spaces, so `机密★１０年` reads as 机密★10年.
 */
export function findMarkings(text: string): Marking[] {
  const normalised = text.normalize('NFKC');
  const found = new Map<string, Marking>();
  for (const match of normalised.matchAll(MARKING)) {
    const level = match[1] as MarkingLevel;
    const term = match[2];
    const written = `${level}★${term ?? ''}`;
    if (!found.has(written))
      found.set(written, term === undefined ? { level, text: written } : { level, text: written, term });
    if (found.size >= 16) break;
  }
  return [...found.values()].sort((a, b) => RANK[b.level] - RANK[a.level]);
}

export function markingRank(level: MarkingLevel): number {
  return RANK[level];
}

export type ContentFormat = 'utf-8' | 'utf-16le' | 'utf-16be' | 'gb18030' | 'ooxml';

/**
 * The text of a file's leading bytes, or undefined for content this module does not read
 * (binary, or an unsupported container). `wholeFile` says whether `bytes` is the entire file,
 * which a zip (OOXML) needs, since its directory sits at the end.
 */
export function decodeContent(
  bytes: Buffer,
  wholeFile: boolean,
): { format: ContentFormat; text: string } | undefined {
  if (bytes.length >= 4 && bytes.readUInt32LE(0) === 0x04034b50) {
    if (!wholeFile) return undefined;
    const text = ooxmlText(bytes);
    return text === undefined ? undefined : { format: 'ooxml', text };
  }
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return { format: 'utf-8', text: new TextDecoder('utf-8').decode(bytes.subarray(3)) };
  }
  if (bytes[0] === 0xff && bytes[1] === 0xfe) {
    return { format: 'utf-16le', text: new TextDecoder('utf-16le').decode(bytes.subarray(2)) };
  }
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    return { format: 'utf-16be', text: new TextDecoder('utf-16be').decode(bytes.subarray(2)) };
  }
  // NUL bytes without a UTF-16 mark: a binary file, not text.
  if (bytes.subarray(0, 8192).includes(0)) return undefined;
  try {
    return {
      format: 'utf-8',
      text: new TextDecoder('utf-8', { fatal: true }).decode(trimPartialUtf8(bytes)),
    };
  } catch {
    return { format: 'gb18030', text: new TextDecoder('gb18030').decode(bytes) };
  }
}

/** A bounded read may cut a multi-byte character in two; drop the partial tail. */
function trimPartialUtf8(bytes: Buffer): Buffer {
  let end = bytes.length;
  let back = 0;
  while (end - back > 0 && back < 4 && (bytes[end - back - 1]! & 0xc0) === 0x80) back++;
  const lead = bytes[end - back - 1];
  if (lead === undefined) return bytes;
  const need = lead >= 0xf0 ? 3 : lead >= 0xe0 ? 2 : lead >= 0xc0 ? 1 : 0;
  if (need > back) end -= back + 1;
  return bytes.subarray(0, end);
}

/** OOXML parts that hold a document's visible text. */
const TEXT_PARTS =
  /^(word\/(document|header\d*|footer\d*)\.xml|xl\/sharedStrings\.xml|ppt\/slides\/slide\d+\.xml)$/;

/**
 * The visible text of an Office Open XML package: a minimal zip reader (central directory, stored
 * or deflated entries) with every size bounded, since the file is attacker-supplied. Tags are
 * dropped so a marking split across runs (<w:t>机密</w:t><w:t>★</w:t>) reads as one.
 */
export function ooxmlText(zip: Buffer): string | undefined {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]), Math.max(0, zip.length - 22));
  if (eocd < 0 || eocd + 22 > zip.length) return undefined;
  const entries = zip.readUInt16LE(eocd + 10);
  let offset = zip.readUInt32LE(eocd + 16);
  const texts: string[] = [];
  for (let i = 0; i < Math.min(entries, 4096); i++) {
    if (offset + 46 > zip.length || zip.readUInt32LE(offset) !== 0x02014b50) return undefined;
    const method = zip.readUInt16LE(offset + 10);
    const compressed = zip.readUInt32LE(offset + 20);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const local = zip.readUInt32LE(offset + 42);
    const name = zip.subarray(offset + 46, offset + 46 + nameLength).toString('utf8');
    offset += 46 + nameLength + extraLength + commentLength;
    if (!TEXT_PARTS.test(name)) continue;
    if (local + 30 > zip.length || zip.readUInt32LE(local) !== 0x04034b50) continue;
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, Math.min(zip.length, start + compressed));
    let xml: Buffer;
    try {
      if (method === 0) xml = data.subarray(0, OOXML_PART_BYTES);
      else if (method === 8) xml = inflateBounded(data);
      else continue;
    } catch {
      // Corrupt, or larger than the bound: read what the other parts say.
      continue;
    }
    texts.push(xml.toString('utf8').replace(/<[^>]*>/g, ''));
  }
  return texts.length === 0 ? undefined : texts.join('\n');
}

/**
 * At most OOXML_PART_BYTES of a deflated part. A part that inflates to more (a long document, or
 * a zip bomb) is read from a shorter prefix of its compressed data instead of being skipped.
 */
function inflateBounded(data: Buffer): Buffer {
  let input = data;
  for (;;) {
    try {
      return inflateRawSync(input, {
        maxOutputLength: OOXML_PART_BYTES,
        finishFlush: constants.Z_SYNC_FLUSH,
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ERR_BUFFER_TOO_LARGE' || input.length < 1024) throw err;
      input = input.subarray(0, input.length >> 1);
    }
  }
}
