import { useState } from 'preact/hooks';
import {
  api,
  itemsOf,
  may,
  type DocumentView,
  type Incident,
  type Notice,
  type SelfInspection,
  type SessionUser,
} from '../api.js';
import { Time } from '../components/bits.js';
import { Show, useApi } from '../components/data.js';
import {
  Field,
  FormMessage,
  FormPanel,
  FormProblem,
  Select,
  TextInput,
  useSubmit,
} from '../components/form.js';
import { translateWord, useI18n, type MessageKey } from '../i18n.js';

/**
 * 公文: the documents this collector drafted — 泄密事件报告, 预警通报 and its 排查 reply, 年度保密工作情况 —
 * their state (草稿 → 已签发 → 已报送), the 签发 (with a confirmation: it sends an incident or annual
 * report up), and the .docx and PDF to download. A draft stays here until someone signs it off.
 */
export function DocumentsPage(props: { user: SessionUser }) {
  const { t } = useI18n();
  const documents = useApi<unknown>('/api/v1/documents');
  const canWrite = may(props.user, 'documents.sign');
  return (
    <section>
      <h1>{t('documents')}</h1>
      <p class="muted">{t('documentsHint')}</p>
      {canWrite ? <DraftForm /> : null}
      <Show loaded={documents}>
        {(reply) => {
          const list = itemsOf<DocumentView>(reply);
          if (list.length === 0) return <p class="muted">{t('none')}</p>;
          return (
            <table data-testid="documents">
              <thead>
                <tr>
                  <th>{t('title')}</th>
                  <th>{t('docKind')}</th>
                  <th>{t('level')}</th>
                  <th>{t('state')}</th>
                  <th>{t('docSigner')}</th>
                  <th>{t('docSentAt')}</th>
                  <th>{t('docDownload')}</th>
                  {canWrite ? <th>{t('actions')}</th> : null}
                </tr>
              </thead>
              <tbody>
                {list.map((d) => (
                  <DocumentRow key={d.id} document={d} canWrite={canWrite} />
                ))}
              </tbody>
            </table>
          );
        }}
      </Show>
    </section>
  );
}

function DocumentRow(props: { document: DocumentView; canWrite: boolean }) {
  const { t } = useI18n();
  const d = props.document;
  const file = (format: 'docx' | 'pdf') => `/api/v1/documents/${encodeURIComponent(d.id)}.${format}`;
  return (
    <tr data-testid={`document-${d.id}`} data-state={d.state}>
      <td>{d.title}</td>
      <td>{translateWord(t, 'docKind_', d.kind)}</td>
      <td>{d.level}</td>
      <td>
        <span class={`badge doc-${d.state}`} data-testid="document-state">
          {translateWord(t, 'docState_', d.state)}
        </span>
      </td>
      <td>
        {d.signedBy ?? <span class="muted">—</span>}
        {d.signedAt ? (
          <>
            {' '}
            <Time iso={d.signedAt} />
          </>
        ) : null}
      </td>
      <td>
        <Time iso={d.sentAt} />
      </td>
      <td>
        <a href={file('docx')} download data-testid="download-docx">
          .docx
        </a>{' '}
        <a href={file('pdf')} download data-testid="download-pdf">
          PDF
        </a>
      </td>
      {props.canWrite ? <td>{d.state === 'draft' ? <SignOff document={d} /> : null}</td> : null}
    </tr>
  );
}

/** 签发 in two steps: the button asks, the confirmation says what signing does, then signs. */
function SignOff(props: { document: DocumentView }) {
  const { t } = useI18n();
  const submit = useSubmit();
  const [asking, setAsking] = useState(false);
  const [number, setNumber] = useState(props.document.number ?? '');
  const goesUp = props.document.kind === 'incident-report' || props.document.kind === 'annual-report';
  if (!asking) {
    return (
      <button type="button" data-testid="sign-off" onClick={() => setAsking(true)}>
        {t('docSignOff')}
      </button>
    );
  }
  return (
    <div class="confirm" role="alertdialog" aria-label={t('docSignOff')} data-testid="sign-off-confirm">
      <p>{t(goesUp ? 'docSignOffConfirmUp' : 'docSignOffConfirm', { title: props.document.title })}</p>
      <Field label={t('docNumber')}>
        <TextInput name="number" value={number} maxLength={100} onInput={setNumber} />
      </Field>
      <button
        type="button"
        data-testid="sign-off-yes"
        disabled={submit.busy}
        onClick={() =>
          void submit
            .run(async () => {
              await api(`/api/v1/documents/${encodeURIComponent(props.document.id)}/signoff`, {
                method: 'POST',
                body: number.trim() ? { number: number.trim() } : {},
              });
              return t('docSigned', { title: props.document.title });
            })
            .then((ok) => ok && setAsking(false))
        }
      >
        {t('docSignOffYes')}
      </button>{' '}
      <button type="button" class="secondary" onClick={() => setAsking(false)}>
        {t('cancel')}
      </button>
      <FormMessage message={submit.message} />
    </div>
  );
}

