import { useState } from 'preact/hooks';
import { ALL_LEVELS, api, itemsOf, upload, type Terminal } from '../api.js';
import { AgentText } from '../components/agent-text.js';
import { Time } from '../components/bits.js';
import { Show, useApi } from '../components/data.js';
import { Field, FormMessage, Select, TextInput, useSubmit } from '../components/form.js';
import { useI18n } from '../i18n.js';
import { TerminalForm } from './terminal-form.js';
import { TERMINAL_STATES } from '../../../shared/register-words.js';

/**
 * The 终端 page (issue 17): the terminal register with filters and search, the enrolled agents
 * it does not hold yet (to register), and the 台账 as CSV or Excel, in and out.
 */
interface UnregisteredAgent {
  agentId: string;
  unit: string;
  hostname: string | null;
  online: boolean;
  lastSeen: string | null;
  candidateTerminalId: string | null;
}

export function AgentsPage(props: { canWrite: boolean }) {
  const { t } = useI18n();
  const [filter, setFilter] = useState({
    q: '',
    unit: '',
    level: '',
    state: '',
    online: '',
    openWarnings: '',
  });
  const [registering, setRegistering] = useState<UnregisteredAgent | 'new' | null>(null);
  const query = new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== '')).toString();
  const terminals = useApi<unknown>(`/api/v1/terminals${query ? `?${query}` : ''}`);
  const unregistered = useApi<unknown>('/api/v1/terminals/unregistered');
  const set = (key: keyof typeof filter) => (value: string) => setFilter({ ...filter, [key]: value });
  const any: [string, string] = ['', t('all')];
  return (
    <section>
      <h1>{t('agents')}</h1>
      <div class="filters" data-testid="terminal-filters">
        <Field label={t('search')}>
          <TextInput name="q" value={filter.q} onInput={set('q')} maxLength={200} />
        </Field>
        <Field label={t('unit')}>
          <TextInput name="unit" value={filter.unit} onInput={set('unit')} maxLength={200} />
        </Field>
        <Field label={t('level')}>
          <Select
            name="level"
            value={filter.level}
            onChange={set('level')}
            options={[any, ...ALL_LEVELS.map((l) => [l, l] as const)]}
          />
        </Field>
        <Field label={t('state')}>
          <Select
            name="state"
            value={filter.state}
            onChange={set('state')}
            options={[any, ...TERMINAL_STATES.map((s) => [s, s] as const)]}
          />
        </Field>
        <Field label={t('status')}>
          <Select
            name="online"
            value={filter.online}
            onChange={set('online')}
            options={[any, ['true', t('online')], ['false', t('offline')]]}
          />
        </Field>
        <Field label={t('openWarnings')}>
          <Select
            name="openWarnings"
            value={filter.openWarnings}
            onChange={set('openWarnings')}
            options={[any, ['true', t('has')], ['false', t('hasNone')]]}
          />
        </Field>
      </div>
      <SheetButtons resource="terminals" canWrite={props.canWrite} />
      {props.canWrite ? (
        <p>
          <button type="button" onClick={() => setRegistering('new')}>
            {t('registerTerminal')}
          </button>
        </p>
      ) : null}
      {registering ? (
        <TerminalForm
          key={registering === 'new' ? 'new' : registering.agentId}
          agentId={registering === 'new' ? undefined : registering.agentId}
          hostname={registering === 'new' ? undefined : registering.hostname}
          onDone={() => setRegistering(null)}
        />
      ) : null}
      <Show loaded={terminals}>{(reply) => <TerminalTable list={itemsOf<Terminal>(reply)} />}</Show>
      <h2>{t('unregistered')}</h2>
      <Show loaded={unregistered}>
        {(reply) => (
          <UnregisteredTable
            list={itemsOf<UnregisteredAgent>(reply)}
            canWrite={props.canWrite}
            onRegister={setRegistering}
          />
        )}
      </Show>
    </section>
  );
}

