import type { EventEnvelope } from '../../shared/envelope.js';
import { hostInventorySchema } from '../../shared/inventory.js';
import type { Logger } from '../../shared/log.js';
import { eachOutcome, type IngestPipeline } from '../ingest/pipeline.js';
import type { Store } from '../store/store.js';

/**
 * Keeps the register true without a clipboard: each stored `host.inventory` event (verified,
 * signed) becomes its terminal's inventory. Follows ingest as the rules nudge and the live feed
 * do; a failure here is logged and never holds ingest up (the event itself is stored, and the
 * next inventory, or linking the agent, fills the register again).
 */
export const INVENTORY_TYPE = 'host.inventory';
const INVENTORY_MARK = Buffer.from(`"${INVENTORY_TYPE}"`);

export function followInventory(pipeline: IngestPipeline, store: Store, logger: Logger): void {
  const handle = pipeline.handle.bind(pipeline);
  pipeline.handle = async (topic, payload) => {
    const outcome = await handle(topic, payload);
    eachOutcome(outcome, payload, (one, onePayload) => {
      // Most events are not inventories: the bytes are looked at before any JSON is parsed.
      if (one.kind !== 'event' || !onePayload.includes(INVENTORY_MARK)) return;
      void recordInventory(store, one.agentId, onePayload).catch((err: unknown) =>
        logger.warn({ err, agent: one.agentId }, 'could not record the inventory in the register'),
      );
    });
    return outcome;
  };
}

async function recordInventory(store: Store, agentId: string, payload: Buffer): Promise<void> {
  const envelope = JSON.parse(payload.toString('utf8')) as EventEnvelope;
  if (envelope.type !== INVENTORY_TYPE) return;
  const inventory = hostInventorySchema.safeParse(envelope.data);
  if (inventory.success)
    await store.register.setInventory(agentId, inventory.data, new Date(envelope.ts).toISOString());
}

/** The newest inventory an agent sent, for a terminal it is linked to after the fact. */
export async function latestInventory(store: Store, agentId: string) {
  const [event] = await store.listEvents({ agentId, type: INVENTORY_TYPE, limit: 1 });
  if (!event) return undefined;
  const inventory = hostInventorySchema.safeParse(event.data);
  return inventory.success ? { inventory: inventory.data, at: event.ts } : undefined;
}
