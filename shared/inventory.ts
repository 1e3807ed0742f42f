import { z } from 'zod';

/**
 * What the agent reports about its host for the terminal register (`host.inventory`), and who was
 * logged in when an event happened. One home for the shape: the agent builds it, the collector
 * stores it on the terminal, the dashboard shows it. Every string is attacker-influenced (a disk
 * model or a hostname is whatever the hardware or the user says), so each is bounded here and
 * escaped wherever it is shown.
 */
const text = z.string().max(256);
const optText = text.optional();

export const inventoryDiskSchema = z.looseObject({
  device: text,
  model: optText,
  serial: optText,
  sizeBytes: z.number().nonnegative().optional(),
});

export const inventoryInterfaceSchema = z.looseObject({
  iface: text,
  mac: optText,
  ip4: z.array(text).max(64).default([]),
  ip6: z.array(text).max(64).default([]),
});

export const hostInventorySchema = z.looseObject({
  hostname: text,
  os: z.looseObject({ distro: optText, release: optText, kernel: optText, arch: optText }),
  cpu: z.looseObject({ model: optText, cores: z.number().int().nonnegative().optional() }),
  memoryBytes: z.number().nonnegative().optional(),
  interfaces: z.array(inventoryInterfaceSchema).max(256),
  disks: z.array(inventoryDiskSchema).max(256),
  board: z.looseObject({ vendor: optText, model: optText, serial: optText }),
  bios: z.looseObject({ vendor: optText, version: optText, date: optText }),
  systemUuid: optText,
});
export type HostInventory = z.infer<typeof hostInventorySchema>;

/** The parts whose change is a 第35条 "使用环境发生变化" candidate. */
export const HARDWARE_PARTS = ['disk', 'board', 'nic'] as const;
export type HardwarePart = (typeof HARDWARE_PARTS)[number];

export const hardwareChangeSchema = z.looseObject({
  part: z.enum(HARDWARE_PARTS),
  /** What was there before and after (a disk's model and serial, a NIC's name and MAC…); absent when added or removed. */
  before: optText,
  after: optText,
});
export const hardwareChangedSchema = z.looseObject({
  changes: z.array(hardwareChangeSchema).min(1).max(256),
});
export type HardwareChange = z.infer<typeof hardwareChangeSchema>;

/**
 * Who was logged in at the terminal when an event happened (logind sessions, or utmp): an
 * optional `users` field of the signed event envelope, so it is covered by the signature.
 */
export const sessionUserSchema = z.looseObject({
  account: text,
  /** tty or seat, e.g. `tty1`, `pts/0`, `seat0`. */
  line: optText,
  /** Remote host for a remote login, as the session reports it. */
  remote: optText,
  since: z.iso.datetime({ offset: true }).optional(),
});
export const sessionUsersSchema = z.array(sessionUserSchema).max(64);
export type SessionUser = z.infer<typeof sessionUserSchema>;
