import { useState } from 'preact/hooks';
import {
  api,
  itemsOf,
  SECRET_LEVELS,
  type AssessmentDue,
  type Hop,
  type Incident,
  type SessionUser,
  type System,
  may,
} from '../api.js';
import { AgentText } from '../components/agent-text.js';
import { Countdown, ExportLink, Time } from '../components/bits.js';
import { Show, useApi } from '../components/data.js';
import {
  Field,
  FormPanel,
  FormProblem,
  requiredText,
  Select,
  TextInput,
  useSubmit,
} from '../components/form.js';
import { isoToShanghaiInput, shanghaiInputToIso, shanghaiToday } from '../format.js';
import { OFF_SYSTEM_ADVICE } from '../../../shared/api/clocks.js';
import { chainEndName } from '../../../shared/terms.js';
import { type MessageKey, translateWord, useI18n } from '../i18n.js';
import { ClosureSection, EndToEndLine, MeasuresSection } from './incident-sections.js';

const LEVEL_OPTIONS = SECRET_LEVELS.map((l) => [l, l] as const);

/** 第35条: the register of classified information systems, and when each must next be assessed. */
export function SystemsPage(props: { user: SessionUser }) {
  const { t } = useI18n();
  const systems = useApi<unknown>('/api/v1/systems');
  const due = useApi<unknown>('/api/v1/assessments/due');
  const canWrite = may(props.user, 'register.manage');
  /** The open form: a new system, or a change or an assessment of one. */
  const [form, setForm] = useState<
    { kind: 'new' } | { kind: 'edit' | 'assess' | 'decommission'; system: System } | null
  >(null);
  return (
    <section>
      <h1>{t('systems')}</h1>
      <ExportLink href="/api/v1/assessments.xlsx" />
      {canWrite ? (
        <p>
          <button type="button" onClick={() => setForm({ kind: 'new' })}>
            {t('newSystem')}
          </button>
        </p>
      ) : null}
      {form?.kind === 'new' ? <SystemForm onDone={() => setForm(null)} /> : null}
      {form?.kind === 'edit' ? (
        <SystemForm key={form.system.id} system={form.system} onDone={() => setForm(null)} />
      ) : null}
      {form?.kind === 'assess' ? (
        <AssessmentForm key={form.system.id} system={form.system} onDone={() => setForm(null)} />
      ) : null}
      {form?.kind === 'decommission' ? (
        <DecommissionForm key={form.system.id} system={form.system} onDone={() => setForm(null)} />
      ) : null}
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
                  {canWrite ? <th>{t('actions')}</th> : null}
                </tr>
              </thead>
              <tbody>
                {list.map((s) => (
                  <tr key={s.id} data-system={s.id}>
                    <td>
                      {s.name}
                      {s.schedule?.unapproved ? (
                        <span class="badge as-overdue" data-testid="unapproved">
                          {' '}
                          {t('unapproved')}
                        </span>
                      ) : null}
                    </td>
                    <td>{s.level}</td>
                    <td>{s.unit ?? '—'}</td>
                    <td>{s.commissionedAt}</td>
                    <td class={`as-${s.schedule?.state ?? ''}`}>
                      {s.status === 'decommissioned'
                        ? `${t('decommissioned')} ${s.filedAt ?? ''}`
                        : `${s.schedule?.nextDue ?? '—'} ${s.schedule ? translateWord(t, 'as_', s.schedule.state) : ''}`}
                      {s.disposal ? (
                        <span class="muted" data-testid="disposal">
                          {' '}
                          {t('disposal')}: {s.disposal}
                        </span>
                      ) : null}
                      {s.schedule?.recommended ? (
                        <span class="muted">
                          {' '}
                          {t('recommended')} {s.schedule.recommended}
                        </span>
                      ) : null}
                    </td>
                    {canWrite ? (
                      <td class="row-actions">
                        {s.status === 'decommissioned' ? null : (
                          <>
                            <button
                              type="button"
                              class="secondary"
                              onClick={() => setForm({ kind: 'edit', system: s })}
                            >
                              {t('editSystem')}
                            </button>
                            <button
                              type="button"
                              class="secondary"
                              onClick={() => setForm({ kind: 'assess', system: s })}
                            >
                              {t('recordAssessment')}
                            </button>
                            <button
                              type="button"
                              class="secondary"
                              onClick={() => setForm({ kind: 'decommission', system: s })}
                            >
                              {t('decommission')}
                            </button>
                          </>
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
      <h2>{t('calendar')}</h2>
      <Show loaded={due}>{(reply) => <AssessmentCalendar items={itemsOf<AssessmentDue>(reply)} />}</Show>
    </section>
  );
}

/** What a system form sends: the register's own fields, and 第33条's approval when given. */
function approvalBody(by: string, ref: string, at: string) {
  if (!by.trim() && !ref.trim() && !at) return undefined;
  return { by: by.trim() || null, ref: ref.trim() || null, at: at || null };
}

/**
 * Registers a system (第35条) with its 第33条 approval, or changes its level, scope or environment
 * — saying whether the change may bring new risk, and if so the protective measures taken — or
 * records an approval made later.
 */
function SystemForm(props: { system?: System; onDone: () => void }) {
  const { t } = useI18n();
  const editing = props.system;
  const [name, setName] = useState(editing?.name ?? '');
  const [level, setLevel] = useState<string>(editing?.level ?? '机密');
  const [commissionedAt, setCommissionedAt] = useState(editing?.commissionedAt ?? shanghaiToday());
  const [scope, setScope] = useState(editing?.scope ?? '');
  const [environment, setEnvironment] = useState(editing?.environment ?? '');
  const [newRisk, setNewRisk] = useState('');
  const [measures, setMeasures] = useState('');
  const [approvedBy, setApprovedBy] = useState(editing?.approval?.by ?? '');
  const [approvalRef, setApprovalRef] = useState(editing?.approval?.ref ?? '');
  const [approvedAt, setApprovedAt] = useState(editing?.approval?.at ?? '');
  const submit = useSubmit();
  const approval = approvalBody(approvedBy, approvalRef, approvedAt);
  const save = () =>
    submit.run(async () => {
      if (editing) {
        await api(`/api/v1/systems/${encodeURIComponent(editing.id)}`, {
          method: 'PATCH',
          body: patchOf(editing),
        });
        props.onDone();
        return;
      }
      await api('/api/v1/systems', {
        method: 'POST',
        body: {
          name: requiredText(name, t('name'), t),
          level,
          commissionedAt: requiredText(commissionedAt, t('commissionedAt'), t),
          ...(scope.trim() && { scope: scope.trim() }),
          ...(environment.trim() && { environment: environment.trim() }),
          ...(approval && { approval }),
        },
      });
      props.onDone();
    });
  const patchOf = (system: System) => {
    const patch: Record<string, unknown> = {};
    if (level !== system.level) patch.level = level;
    if (scope.trim() !== (system.scope ?? '')) patch.scope = scope.trim() || null;
    if (environment.trim() !== (system.environment ?? '')) patch.environment = environment.trim() || null;
    if (Object.keys(patch).length > 0) {
      if (!newRisk) throw new FormProblem(t('newRiskRequired'));
      patch.newRisk = newRisk === 'yes';
      if (newRisk === 'yes') patch.measures = requiredText(measures, t('protectiveMeasures'), t);
    }
    const before = approvalBody(
      system.approval?.by ?? '',
      system.approval?.ref ?? '',
      system.approval?.at ?? '',
    );
    if (approval && JSON.stringify(approval) !== JSON.stringify(before)) patch.approval = approval;
    if (Object.keys(patch).length === 0) throw new FormProblem(t('nothingChanged'));
    return patch;
  };
  return (
    <FormPanel
      title={editing ? `${t('editSystem')}：${editing.name}` : t('newSystem')}
      testId="system-form"
      submit={submit}
      onSubmit={save}
      onCancel={props.onDone}
    >
      {editing ? null : (
        <Field label={t('name')}>
          <TextInput name="name" value={name} onInput={setName} maxLength={200} />
        </Field>
      )}
      <Field label={t('level')}>
        <Select name="level" value={level} onChange={setLevel} options={LEVEL_OPTIONS} />
      </Field>
      {editing ? null : (
        <Field label={t('commissionedAt')}>
          <TextInput name="commissionedAt" type="date" value={commissionedAt} onInput={setCommissionedAt} />
        </Field>
      )}
      <Field label={t('scope')}>
        <TextInput name="scope" value={scope} onInput={setScope} maxLength={1000} />
      </Field>
      <Field label={t('environment')}>
        <TextInput name="environment" value={environment} onInput={setEnvironment} maxLength={1000} />
      </Field>
      {editing ? (
        <>
          <Field label={t('newRisk')}>
            <Select
              name="newRisk"
              value={newRisk}
              onChange={setNewRisk}
              options={[
                ['', t('chooseOne')],
                ['yes', t('newRiskYes')],
                ['no', t('newRiskNo')],
              ]}
            />
          </Field>
          <Field label={t('protectiveMeasures')} wide>
            <TextInput name="measures" value={measures} onInput={setMeasures} maxLength={2000} multiline />
          </Field>
        </>
      ) : null}
      <Field label={t('approvedBy')}>
        <TextInput name="approvedBy" value={approvedBy} onInput={setApprovedBy} maxLength={200} />
      </Field>
      <Field label={t('approvalRef')}>
        <TextInput name="approvalRef" value={approvalRef} onInput={setApprovalRef} maxLength={200} />
      </Field>
      <Field label={t('approvedAt')}>
        <TextInput name="approvedAt" type="date" value={approvedAt} onInput={setApprovedAt} />
      </Field>
    </FormPanel>
  );
}

const RESULTS = ['pass', 'risks-found', 'major-risks'] as const;

function AssessmentForm(props: { system: System; onDone: () => void }) {
  const { t } = useI18n();
  const [completedAt, setCompletedAt] = useState(shanghaiToday());
  const [assessor, setAssessor] = useState('');
  const [result, setResult] = useState<string>('pass');
  const [note, setNote] = useState('');
  const submit = useSubmit();
  const save = () =>
    submit.run(async () => {
      await api(`/api/v1/systems/${encodeURIComponent(props.system.id)}/assessments`, {
        method: 'POST',
        body: {
          completedAt: requiredText(completedAt, t('completedAt'), t),
          assessor: requiredText(assessor, t('assessor'), t),
          result,
          ...(note.trim() && { note: note.trim() }),
        },
      });
      props.onDone();
    });
  return (
    <FormPanel
      title={`${t('recordAssessment')}：${props.system.name}`}
      testId="assessment-form"
      submit={submit}
      onSubmit={save}
      onCancel={props.onDone}
    >
      <Field label={t('completedAt')}>
        <TextInput name="completedAt" type="date" value={completedAt} onInput={setCompletedAt} />
      </Field>
      <Field label={t('assessor')}>
        <TextInput name="assessor" value={assessor} onInput={setAssessor} maxLength={200} />
      </Field>
      <Field label={t('result')}>
        <Select
          name="result"
          value={result}
          onChange={setResult}
          options={RESULTS.map((r) => [r, translateWord(t, 'res_', r)] as const)}
        />
      </Field>
      <Field label={t('note')} wide>
        <TextInput name="note" value={note} onInput={setNote} maxLength={2000} multiline />
      </Field>
    </FormPanel>
  );
}

/** Decommissioning: the 备案 date and what was done with the equipment; the reminders stop. */
function DecommissionForm(props: { system: System; onDone: () => void }) {
  const { t } = useI18n();
  const [filedAt, setFiledAt] = useState(shanghaiToday());
  const [disposal, setDisposal] = useState('');
  const submit = useSubmit();
  const save = () =>
    submit.run(async () => {
      await api(`/api/v1/systems/${encodeURIComponent(props.system.id)}/decommission`, {
        method: 'POST',
        body: {
          filedAt: requiredText(filedAt, t('filedAt'), t),
          disposal: requiredText(disposal, t('disposal'), t),
        },
      });
      props.onDone();
    });
  return (
    <FormPanel
      title={`${t('decommission')}：${props.system.name}`}
      testId="decommission-form"
      submit={submit}
      onSubmit={save}
      onCancel={props.onDone}
    >
      <Field label={t('filedAt')}>
        <TextInput name="filedAt" type="date" value={filedAt} onInput={setFiledAt} />
      </Field>
      <Field label={t('disposal')} wide>
        <TextInput name="disposal" value={disposal} onInput={setDisposal} maxLength={2000} multiline />
      </Field>
    </FormPanel>
  );
}

/** Twelve months from this one, each listing the assessments that fall due in it; overdue first. */
function AssessmentCalendar(props: { items: AssessmentDue[] }) {
  const { t, lang } = useI18n();
  // A reassessment has its own days to go (clocks.reassessWithin); past them it is overdue too.
  const overdue = props.items.filter(
    (i) => i.state === 'overdue' || (i.state === 'reassess' && i.daysLeft < 0),
  );
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
export function IncidentsPage(props: { id?: string; user: SessionUser }) {
  const { t } = useI18n();
  const [tick, setTick] = useState(0);
  const incidents = useApi<unknown>(`/api/v1/incidents${tick ? `?v=${tick}` : ''}`);
  const [creating, setCreating] = useState(false);
  const [recording, setRecording] = useState<{ incident: Incident; hop: Hop } | null>(null);
  return (
    <section>
      <h1>{t('incidents')}</h1>
      <ExportLink href="/api/v1/incidents.xlsx" />
      {may(props.user, 'register.manage') && !props.id ? (
        <p>
          <button type="button" onClick={() => setCreating(true)}>
            {t('newIncident')}
          </button>
        </p>
      ) : null}
      {creating ? <IncidentForm onDone={() => setCreating(false)} /> : null}
      <Show loaded={incidents}>
        {(reply) => {
          const list = itemsOf<Incident>(reply).filter((i) => !props.id || i.id === props.id);
          if (list.length === 0) return <p class="muted">{t('none')}</p>;
          return (
            <div data-testid="incidents">
              {list.map((incident) => (
                <article key={incident.id} class="incident">
                  <h2>
                    <a href={`#/incidents/${encodeURIComponent(incident.id)}`}>
                      <AgentText text={incident.title} />
                    </a>{' '}
                    <span class="badge">{incident.level}</span>
                  </h2>
                  <p>
                    {t('discoveredAt')}: <Time iso={incident.discoveredAt} seconds />
                    {incident.discoverySource ? ` (${t(`ds_${incident.discoverySource}`)})` : ''}
                    {incident.unit ? ` · ${incident.unit}` : ''}
                    {incident.endToEnd ? ` · ${t('endToEnd')} ${incident.endToEnd}` : ''}
                  </p>
                  <DiscoveryBeside incident={incident} />
                  <MeasuresSection incident={incident} canWrite={may(props.user, 'register.manage')} />
                  <h3>{t('hops')}</h3>
                  <EndToEndLine incident={incident} />
                  <ol class="timeline">
                    {(incident.hops ?? []).map((hop) => (
                      <HopLine
                        key={hop.id}
                        hop={hop}
                        onRecord={
                          may(props.user, 'register.manage') && hop.dueAt && incident.measures.length > 0
                            ? () => setRecording({ incident, hop })
                            : undefined
                        }
                      />
                    ))}
                  </ol>
                  <ClosureSection
                    incident={incident}
                    canWrite={may(props.user, 'register.manage')}
                    onRecord={() => incident.closure && setRecording({ incident, hop: incident.closure })}
                  />
                  {recording?.incident.id === incident.id ? (
                    <ReportForm
                      key={recording.hop.id}
                      incident={incident}
                      hop={recording.hop}
                      onDone={() => {
                        setRecording(null);
                        setTick((n) => n + 1);
                      }}
                    />
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

/** When the warning was identified and when the evidence ran, beside the discovery (SPEC §7). */
function DiscoveryBeside(props: { incident: Incident }) {
  const { t } = useI18n();
  const { identifiedAt, evidenceFrom, evidenceTo } = props.incident;
  if (!identifiedAt && !evidenceFrom) return null;
  return (
    <p class="muted" data-testid="discovery-beside">
      {identifiedAt ? (
        <span>
          {t('identifiedAt')}: <Time iso={identifiedAt} seconds />
        </span>
      ) : null}
      {identifiedAt && evidenceFrom ? ' · ' : null}
      {evidenceFrom ? (
        <span>
          {t('evidenceTimes')}: <Time iso={evidenceFrom} seconds />
          {evidenceTo && evidenceTo !== evidenceFrom ? (
            <>
              {' – '}
              <Time iso={evidenceTo} seconds />
            </>
          ) : null}
        </span>
      ) : null}
    </p>
  );
}

/**
 * One hop: its deadline, the first send and the arrival (the hop is made when it arrives), and
 * from T−2 h without a receipt the advice to report by phone or on paper and record it here.
 */
function HopLine(props: { hop: Hop; onRecord?: () => void }) {
  const { t, lang } = useI18n();
  const { hop } = props;
  const state = hop.late
    ? 'late'
    : (hop.state ?? (hop.receivedAt ? 'done' : hop.dueAt ? 'pending' : 'unstarted'));
  return (
    <li class={state} data-hop={hop.id}>
      <strong>
        {chainEndName(hop.from, lang)} → {chainEndName(hop.to, lang)}
      </strong>
      <div>
        {t('dueAt')}: <Time iso={hop.dueAt} seconds />{' '}
        {hop.dueAt && !hop.receivedAt ? <Countdown dueAt={hop.dueAt} /> : null}
      </div>
      <div>
        {t('reportedAt')}: <Time iso={hop.reportedAt} seconds /> · {t('receivedAt')}:{' '}
        <Time iso={hop.receivedAt} seconds />
        {hop.late && hop.receivedAt ? <span class="badge sev-high">{t('late')}</span> : null}
        {hop.late && !hop.reportedAt ? <span class="badge sev-critical">{t('unreported')}</span> : null}
        {hop.reportedAt && !hop.receivedAt ? (
          <span class={`badge ${hop.late ? 'sev-critical' : 'sev-medium'}`}>{t('sentAwaitingReceipt')}</span>
        ) : null}
      </div>
      {hop.offSystemDue ? (
        <p class="note sev-high" data-testid="off-system-advice">
          {OFF_SYSTEM_ADVICE[lang]}
        </p>
      ) : null}
      {props.onRecord && !hop.receivedAt ? (
        <button type="button" onClick={props.onRecord}>
          {t('recordReport')}
        </button>
      ) : null}
    </li>
  );
}

const CHANNEL_KEYS = {
  system: 'ch_system',
  paper: 'ch_paper',
  phone: 'ch_phone',
  'in-person': 'ch_in-person',
} as const;

/**
 * Records a report along the chain by hand — by phone, on paper, in person or through another
 * system, to an administration or to the 上级主管部门 — with its receipt (SPEC §7).
 */
function ReportForm(props: { incident: Incident; hop: Hop; onDone: () => void }) {
  const { t, lang } = useI18n();
  const { hop } = props;
  // 第60条 书面告知: the 处理结果 goes on paper or by the system, never by a call.
  const closure = hop.id.startsWith('closure>');
  const channels = Object.entries(CHANNEL_KEYS).filter(
    ([value]) => !closure || value === 'paper' || value === 'system',
  );
  const [channel, setChannel] = useState<keyof typeof CHANNEL_KEYS>(closure ? 'paper' : 'phone');
  const [reportedAt, setReportedAt] = useState(() => isoToShanghaiInput(new Date()));
  const [receivedAt, setReceivedAt] = useState('');
  const [receipt, setReceipt] = useState('');
  const [by, setBy] = useState('');
  const submit = useSubmit();
  const time = (value: string, field: MessageKey) => {
    const at = shanghaiInputToIso(value);
    if (!at) throw new FormProblem(t('badTime', { field: t(field) }));
    return at;
  };
  const save = () =>
    submit.run(async () => {
      const fromUnit = hop.from === 'unit';
      await api(`/api/v1/incidents/${encodeURIComponent(props.incident.id)}/reports`, {
        method: 'POST',
        body: {
          to: fromUnit ? (hop.to === 'superior-dept' ? 'superior-dept' : 'same-level-admin') : hop.to,
          ...(fromUnit ? {} : { from: hop.from }),
          channel,
          reportedAt: time(requiredText(reportedAt, t('reportedAtBeijing'), t), 'reportedAtBeijing'),
          ...(receivedAt.trim() && { receivedAt: time(receivedAt, 'receivedAtBeijing') }),
          ...(receipt.trim() && { receipt: receipt.trim() }),
          ...(by.trim() && { by: by.trim() }),
          ...(closure && { about: 'closure' }),
        },
      });
      props.onDone();
    });
  return (
    <FormPanel
      title={`${t('recordReport')}: ${chainEndName(hop.from, lang)} → ${chainEndName(hop.to, lang)}`}
      testId="report-form"
      submit={submit}
      onSubmit={save}
      onCancel={props.onDone}
    >
      <Field label={t('channel')}>
        <Select
          name="channel"
          value={channel}
          onChange={(v) => setChannel(v as keyof typeof CHANNEL_KEYS)}
          options={channels.map(([value, key]) => [value, t(key)] as const)}
        />
      </Field>
      <Field label={t('reportedAtBeijing')}>
        <TextInput name="reportedAt" type="datetime-local" value={reportedAt} onInput={setReportedAt} />
      </Field>
      <Field label={t('receivedAtBeijing')}>
        <TextInput name="receivedAt" type="datetime-local" value={receivedAt} onInput={setReceivedAt} />
      </Field>
      <Field label={t('receipt')} wide>
        <TextInput name="receipt" value={receipt} onInput={setReceipt} maxLength={500} />
      </Field>
      <Field label={t('reportedBy')}>
        <TextInput name="by" value={by} onInput={setBy} maxLength={200} />
      </Field>
    </FormPanel>
  );
}

/** Records a leak or possible leak by hand; its 24-hour report deadlines start at discovery. */
function IncidentForm(props: { onDone: () => void }) {
  const { t } = useI18n();
  const [title, setTitle] = useState('');
  const [level, setLevel] = useState('机密');
  const [discoveredAt, setDiscoveredAt] = useState(() => isoToShanghaiInput(new Date()));
  const [description, setDescription] = useState('');
  const [measures, setMeasures] = useState('');
  const submit = useSubmit();
  const save = () =>
    submit.run(async () => {
      const at = shanghaiInputToIso(requiredText(discoveredAt, t('discoveredAt'), t));
      if (!at) throw new FormProblem(t('badTime', { field: t('discoveredAt') }));
      const created = await api<{ id: string }>('/api/v1/incidents', {
        method: 'POST',
        body: {
          title: requiredText(title, t('title'), t),
          level,
          discoveredAt: at,
          ...(description.trim() && { description: description.trim() }),
          ...(measures.trim() && { measures: measures.trim() }),
        },
      });
      props.onDone();
      location.hash = `#/incidents/${encodeURIComponent(created.id)}`;
    });
  return (
    <FormPanel
      title={t('newIncident')}
      testId="incident-form"
      submit={submit}
      onSubmit={save}
      onCancel={props.onDone}
    >
      <Field label={t('title')} wide>
        <TextInput name="title" value={title} onInput={setTitle} maxLength={200} />
      </Field>
      <Field label={t('level')}>
        <Select name="level" value={level} onChange={setLevel} options={LEVEL_OPTIONS} />
      </Field>
      <Field label={t('discoveredAtBeijing')}>
        <TextInput name="discoveredAt" type="datetime-local" value={discoveredAt} onInput={setDiscoveredAt} />
      </Field>
      <Field label={t('description')} wide>
        <TextInput
          name="description"
          value={description}
          onInput={setDescription}
          maxLength={5000}
          multiline
        />
      </Field>
      <Field label={t('measures')} wide>
        <TextInput name="measures" value={measures} onInput={setMeasures} maxLength={5000} multiline />
      </Field>
    </FormPanel>
  );
}
