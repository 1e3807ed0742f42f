import type { InsertEventResult, NewEvent, Store } from '../store/store.js';
import { Batcher } from './batcher.js';

/**
 * Batches event inserts: calls made in one turn of the event loop go to the store together
 * (one transaction in SQLite, one statement in PostgreSQL), and each caller still gets its own
 * result. While a batch is being written the next one gathers, so a slow store makes batches
 * bigger rather than queues longer.
 */
export class EventWriter {
  private readonly batches: Batcher<NewEvent, InsertEventResult>;

  constructor(store: Pick<Store, 'insertEvents'>, maxBatch = 500) {
    this.batches = new Batcher((events) => store.insertEvents(events), { maxBatch });
  }

  insertEvent(event: NewEvent): Promise<InsertEventResult> {
    return this.batches.add(event);
  }
}
