import { useState } from 'preact/hooks';
import { itemsOf } from '../api.js';
import { AgentText } from '../components/agent-text.js';
import { Time } from '../components/bits.js';
import { Show, useApi } from '../components/data.js';
import { chainEndName } from '../../../shared/terms.js';
import type { SubordinateUnit } from '../../../shared/api/hierarchy.js';
import { type MessageKey, translateWord, useI18n } from '../i18n.js';

/**
 * 下级单位 (issue 18): at an administration, which units below need attention. A tree of every
 * unit below, each with the figures its collector last reported up; a column header sorts the
 * units under each parent; a unit's name opens its reports and incidents.
 */
type SortKey = 'unit' | 'terminals' | 'warnings' | 'overdue' | 'incidents' | 'notices' | 'rectifications';

const SEVERITY_COLUMNS = ['critical', 'high', 'medium', 'low'] as const;

/** The number a column sorts by; a unit that reported nothing yet sorts last. */
function sortValue(u: SubordinateUnit, key: SortKey): number | string {
  switch (key) {
    case 'unit':
      return u.unit;
    case 'terminals':
      return u.terminals ? u.terminals.total - u.terminals.online : -1;
    case 'warnings':
      return u.openWarnings
        ? SEVERITY_COLUMNS.reduce((n, s, i) => n + (u.openWarnings![s] ?? 0) * 1000 ** (3 - i), 0)
        : -1;
    case 'overdue':
      return u.overdueAssessments ?? -1;
    case 'incidents':
      return u.incidents ? u.incidents.open * 1000 + u.incidents.lateHops : -1;
    case 'notices':
      return u.noticesUnanswered ?? -1;
    case 'rectifications':
      return u.openRectifications ?? -1;
  }
}

/** Tree order with each parent's children sorted by `key`: most in need first, names A→Z. */
export function sortedTree(units: readonly SubordinateUnit[], key: SortKey): SubordinateUnit[] {
  const ids = new Set(units.map((u) => u.collector));
  const children = new Map<string, SubordinateUnit[]>();
  for (const u of units) {
    const parent = ids.has(u.parent) ? u.parent : '';
    children.set(parent, [...(children.get(parent) ?? []), u]);
  }
  const compare = (a: SubordinateUnit, b: SubordinateUnit) => {
    const [x, y] = [sortValue(a, key), sortValue(b, key)];
    if (typeof x === 'string' || typeof y === 'string') return String(x).localeCompare(String(y), 'zh');
    return y - x || a.unit.localeCompare(b.unit, 'zh');
  };
  const out: SubordinateUnit[] = [];
  const visit = (parent: string) => {
    for (const u of [...(children.get(parent) ?? [])].sort(compare)) {
      out.push(u);
      visit(u.collector);
    }
  };
  visit('');
  return out;
}

const COLUMNS: [SortKey, MessageKey][] = [
  ['unit', 'subUnit'],
  ['terminals', 'subTerminals'],
  ['warnings', 'subWarnings'],
  ['overdue', 'subOverdue'],
  ['incidents', 'subIncidents'],
  ['notices', 'subNotices'],
  ['rectifications', 'subRectifications'],
];

const dash = '—';

