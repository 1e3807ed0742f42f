import { useState } from 'preact/hooks';
import { TERMINAL_STATES, TERMINAL_USES } from '../../../shared/register-words.js';
import { ALL_LEVELS, api, itemsOf, type Person, type System, type Terminal } from '../api.js';
import { useApi } from '../components/data.js';
import { Field, FormPanel, FormProblem, Select, TextInput, useSubmit } from '../components/form.js';
import { useI18n } from '../i18n.js';

/**
 * Registers a terminal (an agent waiting in the unregistered list, or a device by hand) or
 * changes one: the register fields of 第31–35条 and 第6条. Only changed fields are sent, so the
 * audit log's before and after say exactly what changed.
 */
export function TerminalForm(props: {
  terminal?: Terminal;
  agentId?: string;
  hostname?: string | null;
  onDone: () => void;
}) {
  const { t } = useI18n();
  const before = props.terminal;
  const personsReply = useApi<unknown>('/api/v1/persons');
  const systemsReply = useApi<unknown>('/api/v1/systems');
  const people = personsReply.status === 'ok' ? itemsOf<Person>(personsReply.data) : [];
  const systems = systemsReply.status === 'ok' ? itemsOf<System>(systemsReply.data) : [];
  const [fields, setFields] = useState({
    assetNo: before?.assetNo ?? '',
    level: before?.level ?? '秘密',
    use: before?.use ?? '涉密',
    ownerId: before?.ownerId ?? '',
    department: before?.department ?? '',
    location: before?.location ?? '',
    keyPart: before?.keyPart ?? '',
    systemId: before?.systemId ?? '',
    state: before?.state ?? '在用',
    stateSince: before?.stateSince ?? '',
    hostname: before ? (before.agentId ? '' : (before.hostname ?? '')) : (props.hostname ?? ''),
  });
  const set = (key: keyof typeof fields) => (value: string) => setFields({ ...fields, [key]: value });
  const submit = useSubmit();
  const body = () => {
    const all: Record<string, string | null> = Object.fromEntries(
      Object.entries(fields).map(([k, v]) => [k, v.trim() === '' ? null : v.trim()]),
    );
    if (!before) {
      const created = Object.fromEntries(Object.entries(all).filter(([, v]) => v !== null));
      return props.agentId ? { ...created, agentId: props.agentId, hostname: undefined } : created;
    }
    const was = before as unknown as Record<string, unknown>;
    const patch = Object.fromEntries(
      Object.entries(all)
        .filter(([k]) => k !== 'hostname' || !before.agentId)
        .filter(([k, v]) => (was[k] ?? null) !== v),
    );
    if (Object.keys(patch).length === 0) throw new FormProblem(t('nothingChanged'));
    return patch;
  };
  const save = () =>
    submit.run(async () => {
      const path = before ? `/api/v1/terminals/${encodeURIComponent(before.id)}` : '/api/v1/terminals';
      await api(path, { method: before ? 'PATCH' : 'POST', body: body() });
      props.onDone();
    });
  const none: [string, string] = ['', '—'];
  return (
    <FormPanel
      title={before ? t('editTerminal') : t('registerTerminal')}
      testId="terminal-form"
      submit={submit}
      onSubmit={save}
      onCancel={props.onDone}
    >
      {props.agentId ? (
        <Field label={t('agent')}>
          <span class="mono small">{props.agentId}</span>
        </Field>
      ) : null}
      <Field label={t('assetNo')}>
        <TextInput name="assetNo" value={fields.assetNo} onInput={set('assetNo')} maxLength={200} />
      </Field>
      <Field label={t('level')}>
        <Select
          name="level"
          value={fields.level}
          onChange={set('level')}
          options={ALL_LEVELS.map((l) => [l, l] as const)}
        />
      </Field>
      <Field label={t('use')}>
        <Select
          name="use"
          value={fields.use}
          onChange={set('use')}
          options={TERMINAL_USES.map((u) => [u, u] as const)}
        />
      </Field>
      <Field label={t('owner')}>
        <Select
          name="ownerId"
          value={fields.ownerId}
          onChange={set('ownerId')}
          options={[none, ...people.map((p) => [p.id, `${p.name}（${p.state}）`] as const)]}
        />
      </Field>
      <Field label={t('department')}>
        <TextInput name="department" value={fields.department} onInput={set('department')} maxLength={200} />
      </Field>
      <Field label={t('location')}>
        <TextInput name="location" value={fields.location} onInput={set('location')} maxLength={200} />
      </Field>
      <Field label={t('keyPart')}>
        <TextInput name="keyPart" value={fields.keyPart} onInput={set('keyPart')} maxLength={200} />
      </Field>
      <Field label={t('system')}>
        <Select
          name="systemId"
          value={fields.systemId}
          onChange={set('systemId')}
          options={[none, ...systems.map((s) => [s.id, `${s.name}（${s.level}）`] as const)]}
        />
      </Field>
      <Field label={t('state')}>
        <Select
          name="state"
          value={fields.state}
          onChange={set('state')}
          options={TERMINAL_STATES.map((s) => [s, s] as const)}
        />
      </Field>
      <Field label={t('stateSince')}>
        <TextInput name="stateSince" type="date" value={fields.stateSince} onInput={set('stateSince')} />
      </Field>
      {props.agentId || before?.agentId ? null : (
        <Field label={t('hostname')}>
          <TextInput name="hostname" value={fields.hostname} onInput={set('hostname')} maxLength={200} />
        </Field>
      )}
    </FormPanel>
  );
}
