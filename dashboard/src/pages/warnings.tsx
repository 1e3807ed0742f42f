import { useState } from 'preact/hooks';
import {
  actorName,
  api,
  ApiError,
  itemsOf,
  type Agent,
  type SessionUser,
  type StoredEvent,
  SECRET_LEVELS,
  type Warning,
  may,
} from '../api.js';
import { AgentText, TerminalCell } from '../components/agent-text.js';
import { DataList, ExportLink, SeverityBadge, StateBadge, Time } from '../components/bits.js';
import { Show, useApi } from '../components/data.js';
import { LoadMore, usePaged } from '../components/paged.js';
import { Field, FormPanel, FormProblem, Select, TextInput, useSubmit } from '../components/form.js';
import { shanghaiInputToIso } from '../format.js';
import { isKnownEventType } from '../../../shared/events.js';
import { conditionDataInWords, eventTypeName, keyInWords, type Lang } from '../../../shared/terms.js';
import { translateWord, useI18n, type MessageKey } from '../i18n.js';
import { verifyEnvelope, type VerifyResult } from '../verify.js';

const STATES = ['discovered', 'identified', 'handling', 'closed', 'false-positive'];
const OPEN_STATES = ['discovered', 'identified', 'handling'];
/** The list reads this many at a time; 加载更多 / Load more reads on by cursor. */
const WARNINGS_PAGE = 100;
/** 第64条 发现 → 识别 → 处置 → 关闭, or 误报 from any open step (collector/warnings/lifecycle.ts). */
const NEXT: Record<string, string[]> = {
  discovered: ['identified', 'false-positive'],
  identified: ['handling', 'false-positive'],
  handling: ['closed', 'false-positive'],
};
const ACTION_LABEL: Record<string, MessageKey> = {
  identified: 'toIdentified',
  handling: 'toHandling',
  closed: 'toClosed',
  'false-positive': 'toFalsePositive',
};

export function warningTitle(w: Warning, lang: 'zh' | 'en'): string {
  if (typeof w.title === 'string') return w.title;
  if (w.title) return w.title[lang];
  return w.rule;
}

/** The list's filters for its export (state, severity), without paging. */
function exportQuery(query: URLSearchParams): string {
  const out = new URLSearchParams();
  for (const [k, v] of query) if (k === 'state' || k === 'severity') out.append(k, v);
  return out.toString();
}

