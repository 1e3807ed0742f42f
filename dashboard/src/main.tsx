import { render } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  api,
  ApiError,
  currentSession,
  itemsOf,
  login,
  logout,
  may,
  whenUnauthorized,
  type SessionUser,
  type Warning,
} from './api.js';
import { LiveTick } from './components/data.js';
import { LangContext, saveLang, savedLang, translator, useI18n, type Lang, type MessageKey } from './i18n.js';
import { beep, openLiveStream } from './live.js';
import { AccessPage } from './pages/access.js';
import { AgentDetail } from './pages/agents.js';
import { DocumentsPage } from './pages/documents.js';
import { PersonsPage } from './pages/persons.js';
import { TerminalDetail } from './pages/terminal-page.js';
import { AgentsPage } from './pages/terminals.js';
import { IncidentsPage, SystemsPage } from './pages/clocks.js';
import { AuditPage } from './pages/audit.js';
import { NoticesPage, SilencesPage } from './pages/notices.js';
import { SubordinatesPage } from './pages/subordinates.js';
import { Overview } from './pages/overview.js';
import { RectificationsPage } from './pages/rectifications.js';
import { SelfInspectionPage } from './pages/self-inspection.js';
import { WarningDetail, WarningsPage, warningTitle } from './pages/warnings.js';

