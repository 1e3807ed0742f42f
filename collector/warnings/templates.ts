import type { TerminalName } from '../../shared/api/register.js';
import { terminalLabel } from '../register/terminal-naming.js';
import type { NotifyOccasion } from '../notify/occasion.js';
import { eventTypeName, keyInWords, monitoringBasis, SEVERITY_NAMES } from '../../shared/terms.js';
import { WARNING_STATE_NAMES, type Warning } from './warning.js';

export { SEVERITY_NAMES };

/**
 * Notification text for a warning (the notify stage sends it; this only renders). Chinese by
 * default, English on request; times in Asia/Shanghai (SPEC §7: stored in UTC, shown in Beijing
 * time) next to the UTC values in machine-readable bodies.
 *
 * Everything an agent reported (group key, SSIDs, paths, process names, data field names) is the
 * agent's text and may be crafted by whoever controls the host. It is kept as data: JSON values in
 * webhook bodies; quoted and escaped in e-mail, with line breaks, control, bidirectional and
 * invisible characters shown as \u escapes, so it can neither forge a line or header nor reorder
 * what the officer reads. Only rule titles, states, severities, units and agent ids (all set by
 * the collector's own configuration or checked patterns) appear unquoted, and only in one line.
 */

export type Lang = 'zh' | 'en';
export type Channel = 'webhook' | 'email';

export type RenderedNotification =
  | { channel: 'webhook'; contentType: 'application/json'; body: string }
  | { channel: 'email'; subject: string; text: string };

export interface RenderOptions {
  channel: Channel;
  lang?: Lang;
  /** The dashboard page of the warning, when the collector knows its public URL. */
  link?: string;
  /** Why it goes out; default a new warning. */
  occasion?: NotifyOccasion;
  /** The collector's `level`: which article its monitoring rests on (shared/terms.ts monitoringBasis). */
  collectorLevel?: string;
  /** The warning's terminal in the register (issue 17), named 编号 · hostname · 责任人. */
  terminal?: TerminalName | null;
}

const TIME_ZONE = 'Asia/Shanghai';
const MAX_SHOWN = 256;
const MAX_DATA_FIELDS = 32;
// C0/C1 controls, soft hyphen, Arabic letter mark, zero-width and bidi marks, line/paragraph
// separators, bidi embeddings/overrides/isolates, word joiners, BOM.
const INVISIBLE =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/g;

export function renderWarning(warning: Warning, options: RenderOptions): RenderedNotification {
  const lang = options.lang ?? 'zh';
  const occasion = options.occasion ?? { kind: 'opened' };
  return options.channel === 'webhook'
    ? {
        channel: 'webhook',
        contentType: 'application/json',
        body: webhookBody(warning, lang, occasion, options),
      }
    : { channel: 'email', ...email(warning, lang, occasion, options) };
}

/** "新预警", "再次触发", "状态变更：识别" — what happened, ahead of the warning itself. */
export function occasionName(occasion: NotifyOccasion, lang: Lang): string {
  if (occasion.kind === 'opened') return lang === 'zh' ? '新预警' : 'new warning';
  if (occasion.kind === 'reraised') return lang === 'zh' ? '再次触发' : 'raised again';
  const state = WARNING_STATE_NAMES[occasion.to][lang];
  return lang === 'zh' ? `状态变更：${state}` : `state changed: ${state}`;
}

