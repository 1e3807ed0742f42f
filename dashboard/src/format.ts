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
