import type { InsertEventResult, NewEvent, Store } from '../store/store.js';

/**
 * Batches event inserts: calls made in one turn of the event loop go to the store together
 * (one transaction in SQLite, one statement in PostgreSQL), and each caller still gets its own
 * result. While a batch is being written the next one gathers, so a slow store makes batches
 * bigger rather than queues longer.
 */
export class EventWriter {
  private pending: {
    event: NewEvent;
    resolve: (r: InsertEventResult) => void;
    reject: (e: unknown) => void;
  }[] = [];
  private writing = false;
  private scheduled = false;

  constructor(
    private readonly store: Pick<Store, 'insertEvents'>,
    private readonly maxBatch = 500,
  ) {}

  insertEvent(event: NewEvent): Promise<InsertEventResult> {
    return new Promise((resolve, reject) => {
      this.pending.push({ event, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.writing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.write();
    });
  }

  private async write(): Promise<void> {
    if (this.writing || this.pending.length === 0) return;
    this.writing = true;
    const batch = this.pending.splice(0, this.maxBatch);
    try {
      const results = await this.store.insertEvents(batch.map((p) => p.event));
      batch.forEach((p, i) => p.resolve(results[i]!));
    } catch (err) {
      // The whole batch failed (the database is unreachable, say): every caller learns it.
      for (const p of batch) p.reject(err);
    } finally {
      this.writing = false;
      if (this.pending.length > 0) this.schedule();
    }
  }
}
