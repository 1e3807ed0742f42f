import { useState } from 'preact/hooks';
import { api, itemsOf, may, type ChecklistItem, type SelfInspection, type SessionUser } from '../api.js';
import { Time } from '../components/bits.js';
import { Show, useApi } from '../components/data.js';
import { Field, FormMessage, FormPanel, Select, TextInput, useSubmit } from '../components/form.js';
import { shanghaiToday } from '../format.js';
import {
  EVIDENCE_LINKS,
  FINDING_ANSWERS,
  INSPECTION_ANSWERS,
  MAX_EVIDENCE_FILE_BYTES,
  type EvidenceLink,
  type InspectionAnswer,
} from '../../../shared/api/self-inspection.js';
import {
  EVIDENCE_FIGURE_NAMES,
  EVIDENCE_LINK_NAMES,
  INSPECTION_ANSWER_NAMES,
  INSPECTION_RESULT_NAMES,
  termName,
} from '../../../shared/terms.js';
import { useI18n } from '../i18n.js';
import { RectificationTable } from './rectifications.js';

/** 保密自查自评 (第58条): the years' inspections, one opened, and the units below as received. */
export function SelfInspectionPage(props: { id?: string; user: SessionUser }) {
  const { t } = useI18n();
  if (props.id) return <InspectionDetail id={props.id} user={props.user} />;
  return (
    <section>
      <h1>{t('selfInspection')}</h1>
      <p class="muted">{t('selfInspectionBasis')}</p>
      <InspectionList />
      {may(props.user, 'inspection.manage') ? <StartInspection /> : null}
      <SubordinateInspections />
    </section>
  );
}

