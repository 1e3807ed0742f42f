import type { Role } from './api/access.js';
import type { EventType } from './events.js';
import type { Severity } from './levels.js';

/**
 * The words officers read (issue 16 item 16): one home for the Chinese and English names of event
 * types, warning states, severities, occurrence states and report-chain ends, used by the
 * dashboard, the notification templates and the API alike. Nothing here is shown raw in Chinese.
 */

export type Lang = 'zh' | 'en';
export interface Names {
  zh: string;
  en: string;
}

/** The condition types the collector reports itself (collector/warnings/conditions.ts). */
type ConditionType =
  | 'agent.offline'
  | 'agent.events.lost'
  | 'assessment.overdue'
  | 'assessment.reminder'
  | 'assessment.unapproved'
  | 'incident.report.late'
  | 'incident.report.reminder'
  | 'rectification.overdue'
  | 'rectification.reminder'
  | 'incident.report.stuck'
  | 'register.level.mismatch'
  | 'register.terminal.incomplete'
  | 'register.owner.left';

/** Every event type of the catalogue (shared/events.ts) and every collector condition, in words. */
export const EVENT_TYPE_NAMES: Record<EventType | ConditionType, Names> = {
  'net.wireless.present': {
    zh: '涉密计算机存在未经批准的无线网卡',
    en: 'Unapproved wireless adapter on a classified host',
  },
  'net.wireless.connected': { zh: '涉密计算机连接无线网络', en: 'Classified host on a wireless network' },
  'net.bluetooth.present': { zh: '涉密计算机存在蓝牙设备', en: 'Bluetooth adapter on a classified host' },
  'net.modem.present': {
    zh: '涉密计算机接入移动通信设备或手机共享网络',
    en: 'Mobile-broadband modem or tethered phone on a classified host',
  },
  'net.link.unapproved': { zh: '涉密计算机启用未经批准的网络接口', en: 'Unapproved network interface up' },
  'net.multihomed': {
    zh: '涉密计算机同时接入多个网络（一机两用）',
    en: 'Classified host on two networks at once',
  },
  'net.route.unapproved': {
    zh: '涉密计算机经未经批准的网络接口路由',
    en: 'Route through an unapproved interface',
  },
  'net.connection.prohibited': {
    zh: '涉密计算机连接未授权地址',
    en: 'Connection to an unauthorised address',
  },
  'net.internet.reachable': {
    zh: '涉密计算机可访问互联网（违规外联）',
    en: 'Classified host reached the internet',
  },
  'usb.storage.attached': { zh: '涉密计算机接入移动存储介质', en: 'USB storage attached' },
  'file.marked': {
    zh: '违规存储标有密级标志的文件',
    en: 'File bearing a classification marking in a forbidden place',
  },
  'agent.started': { zh: '监测程序启动', en: 'Agent started' },
  'agent.stopping': { zh: '监测程序停止运行', en: 'Agent stopping' },
  'agent.config.changed': { zh: '监测程序配置变更', en: 'Agent configuration changed' },
  'agent.tamper': { zh: '监测程序或终端时钟被篡改', en: 'Agent files or clock tampered with' },
  'agent.queue.overflow': {
    zh: '监测程序事件队列溢出（事件丢失）',
    en: 'Agent outbox overflowed (events lost)',
  },
  'agent.limits.exceeded': {
    zh: '监测程序资源超限（扫描放缓）',
    en: 'Agent over its resource limits (scanning less often)',
  },
  'host.inventory': { zh: '终端硬件软件信息', en: 'Host inventory' },
  'host.hardware.changed': { zh: '终端硬件发生变化（使用环境变化）', en: 'Host hardware changed' },
  'agent.offline': { zh: '终端离线（监测中断）', en: 'Agent offline' },
  'agent.events.lost': { zh: '终端上报事件丢失', en: 'Events lost from an agent' },
  'assessment.overdue': {
    zh: '涉密信息系统安全保密风险评估已逾期',
    en: 'Risk assessment of a classified system overdue',
  },
  'assessment.reminder': {
    zh: '涉密信息系统安全保密风险评估即将到期',
    en: 'Risk assessment of a classified system due soon',
  },
  'assessment.unapproved': {
    zh: '涉密信息系统未经测评审查投入使用',
    en: 'Classified system in use without test-and-review approval',
  },
  'incident.report.late': { zh: '泄密事件报告迟报或未报', en: 'Leak report deadline missed' },
  'incident.report.reminder': { zh: '泄密事件报告时限将至', en: 'Leak report deadline approaching' },
  'rectification.overdue': { zh: '整改事项逾期未完成', en: 'Rectification overdue' },
  'rectification.reminder': { zh: '整改事项期限将至', en: 'Rectification deadline approaching' },
  'incident.report.stuck': {
    zh: '泄密事件报告未在24小时内逐级报至国家保密行政管理部门',
    en: 'Leak report not at the national level 24 h after the first administration received it',
  },
  'register.level.mismatch': {
    zh: '涉密计算机密级高于所属涉密信息系统',
    en: 'Terminal classified above its system',
  },
  'register.terminal.incomplete': {
    zh: '涉密计算机台账不完整（缺编号、责任人或所属系统）',
    en: 'Register entry incomplete (no asset number, owner or system)',
  },
  'register.owner.left': { zh: '涉密计算机责任人已离岗', en: 'Terminal owner has left' },
};

