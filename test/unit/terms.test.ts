/**
 * The words officers read (issue 16 items 15 and 16): every event type and collector condition
 * has a Chinese and an English name, condition keys read in words, the shipped rules have proper
 * Chinese titles, and the article a collector's monitoring rests on follows its level.
 */
import { describe, expect, it } from 'vitest';
import { COLLECTOR_LEVELS } from '../../collector/config.js';
import { defaultRulesFile, loadRules } from '../../collector/rules/load.js';
import { COLLECTOR_CONDITION_TYPES } from '../../collector/warnings/conditions.js';
import { renderWarning } from '../../collector/warnings/templates.js';
import type { Warning } from '../../collector/warnings/warning.js';
import { EVENT_TYPES } from '../../shared/events.js';
import {
  chainEndName,
  conditionDataInWords,
  EVENT_TYPE_NAMES,
  eventTypeName,
  keyInWords,
  monitoringBasis,
  SEVERITY_NAMES,
  WARNING_STATE_NAMES,
} from '../../shared/terms.js';

const ALL_TYPES = [...EVENT_TYPES, ...COLLECTOR_CONDITION_TYPES];
const HAN = /[\u4e00-\u9fff]/;
const ASCII_WORD = /[A-Za-z]/;

describe('event type names', () => {
  it.each(ALL_TYPES)('%s has a Chinese and an English name', (type) => {
    const zh = eventTypeName(type, 'zh');
    const en = eventTypeName(type, 'en');
    expect(zh).toMatch(HAN);
    expect(zh).not.toMatch(ASCII_WORD);
    expect(en.length).toBeGreaterThan(0);
    expect(en).not.toBe(type);
  });

  it('names nothing that is not in the catalogue or the collector conditions', () => {
    expect(Object.keys(EVENT_TYPE_NAMES).sort()).toEqual([...ALL_TYPES].sort());
  });

  it('does not show an unknown type raw in Chinese', () => {
    expect(eventTypeName('net.future.thing', 'zh')).toBe('未收录的事件类型');
    expect(eventTypeName('net.future.thing', 'en')).toBe('net.future.thing');
    expect(eventTypeName('toString', 'zh')).toBe('未收录的事件类型');
  });

  it('reads a condition key in words, keeping what identifies it', () => {
    expect(keyInWords('net.route.unapproved:eth1', 'zh')).toBe('涉密计算机经未经批准的网络接口路由：eth1');
    expect(keyInWords('usb.storage.attached:0781:5581:ABC', 'zh')).toBe(
      '涉密计算机接入移动存储介质：0781:5581:ABC',
    );
    expect(keyInWords('net.multihomed', 'en')).toBe('Classified host on two networks at once');
    expect(keyInWords('/home/a/secret.docx', 'zh')).toBe('/home/a/secret.docx');
    expect(keyInWords('ag-01|net.wireless.present:wlp2s0', 'zh')).toBe(
      'ag-01 | 涉密计算机存在未经批准的无线网卡：wlp2s0',
    );
    expect(keyInWords('ag-01|net.connection.prohibited', 'zh')).toBe('ag-01 | 涉密计算机连接未授权地址');
    expect(keyInWords('incident.report.late:inc-1f2e:unit>superior-dept', 'zh')).toBe(
      '泄密事件报告迟报或未报：inc-1f2e:本单位 → 上级主管部门',
    );
    expect(keyInWords('incident.report.late:inc-1f2e:unit>superior-dept', 'en')).toBe(
      'Leak report deadline missed: inc-1f2e:unit>superior-dept',
    );
  });
});

describe('a collector condition’s data', () => {
  it('reads in Chinese: fields, schedule words and hop ends', () => {
    expect(
      conditionDataInWords(
        {
          state: 'overdue',
          basis: 'first-assessment',
          deadline: 'missed',
          hop: 'unit>county',
          to: 'county',
          late: true,
        },
        'zh',
      ),
    ).toEqual({
      状态: '已逾期',
      计算依据: '首次评估',
      时限类型: '已超过时限',
      报告环节: '本单位 → 县级保密行政管理部门',
      接收方: '县级保密行政管理部门',
      是否超时: '是',
    });
    expect(conditionDataInWords({ deadline: 'reminder-7' }, 'zh')).toEqual({ 时限类型: '到期前提醒（7）' });
    expect(conditionDataInWords({ deadline: 'advice-30', recommended: '2026-03-10' }, 'zh')).toEqual({
      时限类型: '建议日期前提醒（30）',
      建议日期: '2026-03-10',
    });
    expect(conditionDataInWords({ deadline: 'unapproved' }, 'zh')).toEqual({
      时限类型: '未经测评审查投入使用',
    });
    expect(conditionDataInWords({ state: 'overdue' }, 'en')).toEqual({ state: 'overdue' });
  });
});