/** "2026-11-26 22:30:00" in Beijing time. */
export function formatShanghai(iso: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: TIME_ZONE,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(iso));
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((part) => part.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}:${get('second')}`;
}

/**
 * An agent-supplied value for plain text: a string as a quoted JSON literal, anything else as its
 * JSON text (so 443 and "443" stay distinct), invisible characters escaped, long values cut.
 */
export function quoteUntrusted(value: unknown): string {
  const isText = typeof value === 'string';
  const chars = Array.from(isText ? value : (JSON.stringify(value) ?? String(value)));
  const cut = chars.length > MAX_SHOWN ? chars.slice(0, MAX_SHOWN).join('') : chars.join('');
  const more = chars.length > MAX_SHOWN ? ` …(+${chars.length - MAX_SHOWN})` : '';
  return escapeInvisible(isText ? JSON.stringify(cut) : cut) + more;
}

function escapeInvisible(text: string): string {
  return text.replace(INVISIBLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Trusted text still goes on one line, so a stray newline in a unit name cannot add a header. */
function oneLine(text: string): string {
  return text.replace(INVISIBLE, ' ').replace(/\s+/g, ' ').trim();
}

function webhookBody(warning: Warning, lang: Lang, occasion: NotifyOccasion, options: RenderOptions): string {
  const { link, collectorLevel = 'unit', terminal } = options;
  const payload = {
    version: 1,
    kind: 'smew.warning',
    lang,
    basis: monitoringBasis(collectorLevel)[lang],
    occasion: { ...occasion, name: occasionName(occasion, lang) },
    summary: summary(warning, lang, occasion),
    warning: {
      id: warning.id,
      rule: warning.rule,
      title: warning.title[lang],
      titles: warning.title,
      state: warning.state,
      stateName: WARNING_STATE_NAMES[warning.state][lang],
      severity: warning.severity,
      severityName: SEVERITY_NAMES[warning.severity][lang],
      origin: warning.origin,
      unit: warning.unit,
      agent: warning.agent,
      agents: warning.agents,
      ...(terminal && { terminal, terminalLabel: terminalLabel(terminal) }),
      level: warning.level,
      count: warning.count,
      firstSeen: warning.firstSeen,
      lastSeen: warning.lastSeen,
      createdAt: warning.createdAt,
      resolvedAt: warning.resolvedAt,
      timeZone: TIME_ZONE,
      firstSeenLocal: formatShanghai(warning.firstSeen),
      lastSeenLocal: formatShanghai(warning.lastSeen),
      type: warning.sample.type,
      typeName: eventTypeName(warning.sample.type, lang),
      key: warning.key,
      labels: warning.labels,
      eventKey: warning.sample.key,
      data: warning.sample.data,
    },
    ...(link !== undefined && { link }),
  };
  // JSON keeps the agent's text as values; escaping separators and bidi controls (still the same
  // JSON value) spares log viewers and JavaScript embedders from them.
  return escapeInvisible(JSON.stringify(payload));
}

function summary(warning: Warning, lang: Lang, occasion: NotifyOccasion): string {
  const title = oneLine(warning.title[lang]);
  const severity = SEVERITY_NAMES[warning.severity][lang];
  const unit = oneLine(warning.unit);
  const what =
    occasion.kind === 'opened'
      ? ''
      : lang === 'zh'
        ? `【${occasionName(occasion, lang)}】`
        : `[${occasionName(occasion, lang)}] `;
  return lang === 'zh'
    ? `${what}【${severity}】${title}（${unit}，${warning.count}次）`
    : `${what}[${severity}] ${title} (${unit}, ${warning.count} time${warning.count === 1 ? '' : 's'})`;
}

function email(
  warning: Warning,
  lang: Lang,
  occasion: NotifyOccasion,
  options: RenderOptions,
): { subject: string; text: string } {
  const { link, collectorLevel = 'unit', terminal } = options;
  const zh = lang === 'zh';
  const title = oneLine(warning.title[lang]);
  const severity = SEVERITY_NAMES[warning.severity][lang];
  const what = occasion.kind === 'opened' ? '' : `[${occasionName(occasion, lang)}]`;
  const subject = zh
    ? `[smew 预警]${what}[${severity}] ${title} — ${oneLine(warning.unit)}`
    : `[smew warning]${what}[${severity}] ${title} — ${oneLine(warning.unit)}`;
  const time = (iso: string) =>
    zh ? `${formatShanghai(iso)}（北京时间）` : `${formatShanghai(iso)} (Beijing time, UTC+8)`;
  const agents = warning.agent ?? warning.agents.join(', ');
  // 编号 · hostname · 责任人 first, the agent id beside it (SPEC §8).
  const hosts = terminal ? `${terminalLabel(terminal)}（${agents || terminal.id}）` : agents;
  const level = warning.level ? (zh ? `（${warning.level}）` : ` (${warning.level})`) : '';
  const condition = warning.resolvedAt
    ? zh
      ? `已消除，${time(warning.resolvedAt)}`
      : `cleared at ${time(warning.resolvedAt)}`
    : zh
      ? '仍存在'
      : 'still present';
  const label = (zhText: string, enText: string) => (zh ? `${zhText}：` : `${enText}: `);
  const lines = [
    monitoringBasis(collectorLevel)[lang],
    '',
    label('通知事由', 'Occasion') + occasionName(occasion, lang),
    label('预警', 'Warning') + title,
    label('预警级别', 'Severity') + severity,
    label('状态', 'State') + WARNING_STATE_NAMES[warning.state][lang],
    label('单位', 'Unit') + oneLine(warning.unit),
    label('终端', 'Hosts') + oneLine(hosts) + level,
    label('次数', 'Count') + String(warning.count),
    label('首次发现', 'First seen') + time(warning.firstSeen),
    label('最近发生', 'Last seen') + time(warning.lastSeen),
    label('条件', 'Condition') + condition,
    // The type passed the envelope's pattern; Chinese names it, English keeps the type itself.
    label('事件类型', 'Event type') +
      (zh ? eventTypeName(warning.sample.type, lang) : quoteUntrusted(warning.sample.type)),
    label('分组', 'Group') + quoteUntrusted(zh ? keyInWords(warning.key, lang) : warning.key),
    zh
      ? '终端上报的数据（原样引用，仅供核查）：'
      : 'Data reported by the agent (quoted as received, for checking):',
    ...dataLines(warning.sample.data),
    '',
    label('编号', 'Id') + warning.id,
    ...(link !== undefined ? [label('查看', 'Open') + oneLine(link)] : []),
  ];
  return { subject: truncate(subject, 200), text: lines.join('\n') + '\n' };
}

function dataLines(data: Record<string, unknown>): string[] {
  const entries = Object.entries(data);
  const lines = entries
    .slice(0, MAX_DATA_FIELDS)
    .map(
      ([field, value]) =>
        `  ${/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/.test(field) ? field : quoteUntrusted(field)}: ${quoteUntrusted(value)}`,
    );
  if (entries.length > MAX_DATA_FIELDS) lines.push(`  …(+${entries.length - MAX_DATA_FIELDS})`);
  return lines;
}

function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}
