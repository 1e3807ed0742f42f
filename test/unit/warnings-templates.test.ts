import { describe, expect, it } from 'vitest';
import { formatShanghai, quoteUntrusted, renderWarning } from '../../collector/warnings/templates.js';
import type { Warning } from '../../collector/warnings/warning.js';

const HOSTILE_SSID = 'lab\n级别：提示\nSeverity: info\u202Eevil\u2028';

function warning(over: Partial<Warning> = {}): Warning {
  return {
    id: 'w-0123456789abcdef01234567',
    rule: 'wireless-connected',
    title: { zh: '涉密计算机连接无线网络', en: 'Classified host associated with a wireless network' },
    slot: 's',
    key: `ag-a|net.wireless.connected:wlan0`,
    labels: { agent: 'ag-a', key: 'net.wireless.connected:wlan0' },
    origin: 'event',
    state: 'discovered',
    severity: 'critical',
    count: 3,
    firstSeen: '2026-11-26T06:30:00.000Z',
    lastSeen: '2026-11-26T16:05:09.000Z',
    createdAt: '2026-11-26T06:30:01.000Z',
    unit: '某单位',
    agent: 'ag-a',
    agents: ['ag-a'],
    level: '绝密',
    type: 'net.wireless.connected',
    sample: {
      type: 'net.wireless.connected',
      key: 'net.wireless.connected:wlan0',
      data: { iface: 'wlan0', ssid: HOSTILE_SSID, bssid: 'aa:bb:cc:dd:ee:ff' },
    },
    resolvedAt: null,
    history: [],
    ...over,
  };
}

describe('Beijing time', () => {
  it.each([
    ['2026-11-26T06:30:00.000Z', '2026-11-26 14:30:00'],
    ['2026-11-26T16:05:09.000Z', '2026-11-27 00:05:09'],
    ['2026-06-30T23:59:59Z', '2026-07-01 07:59:59'],
  ])('%s → %s', (iso, shown) => {
    expect(formatShanghai(iso)).toBe(shown);
  });
});

describe('webhook', () => {
  const rendered = renderWarning(warning(), {
    channel: 'webhook',
    link: 'http://collector.internal:8080/warnings/w-1',
  });
  if (rendered.channel !== 'webhook') throw new Error('expected a webhook body');
  const body = JSON.parse(rendered.body) as {
    summary: string;
    warning: Record<string, unknown>;
    link: string;
  };

  it('is JSON with the warning, UTC and Beijing times, in Chinese by default', () => {
    expect(rendered.contentType).toBe('application/json');
    expect(body.summary).toBe('【紧急】涉密计算机连接无线网络（某单位，3次）');
    expect(body.warning).toMatchObject({
      id: 'w-0123456789abcdef01234567',
      severity: 'critical',
      severityName: '紧急',
      state: 'discovered',
      stateName: '待研判',
      firstSeen: '2026-11-26T06:30:00.000Z',
      firstSeenLocal: '2026-11-26 14:30:00',
      lastSeenLocal: '2026-11-27 00:05:09',
      timeZone: 'Asia/Shanghai',
      level: '绝密',
      count: 3,
    });
    expect(body.link).toBe('http://collector.internal:8080/warnings/w-1');
  });

  it('keeps the agent text as data: the same value back, with no raw controls on the wire', () => {
    expect((body.warning.data as Record<string, unknown>).ssid).toBe(HOSTILE_SSID);
    expect(rendered.body).not.toMatch(/[\n\u2028\u202E]/);
  });

  it('in English on request', () => {
    const en = renderWarning(warning(), { channel: 'webhook', lang: 'en' });
    const parsed = JSON.parse(en.channel === 'webhook' ? en.body : '{}') as {
      summary: string;
      warning: Record<string, unknown>;
    };
    expect(parsed.summary).toBe(
      '[critical] Classified host associated with a wireless network (某单位, 3 times)',
    );
    expect(parsed.warning.stateName).toBe('discovered');
  });
});

describe('email', () => {
  const zh = renderWarning(warning(), { channel: 'email' });
  if (zh.channel !== 'email') throw new Error('expected an email');

  it('has a one-line subject from trusted fields only', () => {
    expect(zh.subject).toBe('[smew 预警][紧急] 涉密计算机连接无线网络 — 某单位');
    const odd = renderWarning(warning({ unit: 'u1\r\nBcc: x@example.org' }), { channel: 'email' });
    expect(odd.channel === 'email' && odd.subject).toBe(
      '[smew 预警][紧急] 涉密计算机连接无线网络 — u1 Bcc: x@example.org',
    );
  });

  it('shows times in Beijing time and the facts in Chinese', () => {
    expect(zh.text).toContain('预警级别：紧急\n');
    expect(zh.text).toContain('首次发现：2026-11-26 14:30:00（北京时间）');
    expect(zh.text).toContain('终端：ag-a（绝密）');
    expect(zh.text).toContain('条件：仍存在');
  });

  it('quotes the agent text so it cannot forge a line or reorder the text', () => {
    const lines = zh.text.split('\n');
    expect(lines.filter((line) => line.startsWith('预警级别：'))).toEqual(['预警级别：紧急']);
    expect(lines.some((line) => line.startsWith('Severity'))).toBe(false);
    expect(zh.text).toContain('  ssid: "lab\\n级别：提示\\nSeverity: info\\u202eevil\\u2028"');
    expect(zh.text).not.toMatch(/[\u202E\u2028]/);
  });

  it('bounds long values and quotes odd field names', () => {
    const long = renderWarning(
      warning({ sample: { type: 'file.marked', key: 'k', data: { path: 'a'.repeat(300), 'x\ny': 1 } } }),
      { channel: 'email', lang: 'en' },
    );
    const text = long.channel === 'email' ? long.text : '';
    expect(text).toContain(`  path: "${'a'.repeat(256)}" …(+44)`);
    expect(text).toContain('  "x\\ny": 1');
  });

  it('in English, with resolution shown', () => {
    const en = renderWarning(warning({ resolvedAt: '2026-11-26T07:00:00.000Z' }), {
      channel: 'email',
      lang: 'en',
    });
    if (en.channel !== 'email') throw new Error('expected an email');
    expect(en.subject).toBe(
      '[smew warning][critical] Classified host associated with a wireless network — 某单位',
    );
    expect(en.text).toContain('First seen: 2026-11-26 14:30:00 (Beijing time, UTC+8)');
    expect(en.text).toContain('Condition: cleared at 2026-11-26 15:00:00 (Beijing time, UTC+8)');
  });

  it('quoteUntrusted escapes invisible characters and keeps Chinese readable', () => {
    expect(quoteUntrusted('机密文件\u200b.docx')).toBe('"机密文件\\u200b.docx"');
    expect(quoteUntrusted(443)).toBe('443');
    expect(quoteUntrusted(['eth0', 'wlan\n0'])).toBe('["eth0","wlan\\n0"]');
  });
});
