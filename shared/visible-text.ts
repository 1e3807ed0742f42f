/**
 * Text an agent supplied (SSIDs, USB strings, host names, paths) is shown to people as it is,
 * except for characters that are invisible or rearrange what is around them: controls (C0, C1:
 * newlines, ESC), format characters (bidi overrides and isolates such as U+202E, zero-width
 * spaces and joiners, the BOM, soft hyphens, tag characters) and line or paragraph separators.
 * Those are shown as their escape (`\u202e`), so `office\u202egpj.exe` cannot pass for
 * `officeexe.jpg`. The dashboard and `smew agent scan` both use this one definition.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
const INVISIBLE_ALL = new RegExp(INVISIBLE.source, 'gu');

/** `\u202e` for a BMP character, `\u{e0001}` beyond it. */
export function escapeCodePoint(char: string): string {
  const code = char.codePointAt(0)!;
  return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

export function hasInvisible(text: string): boolean {
  return INVISIBLE.test(text);
}

/** The text with every invisible character replaced by its escape. */
export function escapeInvisible(text: string): string {
  return text.replace(INVISIBLE_ALL, escapeCodePoint);
}

/**
 * JSON text with every invisible character written as its JSON escape (`\u202e`; a character
 * beyond the BMP as its two surrogate escapes), so it still parses to the same value. For JSON
 * printed to a terminal: JSON itself escapes C0 controls only, not C1 controls or bidi overrides.
 */
export function escapeInvisibleJson(json: string): string {
  return json.replace(INVISIBLE_ALL, (char) =>
    Array.from(
      { length: char.length },
      (_, i) => `\\u${char.charCodeAt(i).toString(16).padStart(4, '0')}`,
    ).join(''),
  );
}

export interface VisiblePart {
  text: string;
  /** An escape standing for one invisible character (to be shown in a style of its own). */
  escaped: boolean;
}

/** The text cut into plain runs and escapes, in order. */
export function visibleParts(text: string): VisiblePart[] {
  const parts: VisiblePart[] = [];
  let last = 0;
  for (const match of text.matchAll(INVISIBLE_ALL)) {
    if (match.index > last) parts.push({ text: text.slice(last, match.index), escaped: false });
    parts.push({ text: escapeCodePoint(match[0]), escaped: true });
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last), escaped: false });
  return parts;
}