describe('states, severities, chain ends', () => {
  it('uses the officers’ words', () => {
    expect(Object.values(WARNING_STATE_NAMES).map((n) => n.zh)).toEqual([
      '待研判',
      '已研判',
      '处置中',
      '已办结',
      '误报（已排除）',
    ]);
    expect(['critical', 'high', 'medium', 'low'].map((s) => SEVERITY_NAMES[s as 'low'].zh)).toEqual([
      '紧急',
      '高危',
      '中危',
      '低危',
    ]);
    expect(chainEndName('unit', 'zh')).toBe('本单位');
    expect(chainEndName('county', 'zh')).toBe('县级保密行政管理部门');
    expect(chainEndName('superior-dept', 'zh')).toBe('上级主管部门');
  });
});

describe('the shipped rules', () => {
  const rules = loadRules(defaultRulesFile());
  it.each(rules.map((r) => [r.name, r.title] as const))('%s has a proper Chinese title', (_name, title) => {
    expect(title.zh).toMatch(HAN);
    for (const type of ALL_TYPES) expect(title.zh).not.toContain(type);
    expect(title.zh).not.toMatch(/主机|USB/);
  });
});

describe('the article monitoring rests on, by collector level (第34条 / 第64条)', () => {
  it.each([
    ['unit', 34],
    ['county', 34],
    ['city', 64],
    ['province', 64],
    ['national', 64],
  ] as const)('%s cites 第%s条', (level, article) => {
    expect(monitoringBasis(level).article).toBe(article);
  });

  it('covers every collector level', () => {
    for (const level of COLLECTOR_LEVELS) expect([34, 64]).toContain(monitoringBasis(level).article);
  });

  const warning: Warning = {
    id: 'w-1',
    rule: 'usb-unregistered',
    title: { zh: '涉密计算机接入未登记的移动存储介质', en: 'Unregistered USB storage attached' },
    slot: 's',
    key: 'usb.storage.attached:0781:5581:ABC',
    labels: {},
    origin: 'event',
    state: 'discovered',
    severity: 'high',
    count: 1,
    firstSeen: '2026-11-26T06:30:00.000Z',
    lastSeen: '2026-11-26T06:30:00.000Z',
    createdAt: '2026-11-26T06:30:00.000Z',
    unit: '某单位',
    agent: 'ag-a',
    agents: ['ag-a'],
    level: '机密',
    resolvedAt: null,
    sample: { type: 'usb.storage.attached', key: 'k', data: { registered: false } },
    history: [],
  } as unknown as Warning;

  const mail = (collectorLevel?: string) => {
    const rendered = renderWarning(warning, { channel: 'email', ...(collectorLevel && { collectorLevel }) });
    return rendered.channel === 'email' ? rendered.text : '';
  };

  it('a unit’s e-mail cites 第三十四条 自监管, never 第六十四条', () => {
    for (const text of [mail(), mail('unit'), mail('county')]) {
      expect(text.split('\n')[0]).toBe('保密自监管（《保守国家秘密法实施条例》第三十四条）');
      expect(text).not.toContain('第六十四条');
    }
  });

  it('a city’s or province’s e-mail cites 第六十四条', () => {
    for (const level of ['city', 'province', 'national'])
      expect(mail(level).split('\n')[0]).toBe('保密监测预警（《保守国家秘密法实施条例》第六十四条）');
  });

  it('names the event type and the key in words in Chinese, not raw', () => {
    const text = mail();
    expect(text).toContain('事件类型：涉密计算机接入移动存储介质\n');
    expect(text).toContain('分组："涉密计算机接入移动存储介质：0781:5581:ABC"');
    expect(text).not.toContain('usb.storage.attached');
    const webhook = renderWarning(warning, { channel: 'webhook', collectorLevel: 'city' });
    const body = JSON.parse(webhook.channel === 'webhook' ? webhook.body : '{}') as Record<string, unknown>;
    expect(body.basis).toBe('保密监测预警（《保守国家秘密法实施条例》第六十四条）');
  });
});