const KINDS = [
  'incident-report',
  'warning-notice',
  'notice-reply',
  'annual-report',
  'self-inspection',
] as const;
const LEVEL_CHOICES = ['', '绝密', '机密', '秘密', '非密'] as const;

/** Drafts a document about an incident, a notice or a year; the file is made from their records. */
function DraftForm() {
  const { t } = useI18n();
  const submit = useSubmit();
  const [kind, setKind] = useState<(typeof KINDS)[number]>('incident-report');
  const [subject, setSubject] = useState('');
  const [nature, setNature] = useState('可能泄露');
  const [year, setYear] = useState(String(new Date().getFullYear() - 1));
  const [text, setText] = useState('');
  const [level, setLevel] = useState('');
  const [term, setTerm] = useState('');
  const [number, setNumber] = useState('');
  const incidents = useApi<unknown>(kind === 'incident-report' ? '/api/v1/incidents' : null);
  const notices = useApi<unknown>(
    kind === 'warning-notice' || kind === 'notice-reply' ? '/api/v1/notices' : null,
  );
  const inspections = useApi<unknown>(kind === 'self-inspection' ? '/api/v1/self-inspections' : null);
  const subjects: [string, string][] =
    kind === 'incident-report'
      ? incidents.status === 'ok'
        ? itemsOf<Incident>(incidents.data).map((i) => [i.id, `${i.title}（${i.unit}）`])
        : []
      : kind === 'self-inspection'
        ? inspections.status === 'ok'
          ? itemsOf<SelfInspection>(inspections.data)
              .filter((i) => i.state === 'finalised')
              .map((i) => [i.id, `${i.year}（${i.unit}）`])
          : []
        : notices.status === 'ok'
          ? itemsOf<Notice>(notices.data).map((n) => [n.id, n.title])
          : [];
  const chosen = subject || subjects[0]?.[0] || '';

  const onSubmit = () =>
    submit.run(async () => {
      const body: Record<string, unknown> = { kind };
      if (kind === 'annual-report') {
        if (!/^\d{4}$/.test(year)) throw new FormProblem(t('fieldRequired', { field: t('docYear') }));
        Object.assign(body, { year: Number(year), text });
      } else {
        if (!chosen) throw new FormProblem(t('fieldRequired', { field: t(subjectLabel(kind)) }));
        Object.assign(
          body,
          kind === 'incident-report'
            ? { incidentId: chosen, nature }
            : kind === 'self-inspection'
              ? { inspectionId: chosen }
              : { noticeId: chosen },
        );
      }
      if (level) body.level = level;
      if (term.trim()) body.term = term.trim();
      if (number.trim()) body.number = number.trim();
      const created = await api<DocumentView>('/api/v1/documents', { method: 'POST', body });
      setText('');
      return t('docCreated', { title: created.title });
    });

  return (
    <FormPanel
      title={t('docDraft')}
      testId="document-form"
      submit={submit}
      submitLabel={t('docDraft')}
      onSubmit={onSubmit}
    >
      <Field label={t('docKind')}>
        <Select
          name="kind"
          value={kind}
          onChange={(k) => {
            setKind(k as (typeof KINDS)[number]);
            setSubject('');
          }}
          options={KINDS.map((k) => [k, translateWord(t, 'docKind_', k)] as const)}
        />
      </Field>
      {kind === 'annual-report' ? (
        <>
          <Field label={t('docYear')}>
            <TextInput name="year" value={year} maxLength={4} onInput={setYear} />
          </Field>
          <Field label={t('docText')} wide>
            <TextInput name="text" value={text} multiline maxLength={50_000} onInput={setText} />
          </Field>
        </>
      ) : (
        <Field label={t(subjectLabel(kind))}>
          <Select name="subject" value={chosen} onChange={setSubject} options={subjects} />
        </Field>
      )}
      {kind === 'incident-report' ? (
        <Field label={t('docNature')}>
          <Select
            name="nature"
            value={nature}
            onChange={setNature}
            options={[
              ['可能泄露', t('docNature_possible')],
              ['已泄露', t('docNature_leaked')],
            ]}
          />
        </Field>
      ) : null}
      <Field label={t('level')}>
        <Select
          name="level"
          value={level}
          onChange={setLevel}
          options={LEVEL_CHOICES.map((l) => [l, l || t('docLevelDefault')] as const)}
        />
      </Field>
      <Field label={t('docTerm')}>
        <TextInput name="term" value={term} maxLength={20} onInput={setTerm} />
      </Field>
      <Field label={t('docNumber')}>
        <TextInput name="number" value={number} maxLength={100} onInput={setNumber} />
      </Field>
    </FormPanel>
  );
}

function subjectLabel(kind: string): MessageKey {
  if (kind === 'self-inspection') return 'docInspection';
  return kind === 'incident-report' ? 'docIncident' : 'docNotice';
}
