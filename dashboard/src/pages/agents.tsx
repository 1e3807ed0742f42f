import { itemsOf, type Agent, type StoredEvent } from '../api.js';
import { AgentText } from '../components/agent-text.js';
import { Time } from '../components/bits.js';
import { Show, useApi } from '../components/data.js';
import { LoadMore, usePaged } from '../components/paged.js';
import { useI18n } from '../i18n.js';
import { RecentEvents } from './overview.js';

export function AgentDetail(props: { id: string }) {
  const { t } = useI18n();
  const agents = useApi<unknown>('/api/v1/agents');
  return (
    <section>
      <p>
        <a href="#/agents">← {t('back')}</a>
      </p>
      <Show loaded={agents}>
        {(reply) => {
          const a = itemsOf<Agent>(reply).find((x) => x.id === props.id);
          if (!a) return <p class="error">{props.id}?</p>;
          return (
            <>
              <h1>
                {a.hostname ? <AgentText text={a.hostname} /> : a.id}{' '}
                <span class={a.online ? 'badge ok' : 'badge off'}>
                  {a.online ? t('online') : t('offline')}
                </span>
              </h1>
              <dl class="facts">
                <dt>{t('agent')}</dt>
                <dd>{a.id}</dd>
                <dt>{t('unit')}</dt>
                <dd>{a.unit}</dd>
                <dt>{t('lastSeen')}</dt>
                <dd>
                  <Time iso={a.lastSeen} seconds />
                </dd>
                <dt>{t('enrolledAt')}</dt>
                <dd>
                  <Time iso={a.enrolledAt} />
                </dd>
                <dt>{t('version')}</dt>
                <dd>
                  <AgentText text={a.version} />
                </dd>
                <dt>{t('ackedSeq')}</dt>
                <dd>
                  {a.ackedSeq ?? '—'} / {a.reportedSeq ?? '—'}
                </dd>
                <dt>{t('publicKey')}</dt>
                <dd class="mono small">
                  {a.alg} {a.publicKey}
                </dd>
              </dl>
            </>
          );
        }}
      </Show>
      <AgentEvents agentId={props.id} />
    </section>
  );
}

/** An agent's events, newest first, a page at a time. */
export function AgentEvents(props: { agentId: string }) {
  const { t } = useI18n();
  const events = usePaged<StoredEvent>(`/api/v1/events?agent=${encodeURIComponent(props.agentId)}&limit=100`);
  return (
    <>
      <h2>{t('events')}</h2>
      <Show loaded={events.first}>
        {() => (
          <>
            <RecentEvents events={events.items} />
            <LoadMore paged={events} />
          </>
        )}
      </Show>
    </>
  );
}
