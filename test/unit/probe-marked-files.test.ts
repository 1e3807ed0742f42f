import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { markedFilesProbe, readMarkedFiles } from '../../agent/probes/marked-files.js';
import { TEXT_READ_BYTES } from '../../agent/probes/markings.js';
import { policySchema } from '../../shared/policy.js';
import { docx } from '../support/zip.js';

/** The marked-files probe on real directories: what it reads, what it refuses to follow. */
function tree(): string {
  return mkdtempSync(join(tmpdir(), 'smew-marked-'));
}

describe('marked-files probe', () => {
  it('finds marked text and .docx files below the watched directories, and only there', async () => {
    const root = tree();
    const watched = join(root, 'Downloads');
    mkdirSync(join(watched, 'deep/er'), { recursive: true });
    writeFileSync(join(watched, 'notice.txt'), '关于某事的通知\n机密★10年\n');
    writeFileSync(join(watched, 'deep/er/report.docx'), docx('<w:p><w:r><w:t>绝密★长期</w:t></w:r></w:p>'));
    writeFileSync(join(watched, 'policy.txt'), '保密制度：机密文件不得外传。');
    writeFileSync(join(root, 'outside.txt'), '秘密★');
    const found = await markedFilesProbe.collect(
      { sysfs: '/sys', procfs: '/proc', devfs: '/dev' },
      { policy: policySchema.parse({ files: { watch: [watched] } }) },
    );
    expect(found.markedFiles).toEqual([
      {
        path: join(watched, 'deep/er/report.docx'),
        level: '绝密',
        marking: '绝密★长期',
        term: '长期',
        format: 'ooxml',
      },
      {
        path: join(watched, 'notice.txt'),
        level: '机密',
        marking: '机密★10年',
        term: '10年',
        format: 'utf-8',
      },
    ]);
  });

  it('no watched directory, no walk', async () => {
    expect(await markedFilesProbe.collect({ sysfs: '/sys', procfs: '/proc', devfs: '/dev' })).toEqual({
      markedFiles: [],
    });
  });

  it('reads only the first 64 KiB of a text file', async () => {
    const dir = tree();
    writeFileSync(join(dir, 'late.txt'), `${'x'.repeat(TEXT_READ_BYTES)}秘密★`);
    writeFileSync(join(dir, 'early.txt'), `秘密★${'x'.repeat(TEXT_READ_BYTES * 4)}`);
    expect((await readMarkedFiles([dir])).map((f) => f.path)).toEqual([join(dir, 'early.txt')]);
  });

  it('does not follow symlinks (to files or directories) and skips FIFOs and unreadable files', async () => {
    const dir = tree();
    const elsewhere = tree();
    writeFileSync(join(elsewhere, 'secret.txt'), '机密★');
    symlinkSync(join(elsewhere, 'secret.txt'), join(dir, 'link.txt'));
    symlinkSync(elsewhere, join(dir, 'linkdir'));
    symlinkSync('/dev/zero', join(dir, 'zero'));
    expect(await readMarkedFiles([dir])).toEqual([]);
  });

  it('carries hostile names as data and notices a changed file on the next pass', async () => {
    const dir = tree();
    // Everything but "/" and NUL is allowed in a file name.
    const name = `<script>alert("x")<\\script>$(touch pwned)\nline2 '"\u202e`;
    writeFileSync(join(dir, name), '普通文件');
    expect(await readMarkedFiles([dir])).toEqual([]);
    writeFileSync(join(dir, name), '秘密★1年 (now marked, and longer)');
    expect(await readMarkedFiles([dir])).toEqual([
      { path: join(dir, name), level: '秘密', marking: '秘密★1年', term: '1年', format: 'utf-8' },
    ]);
  });

  it('a file it may not read is skipped, not fatal', async () => {
    if (process.getuid?.() === 0) return; // root reads everything; the case exists only for others
    const dir = tree();
    writeFileSync(join(dir, 'locked.txt'), '机密★');
    chmodSync(join(dir, 'locked.txt'), 0);
    expect(await readMarkedFiles([dir])).toEqual([]);
  });
});