function TerminalTable(props: { list: Terminal[] }) {
  const { t } = useI18n();
  if (props.list.length === 0) return <p class="muted">{t('noTerminals')}</p>;
  return (
    <table data-testid="terminals">
      <thead>
        <tr>
          <th>{t('assetNo')}</th>
          <th>{t('level')}</th>
          <th>{t('owner')}</th>
          <th>{t('department')}</th>
          <th>{t('location')}</th>
          <th>{t('hostname')}</th>
          <th>{t('state')}</th>
          <th>{t('status')}</th>
          <th>{t('openWarnings')}</th>
        </tr>
      </thead>
      <tbody>
        {props.list.map((x) => (
          <tr key={x.id} data-terminal={x.id}>
            <td>
              <a href={`#/terminals/${encodeURIComponent(x.id)}`}>{x.assetNo ?? t('noAssetNo')}</a>
            </td>
            <td>{x.level}</td>
            <td>{x.owner ?? '—'}</td>
            <td>{x.department ?? '—'}</td>
            <td>{x.location ?? '—'}</td>
            <td>
              <AgentText text={x.hostname} />
            </td>
            <td>{x.state}</td>
            <td>
              {x.agentId ? (
                <span class={x.online ? 'badge ok' : 'badge off'}>
                  {x.online ? t('online') : t('offline')}
                </span>
              ) : (
                <span class="muted">{t('noAgent')}</span>
              )}
            </td>
            <td>{x.openWarnings}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function UnregisteredTable(props: {
  list: UnregisteredAgent[];
  canWrite: boolean;
  onRegister: (agent: UnregisteredAgent) => void;
}) {
  const { t } = useI18n();
  if (props.list.length === 0) return <p class="muted">{t('none')}</p>;
  return (
    <table data-testid="agents">
      <thead>
        <tr>
          <th>{t('status')}</th>
          <th>{t('hostname')}</th>
          <th>{t('agent')}</th>
          <th>{t('unit')}</th>
          <th>{t('lastSeen')}</th>
          {props.canWrite ? <th>{t('actions')}</th> : null}
        </tr>
      </thead>
      <tbody>
        {props.list.map((a) => (
          <tr key={a.agentId} data-agent={a.agentId}>
            <td>
              <span class={a.online ? 'badge ok' : 'badge off'}>{a.online ? t('online') : t('offline')}</span>
            </td>
            <td>
              <AgentText text={a.hostname} />
            </td>
            <td>
              <a href={`#/agents/${encodeURIComponent(a.agentId)}`}>{a.agentId}</a>
            </td>
            <td>{a.unit}</td>
            <td>
              <Time iso={a.lastSeen} seconds />
            </td>
            {props.canWrite ? (
              <td class="row-actions">
                <button type="button" class="secondary" onClick={() => props.onRegister(a)}>
                  {t('registerThis')}
                </button>
                {a.candidateTerminalId ? <LinkButton agent={a} terminalId={a.candidateTerminalId} /> : null}
              </td>
            ) : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Links an agent to the terminal registered by hand under its hostname, after the officer checked it. */
function LinkButton(props: { agent: UnregisteredAgent; terminalId: string }) {
  const { t } = useI18n();
  const submit = useSubmit();
  return (
    <>
      <button
        type="button"
        class="secondary"
        disabled={submit.busy}
        onClick={() =>
          void submit.run(async () => {
            await api(`/api/v1/terminals/${encodeURIComponent(props.terminalId)}`, {
              method: 'PATCH',
              body: { agentId: props.agent.agentId },
            });
          })
        }
      >
        {t('linkCandidate')}
      </button>
      <FormMessage message={submit.message} />
    </>
  );
}

/** Export as CSV or Excel; import a file (every row or none, a refusal names its line). */
export function SheetButtons(props: { resource: 'terminals' | 'persons'; canWrite: boolean }) {
  const { t } = useI18n();
  const submit = useSubmit();
  const onFile = (e: Event) => {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    void submit.run(async () => {
      const result = await upload<{ created: number; updated: number }>(
        `/api/v1/${props.resource}/import`,
        file,
      );
      input.value = '';
      return t('imported', { created: String(result.created), updated: String(result.updated) });
    });
  };
  return (
    <div class="buttons sheet-buttons">
      <a class="button secondary" href={`/api/v1/${props.resource}/export?format=xlsx`} download>
        {t('exportXlsx')}
      </a>{' '}
      <a class="button secondary" href={`/api/v1/${props.resource}/export?format=csv`} download>
        {t('exportCsv')}
      </a>
      {props.canWrite ? (
        <label class="field">
          <span>{t('importSheet')}</span>
          <input type="file" name="import" accept=".csv,.xlsx,text/csv" onChange={onFile} />
        </label>
      ) : null}
      <FormMessage message={submit.message} />
    </div>
  );
}
