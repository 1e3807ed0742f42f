import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, itemsOf, type AuditEntry, type ChainReport } from '../api.js';
import { Time } from '../components/bits.js';
import { Show, useApi, type Loaded } from '../components/data.js';
import { TextInput } from '../components/form.js';
import { shanghaiInputToIso } from '../format.js';
import { useI18n, type MessageKey } from '../i18n.js';

/** Entries shown at once; the export has them all. */
const LIMIT = 500;

/** The query of GET /api/v1/audit for the filters as typed (dates are Beijing days). */
function auditPath(filters: { actor: string; action: string; since: string; until: string }): string {
  const query = new URLSearchParams({ limit: String(LIMIT) });
  if (filters.actor.trim()) query.set('actor', filters.actor.trim());
  if (filters.action.trim()) query.set('action', filters.action.trim());
  const since = filters.since ? shanghaiInputToIso(`${filters.since}T00:00`) : undefined;
  // The end date is inclusive: entries before the next day's midnight.
  const until = filters.until ? shanghaiInputToIso(`${filters.until}T00:00`) : undefined;
  if (since) query.set('since', since);
  if (until) query.set('until', new Date(Date.parse(until) + 86_400_000).toISOString());
  return `/api/v1/audit?${query.toString()}`;
}

/**
 * Whether the hash chain holds (GET /api/v1/audit/chain), in words. Checked when the page opens
 * and on request, not on every refresh: the check reads the whole log.
 */
function ChainStatus() {
  const { t } = useI18n();
  const [chain, setChain] = useState<Loaded<ChainReport>>({ status: 'loading' });
  const check = useCallback(() => {
    setChain({ status: 'loading' });
    api<ChainReport>('/api/v1/audit/chain').then(
      (data) => setChain({ status: 'ok', data }),
      (err: unknown) => setChain({ status: 'error', message: (err as Error).message }),
    );
  }, []);
  useEffect(check, [check]);
  return (
    <div class="chain">
      <ChainReportLine chain={chain} />
      <button type="button" class="secondary" onClick={check} data-testid="chain-check">
        {t('chainCheck')}
      </button>
    </div>
  );
}

function ChainReportLine(props: { chain: Loaded<ChainReport> }) {
  const { t } = useI18n();
  const chain = props.chain;
  return (
    <Show loaded={chain}>
      {(report) => {
        if (!report.problem) {
          return (
            <p class="ok" data-testid="chain-status" data-ok="true">
              {t('chainStatus')} ·{' '}
              {t('chainOk', { entries: report.entries, seq: report.verifiedThrough, heads: report.heads })}
              {report.unsigned > 0 ? `；${t('chainUnsigned', { n: report.unsigned })}` : ''}
            </p>
          );
        }
        const { kind, id, detail } = report.problem;
        const where = id === undefined ? '' : t('chainEntry', { id });
        return (
          <p class="error" role="alert" data-testid="chain-status" data-ok="false">
            {t('chainStatus')} · {t('chainBroken', { where, kind: t(`chainKind_${kind}` as MessageKey) })}
            <span class="muted small"> ({detail})</span>
          </p>
        );
      }}
    </Show>
  );
}

/**
 * 审计 (the security auditor's page): the audit log, every entry with its link in the hash chain,
 * filtered by actor, action and date; whether the chain holds; the export with its chain.
 */
export function AuditPage() {
  const { t } = useI18n();
  const [draft, setDraft] = useState({ actor: '', action: '', since: '', until: '' });
  const [path, setPath] = useState(() => auditPath(draft));
  const audit = useApi<unknown>(path);
  const field = (key: keyof typeof draft) => (value: string) => setDraft({ ...draft, [key]: value });
  return (
    <section>
      <h1>{t('auditTitle')}</h1>
      <p class="muted">{t('auditHint')}</p>
      <ChainStatus />
      <p>
        <a href="/api/v1/audit/export" download data-testid="audit-export">
          {t('exportAudit')}
        </a>
      </p>
      <form
        class="filters"
        data-testid="audit-filters"
        onSubmit={(e) => {
          e.preventDefault();
          setPath(auditPath(draft));
        }}
      >
        <label class="filter">
          {t('filterActor')}{' '}
          <TextInput name="actor" value={draft.actor} onInput={field('actor')} maxLength={128} />
        </label>
        <label class="filter">
          {t('filterAction')}{' '}
          <TextInput name="action" value={draft.action} onInput={field('action')} maxLength={200} />
        </label>
        <label class="filter">
          {t('filterSince')}{' '}
          <TextInput name="since" type="date" value={draft.since} onInput={field('since')} />
        </label>
        <label class="filter">
          {t('filterUntil')}{' '}
          <TextInput name="until" type="date" value={draft.until} onInput={field('until')} />
        </label>
        <button type="submit">{t('applyFilter')}</button>
      </form>
      <Show loaded={audit}>
        {(reply) => (
          <table data-testid="audit">
            <thead>
              <tr>
                <th>#</th>
                <th>{t('time')}</th>
                <th>{t('actor')}</th>
                <th>{t('action')}</th>
                <th>{t('status')}</th>
                <th>{t('where')}</th>
              </tr>
            </thead>
            <tbody>
              {itemsOf<AuditEntry>(reply).map((a) => (
                <tr key={a.id} data-actor={a.actor}>
                  <td class="mono small" title={a.hash ?? ''}>
                    {a.seq ?? ''}
                  </td>
                  <td>
                    <Time iso={a.at} seconds />
                  </td>
                  <td>
                    {a.actor}{' '}
                    <span class="muted">
                      {a.role && a.role in ROLE_KEYS
                        ? t(ROLE_KEYS[a.role as keyof typeof ROLE_KEYS])
                        : (a.role ?? '')}
                    </span>
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

/** An entry's role in words; entries from before 三员 keep their old role name as written. */
const ROLE_KEYS = {
  sysadmin: 'role_sysadmin',
  secadmin: 'role_secadmin',
  auditor: 'role_auditor',
  viewer: 'role_viewer',
} as const satisfies Record<string, MessageKey>;
