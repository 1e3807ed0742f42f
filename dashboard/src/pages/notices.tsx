import { actorName, itemsOf, type AuditEntry, type Notice, type Silence } from '../api.js';
import { Time } from '../components/bits.js';
import { Show, useApi } from '../components/data.js';
import { useI18n } from '../i18n.js';

/** 预警通报 sent down to subordinate units, and who has acknowledged and answered. */
export function NoticesPage() {
  const { t } = useI18n();
  const notices = useApi<unknown>('/api/v1/notices');
  return (
    <section>
      <h1>{t('notices')}</h1>
      <Show loaded={notices}>
        {(reply) => {
          const list = itemsOf<Notice>(reply);
          if (list.length === 0) return <p class="muted">{t('none')}</p>;
          return (
            <div data-testid="notices">
              {list.map((n) => (
                <article key={n.id} class="notice">
                  <h2>{n.title}</h2>
                  <p class="muted">
                    {t('issuedAt')}: <Time iso={n.issuedAt} /> · {actorName(n.issuedBy)} · {t('deadline')}:{' '}
                    <Time iso={n.deadline} />
                    {n.overdue ? <span class="badge sev-high">{`${t('late')} ${n.overdue}`}</span> : null}
                  </p>
                  {n.requiredAction ? <p>{n.requiredAction}</p> : null}
                  {n.text ? <p class="note">{n.text}</p> : null}
                  {n.recipients && n.recipients.length > 0 ? (
                    <table>
                      <thead>
                        <tr>
                          <th>{t('unit')}</th>
                          <th>{t('acknowledged')}</th>
                          <th>{t('answered')}</th>
                        </tr>
                      </thead>
                      <tbody>
                        {n.recipients.map((r) => (
                          <tr key={r.unit} class={r.overdue ? 'as-overdue' : ''}>
                            <td>{r.unit}</td>
                            <td>
                              <Time iso={r.acknowledgedAt} />
                            </td>
                            <td>
                              <Time iso={r.resultAt} /> {r.result ?? ''}
                            </td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  ) : null}
                </article>
              ))}
            </div>
          );
        }}
      </Show>
    </section>
  );
}

export function SilencesPage() {
  const { t } = useI18n();
  const silences = useApi<unknown>('/api/v1/silences');
  return (
    <section>
      <h1>{t('silences')}</h1>
      <Show loaded={silences}>
        {(reply) => {
          const list = itemsOf<Silence>(reply);
          if (list.length === 0) return <p class="muted">{t('none')}</p>;
          return (
            <table data-testid="silences">
              <thead>
                <tr>
                  <th>{t('matcher')}</th>
                  <th>{t('startsAt')}</th>
                  <th>{t('endsAt')}</th>
                  <th>{t('author')}</th>
                  <th>{t('reason')}</th>
                </tr>
              </thead>
              <tbody>
                {list.map((s) => (
                  <tr key={s.id} class={s.active === false ? 'muted' : ''}>
                    <td class="mono small">
                      {typeof s.matcher === 'string' ? s.matcher : JSON.stringify(s.matcher)}
                    </td>
                    <td>
                      <Time iso={s.startsAt} />
                    </td>
                    <td>
                      <Time iso={s.endsAt} />
                    </td>
                    <td>{actorName(s.author)}</td>
                    <td>{s.reason}</td>
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

export function AuditPage() {
  const { t } = useI18n();
  const audit = useApi<unknown>('/api/v1/audit?limit=200');
  return (
    <section>
      <h1>{t('audit')}</h1>
      <Show loaded={audit}>
        {(reply) => (
          <table data-testid="audit">
            <thead>
              <tr>
                <th>{t('time')}</th>
                <th>{t('actor')}</th>
                <th>{t('action')}</th>
                <th>{t('status')}</th>
                <th>{t('where')}</th>
              </tr>
            </thead>
            <tbody>
              {itemsOf<AuditEntry>(reply).map((a) => (
                <tr key={a.id}>
                  <td>
                    <Time iso={a.at} seconds />
                  </td>
                  <td>
                    {a.actor} <span class="muted">{a.role ?? ''}</span>
                  </td>
                  <td>
                    {a.action}
                    {a.detail ? <div class="muted small mono">{a.detail}</div> : null}
                  </td>
                  <td>{a.status ?? ''}</td>
                  <td>{a.ip}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Show>
    </section>
  );
}