/**
 * An event type in words. A type no table knows (a newer agent's) is not shown raw in Chinese:
 * it reads 未收录的事件类型; English keeps the type, which is its only name.
 */
export function eventTypeName(type: string, lang: Lang): string {
  const names = Object.hasOwn(EVENT_TYPE_NAMES, type)
    ? EVENT_TYPE_NAMES[type as keyof typeof EVENT_TYPE_NAMES]
    : undefined;
  if (names) return names[lang];
  return lang === 'zh' ? '未收录的事件类型' : type;
}

/**
 * A condition or group key in words. Event keys start with their event type
 * (`net.route.unapproved:eth1`, `agent.offline:ag-…`), which becomes its name; the rest (the
 * interface, the device) is kept. A warning's group key joins its values with `|`
 * (`ag-…|net.wireless.present:wlp2s0`, `ag-…|net.connection.prohibited`): each part is read so.
 */
export function keyInWords(key: string, lang: Lang): string {
  return key
    .split('|')
    .map((part) => partInWords(part, lang))
    .join(' | ');
}

function partInWords(part: string, lang: Lang): string {
  const match = /^([a-z][a-z0-9-]*(?:\.[a-z][a-z0-9-]*)+)(?::(.*))?$/s.exec(part);
  if (!match) return part;
  const [, type, rest] = match;
  const name = eventTypeName(type!, lang);
  if (rest === undefined || rest === '') return name;
  return lang === 'zh' ? `${name}：${hopsInWords(rest, lang)}` : `${name}: ${rest}`;
}

/** A hop of the 第61条 chain in a clock's key or data (`inc-…:unit>county`) reads as its two ends. */
function hopsInWords(text: string, lang: Lang): string {
  return text
    .replace(/(?<![\w-])end-to-end(?![\w-])/g, END_TO_END_NAME[lang])
    .replace(/(?<![\w-])([a-z-]+)>([a-z-]+)(?![\w-])/g, (hop: string, from: string, to: string) =>
      Object.hasOwn(CHAIN_END_NAMES, from) && Object.hasOwn(CHAIN_END_NAMES, to)
        ? `${chainEndName(from, lang)} → ${chainEndName(to, lang)}`
        : hop,
    );
}

/** 发现 → 识别 → 处置 → 关闭 (SPEC §7) as the officer's screen says it. */
export const WARNING_STATE_NAMES = {
  discovered: { zh: '待研判', en: 'discovered' },
  identified: { zh: '已研判', en: 'identified' },
  handling: { zh: '处置中', en: 'handling' },
  closed: { zh: '已办结', en: 'closed' },
  'false-positive': { zh: '误报（已排除）', en: 'false positive' },
} as const satisfies Record<string, Names>;

/** The roles of 第34条's three duties (三员) and the reader, as an account's role is named. */
export const ROLE_NAMES: Record<Role, Names> = {
  sysadmin: { zh: '系统管理员', en: 'system administrator' },
  secadmin: { zh: '安全保密管理员', en: 'security administrator' },
  auditor: { zh: '安全审计员', en: 'security auditor' },
  viewer: { zh: '查阅人员', en: 'viewer' },
};

/** 预警级别. */
export const SEVERITY_NAMES: Record<Severity, Names> = {
  critical: { zh: '紧急', en: 'critical' },
  high: { zh: '高危', en: 'high' },
  medium: { zh: '中危', en: 'medium' },
  low: { zh: '低危', en: 'low' },
  info: { zh: '提示', en: 'info' },
};

/** An event's state: a condition that began, or one that ended. */
export const OCCURRENCE_NAMES: Record<'raised' | 'cleared', Names> = {
  raised: { zh: '发生', en: 'raised' },
  cleared: { zh: '已消除', en: 'cleared' },
};