function InspectionList() {
  const { t, lang } = useI18n();
  const list = useApi<unknown>('/api/v1/self-inspections');
  return (
    <Show loaded={list}>
      {(reply) => {
        const items = itemsOf<SelfInspection>(reply);
        if (items.length === 0) return <p class="muted">{t('none')}</p>;
        return (
          <table data-testid="inspections">
            <thead>
              <tr>
                <th>{t('inspectionYear')}</th>
                <th>{t('unit')}</th>
                <th>{t('state')}</th>
                <th>{t('inspectionResult')}</th>
                <th>{t('checklistItem')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((i) => (
                <tr key={i.id}>
                  <td>
                    <a href={`#/self-inspection/${encodeURIComponent(i.id)}`}>{i.year}</a>
                  </td>
                  <td>{i.unit}</td>
                  <td>{i.state === 'open' ? t('inspectionOpen') : t('inspectionFinalised')}</td>
                  <td>{i.result ? termName(INSPECTION_RESULT_NAMES, i.result, lang) : '—'}</td>
                  <td>{countsText(t, i)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        );
      }}
    </Show>
  );
}

function countsText(t: ReturnType<typeof useI18n>['t'], i: SelfInspection): string {
  const { items, answered, findings, openRectifications } = i.counts;
  return t('answeredCount', { items, answered, findings, open: openRectifications });
}

function StartInspection() {
  const { t } = useI18n();
  const [year, setYear] = useState(shanghaiToday().slice(0, 4));
  const submit = useSubmit();
  return (
    <FormPanel
      title={t('startInspection')}
      testId="start-inspection"
      submit={submit}
      onSubmit={() =>
        submit.run(async () => {
          const made = await api<SelfInspection>('/api/v1/self-inspections', {
            method: 'POST',
            body: { year: Number(year) },
          });
          location.hash = `#/self-inspection/${encodeURIComponent(made.id)}`;
          return t('inspectionStarted', { year });
        })
      }
    >
      <Field label={t('inspectionYear')}>
        <TextInput name="year" value={year} onInput={setYear} maxLength={4} />
      </Field>
    </FormPanel>
  );
}

function InspectionDetail(props: { id: string; user: SessionUser }) {
  const { t, lang } = useI18n();
  const loaded = useApi<SelfInspection>(`/api/v1/self-inspections/${encodeURIComponent(props.id)}`);
  return (
    <section>
      <p>
        <a href="#/self-inspection">{t('backToList')}</a>
      </p>
      <Show loaded={loaded}>
        {(inspection) => {
          const editable = inspection.state === 'open' && may(props.user, 'inspection.manage');
          return (
            <>
              <h1>
                {inspection.unit} {inspection.year} {t('selfInspection')}
              </h1>
              <p data-testid="inspection-state">
                {inspection.state === 'open' ? t('inspectionOpen') : t('inspectionFinalised')}
                {inspection.result
                  ? ` · ${t('inspectionResult')}：${termName(INSPECTION_RESULT_NAMES, inspection.result, lang)}`
                  : ''}
                {' · '}
                {countsText(t, inspection)}
              </p>
              {inspection.summary ? <p class="note">{inspection.summary}</p> : null}
              <p class="muted">{inspection.state === 'open' ? t('liveFigures') : t('frozenFigures')}</p>
              {inspection.items.map((item) => (
                <ChecklistRow key={item.item} inspection={inspection} item={item} editable={editable} />
              ))}
              {editable ? <Finalise inspection={inspection} /> : null}
            </>
          );
        }}
      </Show>
    </section>
  );
}

/** One item of the checklist: its answer, note, links with figures, files and 整改 items. */
function ChecklistRow(props: { inspection: SelfInspection; item: ChecklistItem; editable: boolean }) {
  const { t, lang } = useI18n();
  const { inspection, item } = props;
  const [answer, setAnswer] = useState<string>(item.answer ?? '');
  const [note, setNote] = useState(item.note ?? '');
  const [links, setLinks] = useState<EvidenceLink[]>(item.answer ? item.links : [...item.suggestedLinks]);
  const [what, setWhat] = useState('');
  const [who, setWho] = useState('');
  const [deadline, setDeadline] = useState('');
  const submit = useSubmit();
  const finding = FINDING_ANSWERS.includes(answer as InspectionAnswer);
  const base = `/api/v1/self-inspections/${encodeURIComponent(inspection.id)}`;
  const save = () =>
    submit.run(async () => {
      const rectification = what.trim() || who.trim() ? [{ what, who, deadline }] : [];
      await api(`${base}/items/${item.item}`, {
        method: 'PUT',
        body: { answer, note, links, ...(rectification.length > 0 ? { rectifications: rectification } : {}) },
      });
      setWhat('');
      setWho('');
      return t('answerSaved', { item: item.number });
    });
  const toggle = (link: EvidenceLink) =>
    setLinks(links.includes(link) ? links.filter((l) => l !== link) : [...links, link]);
  return (
    <article class="checklist-item" data-testid={`item-${item.item}`}>
      <h2>
        {item.number}
        {item.title}
      </h2>
      {props.editable ? (
        <form
          class="panel-form"
          aria-label={`${item.number}${item.title}`}
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          <div class="fields">
            <Field label={t('answer')}>
              <Select
                name="answer"
                value={answer}
                onChange={setAnswer}
                options={[
                  ['', t('notAnswered')],
                  ...INSPECTION_ANSWERS.map((a) => [a, termName(INSPECTION_ANSWER_NAMES, a, lang)] as const),
                ]}
              />
            </Field>
            <Field label={t('note')} wide>
              <TextInput name="note" value={note} onInput={setNote} maxLength={10_000} multiline />
            </Field>
            <fieldset class="wide">
              <legend>{t('evidenceLinks')}</legend>
              {EVIDENCE_LINKS.map((link) => (
                <label key={link} class="check">
                  <input type="checkbox" checked={links.includes(link)} onChange={() => toggle(link)} />
                  {termName(EVIDENCE_LINK_NAMES, link, lang)}
                </label>
              ))}
            </fieldset>
            {finding ? (
              <>
                <p class="wide muted">{t('findingNeedsRectification')}</p>
                <Field label={t('rectificationWhat')} wide>
                  <TextInput name="what" value={what} onInput={setWhat} maxLength={2000} />
                </Field>
                <Field label={t('rectificationWho')}>
                  <TextInput name="who" value={who} onInput={setWho} maxLength={200} />
                </Field>
                <Field label={t('rectificationDeadline')}>
                  <TextInput name="deadline" type="date" value={deadline} onInput={setDeadline} />
                </Field>
              </>
            ) : null}
          </div>
          <div class="buttons">
            <button type="submit" disabled={submit.busy || answer === ''}>
              {t('saveAnswer')}
            </button>
          </div>
          <FormMessage message={submit.message} />
        </form>
      ) : (
        <p data-testid="item-answer">
          {item.answer ? termName(INSPECTION_ANSWER_NAMES, item.answer, lang) : t('notAnswered')}
          {item.note ? ` — ${item.note}` : ''}
        </p>
      )}
      <Figures inspection={inspection} links={props.editable ? links : item.links} />
      <Files inspection={inspection} item={item} editable={props.editable} />
      {item.rectifications.length > 0 ? (
        <RectificationTable items={item.rectifications} writer={false} />
      ) : null}
    </article>
  );
}

function Figures(props: { inspection: SelfInspection; links: readonly EvidenceLink[] }) {
  const { lang } = useI18n();
  if (props.links.length === 0) return null;
  return (
    <ul class="figures" data-testid="figures">
      {props.links.map((link) => (
        <li key={link}>
          <strong>{termName(EVIDENCE_LINK_NAMES, link, lang)}</strong>
          {'：'}
          {Object.entries(props.inspection.figures[link] ?? {})
            .map(([name, value]) => `${termName(EVIDENCE_FIGURE_NAMES, name, lang)} ${value}`)
            .join('，')}
        </li>
      ))}
    </ul>
  );
}

/** Reads a chosen file as base64 for the JSON upload. */
async function base64Of(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function Files(props: { inspection: SelfInspection; item: ChecklistItem; editable: boolean }) {
  const { t } = useI18n();
  const submit = useSubmit();
  const base = `/api/v1/self-inspections/${encodeURIComponent(props.inspection.id)}`;
  const upload = (file: File) =>
    submit.run(async () => {
      if (file.size > MAX_EVIDENCE_FILE_BYTES)
        throw new Error(t('fileTooBig', { max: MAX_EVIDENCE_FILE_BYTES }));
      await api(`${base}/items/${props.item.item}/files`, {
        method: 'POST',
        body: {
          name: file.name,
          mediaType: file.type || 'application/octet-stream',
          content: await base64Of(file),
        },
      });
      return t('fileUploaded', { name: file.name });
    });
  if (props.item.files.length === 0 && !props.editable) return null;
  return (
    <div class="files">
      <span>{t('evidenceFiles')}：</span>
      {props.item.files.map((f) => (
        <a key={f.id} href={`${base}/files/${f.id}`} download={f.name}>
          {f.name}
        </a>
      ))}
      {props.editable ? (
        <label class="upload">
          {t('uploadFile')}
          <input
            type="file"
            name="file"
            onChange={(e) => {
              const file = (e.target as HTMLInputElement).files?.[0];
              if (file) void upload(file);
            }}
          />
        </label>
      ) : null}
      <FormMessage message={submit.message} />
    </div>
  );
}

function Finalise(props: { inspection: SelfInspection }) {
  const { t } = useI18n();
  const [summary, setSummary] = useState('');
  const submit = useSubmit();
  return (
    <FormPanel
      title={t('finalise')}
      testId="finalise"
      submit={submit}
      submitLabel={t('finalise')}
      onSubmit={() =>
        submit.run(async () => {
          await api(`/api/v1/self-inspections/${encodeURIComponent(props.inspection.id)}/finalise`, {
            method: 'POST',
            body: { summary },
          });
          return t('finalised');
        })
      }
    >
      <Field label={t('finaliseSummary')} wide>
        <TextInput name="summary" value={summary} onInput={setSummary} maxLength={20_000} multiline />
      </Field>
    </FormPanel>
  );
}

interface UnitStatus {
  unit: string;
  selfInspection: { receivedAt: string; report: Record<string, unknown> } | null;
  rectifications: { receivedAt: string; report: { open?: number; overdue?: number } } | null;
}

/** At an administration: each unit below with its latest self-inspection and its open 整改 items. */
function SubordinateInspections() {
  const { t, lang } = useI18n();
  const loaded = useApi<{ items: UnitStatus[] }>('/api/v1/hierarchy/self-inspections');
  if (loaded.status !== 'ok' || loaded.data.items.length === 0) return null;
  return (
    <>
      <h2>{t('subordinateInspections')}</h2>
      <table data-testid="subordinate-inspections">
        <thead>
          <tr>
            <th>{t('unit')}</th>
            <th>{t('inspectionYear')}</th>
            <th>{t('inspectionResult')}</th>
            <th>{t('openRectifications')}</th>
            <th>{t('overdueRectifications')}</th>
          </tr>
        </thead>
        <tbody>
          {loaded.data.items.map((u) => {
            const report = u.selfInspection?.report as
              { year?: number; resultZh?: string; result?: string } | undefined;
            return (
              <tr key={u.unit} class={(u.rectifications?.report.overdue ?? 0) > 0 ? 'as-overdue' : ''}>
                <td>{u.unit}</td>
                <td>{report?.year ?? t('notReported')}</td>
                <td>
                  {report?.result ? termName(INSPECTION_RESULT_NAMES, report.result, lang) : '—'}
                  {u.selfInspection ? (
                    <span class="muted">
                      {' '}
                      <Time iso={u.selfInspection.receivedAt} />
                    </span>
                  ) : null}
                </td>
                <td>{u.rectifications?.report.open ?? 0}</td>
                <td>{u.rectifications?.report.overdue ?? 0}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}
