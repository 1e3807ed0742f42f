import { z } from 'zod';
import { hardwareChangedSchema, hostInventorySchema } from './inventory.js';

/**
 * The event catalogue of SPEC §6: each type with the fields its `data` must carry. Extra fields
 * are allowed (a newer agent may add detail); missing or mistyped ones are a schema violation.
 */
const str = z.string().max(4096);
const opt = str.optional();

export const EVENT_DATA_SCHEMAS = {
  'net.wireless.present': z.looseObject({ iface: str, mac: opt, driver: opt }),
  'net.wireless.connected': z.looseObject({ iface: str, ssid: opt, bssid: opt }),
  'net.bluetooth.present': z.looseObject({ adapter: str, address: opt }),
  'net.modem.present': z.looseObject({
    iface: opt,
    device: opt,
    kind: z.enum(['wwan', 'usb-tether', 'serial']),
  }),
  'net.link.unapproved': z.looseObject({ iface: str, mac: opt, kind: opt }),
  'net.multihomed': z.looseObject({ ifaces: z.array(str).max(256) }),
  'net.route.unapproved': z.looseObject({ iface: str, gateway: opt, dest: opt }),
  'net.connection.prohibited': z.looseObject({
    remote: str,
    port: z.number().int().min(0).max(65535),
    proto: str,
    pid: z.number().int().optional(),
    process: opt,
  }),
  'net.internet.reachable': z.looseObject({ target: str, method: str }),
  'usb.storage.attached': z.looseObject({ vendor: opt, product: opt, serial: opt, registered: z.boolean() }),
  'file.marked': z.looseObject({ path: str, marking: str, rule: opt }),
  'agent.started': z.looseObject({ version: str, policyHash: opt }),
  'agent.stopping': z.looseObject({ version: str, policyHash: opt }),
  'agent.config.changed': z.looseObject({ what: str, hash: opt }),
  'agent.tamper': z.looseObject({ what: str, hash: opt }),
  'agent.queue.overflow': z.looseObject({ dropped: z.number().int().nonnegative() }),
  /** The agent's own RSS (MiB) or CPU (% of a core) over its self-limit; it scans less often meanwhile. */
  'agent.limits.exceeded': z.looseObject({
    resource: z.enum(['rss', 'cpu']),
    value: z.number(),
    limit: z.number(),
  }),
  /** The host's inventory for the terminal register, at start and whenever it changes (severity info). */
  'host.inventory': hostInventorySchema,
  /** A disk, board or NIC differs from the last inventory: a 第35条 使用环境发生变化 candidate. */
  'host.hardware.changed': hardwareChangedSchema,
} as const;

export type EventType = keyof typeof EVENT_DATA_SCHEMAS;
export const EVENT_TYPES = Object.keys(EVENT_DATA_SCHEMAS) as EventType[];

/** Types that update a record (the terminal register) and never become a warning on their own. */
export const RECORD_ONLY_EVENT_TYPES: readonly EventType[] = ['host.inventory'];

export function isRecordOnlyEventType(type: string): boolean {
  return (RECORD_ONLY_EVENT_TYPES as readonly string[]).includes(type);
}

export function isKnownEventType(type: string): type is EventType {
  return Object.hasOwn(EVENT_DATA_SCHEMAS, type);
}

/** The shape of an event type name, so types added by newer agents still pass the envelope check. */
export const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/;
