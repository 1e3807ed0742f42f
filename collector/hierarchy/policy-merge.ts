import { z } from 'zod';
import { LEVELS, type Level } from '../../shared/levels.js';
import { cidrContains, parseCidr } from '../../shared/net/cidr.js';
import {
  defaultPolicy,
  policySchema,
  registersMedium,
  type Policy,
  type UsbMedium,
} from '../../shared/policy.js';

/**
 * Policy precedence down the hierarchy: every level may tighten, none may loosen. A policy
 * update (a notice of type `policy`) names only the sections it rules; the policy an agent runs
 * with is this collector's own (`policy` in its config) narrowed by every policy in force from
 * above (and those it issued itself for its area), whatever order they came in:
 *
 * - `level`: the most secret of them (a 绝密 ruling from above outranks a unit's 秘密);
 * - approved interfaces, wireless, Bluetooth, USB media and allowed address ranges: an entry
 *   stays only where every ruling approves it — the same name or MAC, the same USB medium
 *   (registersMedium: vendor, product and serial, an entry without a serial naming only a device
 *   without one, as the agent reads it), an address range inside one the ruling allows. A section no ruling names keeps its value, or the safe default (nothing approved);
 * - watched directories and beacon targets: all of them (watching more is stricter).
 *
 * Only the latest update of each issuing administration is in force: it may change its own ruling,
 * and it is the only one who can.
 */
const { shape } = policySchema;
// Each section optional with no default: a section left out must stay out, not become "nothing approved".
export const policyUpdateSchema = z.strictObject({
  level: shape.level.unwrap().optional(),
  interfaces: shape.interfaces.unwrap().optional(),
  wireless: shape.wireless.unwrap().optional(),
  bluetooth: shape.bluetooth.unwrap().optional(),
  network: shape.network.unwrap().optional(),
  usb: shape.usb.unwrap().optional(),
  files: shape.files.unwrap().optional(),
  beacon: shape.beacon.unwrap().optional(),
});
export type PolicyUpdate = z.infer<typeof policyUpdateSchema>;

type Approved<T> = (entry: T, by: T) => boolean;

const sameName: Approved<string> = (entry, by) => entry === by || entry.toLowerCase() === by.toLowerCase();

const withinRange: Approved<string> = (entry, by) => {
  const inner = parseCidr(entry);
  const outer = parseCidr(by);
  if (!inner || !outer) return entry === by;
  return inner.prefix >= outer.prefix && cidrContains(outer, { family: inner.family, value: inner.network });
};

// The agent's own meaning of a registration (one medium; no serial names a device without one).
const sameMedium: Approved<UsbMedium> = (entry, by) => registersMedium(by, entry);

/** Entries of either list that the other approves: the narrower of two approvals. */
function narrower<T>(a: readonly T[], b: readonly T[], approves: Approved<T>): T[] {
  const kept = [...a.filter((x) => b.some((y) => approves(x, y)))];
  for (const y of b) {
    if (a.some((x) => approves(y, x)) && !kept.some((k) => approves(k, y) && approves(y, k))) kept.push(y);
  }
  return kept;
}

function union<T>(a: readonly T[], b: readonly T[], key: (x: T) => string): T[] {
  const seen = new Set(a.map(key));
  return [...a, ...b.filter((x) => !seen.has(key(x)) && seen.add(key(x)))];
}

export function moreSecret(a: Level, b: Level): Level {
  return LEVELS.indexOf(a) <= LEVELS.indexOf(b) ? a : b;
}

/**
 * The policy to distribute: `own` (this collector's, possibly partial) narrowed by `rulings`;
 * undefined when there is neither, so agents keep their local policy.
 */
export function mergePolicies(
  own: PolicyUpdate | undefined,
  rulings: readonly PolicyUpdate[],
): Policy | undefined {
  if (own === undefined && rulings.length === 0) return undefined;
  const layers = own === undefined ? rulings : [own, ...rulings];
  const pick = <K extends keyof Policy>(key: K): Policy[K][] =>
    layers.flatMap((layer) => (layer[key] === undefined ? [] : [layer[key] as Policy[K]]));
  const fold = <T>(values: T[][], combine: (a: T[], b: T[]) => T[], fallback: T[]): T[] =>
    values.length === 0 ? fallback : values.reduce(combine);
  const approvals = (key: 'interfaces' | 'wireless' | 'bluetooth') => ({
    approved: fold(
      pick(key).map((s) => s.approved),
      (a, b) => narrower(a, b, sameName),
      defaultPolicy[key].approved,
    ),
  });
  return {
    level: pick('level').reduce(moreSecret, pick('level')[0] ?? defaultPolicy.level),
    interfaces: approvals('interfaces'),
    wireless: approvals('wireless'),
    bluetooth: approvals('bluetooth'),
    network: {
      allowedCidrs: fold(
        pick('network').map((s) => s.allowedCidrs),
        (a, b) => narrower(a, b, withinRange),
        defaultPolicy.network.allowedCidrs,
      ),
    },
    usb: {
      approved: fold(
        pick('usb').map((s) => s.approved),
        (a, b) => narrower(a, b, sameMedium),
        defaultPolicy.usb.approved,
      ),
    },
    files: {
      watch: fold(
        pick('files').map((s) => s.watch),
        (a, b) => union(a, b, (x) => x),
        [],
      ),
    },
    beacon: {
      targets: fold(
        pick('beacon').map((s) => s.targets),
        (a, b) => union(a, b, (t) => `${t.method} ${t.target}`),
        [],
      ),
    },
  };
}
