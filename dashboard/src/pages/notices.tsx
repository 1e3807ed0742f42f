import { useState } from 'preact/hooks';
import { actorName, api, itemsOf, type Notice, type SessionUser, type Silence, may } from '../api.js';
import { Time } from '../components/bits.js';
import { Show, useApi } from '../components/data.js';
import {
  Field,
  FormMessage,
  FormPanel,
  FormProblem,
  requiredText,
  Select,
  TextInput,
  useSubmit,
} from '../components/form.js';
import { shanghaiInputToIso } from '../format.js';
import { keyInWords } from '../../../shared/terms.js';
import { translateWord, useI18n, type MessageKey } from '../i18n.js';

const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;

/** 预警通报 sent down to subordinate units, and who has acknowledged and answered. */
export function NoticesPage(props: { user: SessionUser }) {
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
                  <NoticeAnswer notice={n} user={props.user} />
                </article>
              ))}
            </div>
          );
        }}
      </Show>
    </section>
  );
}

/**
 * The caller's unit acknowledges (签收) a notice addressed to it and reports its investigation
 * (排查) result. A collector-wide account answers for no unit, so it sees no form.
 */
function NoticeAnswer(props: { notice: Notice; user: SessionUser }) {
  const { t } = useI18n();
  const [result, setResult] = useState('');
  const submit = useSubmit();
  const mine = props.notice.recipients?.find((r) => r.unit === props.user.unit);
  if (!mine || !may(props.user, 'notices.manage')) return null;
  const path = `/api/v1/notices/${encodeURIComponent(props.notice.id)}`;
  const acknowledge = () =>
    submit.run(async () => {
      await api(`${path}/acknowledgements`, { method: 'POST', body: {} });
      return t('acknowledgedDone');
    });
  const report = () =>
    submit.run(async () => {
      await api(`${path}/results`, {
        method: 'POST',
        body: { result: requiredText(result, t('checkResult'), t) },
      });
      setResult('');
      return t('answeredDone');
    });
  return (
    <form
      class="panel-form"
      data-testid="notice-answer"
      aria-label={`${t('answerNotice')}：${props.notice.title}`}
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void report();
      }}
    >
      <h3>{t('answerNotice')}</h3>
      {mine.acknowledgedAt ? (
        <p class="muted">
          {t('acknowledged')}: <Time iso={mine.acknowledgedAt} />
        </p>
      ) : (
        <p>
          <button type="button" disabled={submit.busy} onClick={() => void acknowledge()}>
            {t('acknowledge')}
          </button>
        </p>
      )}
      <Field label={t('checkResult')} wide>
        <TextInput name="result" value={result} onInput={setResult} maxLength={20_000} multiline />
      </Field>
      <div class="buttons">
        <button type="submit" disabled={submit.busy}>
          {t('submitResult')}
        </button>
      </div>
      <FormMessage message={submit.message} />
    </form>
  );
}