/** 第58条 self-inspection answers: 符合 / 基本符合 / 不符合 / 不适用. */
export const INSPECTION_ANSWER_NAMES: Record<string, Names> = {
  compliant: { zh: '符合', en: 'compliant' },
  partly: { zh: '基本符合', en: 'partly compliant' },
  'non-compliant': { zh: '不符合', en: 'non-compliant' },
  'not-applicable': { zh: '不适用', en: 'not applicable' },
};

/** A finalised self-inspection's result. */
export const INSPECTION_RESULT_NAMES: Record<string, Names> = {
  compliant: { zh: '未发现问题', en: 'no findings' },
  findings: { zh: '发现问题（需整改）', en: 'findings to rectify' },
};

/** A 整改 item's state, and what opened it. */
export const RECTIFICATION_STATE_NAMES: Record<string, Names> = {
  open: { zh: '整改中', en: 'open' },
  overdue: { zh: '已逾期', en: 'overdue' },
  done: { zh: '已完成', en: 'done' },
};
export const RECTIFICATION_SOURCE_NAMES: Record<string, Names> = {
  'self-inspection': { zh: '保密自查自评', en: 'self-inspection' },
  assessment: { zh: '安全保密风险评估', en: 'risk assessment' },
  manual: { zh: '手工登记', en: 'entered by hand' },
};

/** smew's own records an answer points to, and their figures. */
export const EVIDENCE_LINK_NAMES: Record<string, Names> = {
  terminals: { zh: '终端', en: 'terminals' },
  assessments: { zh: '涉密信息系统安全保密风险评估', en: 'risk assessments' },
  warnings: { zh: '预警事件', en: 'warnings' },
  incidents: { zh: '泄密事件报告', en: 'incidents' },
  rectifications: { zh: '整改事项', en: 'rectifications' },
};
export const EVIDENCE_FIGURE_NAMES: Record<string, Names> = {
  enrolled: { zh: '已接入', en: 'enrolled' },
  online: { zh: '在线', en: 'online' },
  registered: { zh: '已登记台账', en: 'registered' },
  registerFindings: { zh: '台账信息不全或不符', en: 'register entries with findings' },
  unregistered: { zh: '未登记台账', en: 'not registered' },
  offline: { zh: '离线', en: 'offline' },
  systems: { zh: '在用系统', en: 'systems in use' },
  overdue: { zh: '已逾期', en: 'overdue' },
  dueSoon: { zh: '即将到期', en: 'due soon' },
  reassess: { zh: '需重新评估', en: 'reassess' },
  unapproved: { zh: '未经测评审查', en: 'unapproved' },
  open: { zh: '未办结', en: 'open' },
  critical: { zh: '紧急', en: 'critical' },
  high: { zh: '高危', en: 'high' },
  total: { zh: '总数', en: 'total' },
  inYear: { zh: '本年度', en: 'this year' },
  unreported: { zh: '未报', en: 'unreported' },
  done: { zh: '已完成', en: 'done' },
};

/** The words of a table above, or the value itself when the table lacks it. */
export function termName(table: Record<string, Names>, value: string, lang: Lang): string {
  return Object.hasOwn(table, value) ? table[value]![lang] : value;
}
/** The end-to-end deadline row of an incident (first administration's receipt → national). */
const END_TO_END_NAME: Names = { zh: '逐级报至国家保密行政管理部门', en: 'end-to-end' };

/** The ends of a 第61条 hop (collector/clocks/report-chain.ts HopFrom, HopTo, report `to`). */
export const CHAIN_END_NAMES: Record<string, Names> = {
  unit: { zh: '本单位', en: 'unit' },
  county: { zh: '县级保密行政管理部门', en: 'county administration' },
  city: { zh: '设区的市级保密行政管理部门', en: 'city administration' },
  province: { zh: '省级保密行政管理部门', en: 'provincial administration' },
  national: { zh: '国家保密行政管理部门', en: 'national administration' },
  'superior-dept': { zh: '上级主管部门', en: 'superior department' },
  'same-level-admin': { zh: '同级保密行政管理部门', en: 'same-level administration' },
};

export function chainEndName(end: string, lang: Lang): string {
  return Object.hasOwn(CHAIN_END_NAMES, end) ? CHAIN_END_NAMES[end]![lang] : end;
}

/**
 * The article monitoring rests on at a collector of this level (issue 16 item 15): a unit (and a
 * county administration, which 第64条 does not name) keeps its own 自监管 under 第34条 ("按照国家
 * 保密规定建设保密自监管设施"); 第64条 ("设区的市级以上保密行政管理部门应当建立监测预警制度") only
 * at a city, province or national administration.
 */
