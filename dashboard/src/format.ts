/**
 * Times arrive as ISO 8601 UTC and are shown in Asia/Shanghai, whatever the browser's zone
 * (an officer's laptop set to UTC must still see Beijing time).
 */
import type { Lang } from './i18n.js';

const ZONE = 'Asia/Shanghai';
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(lang: Lang, withSeconds: boolean): Intl.DateTimeFormat {
  const id = `${lang}:${withSeconds}`;
  let f = formatters.get(id);
  if (!f) {
    f = new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', {
      timeZone: ZONE,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      ...(withSeconds ? { second: '2-digit' } : {}),
      hourCycle: 'h23',
    });
    formatters.set(id, f);
  }
  return f;
}

/** `2026-11-26 22:30` in Beijing time; empty for a missing time. */
export function formatTime(iso: string | null | undefined, lang: Lang, withSeconds = false): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const parts = Object.fromEntries(
    formatter(lang, withSeconds)
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  const time = `${parts.hour}:${parts.minute}${withSeconds ? `:${parts.second}` : ''}`;
  return `${parts.year}-${parts.month}-${parts.day} ${time}`;
}

/** `5:03:09` or `-1:00:00` style countdown for a legal deadline. */
export function formatCountdown(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  const total = Math.floor(Math.abs(ms) / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return `${sign}${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}

const SHANGHAI_OFFSET_MS = 8 * 3600_000;

/**
 * A `datetime-local` value typed in Beijing time (China has no daylight saving) as ISO 8601 UTC;
 * undefined for an empty or malformed value.
 */
export function shanghaiInputToIso(value: string): string | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value);
  if (!match) return undefined;
  const [y, mo, d, h, mi, s] = match.slice(1).map((part) => Number(part ?? 0));
  const utc = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!) - SHANGHAI_OFFSET_MS;
  return Number.isNaN(utc) ? undefined : new Date(utc).toISOString();
}

/** The `datetime-local` value (Beijing time, to the minute) of an instant. */
export function isoToShanghaiInput(iso: string | Date): string {
  return new Date(new Date(iso).getTime() + SHANGHAI_OFFSET_MS).toISOString().slice(0, 16);
}

/** Today's date in Beijing, YYYY-MM-DD. */
export function shanghaiToday(): string {
  return isoToShanghaiInput(new Date()).slice(0, 10);
}