export function SilencesPage(props: { user: SessionUser }) {
  const { t } = useI18n();
  const silences = useApi<unknown>('/api/v1/silences');
  const [creating, setCreating] = useState(false);
  const canWrite = may(props.user, 'silences.manage');
  const ending = useSubmit();
  const end = (id: string) =>
    ending.run(async () => {
      await api(`/api/v1/silences/${encodeURIComponent(id)}`, { method: 'DELETE' });
      return t('silenceEnded');
    });
  return (
    <section>
      <h1>{t('silences')}</h1>
      {canWrite ? (
        <p>
          <button type="button" onClick={() => setCreating(true)}>
            {t('newSilence')}
          </button>
        </p>
      ) : null}
      {creating ? <SilenceForm onDone={() => setCreating(false)} /> : null}
      <FormMessage message={ending.message} />
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
                  {canWrite ? <th>{t('actions')}</th> : null}
                </tr>
              </thead>
              <tbody>
                {list.map((s) => (
                  <tr key={s.id} class={s.active === false ? 'muted' : ''} data-silence={s.id}>
                    <td class="small">
                      <MatcherText matcher={s.matcher} />
                    </td>
                    <td>
                      <Time iso={s.startsAt} />
                    </td>
                    <td>
                      <Time iso={s.endsAt} />
                    </td>
                    <td>{actorName(s.author)}</td>
                    <td>{s.reason}</td>
                    {canWrite ? (
                      <td>
                        {s.active !== false && !s.expiredBy ? (
                          <button
                            type="button"
                            class="secondary"
                            disabled={ending.busy}
                            onClick={() => void end(s.id)}
                          >
                            {t('endSilence')}
                          </button>
                        ) : (
                          <span class="muted">{t('silenceOver')}</span>
                        )}
                      </td>
                    ) : null}
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

/** A silence's matcher in words: rule, 预警级别, 终端, 条件 — not its JSON. */
function MatcherText(props: { matcher: unknown }) {
  const { t, lang } = useI18n();
  if (typeof props.matcher !== 'object' || props.matcher === null) return <>{String(props.matcher ?? '')}</>;
  const label: Record<string, MessageKey> = {
    rule: 'rule',
    severity: 'severity',
    agent: 'agent',
    key: 'key',
  };
  const parts = Object.entries(props.matcher as Record<string, unknown>).map(([field, value]) => {
    const text = String(value);
    const shown =
      field === 'severity' ? translateWord(t, 'sev_', text) : field === 'key' ? keyInWords(text, lang) : text;
    return `${label[field] ? t(label[field]) : field}${lang === 'zh' ? '：' : ': '}${shown}`;
  });
  return <>{parts.join(lang === 'zh' ? '；' : '; ')}</>;
}

/** Mutes notifications of matching warnings for a while; warnings and legal clocks go on. */
function SilenceForm(props: { onDone: () => void }) {
  const { t } = useI18n();
  const [rule, setRule] = useState('');
  const [severity, setSeverity] = useState('');
  const [agent, setAgent] = useState('');
  const [key, setKey] = useState('');
  const [endsAt, setEndsAt] = useState('');
  const [reason, setReason] = useState('');
  const submit = useSubmit();
  const save = () =>
    submit.run(async () => {
      const matcher = Object.fromEntries(
        Object.entries({ rule, severity, agent, key })
          .map(([k, v]) => [k, v.trim()])
          .filter(([, v]) => v !== ''),
      );
      if (Object.keys(matcher).length === 0) throw new FormProblem(t('matcherRequired'));
      const end = shanghaiInputToIso(requiredText(endsAt, t('endsAt'), t));
      if (!end) throw new FormProblem(t('badTime', { field: t('endsAt') }));
      await api('/api/v1/silences', {
        method: 'POST',
        body: { matcher, endsAt: end, reason: requiredText(reason, t('reason'), t) },
      });
      props.onDone();
    });
  return (
    <FormPanel
      title={t('newSilence')}
      testId="silence-form"
      submit={submit}
      onSubmit={save}
      onCancel={props.onDone}
    >
      <Field label={t('rule')}>
        <TextInput name="rule" value={rule} onInput={setRule} maxLength={64} />
      </Field>
      <Field label={t('severity')}>
        <Select
          name="severity"
          value={severity}
          onChange={setSeverity}
          options={[['', t('any')], ...SEVERITIES.map((s) => [s, translateWord(t, 'sev_', s)] as const)]}
        />
      </Field>
      <Field label={t('agent')}>
        <TextInput name="agent" value={agent} onInput={setAgent} maxLength={64} />
      </Field>
      <Field label={t('key')}>
        <TextInput name="key" value={key} onInput={setKey} maxLength={1000} />
      </Field>
      <Field label={t('endsAtBeijing')}>
        <TextInput name="endsAt" type="datetime-local" value={endsAt} onInput={setEndsAt} />
      </Field>
      <Field label={t('reason')} wide>
        <TextInput name="reason" value={reason} onInput={setReason} maxLength={20_000} multiline />
      </Field>
    </FormPanel>
  );
}