export function monitoringBasis(level: string): { article: 34 | 64; zh: string; en: string } {
  return level === 'city' || level === 'province' || level === 'national'
    ? {
        article: 64,
        zh: '保密监测预警（《保守国家秘密法实施条例》第六十四条）',
        en: 'Secrecy monitoring and early warning (Regulation art. 64)',
      }
    : {
        article: 34,
        zh: '保密自监管（《保守国家秘密法实施条例》第三十四条）',
        en: 'Secrecy self-supervision (Regulation art. 34)',
      };
}

/** The fields of a collector condition's data (collector/clocks/clock-records.ts, liveness). */
const CONDITION_FIELD_NAMES: Record<string, string> = {
  systemId: '系统编号',
  name: '名称',
  level: '密级',
  nextDue: '下次评估截止日期',
  daysLeft: '剩余天数',
  state: '状态',
  basis: '计算依据',
  recommended: '建议日期',
  approvedAt: '测评审查合格日期',
  deadline: '时限类型',
  dueAt: '到期时间',
  incidentId: '事件编号',
  title: '标题',
  hop: '报告环节',
  from: '报告方',
  to: '接收方',
  hopDueAt: '报告时限',
  escalatesTo: '逾期后报至',
  late: '是否超时',
  lateByMs: '超时（毫秒）',
  reason: '原因',
  lastHeartbeatAt: '最后心跳时间',
  rectificationId: '整改事项编号',
  what: '整改内容',
  who: '责任人',
  source: '来源',
  sourceId: '来源编号',
  dueDate: '整改期限',
  awaitingSignature: '待签发',
};

/** The collector's own words in a condition's data: schedule states, due bases, deadline kinds. */
const CONDITION_VALUE_NAMES: Record<string, string> = {
  ok: '未到期',
  'due-soon': '即将到期',
  overdue: '已逾期',
  reassess: '需重新评估',
  decommissioned: '已停用',
  'first-assessment': '首次评估',
  periodic: '定期评估',
  change: '变更后评估',
  'failed-assessment': '评估未通过后复评',
  missed: '已超过时限',
  reported: '已报告',
  unapproved: '未经测评审查投入使用',
  'self-inspection': '保密自查自评',
  assessment: '安全保密风险评估',
  manual: '手工登记',
};

/** One of the collector's own words (a schedule state, a due basis) in Chinese; unknown ones as they are. */
export function collectorWordInChinese(value: string): string {
  return Object.hasOwn(CONDITION_VALUE_NAMES, value) ? CONDITION_VALUE_NAMES[value]! : value;
}

/** A 第61条 hop's state (collector/clocks/report-chain.ts HopState) in Chinese. */
export const HOP_STATE_NAMES: Record<string, string> = {
  unstarted: '未开始',
  pending: '待报告',
  sent: '已发出，待接收',
  done: '已报告',
  overdue: '迟报或未报',
};

/**
 * A collector condition's data (an overdue assessment, a missed hop) as Chinese reads it: field
 * names and the collector's own words translated, hop ends named. Only for conditions: an agent's
 * data is its own text and is shown as it came.
 */
export function conditionDataInWords(data: Record<string, unknown>, lang: Lang): Record<string, unknown> {
  if (lang !== 'zh') return data;
  const shown: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(data)) {
    const label = Object.hasOwn(CONDITION_FIELD_NAMES, field) ? CONDITION_FIELD_NAMES[field]! : field;
    shown[label] = conditionValueInWords(field, value);
  }
  return shown;
}

function conditionValueInWords(field: string, value: unknown): unknown {
  if (typeof value === 'boolean') return value ? '是' : '否';
  if (typeof value !== 'string') return value;
  if (field === 'from' || field === 'to' || field === 'escalatesTo') return chainEndName(value, 'zh');
  if (field === 'hop') return hopsInWords(value, 'zh');
  const reminder = /^reminder-(.+)$/.exec(value);
  if (reminder) return `到期前提醒（${reminder[1]}）`;
  const advice = /^advice-(.+)$/.exec(value);
  if (advice) return `建议日期前提醒（${advice[1]}）`;
  return Object.hasOwn(CONDITION_VALUE_NAMES, value) ? CONDITION_VALUE_NAMES[value] : value;
}

/** How a terminal is named wherever it appears (SPEC §8): `编号 · hostname · 责任人`, a part the register lacks as —. */
export function terminalLabel(name: {
  assetNo: string | null;
  hostname: string | null;
  owner: string | null;
}): string {
  return [name.assetNo, name.hostname, name.owner].map((part) => part ?? '—').join(' · ');
}
