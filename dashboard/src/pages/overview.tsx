import {
  itemsOf,
  type Agent,
  type AssessmentDue,
  type Incident,
  type StoredEvent,
  type Warning,
} from '../api.js';
import { AgentText, TerminalCell } from '../components/agent-text.js';
import { Countdown, DataList, SeverityBadge, Time, useNow } from '../components/bits.js';
import { Show, Unavailable, useApi } from '../components/data.js';
import { TrendChart } from '../components/trend-chart.js';
import { chainEndName, eventTypeName } from '../../../shared/terms.js';
import { translateWord, useI18n } from '../i18n.js';

const SEVERITY_ORDER = ['critical', 'high', 'medium', 'low', 'info'];
/** The trend is drawn from at most this many events (each carries its signed envelope), newest first. */
const TREND_LIMIT = 2000;

/** Counted from one page of open warnings per severity; a full page shows as "1000+". */
const PAGE = 1000;
const OPEN_QUERY = 'state=discovered&state=identified&state=handling';

function SeverityCard(props: { severity: string }) {
  const { t } = useI18n();
  const loaded = useApi<unknown>(`/api/v1/warnings?${OPEN_QUERY}&severity=${props.severity}&limit=${PAGE}`);
  if (loaded.status === 'unavailable') {
    return props.severity === 'critical' ? (
      <li>
        <Unavailable path={loaded.path} />
      </li>
    ) : null;
  }
  const count = loaded.status === 'ok' ? itemsOf<Warning>(loaded.data).length : null;
  return (
    <li class={`card sev-${props.severity}`}>
      <a href={`#/warnings?severity=${props.severity}`}>
        <span class="card-number">{count === null ? '…' : count >= PAGE ? `${PAGE}+` : count}</span>
        <span>{translateWord(t, 'sev_', props.severity)}</span>
      </a>
    </li>
  );
}

/** What needs the officer now: open warnings, agents, running clocks, assessments, the trend. */
export function Overview() {
  const { t, lang } = useI18n();
  const now = useNow(60_000);
  const since = new Date(Math.floor(now / 60_000) * 60_000 - 24 * 3600_000).toISOString();
  const agents = useApi<unknown>('/api/v1/agents');
  const incidents = useApi<unknown>('/api/v1/incidents');
  const due = useApi<unknown>('/api/v1/assessments/due');
  const events = useApi<unknown>(`/api/v1/events?since=${encodeURIComponent(since)}&limit=${TREND_LIMIT}`);

  return (
    <div class="overview">
      <section class="panel" aria-labelledby="ov-warnings">
        <h2 id="ov-warnings">{t('openWarnings')}</h2>
        <ul class="cards" data-testid="open-by-severity">
          {SEVERITY_ORDER.map((sev) => (
            <SeverityCard key={sev} severity={sev} />
          ))}
        </ul>
      </section>

      <section class="panel" aria-labelledby="ov-agents">
        <h2 id="ov-agents">{t('agents')}</h2>
        <Show loaded={agents}>
          {(reply) => {
            const list = itemsOf<Agent>(reply).filter((a) => !a.revokedAt);
            const online = list.filter((a) => a.online).length;
            return (
              <ul class="cards" data-testid="agent-counts">
                <li class="card ok">
                  <a href="#/agents">
                    <span class="card-number">{online}</span>
                    <span>{t('agentsOnline')}</span>
                  </a>
                </li>
                <li class={list.length - online > 0 ? 'card warn' : 'card'}>
                  <a href="#/agents">
                    <span class="card-number">{list.length - online}</span>
                    <span>{t('agentsOffline')}</span>
                  </a>
                </li>
              </ul>
            );
          }}
        </Show>
      </section>

      <section class="panel" aria-labelledby="ov-clocks">
        <h2 id="ov-clocks">{t('runningClocks')}</h2>
        <Show loaded={incidents}>
          {(reply) => {
            const running = itemsOf<Incident>(reply).flatMap((incident) =>
              (incident.hops ?? [])
                .filter((hop) => hop.dueAt && !hop.reportedAt)
                .map((hop) => ({ incident, hop })),
            );
            if (running.length === 0) return <p class="muted">{t('none')}</p>;
            return (
              <ul class="clocks" data-testid="running-clocks">
                {running.map(({ incident, hop }) => (
                  <li key={`${incident.id}:${hop.from}:${hop.to}`}>
                    <a href={`#/incidents/${encodeURIComponent(incident.id)}`}>
                      <AgentText text={incident.title} />
                    </a>
                    <span class="muted">
                      {chainEndName(hop.from, lang)} → {chainEndName(hop.to, lang)}
                    </span>
                    <Countdown dueAt={hop.dueAt!} />
                  </li>
                ))}
              </ul>
            );
          }}
        </Show>
      </section>

      <section class="panel" aria-labelledby="ov-due">
        <h2 id="ov-due">{t('assessmentsDue')}</h2>
        <Show loaded={due}>
          {(reply) => {
            const pending = itemsOf<AssessmentDue>(reply).filter((a) => a.state !== 'ok');
            if (pending.length === 0) return <p class="muted">{t('none')}</p>;
            return (
              <table>
                <tbody>
                  {pending.map((a) => (
                    <tr key={a.systemId} class={`as-${a.state}`}>
                      <td>
                        <a href="#/systems">{a.name}</a>
                      </td>
                      <td>{a.level}</td>
                      <td>{a.nextDue}</td>
                      <td>{translateWord(t, 'as_', a.state)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            );
          }}
        </Show>
      </section>

      <section class="panel wide" aria-labelledby="ov-trend">
        <h2 id="ov-trend">{t('trend')}</h2>
        <Show loaded={events}>
          {(reply) => {
            const list = itemsOf<StoredEvent>(reply);
            return (
              <>
                <TrendChart
                  times={list.map((e) => e.receivedAt)}
                  now={now}
                  capped={list.length >= TREND_LIMIT}
                />
                <h3>{t('events')}</h3>
                <RecentEvents events={list.slice(0, 8)} />
              </>
            );
          }}
        </Show>
      </section>
    </div>
  );
}

export function RecentEvents(props: { events: StoredEvent[] }) {
  const { t, lang } = useI18n();
  if (props.events.length === 0) return <p class="muted">{t('none')}</p>;
  return (
    <table data-testid="recent-events">
      <thead>
        <tr>
          <th>{t('time')}</th>
          <th>{t('agent')}</th>
          <th>{t('type')}</th>
          <th>{t('severity')}</th>
          <th>{t('data')}</th>
        </tr>
      </thead>
      <tbody>
        {props.events.map((e) => (
          <tr key={e.id}>
            <td>
              <Time iso={e.ts} seconds />
              {e.skewed ? <span class="badge warn">{t('skewed')}</span> : null}
            </td>
            <td>
              <TerminalCell terminal={e.terminal} agent={e.agent} />
              {e.users?.length ? (
                <div class="small" data-testid="event-users">
                  {e.users
                    .map((u) => `${u.person?.name ?? u.account}${u.line ? `@${u.line}` : ''}`)
                    .join(', ')}
                </div>
              ) : null}
            </td>
            <td>
              {eventTypeName(e.type, lang)}{' '}
              <span class="muted">{t(e.state === 'cleared' ? 'cleared' : 'raised')}</span>
            </td>
            <td>
              <SeverityBadge severity={e.severity} />
            </td>
            <td>
              <DataList data={e.data} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
