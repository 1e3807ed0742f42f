import { useState } from 'preact/hooks';
import { api, itemsOf, may, type Rectification, type SessionUser, type System } from '../api.js';
import { Time } from '../components/bits.js';
import { Show, useApi } from '../components/data.js';
import { Field, FormPanel, requiredText, Select, TextInput, useSubmit } from '../components/form.js';
import { shanghaiToday } from '../format.js';
import { assessmentFoundRisks } from '../../../shared/api/clocks.js';
import { RECTIFICATION_SOURCE_NAMES, RECTIFICATION_STATE_NAMES, termName } from '../../../shared/terms.js';
import { useI18n } from '../i18n.js';

const STATES = ['', 'open', 'overdue', 'done'] as const;

/** 整改: every item, whatever opened it (a self-inspection finding, an assessment, by hand). */
export function RectificationsPage(props: { user: SessionUser }) {
  const { t, lang } = useI18n();
  const [state, setState] = useState('');
  const list = useApi<unknown>(`/api/v1/rectifications${state ? `?state=${state}` : ''}`);
  const writer = may(props.user, 'inspection.manage');
  return (
    <section>
      <h1>{t('rectifications')}</h1>
      <p class="muted">{t('selfInspectionBasis')}</p>
      <Field label={t('state')}>
        <Select
          name="state"
          value={state}
          onChange={setState}
          options={STATES.map((s) => [s, s ? termName(RECTIFICATION_STATE_NAMES, s, lang) : t('allStates')])}
        />
      </Field>
      <Show loaded={list}>
        {(reply) => <RectificationTable items={itemsOf<Rectification>(reply)} writer={writer} />}
      </Show>
      {writer ? <NewRectification /> : null}
    </section>
  );
}

/** A table of items with their state; an open one can be closed with how it was put right. */
export function RectificationTable(props: { items: readonly Rectification[]; writer: boolean }) {
  const { t, lang } = useI18n();
  if (props.items.length === 0) return <p class="muted">{t('none')}</p>;
  return (
    <table data-testid="rectifications">
      <thead>
        <tr>
          <th>{t('rectificationWhat')}</th>
          <th>{t('rectificationWho')}</th>
          <th>{t('rectificationDeadline')}</th>
          <th>{t('state')}</th>
          <th>{t('source')}</th>
          <th>{t('closeNote')}</th>
        </tr>
      </thead>
      <tbody>
        {props.items.map((r) => (
          <tr key={r.id} class={r.state === 'overdue' ? 'as-overdue' : ''} data-testid="rectification">
            <td>{r.what}</td>
            <td>{r.who}</td>
            <td>
              {r.deadline}
              {r.state !== 'done' ? <span class="muted">{` （${t('daysLeft')} ${r.daysLeft}）`}</span> : null}
            </td>
            <td>
              <span class={`badge ${r.state === 'overdue' ? 'sev-high' : ''}`}>
                {termName(RECTIFICATION_STATE_NAMES, r.state, lang)}
              </span>
            </td>
            <td>{termName(RECTIFICATION_SOURCE_NAMES, r.source.kind, lang)}</td>
            <td>
              {r.state === 'done' ? (
                <>
                  {r.closeNote}{' '}
                  <span class="muted">
                    {r.closedBy} · <Time iso={r.closedAt} />
                  </span>
                </>
              ) : props.writer ? (
                <CloseRectification item={r} />
              ) : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function CloseRectification(props: { item: Rectification }) {
  const { t } = useI18n();
  const [note, setNote] = useState('');
  const submit = useSubmit();
  const close = () =>
    submit.run(async () => {
      await api(`/api/v1/rectifications/${encodeURIComponent(props.item.id)}/close`, {
        method: 'POST',
        body: { note: requiredText(note, t('closeNote'), t) },
      });
      return t('rectificationClosed');
    });
  return (
    <form
      class="inline-form"
      aria-label={`${t('closeRectification')}：${props.item.what}`}
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void close();
      }}
    >
      <TextInput name="closeNote" value={note} onInput={setNote} maxLength={4000} />
      <button type="submit" disabled={submit.busy}>
        {t('closeRectification')}
      </button>
      {submit.message && !submit.message.ok ? (
        <span class="error" role="alert">
          {submit.message.text}
        </span>
      ) : null}
    </form>
  );
}

/** An item opened by hand, or for a system whose latest assessment found risks (第35条). */
function NewRectification() {
  const { t } = useI18n();
  const [what, setWhat] = useState('');
  const [who, setWho] = useState('');
  const [deadline, setDeadline] = useState(shanghaiToday());
  const [systemId, setSystemId] = useState('');
  const systems = useApi<unknown>('/api/v1/systems');
  const assessed =
    systems.status === 'ok'
      ? itemsOf<System>(systems.data).filter((s) =>
          (s.assessments ?? []).some((a) => assessmentFoundRisks(a.result)),
        )
      : [];
  const submit = useSubmit();
  return (
    <FormPanel
      title={t('addRectification')}
      testId="new-rectification"
      submit={submit}
      onSubmit={() =>
        submit.run(async () => {
          await api('/api/v1/rectifications', {
            method: 'POST',
            body: {
              what: requiredText(what, t('rectificationWhat'), t),
              who: requiredText(who, t('rectificationWho'), t),
              deadline,
              ...(systemId ? { assessment: { systemId } } : {}),
            },
          });
          setWhat('');
          setWho('');
          return t('rectificationOpened');
        })
      }
    >
      <Field label={t('rectificationWhat')} wide>
        <TextInput name="what" value={what} onInput={setWhat} maxLength={2000} multiline />
      </Field>
      <Field label={t('rectificationWho')}>
        <TextInput name="who" value={who} onInput={setWho} maxLength={200} />
      </Field>
      <Field label={t('rectificationDeadline')}>
        <TextInput name="deadline" type="date" value={deadline} onInput={setDeadline} />
      </Field>
      <Field label={t('rectificationAssessment')}>
        <Select
          name="system"
          value={systemId}
          onChange={setSystemId}
          options={[['', t('rectificationByHand')], ...assessed.map((s) => [s.id, s.name] as const)]}
        />
      </Field>
    </FormPanel>
  );
}
