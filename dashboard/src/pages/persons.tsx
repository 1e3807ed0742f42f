import { useState } from 'preact/hooks';
import { CLEARANCES, PERSON_STATES } from '../../../shared/register-words.js';
import { api, itemsOf, type Person } from '../api.js';
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
import { useI18n } from '../i18n.js';
import { SheetButtons } from './terminals.js';

/** The persons of the register: 责任人 of terminals and the people behind OS accounts. */
export function PersonsPage(props: { canWrite: boolean }) {
  const { t } = useI18n();
  const [q, setQ] = useState('');
  const persons = useApi<unknown>(`/api/v1/persons${q.trim() ? `?q=${encodeURIComponent(q.trim())}` : ''}`);
  const [form, setForm] = useState<Person | 'new' | null>(null);
  return (
    <section>
      <h1>{t('persons')}</h1>
      <div class="filters">
        <Field label={t('search')}>
          <TextInput name="q" value={q} onInput={setQ} maxLength={200} />
        </Field>
      </div>
      <SheetButtons resource="persons" canWrite={props.canWrite} />
      {props.canWrite ? (
        <p>
          <button type="button" onClick={() => setForm('new')}>
            {t('newPerson')}
          </button>
        </p>
      ) : null}
      {form ? (
        <PersonForm
          key={form === 'new' ? 'new' : form.id}
          person={form === 'new' ? undefined : form}
          onDone={() => setForm(null)}
        />
      ) : null}
      <Show loaded={persons}>
        {(reply) => {
          const list = itemsOf<Person>(reply);
          if (list.length === 0) return <p class="muted">{t('none')}</p>;
          return (
            <table data-testid="persons">
              <thead>
                <tr>
                  <th>{t('personName')}</th>
                  <th>{t('department')}</th>
                  <th>{t('clearance')}</th>
                  <th>{t('state')}</th>
                  <th>{t('accounts')}</th>
                  <th>{t('terminalCount')}</th>
                  {props.canWrite ? <th>{t('actions')}</th> : null}
                </tr>
              </thead>
              <tbody>
                {list.map((p) => (
                  <tr key={p.id} data-person={p.id}>
                    <td>{p.name}</td>
                    <td>{p.department ?? '—'}</td>
                    <td>{p.clearance}</td>
                    <td>
                      {p.state}
                      {p.stateUntil ? `（${t('until')} ${p.stateUntil}）` : ''}
                    </td>
                    <td>{p.accounts.join(', ') || '—'}</td>
                    <td>{p.terminals}</td>
                    {props.canWrite ? (
                      <td class="row-actions">
                        <button type="button" class="secondary" onClick={() => setForm(p)}>
                          {t('editSystem')}
                        </button>
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

function PersonForm(props: { person?: Person; onDone: () => void }) {
  const { t } = useI18n();
  const before = props.person;
  const [fields, setFields] = useState({
    name: before?.name ?? '',
    department: before?.department ?? '',
    clearance: before?.clearance ?? '一般',
    state: before?.state ?? '在岗',
    stateSince: before?.stateSince ?? '',
    stateUntil: before?.stateUntil ?? '',
    accounts: before?.accounts.join(', ') ?? '',
  });
  const set = (key: keyof typeof fields) => (value: string) => setFields({ ...fields, [key]: value });
  const submit = useSubmit();
  const body = () => {
    const value = {
      name: requiredText(fields.name, t('personName'), t),
      department: fields.department.trim() || null,
      clearance: fields.clearance,
      state: fields.state,
      stateSince: fields.stateSince || null,
      stateUntil: fields.stateUntil || null,
      accounts: fields.accounts.split(/[\s,;，；、]+/).filter(Boolean),
    };
    if (!before) return value;
    const was = before as unknown as Record<string, unknown>;
    const patch = Object.fromEntries(
      Object.entries(value).filter(([k, v]) => JSON.stringify(was[k] ?? null) !== JSON.stringify(v)),
    );
    if (Object.keys(patch).length === 0) throw new FormProblem(t('nothingChanged'));
    return patch;
  };
  const save = () =>
    submit.run(async () => {
      const path = before ? `/api/v1/persons/${encodeURIComponent(before.id)}` : '/api/v1/persons';
      await api(path, { method: before ? 'PATCH' : 'POST', body: body() });
      props.onDone();
    });
  return (
    <FormPanel
      title={before ? `${t('editSystem')}：${before.name}` : t('newPerson')}
      testId="person-form"
      submit={submit}
      onSubmit={save}
      onCancel={props.onDone}
    >
      <Field label={t('personName')}>
        <TextInput name="name" value={fields.name} onInput={set('name')} maxLength={200} />
      </Field>
      <Field label={t('department')}>
        <TextInput name="department" value={fields.department} onInput={set('department')} maxLength={200} />
      </Field>
      <Field label={t('clearance')}>
        <Select
          name="clearance"
          value={fields.clearance}
          onChange={set('clearance')}
          options={CLEARANCES.map((c) => [c, c] as const)}
        />
      </Field>
      <Field label={t('state')}>
        <Select
          name="state"
          value={fields.state}
          onChange={set('state')}
          options={PERSON_STATES.map((s) => [s, s] as const)}
        />
      </Field>
      <Field label={t('stateSince')}>
        <TextInput name="stateSince" type="date" value={fields.stateSince} onInput={set('stateSince')} />
      </Field>
      <Field label={t('stateUntil')}>
        <TextInput name="stateUntil" type="date" value={fields.stateUntil} onInput={set('stateUntil')} />
      </Field>
      <Field label={t('accounts')} wide>
        <TextInput name="accounts" value={fields.accounts} onInput={set('accounts')} maxLength={2000} />
      </Field>
    </FormPanel>
  );
}
