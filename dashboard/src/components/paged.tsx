import { useEffect, useState } from 'preact/hooks';
import { api, itemsOf } from '../api.js';
import { useI18n } from '../i18n.js';
import { useApi, type Loaded } from './data.js';

/**
 * A list the collector answers page by page (`{items, nextCursor}`, GET /api/v1/events and
 * /warnings): the first page is fetched as any list (and again on every live tick); "加载更多 /
 * Load more" appends the next page by its cursor. Pages already appended stay when the first page
 * refreshes, without repeats; a change of `path` (the filters) starts again from the first page.
 */
export interface Paged<T> {
  first: Loaded<unknown>;
  items: T[];
  /** Null when there is nothing more to read. */
  nextCursor: string | null;
  loadingMore: boolean;
  moreError: string | null;
  loadMore(): void;
}

function cursorOf(reply: unknown): string | null {
  const cursor = (reply as { nextCursor?: unknown } | undefined)?.nextCursor;
  return typeof cursor === 'string' ? cursor : null;
}

export function usePaged<T extends { id: string | number }>(path: string | null): Paged<T> {
  const first = useApi<unknown>(path);
  const [more, setMore] = useState<{ path: string | null; items: T[]; cursor: string | null } | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<string | null>(null);
  useEffect(() => {
    setMore(null);
    setMoreError(null);
  }, [path]);
  const own = more !== null && more.path === path ? more : null;
  const firstItems = first.status === 'ok' ? itemsOf<T>(first.data) : [];
  const seen = new Set(firstItems.map((item) => item.id));
  const items = [...firstItems, ...(own?.items ?? []).filter((item) => !seen.has(item.id))];
  const nextCursor = own ? own.cursor : first.status === 'ok' ? cursorOf(first.data) : null;
  function loadMore() {
    if (path === null || nextCursor === null || loadingMore) return;
    setLoadingMore(true);
    setMoreError(null);
    const sep = path.includes('?') ? '&' : '?';
    api<unknown>(`${path}${sep}cursor=${encodeURIComponent(nextCursor)}`).then(
      (reply) => {
        setMore({ path, items: [...(own?.items ?? []), ...itemsOf<T>(reply)], cursor: cursorOf(reply) });
        setLoadingMore(false);
      },
      (err: unknown) => {
        setMoreError((err as Error).message);
        setLoadingMore(false);
      },
    );
  }
  return { first, items, nextCursor, loadingMore, moreError, loadMore };
}

/** The "加载更多 / Load more" button under a paged list, while the collector says there is more. */
export function LoadMore(props: { paged: Paged<unknown> }) {
  const { t } = useI18n();
  const { paged } = props;
  if (paged.nextCursor === null && paged.moreError === null) return null;
  return (
    <p class="load-more">
      {paged.nextCursor !== null && (
        <button type="button" data-testid="load-more" disabled={paged.loadingMore} onClick={paged.loadMore}>
          {paged.loadingMore ? t('loading') : t('loadMore')}
        </button>
      )}{' '}
      <span class="muted small">{t('shownCount', { n: paged.items.length })}</span>
      {paged.moreError !== null && (
        <span class="error" role="alert">
          {' '}
          {t('loadFailed', { error: paged.moreError })}
        </span>
      )}
    </p>
  );
}