/** Pages are addressed by the URL fragment (#/warnings/ID), so the collector serves one page. */
function useRoute(): { path: string[]; query: URLSearchParams } {
  const read = () => {
    const [path = '', query = ''] = location.hash.replace(/^#\/?/, '').split('?');
    return {
      path: path.split('/').filter(Boolean).map(decodeURIComponent),
      query: new URLSearchParams(query),
    };
  };
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const onChange = () => setRoute(read());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

/**
 * The pages, each with the permission its data needs (collector/auth/permissions.ts): a user sees
 * in the navigation, and may open, only those their role holds (the session says which).
 */
const NAV: [path: string, title: MessageKey, permission: string][] = [
  ['', 'overview', 'monitoring.read'],
  ['warnings', 'warnings', 'monitoring.read'],
  ['agents', 'agents', 'agents.read'],
  ['persons', 'persons', 'register.read'],
  ['systems', 'systems', 'register.read'],
  ['incidents', 'incidents', 'register.read'],
  ['self-inspection', 'selfInspection', 'inspection.read'],
  ['rectifications', 'rectifications', 'inspection.read'],
  ['notices', 'notices', 'monitoring.read'],
  ['documents', 'documents', 'documents.read'],
  ['subordinates', 'subordinates', 'hierarchy.read'],
  ['silences', 'silences', 'monitoring.read'],
  ['audit', 'auditTitle', 'audit.read'],
  ['access', 'access', 'access.manage'],
];

/** Pages reached by a link rather than the navigation (a terminal's page from the 终端 list or a warning). */
const LINKED_PAGES: [path: string, permission: string][] = [['terminals', 'agents.read']];

/** The pages this user may open, in navigation order. */
function navFor(user: SessionUser) {
  return NAV.filter(([, , permission]) => may(user, permission));
}

function LoginForm(props: { onLogin: (user: SessionUser) => void; onLang: () => void }) {
  const { t } = useI18n();
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      props.onLogin(await login(name, password));
    } catch (err) {
      const status = err instanceof ApiError ? err.status : 0;
      setError(
        status === 401
          ? t('wrongPassword')
          : status === 429
            ? t('throttled', { seconds: err instanceof ApiError ? (err.retryAfter ?? '') : '' })
            : (err as Error).message,
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <form onSubmit={(e) => void submit(e)} aria-labelledby="login-title">
        <h1 id="login-title">{t('appTitle')}</h1>
        <label>
          {t('userName')}
          <input
            name="name"
            autoComplete="username"
            required
            autoFocus
            value={name}
            onInput={(e) => setName((e.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          {t('password')}
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit" disabled={busy}>
          {busy ? t('loggingIn') : t('login')}
        </button>
        {error ? (
          <p class="error" role="alert" data-testid="login-error">
            {error}
          </p>
        ) : null}
        <button type="button" class="link" onClick={props.onLang}>
          {t('switchLang')}
        </button>
      </form>
    </main>
  );
}

const SOUND_KEY = 'smew.sound';

/**
 * The tick the pages refetch on: bumped once per burst of live changes, on the slow poll, and on a
 * `smew:refresh` event; and whether the live stream is up. A role that may not read the stream
 * (monitoring.read: not the system administrator or the auditor) has the poll alone.
 */
function useLiveRefresh(streams: boolean): { tick: number; connected: boolean } {
  const [tick, setTick] = useState(0);
  const [connected, setConnected] = useState(false);
  const pending = useRef<number | undefined>(undefined);

  // Changes arrive in bursts (an agent reconnecting resends its outbox): refetch once per burst.
  const refresh = useCallback(() => {
    if (pending.current !== undefined) return;
    pending.current = window.setTimeout(() => {
      pending.current = undefined;
      setTick((n) => n + 1);
    }, 300);
  }, []);

  useEffect(() => {
    // A stream the collector ends (logout elsewhere, the user disabled) leads to a refetch, which
    // meets the 401 and shows the login again.
    const close = streams
      ? openLiveStream({ onMessage: refresh, onState: setConnected, onEnded: refresh })
      : () => undefined;
    // Rules may open a warning a moment after the event that caused it; a slow poll catches it, and anything missed.
    const poll = window.setInterval(refresh, 15_000);
    window.addEventListener('smew:refresh', refresh);
    return () => {
      close();
      window.clearInterval(poll);
      window.removeEventListener('smew:refresh', refresh);
    };
  }, [refresh, streams]);

  return { tick, connected };
}

/** A new critical warning draws attention: a banner (and a beep when sound is on). */
function useCriticalAlerts(
  tick: number,
  sound: boolean,
  readsWarnings: boolean,
): [Warning[], (alerts: Warning[]) => void] {
  const [alerts, setAlerts] = useState<Warning[]>([]);
  const known = useRef<Set<string> | null>(null);

  useEffect(() => {
    if (!readsWarnings) return;
    let cancelled = false;
    api<unknown>('/api/v1/warnings?severity=critical&limit=1000').then(
      (reply) => {
        if (cancelled) return;
        const list = itemsOf<Warning>(reply);
        const seen = known.current;
        known.current = new Set(list.map((w) => w.id));
        if (seen === null) return;
        const fresh = list.filter((w) => w.severity === 'critical' && !seen.has(w.id));
        if (fresh.length > 0) {
          setAlerts((old) => [...fresh, ...old].slice(0, 5));
          if (sound) beep();
        }
      },
      () => undefined,
    );
    return () => {
      cancelled = true;
    };
  }, [tick, sound, readsWarnings]);

  return [alerts, setAlerts];
}

/** The page the route names. */
function pageFor(route: { path: string[]; query: URLSearchParams }, user: SessionUser) {
  const allowed = navFor(user);
  const [asked, askedId] = route.path;
  // A page the role may not open (the overview, for a role without it) shows its first page instead.
  const permitted =
    allowed.some(([path]) => path === (asked ?? '')) ||
    LINKED_PAGES.some(([path, permission]) => path === asked && may(user, permission));
  const top = permitted ? asked : allowed[0]?.[0] || undefined;
  const id = permitted ? askedId : undefined;
  if (top === undefined && !permitted) return null;
  switch (top) {
    case undefined:
      return <Overview />;
    case 'warnings':
      return id ? <WarningDetail id={id} user={user} /> : <WarningsPage query={route.query} />;
    case 'agents':
      return id ? <AgentDetail id={id} /> : <AgentsPage canWrite={may(user, 'register.manage')} />;
    case 'terminals':
      return id ? (
        <TerminalDetail id={id} canWrite={may(user, 'register.manage')} />
      ) : (
        <AgentsPage canWrite={may(user, 'register.manage')} />
      );
    case 'persons':
      return <PersonsPage canWrite={may(user, 'register.manage')} />;
    case 'systems':
      return <SystemsPage user={user} />;
    case 'incidents':
      return <IncidentsPage id={id} user={user} />;
    case 'self-inspection':
      return <SelfInspectionPage id={id} user={user} />;
    case 'rectifications':
      return <RectificationsPage user={user} />;
    case 'notices':
      return <NoticesPage user={user} />;
    case 'documents':
      return <DocumentsPage user={user} />;
    case 'subordinates':
      return <SubordinatesPage id={id} />;
    case 'silences':
      return <SilencesPage user={user} />;
    case 'audit':
      return <AuditPage />;
    case 'access':
      return <AccessPage user={user} />;
    default:
      return <Overview />;
  }
}

function Shell(props: { user: SessionUser; onLogout: () => void; onLang: () => void }) {
  const { t, lang } = useI18n();
  const route = useRoute();
  const monitors = may(props.user, 'monitoring.read');
  const { tick, connected } = useLiveRefresh(monitors);
  const [sound, setSound] = useState(() => localStorage.getItem(SOUND_KEY) === 'on');
  const [alerts, setAlerts] = useCriticalAlerts(tick, sound, monitors);
  const page = pageFor(route, props.user);

  const nav = navFor(props.user);
  return (
    <LiveTick.Provider value={tick}>
      <header class="top">
        <a class="brand" href="#/">
          {t('appTitle')}
        </a>
        <nav aria-label="main">
          {nav.map(([path, key]) => (
            <a
              key={path}
              href={`#/${path}`}
              aria-current={(route.path[0] ?? '') === path ? 'page' : undefined}
            >
              {t(key)}
            </a>
          ))}
        </nav>
        {monitors ? (
          <>
            <span
              class={connected ? 'live on' : 'live off'}
              data-testid="live-state"
              title={connected ? '' : t('liveDown')}
            >
              ● {connected ? t('live') : t('liveDown')}
            </span>
            <label class="sound">
              <input
                type="checkbox"
                checked={sound}
                onChange={(e) => {
                  const on = (e.target as HTMLInputElement).checked;
                  setSound(on);
                  localStorage.setItem(SOUND_KEY, on ? 'on' : 'off');
                }}
              />{' '}
              {t('sound')}
            </label>
          </>
        ) : null}
        <button type="button" class="link" onClick={props.onLang} data-testid="switch-lang">
          {t('switchLang')}
        </button>
        <span class="user">
          {props.user.name} · {t(`role_${props.user.role}` as MessageKey)}
          {props.user.unit ? ` · ${props.user.unit}` : ''}
        </span>
        <button type="button" class="link" onClick={props.onLogout}>
          {t('logout')}
        </button>
      </header>
      {alerts.length > 0 ? (
        <div class="critical-alert" role="alert" data-testid="critical-alert">
          <strong>{t('newCritical')}</strong>
          <ul>
            {alerts.map((w) => (
              <li key={w.id}>
                <a href={`#/warnings/${encodeURIComponent(w.id)}`}>{warningTitle(w, lang)}</a> · {w.unit} ·{' '}
                {w.agent ?? ''}
              </li>
            ))}
          </ul>
          <button type="button" onClick={() => setAlerts([])}>
            {t('dismiss')}
          </button>
        </div>
      ) : null}
      <main class="page">{page}</main>
    </LiveTick.Provider>
  );
}

function App() {
  const [lang, setLang] = useState<Lang>(savedLang);
  const [user, setUser] = useState<SessionUser | null | undefined>(undefined);
  const i18n = useMemo(() => ({ lang, t: translator(lang) }), [lang]);
  useEffect(() => {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    document.title = `${i18n.t('appTitle')} · smew`;
  }, [lang, i18n]);
  useEffect(() => {
    whenUnauthorized(() => setUser(null));
    currentSession().then(
      (u) => setUser(u ?? null),
      () => setUser(null),
    );
  }, []);
  const switchLang = () => {
    const next = lang === 'zh' ? 'en' : 'zh';
    saveLang(next);
    setLang(next);
  };
  return (
    <LangContext.Provider value={i18n}>
      {user === undefined ? null : user === null ? (
        <LoginForm onLogin={setUser} onLang={switchLang} />
      ) : (
        <Shell
          user={user}
          onLang={switchLang}
          onLogout={() => {
            void logout().then(() => setUser(null));
          }}
        />
      )}
    </LangContext.Provider>
  );
}

render(<App />, document.getElementById('app')!);
