import { itemsOf, type AssessmentDue, type Incident, type System } from '../api.js';
import { Countdown, Time } from '../components/bits.js';
import { Show, useApi } from '../components/data.js';
import { translateWord, useI18n } from '../i18n.js';

/** 第35条: the register of classified information systems, and when each must next be assessed. */
export function SystemsPage() {
  const { t } = useI18n();
  const systems = useApi<unknown>('/api/v1/systems');
  const due = useApi<unknown>('/api/v1/assessments/due');
  return (
    <section>
      <h1>{t('systems')}</h1>
      <Show loaded={systems}>
        {(reply) => {
          const list = itemsOf<System>(reply);
          if (list.length === 0) return <p class="muted">{t('none')}</p>;
          return (
            <table data-testid="systems">
              <thead>
                <tr>
                  <th>{t('name')}</th>
                  <th>{t('level')}</th>
                  <th>{t('unit')}</th>
                  <th>{t('commissionedAt')}</th>
                  <th>{t('nextDue')}</th>
                </tr>
              </thead>
              <tbody>
                {list.map((s) => (
                  <tr key={s.id}>
                    <td>{s.name}</td>
                    <td>{s.level}</td>
                    <td>{s.unit ?? '—'}</td>
                    <td>{s.commissionedAt}</td>
                    <td class={`as-${s.schedule?.state ?? ''}`}>
                      {s.status === 'decommissioned'
                        ? `${t('decommissioned')} ${s.filedAt ?? ''}`
                        : `${s.schedule?.nextDue ?? '—'} ${s.schedule ? translateWord(t, 'as_', s.schedule.state) : ''}`}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          );
        }}
      </Show>
      <h2>{t('calendar')}</h2>
      <Show loaded={due}>{(reply) => <AssessmentCalendar items={itemsOf<AssessmentDue>(reply)} />}</Show>
    </section>
  );
}

/** Twelve months from this one, each listing the assessments that fall due in it; overdue first. */
function AssessmentCalendar(props: { items: AssessmentDue[] }) {
  const { t, lang } = useI18n();
  const overdue = props.items.filter((i) => i.state === 'overdue' || i.state === 'reassess');
  const today = new Date();
  const months = Array.from({ length: 12 }, (_, k) => {
    const d = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() + k, 1));
    return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
  });
  return (
    <div class="calendar" data-testid="assessment-calendar">
      {overdue.length > 0 ? (
        <div class="month overdue">
          <h3>{translateWord(t, 'as_', 'overdue')}</h3>
          <ul>
            {overdue.map((i) => (
              <li key={i.systemId}>
                {i.name} <span class="muted">{i.nextDue}</span>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {months.map((month) => {
        const inMonth = props.items.filter((i) => i.nextDue.startsWith(month) && !overdue.includes(i));
        return (
          <div key={month} class={inMonth.length > 0 ? 'month busy' : 'month'}>
            <h3>{lang === 'zh' ? `${month.slice(0, 4)}年${Number(month.slice(5))}月` : month}</h3>
            <ul>
              {inMonth.map((i) => (
                <li key={i.systemId} class={`as-${i.state}`}>
                  {i.nextDue.slice(8)}日 {i.name} <span class="muted">{i.level}</span>
                </li>
              ))}
            </ul>
          </div>
        );
      })}
    </div>
  );
}

/** 第61条: incidents and their report chains, each hop with its 24-hour clock. */
export function IncidentsPage(props: { id?: string }) {
  const { t } = useI18n();
  const incidents = useApi<unknown>('/api/v1/incidents');
  return (
    <section>
      <h1>{t('incidents')}</h1>
      <Show loaded={incidents}>
        {(reply) => {
          const list = itemsOf<Incident>(reply).filter((i) => !props.id || i.id === props.id);
          if (list.length === 0) return <p class="muted">{t('none')}</p>;
          return (
            <div data-testid="incidents">
              {list.map((incident) => (
                <article key={incident.id} class="incident">
                  <h2>
                    <a href={`#/incidents/${encodeURIComponent(incident.id)}`}>{incident.title}</a>{' '}
                    <span class="badge">{incident.level}</span>
                  </h2>
                  <p>
                    {t('discoveredAt')}: <Time iso={incident.discoveredAt} seconds />
                    {incident.unit ? ` · ${incident.unit}` : ''}
                    {incident.endToEnd ? ` · ${t('endToEnd')} ${incident.endToEnd}` : ''}
                  </p>
                  {incident.measures ? <p class="note">{incident.measures}</p> : null}
                  <h3>{t('hops')}</h3>
                  <ol class="timeline">
                    {(incident.hops ?? []).map((hop, i) => (
                      <li
                        key={i}
                        class={
                          hop.late ? 'late' : hop.reportedAt ? 'done' : hop.dueAt ? 'pending' : 'unstarted'
                        }
                      >
                        <strong>
                          {hop.from} → {hop.to}
                        </strong>
                        <div>
                          {t('dueAt')}: <Time iso={hop.dueAt} seconds />{' '}
                          {hop.dueAt && !hop.reportedAt ? <Countdown dueAt={hop.dueAt} /> : null}
                        </div>
                        <div>
                          {t('reportedAt')}: <Time iso={hop.reportedAt} seconds /> · {t('receivedAt')}:{' '}
                          <Time iso={hop.receivedAt} seconds />
                          {hop.late ? <span class="badge sev-high">{t('late')}</span> : null}
                        </div>
                      </li>
                    ))}
                  </ol>
                </article>
              ))}
            </div>
          );
        }}
      </Show>
    </section>
  );
}
