import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { assessmentDueQuery } from '../../shared/api/clocks.js';
import { warningState } from '../../shared/api/warnings.js';
import { formatShanghai } from '../../shared/calendar.js';
import { SEVERITIES } from '../../shared/levels.js';
import {
  chainEndName,
  collectorWordInChinese,
  eventTypeName,
  HOP_STATE_NAMES,
  SEVERITY_NAMES,
  WARNING_STATE_NAMES,
} from '../../shared/terms.js';
import { IncidentDesk } from '../clocks/incident-desk.js';
import { SystemRegister } from '../clocks/system-register.js';
import { measureLine } from '../documents/incident-report.js';
import { SUBJECTS } from '../documents/sign-off.js';
import { writeXlsx, XLSX_CONTENT_TYPE, type Sheet } from '../documents/xlsx.js';
import type { Store } from '../store/store.js';
import { visibleUnits } from './bearer-auth.js';
import { fileResponse, sendFile } from './route-helpers.js';
import { authErrorResponses, errorSchema, requestSchema } from './schemas.js';
import type { ClockApiDeps } from './systems.js';

/**
 * Lists as Excel workbooks, in the officers' words and Beijing time: `GET /api/v1/warnings.xlsx`,
 * `/api/v1/incidents.xlsx` and `/api/v1/assessments.xlsx`, each the caller's units as its list
 * route shows them. The workbook writer is collector/documents/xlsx.ts.
 */
const MAX_EXPORTED_WARNINGS = 100_000;

const warningsQuery = z.object({
  state: z.array(warningState).optional(),
  severity: z.array(z.enum(SEVERITIES)).optional(),
});

const time = (iso: string | null | undefined) => (iso ? formatShanghai(new Date(iso)) : '');
const stamp = () => formatShanghai(new Date()).replace(/[ :]/g, '');

const xlsxResponses = {
  200: fileResponse('an Excel workbook (.xlsx)'),
  400: errorSchema,
  ...authErrorResponses,
} as const;

export function exportRoutes(deps: { store: Store; clocks?: ClockApiDeps }) {
  const { store } = deps;
  return async (app: FastifyInstance) => {
    const security = [{ bearer: [] }];
    const send = async (reply: Parameters<typeof sendFile>[0], name: string, sheet: Sheet) =>
      sendFile(reply, await writeXlsx([sheet]), XLSX_CONTENT_TYPE, `${name}-${stamp()}.xlsx`);

    app.get<{ Querystring: z.infer<typeof warningsQuery> }>(
      '/api/v1/warnings.xlsx',
      {
        config: { permission: 'monitoring.read' },
        schema: {
          summary: 'Warnings (预警事件) as an Excel workbook, most recent first',
          tags: ['warnings', 'exports'],
          security,
          querystring: requestSchema(warningsQuery),
          response: xlsxResponses,
        },
      },
      async (request, reply) => {
        const warnings = await store.warnings.listWarnings({
          states: request.query.state,
          severities: request.query.severity,
          units: visibleUnits(request.principal),
          limit: MAX_EXPORTED_WARNINGS,
        });
        return send(reply, '预警事件', {
          name: '预警事件',
          columns: [
            { header: '编号', width: 28 },
            { header: '标题', width: 40 },
            { header: '类型', width: 30 },
            { header: '预警级别' },
            { header: '状态' },
            { header: '单位', width: 16 },
            { header: '终端', width: 28 },
            { header: '密级' },
            { header: '次数' },
            { header: '首次发生', width: 18 },
            { header: '最近发生', width: 18 },
          ],
          rows: warnings.map((w) => [
            w.id,
            w.title.zh,
            eventTypeName(w.type, 'zh'),
            SEVERITY_NAMES[w.severity].zh,
            WARNING_STATE_NAMES[w.state].zh,
            w.unit,
            w.agent ?? w.agents.join('、'),
            w.level,
            w.count,
            time(w.firstSeen),
            time(w.lastSeen),
          ]),
        });
      },
    );

    const clocks = deps.clocks;
    if (!clocks) return;
    const incidents = new IncidentDesk(clocks);
    const register = new SystemRegister(clocks);

    app.get(
      '/api/v1/incidents.xlsx',
      {
        config: { permission: 'register.read' },
        schema: {
          summary: 'Leak incidents (泄密事件) with their chain and 签发 state, as an Excel workbook',
          tags: ['incidents', 'exports'],
          security,
          response: xlsxResponses,
        },
      },
      async (request, reply) => {
        const items = await incidents.list(visibleUnits(request.principal));
        const rows = [];
        for (const i of items) {
          const report = await store.documents.findBySubject('incident-report', SUBJECTS.incident(i.id));
          rows.push([
            i.id,
            i.title,
            i.level,
            i.unit,
            time(i.discoveredAt),
            i.measures.map(measureLine).join('；'),
            i.hops
              .map(
                (h) =>
                  `${chainEndName(h.from, 'zh')}→${chainEndName(h.to, 'zh')}：${HOP_STATE_NAMES[h.state ?? ''] ?? h.state ?? ''}${h.late ? '（迟报）' : ''}`,
              )
              .join('；'),
            report
              ? report.state === 'draft'
                ? '待签发'
                : `${report.signedBy} ${time(report.signedAt)}签发`
              : '未起草',
          ]);
        }
        return send(reply, '泄密事件', {
          name: '泄密事件',
          columns: [
            { header: '编号', width: 24 },
            { header: '标题', width: 36 },
            { header: '密级' },
            { header: '单位', width: 16 },
            { header: '发现时间', width: 18 },
            { header: '补救措施', width: 40 },
            { header: '逐级报告情况', width: 60 },
            { header: '泄密事件报告签发', width: 28 },
          ],
          rows,
        });
      },
    );

    app.get<{ Querystring: z.infer<typeof assessmentDueQuery> }>(
      '/api/v1/assessments.xlsx',
      {
        config: { permission: 'register.read' },
        schema: {
          summary:
            'Classified information systems with their next 安全保密风险评估 due, as an Excel workbook',
          tags: ['systems', 'exports'],
          security,
          querystring: requestSchema(assessmentDueQuery),
          response: xlsxResponses,
        },
      },
      async (request, reply) => {
        const due = await register.due(visibleUnits(request.principal), request.query.state);
        return send(reply, '安全保密风险评估', {
          name: '安全保密风险评估',
          columns: [
            { header: '系统编号', width: 24 },
            { header: '名称', width: 30 },
            { header: '密级' },
            { header: '单位', width: 16 },
            { header: '下次评估截止日期', width: 18 },
            { header: '剩余天数' },
            { header: '状态' },
            { header: '上次评估', width: 14 },
            { header: '建议日期', width: 14 },
            { header: '未经测评审查' },
          ],
          rows: due.map((d) => [
            d.systemId,
            d.name,
            d.level,
            d.unit ?? '',
            d.nextDue,
            d.daysLeft,
            collectorWordInChinese(d.state),
            d.lastAssessedAt ?? '',
            d.recommended ?? '',
            d.unapproved ? '是' : '',
          ]),
        });
      },
    );
  };
}
