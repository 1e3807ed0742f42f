import { useEffect, useState } from 'preact/hooks';
import { formatCountdown, formatTime } from '../format.js';
import { translateWord, useI18n } from '../i18n.js';
import { AgentText } from './agent-text.js';

export function Time(props: { iso: string | null | undefined; seconds?: boolean }) {
  const { lang } = useI18n();
  if (!props.iso) return <span class="muted">—</span>;
  return (
    <time dateTime={props.iso} title={`${props.iso} (UTC)`}>
      {formatTime(props.iso, lang, props.seconds)}
    </time>
  );
}

export function SeverityBadge(props: { severity: string }) {
  const { t } = useI18n();
  return (
    <span class={`badge sev-${props.severity.replace(/[^a-z-]/g, '')}`}>
      {translateWord(t, 'sev_', props.severity)}
    </span>
  );
}

export function StateBadge(props: { state: string }) {
  const { t } = useI18n();
  return (
    <span class={`badge st-${props.state.replace(/[^a-z-]/g, '')}`}>
      {translateWord(t, 'st_', props.state)}
    </span>
  );
}

export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/** A live countdown to a legal deadline; red once it has passed. */
export function Countdown(props: { dueAt: string }) {
  const { t } = useI18n();
  const now = useNow();
  const left = new Date(props.dueAt).getTime() - now;
  return (
    <span
      class={left < 0 ? 'countdown overdue' : left < 2 * 3600_000 ? 'countdown urgent' : 'countdown'}
      role="timer"
    >
      {left < 0
        ? `${t('overdueBy')} ${formatCountdown(-left)}`
        : `${t('remaining')} ${formatCountdown(left)}`}
    </span>
  );
}

/** Agent-supplied values (SSIDs, paths, host names) and their names, shown through AgentText. */
export function DataList(props: { data: Record<string, unknown> }) {
  const entries = Object.entries(props.data);
  if (entries.length === 0) return <span class="muted">—</span>;
  return (
    <dl class="data">
      {entries.map(([k, v]) => (
        <div key={k}>
          <dt>
            <AgentText text={k} />
          </dt>
          <dd>
            <AgentText text={typeof v === 'string' ? v : JSON.stringify(v)} />
          </dd>
        </div>
      ))}
    </dl>
  );
}

/** A list as an Excel workbook (the list routes' .xlsx twins), with the session cookie. */
export function ExportLink(props: { href: string }) {
  const { t } = useI18n();
  return (
    <a class="export" href={props.href} download data-testid="export-xlsx">
      {t('exportXlsx')}
    </a>
  );
}
