import { describe, expect, it } from 'vitest';
import { escapeInvisible, visibleParts } from '../../shared/visible-text.js';

/** What the dashboard and `smew agent scan` show of agent-supplied text (shared/visible-text.ts). */
describe('invisible and reordering characters shown as escapes', () => {
  it.each([
    ['bidi override', 'office\u202egpj.exe', 'office\\u202egpj.exe'],
    ['bidi isolates and marks', 'a\u2066b\u2069c\u200fd\u061c', 'a\\u2066b\\u2069c\\u200fd\\u061c'],
    [
      'zero-width space, joiner, BOM, soft hyphen',
      'a\u200bb\u200dc\ufeffd\u00ade',
      'a\\u200bb\\u200dc\\ufeffd\\u00ade',
    ],
    ['newline, tab, ESC, DEL, C1', 'a\nb\tc\u001bd\u007fe\u0085', 'a\\u000ab\\u0009c\\u001bd\\u007fe\\u0085'],
    ['line and paragraph separators', 'a\u2028b\u2029', 'a\\u2028b\\u2029'],
    ['a tag character beyond the BMP', 'x\u{e0041}', 'x\\u{e0041}'],
    ['Chinese, emoji and spaces stay', '保密 测试 😀 <b>', '保密 测试 😀 <b>'],
  ])('%s', (_what, text, shown) => {
    expect(escapeInvisible(text)).toBe(shown);
  });

  it('cuts text into plain runs and escapes, in order', () => {
    expect(visibleParts('office\u202egpj.exe')).toEqual([
      { text: 'office', escaped: false },
      { text: '\\u202e', escaped: true },
      { text: 'gpj.exe', escaped: false },
    ]);
    expect(visibleParts('')).toEqual([]);
  });
});
