import { canonicalize } from '../../shared/canonical-json.js';
import type { HardwareChange, HostInventory } from '../../shared/inventory.js';
import type { EventDraft } from '../outbox.js';

/**
 * Compares a new host inventory with the last one sent (a pure function: the runner keeps the
 * last one in the outbox database and reads the host). What it returns, in order:
 *
 * - `host.inventory` (info) when there was none before (first start), when anything in it
 *   differs, or at every start (`atStart`): the collector's terminal register then holds the
 *   host as it is now, even after the register lost it;
 * - `host.hardware.changed` when a disk, the board or a NIC differs: a disk or NIC added,
 *   removed or replaced (matched by device or interface name: a new serial or MAC under the same
 *   name is a replacement), the board's vendor, model or serial. Nothing is reported as changed
 *   against no earlier inventory: the first one is the baseline. Addresses, memory, OS and kernel
 *   changes update the register but are not hardware changes.
 *
 * Neither is a condition: nothing clears them, so they bypass the differ's open set.
 */
export function inventoryEvents(
  before: HostInventory | undefined,
  now: HostInventory,
  options: { atStart: boolean },
): EventDraft[] {
  const drafts: EventDraft[] = [];
  if (options.atStart || before === undefined || canonicalize(before) !== canonicalize(now)) {
    drafts.push({
      type: 'host.inventory',
      state: 'raised',
      key: 'host.inventory',
      severity: 'info',
      data: now,
    });
  }
  const changes = before === undefined ? [] : hardwareChanges(before, now);
  if (changes.length > 0) {
    const parts = [...new Set(changes.map((c) => c.part))].sort();
    drafts.push({
      type: 'host.hardware.changed',
      state: 'raised',
      key: `host.hardware.changed:${parts.join(',')}`,
      severity: 'medium',
      data: { changes },
    });
  }
  return drafts;
}

/** The disk, board and NIC differences, each described as `before`/`after` text. */
export function hardwareChanges(before: HostInventory, now: HostInventory): HardwareChange[] {
  return [
    ...partChanges(
      'disk',
      byName(before.disks, (d) => d.device),
      byName(now.disks, (d) => d.device),
      describeDisk,
    ),
    ...partChanges('board', boardMap(before), boardMap(now), describeBoard),
    ...partChanges(
      'nic',
      byName(before.interfaces, (n) => n.iface),
      byName(now.interfaces, (n) => n.iface),
      describeNic,
    ),
  ];
}

type Disk = HostInventory['disks'][number];
type Nic = HostInventory['interfaces'][number];
type Board = HostInventory['board'];

function partChanges<T>(
  part: HardwareChange['part'],
  before: ReadonlyMap<string, T>,
  now: ReadonlyMap<string, T>,
  describe: (item: T) => string,
): HardwareChange[] {
  const changes: HardwareChange[] = [];
  const names = [...new Set([...before.keys(), ...now.keys()])].sort();
  for (const name of names) {
    const was = before.get(name);
    const is = now.get(name);
    const wasText = was === undefined ? undefined : describe(was);
    const isText = is === undefined ? undefined : describe(is);
    if (wasText === isText) continue;
    changes.push({
      part,
      ...(wasText !== undefined ? { before: wasText } : {}),
      ...(isText !== undefined ? { after: isText } : {}),
    });
  }
  return changes;
}

function byName<T>(items: readonly T[], name: (item: T) => string): Map<string, T> {
  return new Map(items.map((item) => [name(item), item]));
}

/** One entry, or none when the firmware tells nothing about the board. */
function boardMap(inventory: HostInventory): Map<string, Board> {
  const { vendor, model, serial } = inventory.board;
  return vendor || model || serial ? new Map([['board', inventory.board]]) : new Map();
}

/** The shape bounds `before`/`after` to 256 characters: each field is cut to fit. */
const FIELD = 80;
const cut = (text: string | undefined): string => (text ?? '?').slice(0, FIELD);

function describeDisk(disk: Disk): string {
  return `${cut(disk.device)} ${cut(disk.model)} serial ${cut(disk.serial)}`;
}

function describeBoard(board: Board): string {
  return `${cut(board.vendor)} ${cut(board.model)} serial ${cut(board.serial)}`;
}

function describeNic(nic: Nic): string {
  return `${cut(nic.iface)} ${cut(nic.mac)}`;
}
