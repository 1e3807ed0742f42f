import { accessSync, constants } from 'node:fs';
import { z } from 'zod';
import { UserError } from '../../shared/errors.js';

/**
 * Fonts the PDFs are set in. Classified networks have no internet, so they come from a package
 * installed on the machine — Debian's fonts-noto-cjk, a dependency of the collector's .deb — and
 * only the glyphs a document uses are embedded. `name` picks one face out of a collection (.ttc)
 * by its PostScript name. The .docx names the usual office faces instead (render-docx.ts): it is
 * edited and signed on the unit's own office machine.
 */
const NOTO = '/usr/share/fonts/opentype/noto';

const fontSchema = z.strictObject({
  /** An OpenType/TrueType font or collection. */
  file: z.string().min(1),
  /** PostScript name of the face inside a collection (.ttc); omit for a single-face file. */
  name: z.string().min(1).optional(),
});
export type FontFace = z.infer<typeof fontSchema>;

export const DEFAULT_FONTS = {
  /** 正文 (GB/T 9704 仿宋): a serif. */
  body: { file: `${NOTO}/NotoSerifCJK-Regular.ttc`, name: 'NotoSerifCJKsc-Regular' },
  /** 一级标题, 密级, 紧急程度, 附件 (黑体): a sans. */
  heading: { file: `${NOTO}/NotoSansCJK-Regular.ttc`, name: 'NotoSansCJKsc-Regular' },
  /** 标题 and 发文机关标志 (小标宋): a heavy serif. */
  title: { file: `${NOTO}/NotoSerifCJK-Bold.ttc`, name: 'NotoSerifCJKsc-Bold' },
} as const satisfies Record<string, FontFace>;

export type FontRole = keyof typeof DEFAULT_FONTS;

export const documentsConfigSchema = z
  .strictObject({
    fonts: z
      .strictObject({
        body: fontSchema.default(DEFAULT_FONTS.body),
        heading: fontSchema.default(DEFAULT_FONTS.heading),
        title: fontSchema.default(DEFAULT_FONTS.title),
      })
      .default(DEFAULT_FONTS),
  })
  .default({ fonts: DEFAULT_FONTS });
export type DocumentsConfig = z.infer<typeof documentsConfigSchema>;
export type DocumentFonts = DocumentsConfig['fonts'];

/**
 * The fonts, each checked readable; a missing one is the operator's to fix, so the message names
 * the key, the file and the package that provides the default.
 */
export function checkFonts(fonts: DocumentFonts): DocumentFonts {
  for (const role of Object.keys(fonts) as FontRole[]) {
    const face = fonts[role];
    try {
      accessSync(face.file, constants.R_OK);
    } catch {
      throw new UserError(
        `documents.fonts.${role}.file: ${face.file} cannot be read; expected an OpenType or TrueType font ` +
          `on this machine (the default comes with the Debian package fonts-noto-cjk: apt-get install fonts-noto-cjk)`,
      );
    }
  }
  return fonts;
}