export function SubordinatesPage(props: { id?: string }) {
  const { t } = useI18n();
  const units = useApi<unknown>('/api/v1/hierarchy/units');
  const [sort, setSort] = useState<SortKey>('warnings');
  if (props.id) return <SubordinateDetail collector={props.id} />;
  return (
    <section>
      <h1>{t('subordinates')}</h1>
      <Show loaded={units}>
        {(reply) => {
          const list = sortedTree(itemsOf<SubordinateUnit>(reply), sort);
          if (list.length === 0) return <p class="muted">{t('noSubordinates')}</p>;
          return (
            <table data-testid="subordinates">
              <thead>
                <tr>
                  {COLUMNS.map(([key, label]) => (
                    <th key={key} aria-sort={sort === key ? 'descending' : undefined}>
                      <button type="button" class="link" data-sort={key} onClick={() => setSort(key)}>
                        {t(label)}
                      </button>
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {list.map((u) => (
                  <UnitRow key={u.collector} unit={u} />
                ))}
              </tbody>
            </table>
          );
        }}
      </Show>
    </section>
  );
}

function UnitRow(props: { unit: SubordinateUnit }) {
  const { t } = useI18n();
  const u = props.unit;
  const w = u.openWarnings;
  return (
    <tr data-unit={u.unit} data-depth={u.depth}>
      <td style={{ paddingLeft: `${u.depth - 1 + 0.5}em` }}>
        <a href={`#/subordinates/${encodeURIComponent(u.collector)}`}>
          <AgentText text={u.unit} />
        </a>{' '}
        <span class="muted">{translateWord(t, 'lvl_', u.level)}</span>
        {u.statusAt ? null : <span class="muted"> · {t('noFiguresYet')}</span>}
      </td>
      <td data-col="terminals">{u.terminals ? `${u.terminals.online}/${u.terminals.total}` : dash}</td>
      <td data-col="warnings">
        {w
          ? SEVERITY_COLUMNS.map((s) => (
              <span key={s} class={`badge sev-${s}`} title={t(`sev_${s}`)}>
                {t(`sev_${s}`)} {w[s] ?? 0}
              </span>
            ))
          : dash}
      </td>
      <td data-col="overdue" class={u.overdueAssessments ? 'as-overdue' : ''}>
        {u.overdueAssessments ?? dash}
      </td>
      <td data-col="incidents">
        {u.incidents
          ? t('subIncidentsCell', {
              open: u.incidents.open,
              total: u.incidents.total,
              late: u.incidents.lateHops,
            })
          : dash}
      </td>
      <td data-col="notices">{u.noticesUnanswered ?? dash}</td>
      {/* Rectifications (issue 18): wired when they report up; until then no number is shown. */}
      <td data-col="rectifications">{u.openRectifications ?? dash}</td>
    </tr>
  );
}

interface ReceivedIncidentView {
  origin: string;
  id: string;
  title: string;
  discoveredAt: string;
  hops: { from: string; to: string; dueAt: string; receivedAt: string | null; late: boolean }[];
  closure?: { closedAt: string; outcome: string | null } | null;
}

interface ReceivedReportView {
  id: number;
  type: string;
  receivedAt: string;
  report: { ts?: string; data?: Record<string, unknown> };
}

/** One unit's reports as they came up, and its incidents with their hops. */
function SubordinateDetail(props: { collector: string }) {
  const { t, lang } = useI18n();
  const origin = encodeURIComponent(props.collector);
  const reports = useApi<unknown>(`/api/v1/hierarchy/reports?origin=${origin}&limit=200`);
  const incidents = useApi<unknown>('/api/v1/hierarchy/incidents');
  return (
    <section data-testid="subordinate-detail">
      <p>
        <a href="#/subordinates">← {t('subordinates')}</a>
      </p>
      <h2>{t('incidents')}</h2>
      <Show loaded={incidents}>
        {(reply) => {
          const list = itemsOf<ReceivedIncidentView>(reply).filter((i) => i.origin === props.collector);
          if (list.length === 0) return <p class="muted">{t('none')}</p>;
          return (
            <ul data-testid="unit-incidents">
              {list.map((i) => (
                <li key={i.id}>
                  <AgentText text={i.title} /> · <Time iso={i.discoveredAt} />
                  {i.closure ? (
                    <span data-testid="unit-incident-closed">
                      {' · '}
                      {t('incidentClosedAt')} <Time iso={i.closure.closedAt} />
                      {i.closure.outcome ? (
                        <>
                          {' · '}
                          <AgentText text={i.closure.outcome} />
                        </>
                      ) : null}
                    </span>
                  ) : null}
                  <ol>
                    {i.hops.map((h) => (
                      <li
                        key={`${h.from}>${h.to}`}
                        class={h.late ? 'late' : h.receivedAt ? 'done' : 'pending'}
                      >
                        {chainEndName(h.from, lang)} → {chainEndName(h.to, lang)} · {t('dueAt')}{' '}
                        <Time iso={h.dueAt} /> · {t('receivedAt')} <Time iso={h.receivedAt} />
                        {h.late ? <span class="badge sev-high">{t('late')}</span> : null}
                      </li>
                    ))}
                  </ol>
                </li>
              ))}
            </ul>
          );
        }}
      </Show>
      <h2>{t('unitReports')}</h2>
      <Show loaded={reports}>
        {(reply) => {
          const list = itemsOf<ReceivedReportView>(reply);
          if (list.length === 0) return <p class="muted">{t('none')}</p>;
          return (
            <table data-testid="unit-reports">
              <thead>
                <tr>
                  <th>{t('reportType')}</th>
                  <th>{t('receivedAt')}</th>
                </tr>
              </thead>
              <tbody>
                {list.map((r) => (
                  <tr key={r.id} data-type={r.type}>
                    <td>{translateWord(t, 'rt_', r.type)}</td>
                    <td>
                      <Time iso={r.receivedAt} seconds />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          );
        }}
      </Show>
    </section>
  );
}
