import { severityRank } from '../../shared/levels.js';
import type { WarningStep } from '../warnings/lifecycle.js';
import { WARNING_STATE_NAMES, type Warning, type WarningState } from '../warnings/warning.js';
import type { NotifyChannelConfig } from './config.js';

/**
 * Why a notification goes out: a new warning, a resolved warning raised again, or a lifecycle
 * step. Each occasion has a key, and the outbox holds one row per warning, channel and key, so a
 * retried transaction or a restart never sends the same occasion twice.
 */
export type NotifyOccasion =
  | { kind: 'opened' }
  /** `at` is the warning's lastSeen when it was raised again: each re-raise is its own occasion. */
  | { kind: 'reraised'; at: string }
  | { kind: 'state'; to: WarningState };

/** What a channel can be configured to announce (`notify.channels[].on`). */
export const NOTIFY_ON = [
  'opened',
  'reraised',
  'identified',
  'handling',
  'closed',
  'false-positive',
] as const;
export type NotifyOn = (typeof NOTIFY_ON)[number];

/** The channels that get a notification of `warning` on `occasion`. */
export type NotifyRoute = (warning: Warning, occasion: NotifyOccasion) => readonly string[];

/** The outbox key: `opened`, `reraised:<lastSeen>` or `state:<to>`. */
export function occasionKey(occasion: NotifyOccasion): string {
  if (occasion.kind === 'opened') return 'opened';
  return occasion.kind === 'reraised' ? `reraised:${occasion.at}` : `state:${occasion.to}`;
}

export function parseOccasionKey(key: string): NotifyOccasion {
  if (key.startsWith('reraised:')) return { kind: 'reraised', at: key.slice('reraised:'.length) };
  const to = key.startsWith('state:') ? key.slice('state:'.length) : undefined;
  if (to !== undefined && to in WARNING_STATE_NAMES) return { kind: 'state', to: to as WarningState };
  return { kind: 'opened' };
}

/** Routes by each channel's `on` list and `minSeverity` (the warning's severity at that moment). */
export function notifyRoute(channels: readonly NotifyChannelConfig[]): NotifyRoute {
  return (warning, occasion) => {
    const on: NotifyOn = occasion.kind === 'state' ? (occasion.to as NotifyOn) : occasion.kind;
    return channels
      .filter(
        (channel) =>
          channel.on.includes(on) && severityRank(warning.severity) >= severityRank(channel.minSeverity),
      )
      .map((channel) => channel.name);
  };
}

export interface OutboxEntry {
  channel: string;
  occasion: string;
}

/**
 * The outbox rows a rules step owes: every routed channel when a warning opens, and again when
 * a resolved warning is raised again (resolvedAt set before, cleared after). Stores call this
 * in the transaction that writes the warning.
 */
export function ruleNotifications(
  current: Warning | undefined,
  next: Warning,
  route: NotifyRoute,
): OutboxEntry[] {
  let occasion: NotifyOccasion;
  if (!current) occasion = { kind: 'opened' };
  else if (current.resolvedAt !== null && next.resolvedAt === null)
    occasion = { kind: 'reraised', at: next.lastSeen };
  else return [];
  return route(next, occasion).map((channel) => ({ channel, occasion: occasionKey(occasion) }));
}

/** The outbox rows a lifecycle step owes: a state change routed by the channels' `on` lists. */
export function stepNotifications(step: WarningStep, route: NotifyRoute | undefined): OutboxEntry[] {
  if (!route || !step.ok || step.record.action !== 'transition') return [];
  const occasion: NotifyOccasion = { kind: 'state', to: step.record.to };
  return route(step.warning, occasion).map((channel) => ({ channel, occasion: occasionKey(occasion) }));
}
