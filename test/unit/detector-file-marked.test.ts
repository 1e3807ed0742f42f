import { describe, expect, it } from 'vitest';
import { fileMarkedDetector } from '../../agent/detectors/file-marked.js';
import { decodeContent, findMarkings, ooxmlText } from '../../agent/probes/markings.js';
import type { MarkedFile } from '../../agent/probes/observations.js';
import { policySchema } from '../../shared/policy.js';
import { docx, zip } from '../support/zip.js';

describe('findMarkings (第21条 国家秘密标志)', () => {
  it.each([
    ['机密★10年', { level: '机密', text: '机密★10年', term: '10年' }],
    ['秘密★', { level: '秘密', text: '秘密★' }],
    ['绝密★长期', { level: '绝密', text: '绝密★长期', term: '长期' }],
    ['秘密 ★ 6个月', { level: '秘密', text: '秘密★6个月', term: '6个月' }],
    ['机密★2030年12月31日前', { level: '机密', text: '机密★2030年12月31日前', term: '2030年12月31日前' }],
    // Full-width digits and spaces, as Chinese input methods type them.
    ['机密　★１０年', { level: '机密', text: '机密★10年', term: '10年' }],
  ])('%s', (text, expected) => {
    expect(findMarkings(`关于某某事项的通知\n${text}\n正文`)).toEqual([expected]);
  });

  it('ignores the bare words, which ordinary prose uses (保密制度, 商业秘密)', () => {
    expect(findMarkings('机密文件管理制度；保护商业秘密；绝密档案室的钥匙')).toEqual([]);
  });

  it('puts the highest level first and lists each marking once', () => {
    expect(findMarkings('秘密★1年 … 绝密★ … 秘密★1年').map((m) => m.text)).toEqual(['绝密★', '秘密★1年']);
  });
});

describe('decodeContent: the formats file.marked reads', () => {
  const text = '标题\n机密★5年\n';
  it('UTF-8, with or without a byte-order mark', () => {
    expect(decodeContent(Buffer.from(text), true)).toEqual({ format: 'utf-8', text });
    expect(
      decodeContent(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]), true)?.text,
    ).toBe(text);
  });

  it('UTF-16 LE and BE with a byte-order mark', () => {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    expect(decodeContent(le, true)).toEqual({ format: 'utf-16le', text });
    const be = Buffer.from(le.subarray(2)).swap16();
    expect(decodeContent(Buffer.concat([Buffer.from([0xfe, 0xff]), be]), true)).toEqual({
      format: 'utf-16be',
      text,
    });
  });

  it('GB18030/GBK when the bytes are not UTF-8', () => {
    // 机密★5年 in GBK: 机 BBFA 密 C3DC ★ A1EF 5 35 年 C4EA
    const gbk = Buffer.from([0xbb, 0xfa, 0xc3, 0xdc, 0xa1, 0xef, 0x35, 0xc4, 0xea]);
    const decoded = decodeContent(gbk, true);
    expect(decoded?.format).toBe('gb18030');
    expect(findMarkings(decoded!.text)).toEqual([{ level: '机密', text: '机密★5年', term: '5年' }]);
  });

  it('a UTF-8 read cut inside a character is still UTF-8', () => {
    const bytes = Buffer.from('机密★3年机');
    expect(decodeContent(bytes.subarray(0, bytes.length - 1), false)).toEqual({
      format: 'utf-8',
      text: '机密★3年',
    });
  });

  it('binary content is not read as text', () => {
    expect(decodeContent(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0, 0]), true)).toBeUndefined();
  });

  it('.docx: a marking split across runs, in a deflated part', () => {
    const file = docx(
      '<w:p><w:r><w:t>机密</w:t></w:r><w:r><w:t>★</w:t></w:r><w:r><w:t>10年</w:t></w:r></w:p>',
    );
    const decoded = decodeContent(file, true);
    expect(decoded?.format).toBe('ooxml');
    expect(findMarkings(decoded!.text)).toEqual([{ level: '机密', text: '机密★10年', term: '10年' }]);
    // Only a whole file can be read: the zip directory is at its end.
    expect(decodeContent(file.subarray(0, 100), false)).toBeUndefined();
  });

  it('a zip bomb part is read from a bounded prefix, and a corrupt zip yields nothing', () => {
    const bomb = zip({
      'word/document.xml': Buffer.concat([Buffer.from('秘密★'), Buffer.alloc(12 * 1024 * 1024, 0x20)]),
    });
    expect(findMarkings(ooxmlText(bomb) ?? '')).toEqual([{ level: '秘密', text: '秘密★' }]);
    expect(ooxmlText(Buffer.from('PK\u0003\u0004 not a zip at all'))).toBeUndefined();
  });
});

describe('file.marked detector', () => {
  const file = (path: string, level: MarkedFile['level'], term?: string): MarkedFile => ({
    path,
    level,
    marking: `${level}★${term ?? ''}`,
    ...(term ? { term } : {}),
    format: 'utf-8',
  });
  const detect = (files: MarkedFile[], level = '秘密') =>
    fileMarkedDetector.detect({ at: '', markedFiles: files }, policySchema.parse({ level }));

  it('a 秘密 file in a watched directory of a 秘密 host: watched-directory, medium', () => {
    expect(detect([file('/home/u/Downloads/a.txt', '秘密', '1年')])).toEqual([
      {
        type: 'file.marked',
        key: 'file.marked:/home/u/Downloads/a.txt',
        severity: 'medium',
        data: {
          path: '/home/u/Downloads/a.txt',
          marking: '秘密★1年',
          rule: 'watched-directory',
          level: '秘密',
          term: '1年',
          format: 'utf-8',
        },
      },
    ]);
  });

  it('a marking above the host level is critical whatever the directory', () => {
    const [finding] = detect([file('/srv/share/x.docx', '机密')], '秘密');
    expect(finding).toMatchObject({ severity: 'critical', data: { rule: 'above-host-level' } });
    expect(detect([file('/srv/share/x.docx', '秘密')], '非密')[0]?.data.rule).toBe('above-host-level');
    expect(detect([file('/srv/share/x.docx', '机密')], '机密')[0]).toMatchObject({
      severity: 'high',
      data: { rule: 'watched-directory' },
    });
  });

  it('hostile paths are data; an overlong one gets a hashed key that fits an event key', () => {
    const hostile = `/w/<script>alert(1)</script>"$(rm -rf ~)\n${'长'.repeat(2000)}.txt`;
    const [finding] = detect([file(hostile, '秘密')]);
    expect(finding!.data.path).toBe(hostile);
    expect(finding!.key).toMatch(/^file\.marked:sha256:[0-9a-f]{64}$/);
    expect(JSON.parse(JSON.stringify(finding))).toEqual(finding);
  });

  it('caps the findings of one pass', () => {
    const many = Array.from({ length: 1000 }, (_, i) => file(`/w/${String(i).padStart(4, '0')}`, '秘密'));
    const findings = detect(many);
    expect(findings).toHaveLength(256);
    expect(findings[0]!.key).toBe('file.marked:/w/0000');
  });
});
