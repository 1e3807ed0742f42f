import type { ComponentChildren } from 'preact';
import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import { api, ApiError } from '../api.js';
import { useI18n } from '../i18n.js';

/** Bumped whenever the live stream reports a change (and on a slow poll), so pages refetch. */
export const LiveTick = createContext(0);

export type Loaded<T> =
  | { status: 'loading' }
  | { status: 'ok'; data: T }
  | { status: 'unavailable'; path: string }
  | { status: 'error'; message: string };

/** Fetches `path` now and again on every live tick; keeps showing the last data while refetching. */
export function useApi<T>(path: string | null): Loaded<T> {
  const tick = useContext(LiveTick);
  const [state, setState] = useState<Loaded<T>>({ status: 'loading' });
  useEffect(() => {
    if (path === null) return;
    let cancelled = false;
    api<T>(path).then(
      (data) => !cancelled && setState({ status: 'ok', data }),
      (err: unknown) => {
        if (cancelled) return;
        if (err instanceof ApiError && err.missingRoute)
          setState({ status: 'unavailable', path: path.split('?')[0]! });
        else setState({ status: 'error', message: (err as Error).message });
      },
    );
    return () => {
      cancelled = true;
    };
  }, [path, tick]);
  return state;
}

/** Renders `loaded` with `render`, or the loading, not-available or error state in its place. */
export function Show<T>(props: { loaded: Loaded<T>; children: (data: T) => ComponentChildren }) {
  const { t } = useI18n();
  const { loaded } = props;
  if (loaded.status === 'loading') return <p class="muted">{t('loading')}</p>;
  if (loaded.status === 'unavailable') return <Unavailable path={loaded.path} />;
  if (loaded.status === 'error')
    return (
      <p class="error" role="alert">
        {t('loadFailed', { error: loaded.message })}
      </p>
    );
  return <>{props.children(loaded.data)}</>;
}

export function Unavailable(props: { path: string }) {
  const { t } = useI18n();
  return (
    <div class="unavailable" data-testid="unavailable">
      <strong>{t('notAvailable')}</strong>
      <span>{t('notAvailableHint', { path: props.path })}</span>
    </div>
  );
}
