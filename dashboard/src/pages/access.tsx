import { Fragment, type ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { api, itemsOf, type ApiKey, type SessionUser, type User } from '../api.js';
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
import { ROLES } from '../../../shared/api/access.js';
import { useI18n, type MessageKey } from '../i18n.js';

/**
 * Access (系统管理员): the four roles and what each does, dashboard users and API keys added with
 * one role each, disabled and enabled, a password set, keys revoked. Each withdrawal takes effect
 * at once on the collector: the sessions and live streams concerned end.
 */

const MIN_PASSWORD = 8;

export function AccessPage(props: { user: SessionUser }) {
  const { t } = useI18n();
  const users = useApi<unknown>('/api/v1/users');
  const keys = useApi<unknown>('/api/v1/apikeys');
  const [passwordFor, setPasswordFor] = useState<string | null>(null);
  const [adding, setAdding] = useState<'users' | 'apikeys' | null>(null);
  const acting = useSubmit();
  const path = (kind: 'users' | 'apikeys', name: string, action: string) =>
    `/api/v1/${kind}/${encodeURIComponent(name)}/${action}`;
  const act = (kind: 'users' | 'apikeys', name: string, action: string, done: MessageKey) =>
    acting.run(async () => {
      await api(path(kind, name, action), { method: 'POST' });
      return t(done, { name });
    });
  return (
    <section>
      <h1>{t('access')}</h1>
      <p class="muted">{t('accessHint')}</p>
      <RoleLegend />
      <FormMessage message={acting.message} />
      {passwordFor ? <PasswordForm name={passwordFor} onDone={() => setPasswordFor(null)} /> : null}
      {adding ? <NewAccountForm kind={adding} onDone={() => setAdding(null)} /> : null}
      <p class="buttons">
        <button type="button" onClick={() => setAdding('users')} data-testid="add-user">
          {t('addUser')}
        </button>
        <button type="button" class="secondary" onClick={() => setAdding('apikeys')} data-testid="add-key">
          {t('addKey')}
        </button>
      </p>
      <h2>{t('dashboardUsers')}</h2>
      <Show loaded={users}>
        {(reply) => (
          <AccountTable
            testId="users"
            nameHeader="userName"
            accounts={itemsOf<User>(reply)}
            withdrawnAt={(u) => u.disabledAt}
            words={['enabled', 'disabled']}
            actions={(u) => (
              <>
                {u.disabledAt ? (
                  <button
                    type="button"
                    disabled={acting.busy}
                    onClick={() => void act('users', u.name, 'enable', 'userEnabled')}
                  >
                    {t('enable')}
                  </button>
                ) : u.name === props.user.name ? null : (
                  <button
                    type="button"
                    class="secondary"
                    disabled={acting.busy}
                    onClick={() => void act('users', u.name, 'disable', 'userDisabled')}
                  >
                    {t('disable')}
                  </button>
                )}
                <button type="button" class="secondary" onClick={() => setPasswordFor(u.name)}>
                  {t('setPassword')}
                </button>
              </>
            )}
          />
        )}
      </Show>
      <h2>{t('apiKeys')}</h2>
      <Show loaded={keys}>
        {(reply) => (
          <AccountTable
            testId="apikeys"
            nameHeader="keyName"
            accounts={itemsOf<ApiKey>(reply)}
            withdrawnAt={(k) => k.revokedAt}
            words={['active', 'revoked']}
            actions={(k) =>
              k.revokedAt ? null : (
                <button
                  type="button"
                  class="secondary"
                  disabled={acting.busy}
                  onClick={() => void act('apikeys', k.name, 'revoke', 'keyRevoked')}
                >
                  {t('revoke')}
                </button>
              )
            }
          />
        )}
      </Show>
    </section>
  );
}

/** Users or keys: name, role, unit, whether withdrawn (and since when), and what may be done. */
function AccountTable<Account extends User | ApiKey>(props: {
  testId: 'users' | 'apikeys';
  nameHeader: MessageKey;
  accounts: Account[];
  withdrawnAt: (account: Account) => string | null | undefined;
  /** The state words: as granted, as withdrawn. */
  words: [MessageKey, MessageKey];
  actions: (account: Account) => ComponentChildren;
}) {
  const { t } = useI18n();
  if (props.accounts.length === 0) return <p class="muted">{t('none')}</p>;
  const attribute = props.testId === 'users' ? 'data-user' : 'data-apikey';
  return (
    <table data-testid={props.testId}>
      <thead>
        <tr>
          <th>{t(props.nameHeader)}</th>
          <th>{t('role')}</th>
          <th>{t('unit')}</th>
          <th>{t('state')}</th>
          <th>{t('actions')}</th>
        </tr>
      </thead>
      <tbody>
        {props.accounts.map((a, i) => {
          const withdrawn = props.withdrawnAt(a);
          return (
            <tr key={`${a.name}-${i}`} {...{ [attribute]: a.name }} class={withdrawn ? 'muted' : ''}>
              <td>{a.name}</td>
              <td>{t(`role_${a.role}` as MessageKey)}</td>
              <td>{a.unit ?? t('allUnits')}</td>
              <td>
                {withdrawn ? (
                  <>
                    {t(props.words[1])} <Time iso={withdrawn} />
                  </>
                ) : (
                  t(props.words[0])
                )}
              </td>
              <td class="buttons">{props.actions(a)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** A new password for one user, typed twice; their sessions end when it is set. */
function PasswordForm(props: { name: string; onDone: () => void }) {
  const { t } = useI18n();
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const submit = useSubmit();
  const save = () =>
    submit.run(async () => {
      if (password.length < MIN_PASSWORD) throw new FormProblem(t('passwordTooShort', { min: MIN_PASSWORD }));
      if (password !== again) throw new FormProblem(t('passwordsDiffer'));
      await api(`/api/v1/users/${encodeURIComponent(props.name)}/password`, {
        method: 'POST',
        body: { password },
      });
      setPassword('');
      setAgain('');
      return t('passwordSet', { name: props.name });
    });
  const input = (value: string, set: (v: string) => void, name: string) => (
    <input
      name={name}
      type="password"
      autoComplete="new-password"
      value={value}
      onInput={(e) => set((e.target as HTMLInputElement).value)}
    />
  );
  return (
    <FormPanel
      title={t('setPasswordFor', { name: props.name })}
      testId="password-form"
      submit={submit}
      onSubmit={save}
      onCancel={props.onDone}
    >
      <Field label={t('newPassword')}>{input(password, setPassword, 'password')}</Field>
      <Field label={t('newPasswordAgain')}>{input(again, setAgain, 'again')}</Field>
    </FormPanel>
  );
}

/** The four roles (三员 and the reader) and what each may do. */
function RoleLegend() {
  const { t } = useI18n();
  return (
    <details class="roles" data-testid="role-legend">
      <summary>{t('roles')}</summary>
      <dl>
        {ROLES.map((role) => (
          <Fragment key={role}>
            <dt>
              {t(`role_${role}`)} <span class="muted mono">{role}</span>
            </dt>
            <dd>{t(`roleDuty_${role}`)}</dd>
          </Fragment>
        ))}
      </dl>
      <p class="muted">{t('oneRolePerAccount')}</p>
    </details>
  );
}

/** A dashboard user (with a password) or an API key (shown once), with one role and a unit. */
function NewAccountForm(props: { kind: 'users' | 'apikeys'; onDone: () => void }) {
  const { t } = useI18n();
  const [name, setName] = useState('');
  const [role, setRole] = useState<string>('viewer');
  const [unit, setUnit] = useState('');
  const [password, setPassword] = useState('');
  const [key, setKey] = useState<string | null>(null);
  const submit = useSubmit();
  const user = props.kind === 'users';
  const save = () =>
    submit.run(async () => {
      requiredText(name, user ? t('userName') : t('keyName'), t);
      if (user && password.length < MIN_PASSWORD)
        throw new FormProblem(t('passwordTooShort', { min: MIN_PASSWORD }));
      const body = { name: name.trim(), role, ...(unit.trim() ? { unit: unit.trim() } : {}) };
      const created = await api<{ key?: string }>(`/api/v1/${props.kind}`, {
        method: 'POST',
        body: user ? { ...body, password } : body,
      });
      setPassword('');
      if (created.key) setKey(created.key);
      return user ? t('userAdded', { name: body.name }) : t('keyCreated', { name: body.name });
    });
  return (
    <FormPanel
      title={user ? t('addUser') : t('addKey')}
      testId={user ? 'new-user-form' : 'new-key-form'}
      submit={submit}
      onSubmit={save}
      onCancel={props.onDone}
    >
      <Field label={user ? t('userName') : t('keyName')}>
        <TextInput name="name" value={name} onInput={setName} maxLength={64} />
      </Field>
      <Field label={t('role')}>
        <Select
          name="role"
          value={role}
          onChange={setRole}
          options={ROLES.map((r) => [r, `${t(`role_${r}`)} (${r})`] as const)}
        />
      </Field>
      <Field label={t('unitOptional')}>
        <TextInput name="unit" value={unit} onInput={setUnit} maxLength={128} />
      </Field>
      {user ? (
        <Field label={t('newPassword')}>
          <input
            name="password"
            type="password"
            autoComplete="new-password"
            value={password}
            onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
          />
        </Field>
      ) : null}
      {key ? (
        <output class="mono" data-testid="new-key">
          {key}
        </output>
      ) : null}
    </FormPanel>
  );
}