export function WarningsPage(props: { query: URLSearchParams }) {
  const { t, lang } = useI18n();
  const [state, setState] = useState(props.query.get('state') ?? 'open');
  const severity = props.query.get('severity');
  const query = new URLSearchParams({ limit: String(WARNINGS_PAGE) });
  for (const s of state === 'open' ? OPEN_STATES : state === 'all' ? [] : [state]) query.append('state', s);
  if (severity) query.append('severity', severity);
  const warnings = usePaged<Warning>(`/api/v1/warnings?${query}`);
  return (
    <section>
      <h1>{t('warnings')}</h1>
      <ExportLink href={`/api/v1/warnings.xlsx?${exportQuery(query)}`} />
      <label class="filter">
        {t('filterState')}{' '}
        <select value={state} onChange={(e) => setState((e.target as HTMLSelectElement).value)}>
          <option value="open">{`${t('st_discovered')} / ${t('st_identified')} / ${t('st_handling')}`}</option>
          <option value="all">{t('all')}</option>
          {STATES.map((s) => (
            <option key={s} value={s}>
              {translateWord(t, 'st_', s)}
            </option>
          ))}
        </select>
      </label>
      <Show loaded={warnings.first}>
        {() => {
          const list = warnings.items.filter(
            (w) =>
              (state === 'all' ||
                (state === 'open' ? !['closed', 'false-positive'].includes(w.state) : w.state === state)) &&
              (!severity || w.severity === severity),
          );
          if (list.length === 0) return <p class="muted">{t('none')}</p>;
          return (
            <table data-testid="warnings">
              <thead>
                <tr>
                  <th>{t('severity')}</th>
                  <th>{t('title')}</th>
                  <th>{t('state')}</th>
                  <th>{t('unit')}</th>
                  <th>{t('agent')}</th>
                  <th>{t('count')}</th>
                  <th>{t('lastSeen')}</th>
                </tr>
              </thead>
              <tbody>
                {list.map((w) => (
                  <tr key={w.id} class={`sev-row-${w.severity}`}>
                    <td>
                      <SeverityBadge severity={w.severity} />
                    </td>
                    <td>
                      <a href={`#/warnings/${encodeURIComponent(w.id)}`}>
                        <AgentText text={warningTitle(w, lang)} />
                      </a>
                      <div class="muted small">
                        <AgentText text={keyInWords(w.key, lang)} />
                      </div>
                    </td>
                    <td>
                      <StateBadge state={w.state} />
                    </td>
                    <td>{w.unit}</td>
                    <td>
                      <TerminalCell terminal={w.terminal} agent={w.agent} plain />
                    </td>
                    <td>{w.count}</td>
                    <td>
                      <Time iso={w.lastSeen} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          );
        }}
      </Show>
      <LoadMore paged={warnings} />
    </section>
  );
}

export function WarningDetail(props: { id: string; user: SessionUser }) {
  const { t, lang } = useI18n();
  const warning = useApi<Warning>(`/api/v1/warnings/${encodeURIComponent(props.id)}`);
  return (
    <section>
      <p>
        <a href="#/warnings">← {t('back')}</a>
      </p>
      <Show loaded={warning}>
        {(w) => (
          <>
            <h1>
              <SeverityBadge severity={w.severity} /> <AgentText text={warningTitle(w, lang)} />
            </h1>
            <dl class="facts">
              <dt>{t('state')}</dt>
              <dd>
                <StateBadge state={w.state} />
              </dd>
              <dt>{t('rule')}</dt>
              <dd>{w.rule}</dd>
              <dt>{t('key')}</dt>
              <dd>
                <AgentText text={keyInWords(w.key, lang)} />
              </dd>
              <dt>{t('unit')}</dt>
              <dd>{w.unit}</dd>
              <dt>{t('agent')}</dt>
              <dd>
                <TerminalCell terminal={w.terminal} agent={w.agent} />
              </dd>
              <dt>{t('count')}</dt>
              <dd>{w.count}</dd>
              <dt>{t('firstSeen')}</dt>
              <dd>
                <Time iso={w.firstSeen} seconds />
              </dd>
              <dt>{t('lastSeen')}</dt>
              <dd>
                <Time iso={w.lastSeen} seconds />
              </dd>
            </dl>
            {w.sample ? <DataList data={dataInWords(w.sample.type, w.sample.data, lang)} /> : null}
            {w.sample?.type === 'host.hardware.changed' && w.terminal?.system ? (
              <p class="notice" data-testid="environment-change">
                {t('hardwareEnvironment', { system: w.terminal.system.name })}{' '}
                <a href="#/systems">{t('recordChange')}</a>
              </p>
            ) : null}
            <Actions warning={w} user={props.user} />
            <OpenIncident warning={w} user={props.user} />
            <h2>{t('history')}</h2>
            <History warning={w} />
            <h2>{t('evidence')}</h2>
            <Evidence warning={w} />
          </>
        )}
      </Show>
    </section>
  );
}

function Actions(props: { warning: Warning; user: SessionUser }) {
  const { t } = useI18n();
  const [note, setNote] = useState('');
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const possible = NEXT[props.warning.state] ?? [];
  if (possible.length === 0) return null;
  // The collector says which steps this caller may take; an older one does not, so fall back to the role.
  const next = props.warning.allowedTransitions ?? (may(props.user, 'warnings.handle') ? possible : []);
  if (next.length === 0)
    return (
      <p class="muted" data-testid="cannot-act">
        {t('viewerCannotAct')}
      </p>
    );
  const act = async (to: string) => {
    setBusy(true);
    setMessage(null);
    try {
      await api(`/api/v1/warnings/${encodeURIComponent(props.warning.id)}/transitions`, {
        method: 'POST',
        body: { to, note },
      });
      setNote('');
      setMessage({ ok: true, text: t('actionDone') });
      // The live stream may not carry warning changes; ask the pages to refetch now.
      window.dispatchEvent(new Event('smew:refresh'));
    } catch (err) {
      setMessage({ ok: false, text: err instanceof ApiError ? err.message : String(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="actions" onSubmit={(e) => e.preventDefault()}>
      <h2>{t('actions')}</h2>
      <label>
        {t('note')}
        <textarea
          value={note}
          maxLength={4000}
          rows={3}
          onInput={(e) => setNote((e.target as HTMLTextAreaElement).value)}
        />
      </label>
      <div class="buttons">
        {next.map((to) => (
          <button
            key={to}
            type="button"
            disabled={busy}
            class={to === 'false-positive' ? 'secondary' : ''}
            onClick={() => void act(to)}
          >
            {t(ACTION_LABEL[to]!)}
          </button>
        ))}
      </div>
      {message ? (
        <p class={message.ok ? 'ok' : 'error'} role="status">
          {message.text}
        </p>
      ) : null}
    </form>
  );
}

/**
 * 第61条: a warning that is a leak or possible leak opens an incident. Its signed events become
 * the evidence and the 24 hours run from the earliest one's attested time (the collector sets it).
 */
function OpenIncident(props: { warning: Warning; user: SessionUser }) {
  const { t, lang } = useI18n();
  const w = props.warning;
  const [open, setOpen] = useState(false);
  const [level, setLevel] = useState<string>(SECRET_LEVELS.find((l) => l === w.level) ?? '机密');
  const [title, setTitle] = useState(() =>
    `${warningTitle(w, lang)}（${keyInWords(w.key, lang)}）`.slice(0, 200),
  );
  const [measures, setMeasures] = useState('');
  const [note, setNote] = useState('');
  const [discoveredAt, setDiscoveredAt] = useState('');
  const submit = useSubmit();
  const opened = w.incidents ?? [];
  if (opened.length > 0) {
    return (
      <p data-testid="warning-incidents">
        {t('incidentOpened')}{' '}
        {opened.map((id) => (
          <a key={id} href={`#/incidents/${encodeURIComponent(id)}`}>
            {id}
          </a>
        ))}
      </p>
    );
  }
  if (!may(props.user, 'warnings.handle') || w.state === 'false-positive') return null;
  if (!open) {
    return (
      <p>
        <button type="button" class="secondary" onClick={() => setOpen(true)} data-testid="open-incident">
          {t('openIncident')}
        </button>
      </p>
    );
  }
  const save = () =>
    submit.run(async () => {
      // Empty: the warning's 识别 time (SPEC §7); the officer may enter when the unit found it.
      const found = discoveredAt.trim() ? shanghaiInputToIso(discoveredAt) : undefined;
      if (discoveredAt.trim() && !found) throw new FormProblem(t('badTime', { field: t('discoveredAt') }));
      const created = await api<{ id: string }>(`/api/v1/warnings/${encodeURIComponent(w.id)}/incident`, {
        method: 'POST',
        body: {
          level,
          ...(found && { discoveredAt: found }),
          ...(title.trim() && { title: title.trim() }),
          ...(measures.trim() && { measures: measures.trim() }),
          ...(note.trim() && { note: note.trim() }),
        },
      });
      location.hash = `#/incidents/${encodeURIComponent(created.id)}`;
    });
  return (
    <FormPanel
      title={t('openIncident')}
      testId="warning-incident-form"
      submit={submit}
      submitLabel={t('openIncident')}
      onSubmit={save}
      onCancel={() => setOpen(false)}
    >
      <Field label={t('title')} wide>
        <TextInput name="title" value={title} onInput={setTitle} maxLength={200} />
      </Field>
      <Field label={t('level')}>
        <Select
          name="level"
          value={level}
          onChange={setLevel}
          options={SECRET_LEVELS.map((l) => [l, l] as const)}
        />
      </Field>
      <Field label={t('discoveredAtFromWarning')}>
        <TextInput name="discoveredAt" type="datetime-local" value={discoveredAt} onInput={setDiscoveredAt} />
      </Field>
      <Field label={t('measures')} wide>
        <TextInput name="measures" value={measures} onInput={setMeasures} maxLength={5000} multiline />
      </Field>
      <Field label={t('note')} wide>
        <TextInput name="note" value={note} onInput={setNote} maxLength={4000} multiline />
      </Field>
      <p class="muted small wide">{t('incidentFromWarningHint')}</p>
    </FormPanel>
  );
}

function History(props: { warning: Warning }) {
  const { t } = useI18n();
  const history = props.warning.history ?? [];
  if (history.length === 0) return <p class="muted">{t('none')}</p>;
  return (
    <ol class="timeline">
      {history.map((h, i) => (
        <li key={i}>
          <Time iso={h.at} seconds />{' '}
          {h.action === 'open-incident' ? (
            <span class="badge sev-high">{t('openIncident')}</span>
          ) : (
            <>
              <StateBadge state={h.from} /> → <StateBadge state={h.to} />
            </>
          )}{' '}
          <strong>{actorName(h.by)}</strong>
          {h.note ? <p class="note">{h.note}</p> : null}
        </li>
      ))}
    </ol>
  );
}

/** The signed events behind the warning, each re-verifiable against the agent's key. */
function Evidence(props: { warning: Warning }) {
  const { t, lang } = useI18n();
  const w = props.warning;
  const type = w.sample?.type ?? w.type;
  const query = new URLSearchParams({ limit: '50' });
  if (w.agent) query.set('agent', w.agent);
  if (type) query.set('type', type);
  // A collector that lists evidence with the warning needs no second look-up.
  const events = useApi<unknown>(w.evidence || !w.agent ? null : `/api/v1/events?${query}`);
  const agents = useApi<unknown>('/api/v1/agents');
  const keys = new Map(
    agents.status === 'ok' ? itemsOf<Agent>(agents.data).map((a) => [a.id, a.publicKey]) : [],
  );
  const rows = (
    list: {
      key: string | number;
      ts: string;
      seq: number;
      agent: string;
      state: string;
      envelope?: Record<string, unknown>;
      condition?: Record<string, unknown>;
    }[],
  ) =>
    list.length === 0 ? (
      <p class="muted">{t('none')}</p>
    ) : (
      <ul class="evidence" data-testid="evidence">
        {list.map((e) => {
          const key = keys.get(e.agent);
          const record = e.envelope ?? e.condition ?? {};
          return (
            <li key={e.key}>
              <Time iso={e.ts} seconds /> {e.agent} #{e.seq}{' '}
              {typeof record.type === 'string' ? eventTypeName(record.type, lang) : null}{' '}
              <span class="muted">{t(e.state === 'cleared' ? 'cleared' : 'raised')}</span>
              {isRecord(record.data) ? (
                <DataList data={dataInWords(String(record.type ?? ''), record.data, lang)} />
              ) : null}
              {/* The signed original, as the agent or the collector wrote it: folded, since its
                  field names and event type are the wire format, not the officer's words. */}
              <details class="signed">
                <summary>{t('signedOriginal')}</summary>
                <pre class="wrap">
                  <AgentText text={JSON.stringify(record, null, 2)} cut={4000} multiline />
                </pre>
              </details>
              {key && e.envelope ? <VerifyButton envelope={e.envelope} publicKey={key} /> : null}
            </li>
          );
        })}
      </ul>
    );
  if (w.evidence) return rows(w.evidence.map((e, i) => ({ ...e, key: e.eventId ?? `c${i}` })));
  if (!w.agent) return <p class="muted">{t('none')}</p>;
  return (
    <Show loaded={events}>
      {(reply) => rows(itemsOf<StoredEvent>(reply).map((e) => ({ ...e, key: e.id })))}
    </Show>
  );
}

export function VerifyButton(props: { envelope: Record<string, unknown>; publicKey: string }) {
  const { t } = useI18n();
  const [result, setResult] = useState<VerifyResult | null>(null);
  const label: Record<VerifyResult, MessageKey> = {
    valid: 'verified',
    invalid: 'verifyFailed',
    unsupported: 'verifyUnsupported',
  };
  return (
    <span class="verify">
      <button
        type="button"
        class="secondary"
        onClick={() => void verifyEnvelope(props.envelope, props.publicKey).then(setResult)}
      >
        {t('verify')}
      </button>{' '}
      {result ? (
        <span class={result === 'valid' ? 'ok' : 'error'} role="status">
          {t(label[result])}
        </span>
      ) : null}
    </span>
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An agent's data as it came; a collector condition's (not an agent event type) in words. */
function dataInWords(type: string, data: Record<string, unknown>, lang: Lang): Record<string, unknown> {
  return isKnownEventType(type) ? data : conditionDataInWords(data, lang);
}
