// Bundles the dashboard (dashboard/) into dist/dashboard: one script, one style sheet, the page
// and its icon. No hashes and no timestamps in the output, so the same source builds the same bytes.
import { copyFileSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'dashboard');
const out = resolve(process.argv[2] ?? join(root, 'dist', 'dashboard'));

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });
const result = await build({
  entryPoints: { app: join(source, 'src', 'main.tsx'), 'app-css': join(source, 'styles.css') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome100', 'firefox100'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: join(out, 'assets'),
  entryNames: '[name]',
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});
// esbuild names a CSS entry after its key; the page links app.css.
renameSync(join(out, 'assets', 'app-css.css'), join(out, 'assets', 'app.css'));
copyFileSync(join(source, 'index.html'), join(out, 'index.html'));
copyFileSync(join(source, 'icon.svg'), join(out, 'assets', 'icon.svg'));
const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
process.stderr.write(`dashboard built into ${out} (${(bytes / 1024).toFixed(1)} KB of script and style)\n`);
