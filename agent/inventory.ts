import { hostInventorySchema, type HostInventory } from '../shared/inventory.js';
import type { Logger } from '../shared/log.js';
import { inventoryEvents } from './detectors/hardware-changed.js';
import type { EventDraft, Outbox } from './outbox.js';
import type { InventoryPaths } from './probes/inventory.js';

/** Where the last inventory sent is kept: beside the events, in the outbox database. */
const KEPT_AS = 'inventory';

/**
 * Records one inventory: compares it with the last one kept, appends what changed
 * (agent/detectors/hardware-changed.ts) and keeps it, in one transaction, so a crash can neither
 * lose a hardware change nor report it twice.
 */
export function recordInventory(
  outbox: Outbox,
  now: HostInventory,
  options: { atStart: boolean },
): EventDraft[] {
  return outbox.transaction(() => {
    const drafts = inventoryEvents(lastInventory(outbox), now, options);
    outbox.append(drafts);
    outbox.keep(KEPT_AS, JSON.stringify(now));
    return drafts;
  });
}

/** The inventory kept by the last run; one that no longer reads as an inventory counts as none. */
export function lastInventory(outbox: Outbox): HostInventory | undefined {
  const text = outbox.kept(KEPT_AS);
  if (text === undefined) return undefined;
  try {
    const parsed = hostInventorySchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Reads the host's inventory; the probe's module is loaded on the first call only. */
export async function takeInventory(paths: InventoryPaths): Promise<HostInventory> {
  const { readHostInventory } = await import('./probes/inventory.js');
  return readHostInventory(paths);
}

export interface InventoryRounds {
  /** Takes and records an inventory now (after any in progress); resolves with the events it recorded. */
  takeNow(): Promise<EventDraft[]>;
  stop(): Promise<void>;
}

/**
 * The agent's inventory: taken at start (always sent, so the register holds the host as it is),
 * then every `intervalMs`, sent again only when it changed. A failed reading is logged and
 * retried on the next round; it never stops the agent.
 */
export function startInventoryRounds(options: {
  paths: InventoryPaths;
  intervalMs: number;
  outbox: Outbox;
  logger: Logger;
  /** Called after events were recorded, to publish them. */
  recorded: (drafts: EventDraft[]) => void;
}): InventoryRounds {
  let stopped = false;
  let atStart = true;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<EventDraft[]> = Promise.resolve([]);

  const once = async (): Promise<EventDraft[]> => {
    try {
      const inventory = await takeInventory(options.paths);
      if (stopped) return [];
      const drafts = recordInventory(options.outbox, inventory, { atStart });
      atStart = false;
      for (const draft of drafts)
        options.logger.info({ type: draft.type, key: draft.key }, 'inventory recorded');
      if (drafts.length > 0) options.recorded(drafts);
      return drafts;
    } catch (err) {
      options.logger.error({ err }, 'inventory failed; the next round retries');
      return [];
    }
  };
  const takeNow = (): Promise<EventDraft[]> => {
    running = running.then(() => (stopped ? [] : once()));
    return running;
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => void takeNow().then(schedule), Math.max(1000, options.intervalMs));
  };
  void takeNow().then(schedule);
  return {
    takeNow,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
