import { useState } from 'preact/hooks';
import { api, type Incident } from '../api.js';
import { AgentText } from '../components/agent-text.js';
import { Countdown, Time } from '../components/bits.js';
import { Field, FormPanel, FormProblem, requiredText, TextInput, useSubmit } from '../components/form.js';
import { isoToShanghaiInput, shanghaiInputToIso } from '../format.js';
import { chainEndName } from '../../../shared/terms.js';
import { useI18n } from '../i18n.js';

/**
 * The parts of an incident beyond its 第61条 hops: the remedial measures that come first (the
 * first report waits for one), where the report stands against "national 24 h after the first
 * administration's receipt", and the 第60条 closure with its 处理结果.
 */

/** 第61条 应当立即采取补救措施: the measures taken, and a form to add one. */
export function MeasuresSection(props: { incident: Incident; canWrite: boolean }) {
  const { t } = useI18n();
  const [adding, setAdding] = useState(false);
  const { measures } = props.incident;
  return (
    <div data-testid="measures">
      <h3>{t('measures')}</h3>
      {measures.length === 0 ? (
        <p class="note sev-high" data-testid="measures-first">
          {t('measuresFirst')}
        </p>
      ) : (
        <ul>
          {measures.map((m, i) => (
            <li key={m.id ?? i}>
              <AgentText text={m.what} /> <span class="muted">· {m.by} · </span>
              <Time iso={m.at} />
            </li>
          ))}
        </ul>
      )}
      {props.canWrite && !adding ? (
        <button type="button" class="secondary" onClick={() => setAdding(true)}>
          {t('addMeasure')}
        </button>
      ) : null}
      {adding ? <MeasureForm incident={props.incident} onDone={() => setAdding(false)} /> : null}
    </div>
  );
}

function MeasureForm(props: { incident: Incident; onDone: () => void }) {
  const { t } = useI18n();
  const [what, setWhat] = useState('');
  const [by, setBy] = useState('');
  const [at, setAt] = useState(() => isoToShanghaiInput(new Date()));
  const submit = useSubmit();
  const save = () =>
    submit.run(async () => {
      const when = shanghaiInputToIso(requiredText(at, t('measureAt'), t));
      if (!when) throw new FormProblem(t('badTime', { field: t('measureAt') }));
      await api(`/api/v1/incidents/${encodeURIComponent(props.incident.id)}/measures`, {
        method: 'POST',
        body: {
          what: requiredText(what, t('measureWhat'), t),
          at: when,
          ...(by.trim() && { by: by.trim() }),
        },
      });
      props.onDone();
    });
  return (
    <FormPanel
      title={t('addMeasure')}
      testId="measure-form"
      submit={submit}
      onSubmit={save}
      onCancel={props.onDone}
    >
      <Field label={t('measureWhat')} wide>
        <TextInput name="what" value={what} onInput={setWhat} maxLength={2000} multiline />
      </Field>
      <Field label={t('measureBy')}>
        <TextInput name="by" value={by} onInput={setBy} maxLength={200} />
      </Field>
      <Field label={t('measureAt')}>
        <TextInput name="at" type="datetime-local" value={at} onInput={setAt} />
      </Field>
    </FormPanel>
  );
}

/** Where the report stands against national 24 h after the first administration's receipt. */
export function EndToEndLine(props: { incident: Incident }) {
  const { t, lang } = useI18n();
  const e2e = props.incident.endToEndDue;
  if (!e2e?.dueAt) return null;
  const reached = e2e.state === 'done';
  if (e2e.watchedAbove && !reached) {
    return (
      <p class="note" data-testid="end-to-end">
        {t('endToEndDue')}: <Time iso={e2e.dueAt} seconds /> <span class="muted">{t('endToEndAbove')}</span>
      </p>
    );
  }
  return (
    <p class={e2e.late ? 'note sev-critical' : 'note'} data-testid="end-to-end">
      {t('endToEndDue')}: <Time iso={e2e.dueAt} seconds /> {reached ? null : <Countdown dueAt={e2e.dueAt} />}
      {e2e.heldBy ? (
        <span data-testid="held-by">
          {' · '}
          {t('heldBy', { level: chainEndName(e2e.heldBy, lang) })}
        </span>
      ) : null}
      {e2e.late ? <span class="badge sev-critical">{reached ? t('late') : t('stuck')}</span> : null}
    </p>
  );
}

/** 第60条: close with the 处理结果; its written report is one more hop, with no deadline (及时). */
export function ClosureSection(props: { incident: Incident; canWrite: boolean; onRecord: () => void }) {
  const { t } = useI18n();
  const [closing, setClosing] = useState(false);
  const { incident } = props;
  if (!incident.closedAt) {
    if (!props.canWrite) return null;
    return closing ? (
      <CloseForm incident={incident} onDone={() => setClosing(false)} />
    ) : (
      <p>
        <button type="button" class="secondary" onClick={() => setClosing(true)}>
          {t('closeIncident')}
        </button>
      </p>
    );
  }
  const hop = incident.closure;
  return (
    <div data-testid="closure">
      <h3>{t('closure')}</h3>
      <p>
        {t('incidentClosedAt')}: <Time iso={incident.closedAt} seconds /> · {incident.closedBy}
      </p>
      <p class="note">
        <AgentText text={incident.outcome ?? ''} />
      </p>
      {hop ? (
        <p data-testid="closure-hop" class={hop.receivedAt ? 'done' : 'pending'}>
          {t('closureReport')}: {t('reportedAt')} <Time iso={hop.reportedAt} seconds /> · {t('receivedAt')}{' '}
          <Time iso={hop.receivedAt} seconds /> <span class="muted">{t('closureNoDeadline')}</span>{' '}
          {props.canWrite && !hop.receivedAt ? (
            <button type="button" onClick={props.onRecord}>
              {t('recordReport')}
            </button>
          ) : null}
        </p>
      ) : null}
    </div>
  );
}

function CloseForm(props: { incident: Incident; onDone: () => void }) {
  const { t } = useI18n();
  const [outcome, setOutcome] = useState('');
  const submit = useSubmit();
  const save = () =>
    submit.run(async () => {
      await api(`/api/v1/incidents/${encodeURIComponent(props.incident.id)}/closure`, {
        method: 'POST',
        body: { outcome: requiredText(outcome, t('outcome'), t) },
      });
      props.onDone();
    });
  return (
    <FormPanel
      title={t('closeIncident')}
      testId="close-form"
      submit={submit}
      onSubmit={save}
      onCancel={props.onDone}
    >
      <Field label={t('outcome')} wide>
        <TextInput name="outcome" value={outcome} onInput={setOutcome} maxLength={5000} multiline />
      </Field>
    </FormPanel>
  );
}
