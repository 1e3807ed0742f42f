export interface BatcherOptions {
  /** Items per flush at most (1000). */
  maxBatch?: number;
  /**
   * How long the first item of a batch waits for others (0: until the end of the turn). Items
   * that trickle in a few per turn otherwise make a flush each; a full batch goes at once.
   */
  lingerMs?: number;
}

/**
 * Gathers calls and hands them to `flush` together; each caller still gets its own result (flush
 * answers one per item, in order). While a batch is being flushed the next one gathers, so a slow
 * store makes batches bigger rather than queues longer. When flush throws, every caller of that
 * batch gets the error.
 */
export class Batcher<T, R> {
  private pending: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private flushing = false;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private readonly maxBatch: number;
  private readonly lingerMs: number;

  constructor(
    private readonly flush: (items: T[]) => Promise<readonly R[]>,
    options: BatcherOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 1000;
    this.lingerMs = options.lingerMs ?? 0;
  }

  add(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.flushing || this.immediate) return;
    if (this.lingerMs > 0 && this.pending.length < this.maxBatch) {
      this.timer ??= setTimeout(() => this.go(), this.lingerMs);
      return;
    }
    this.immediate = setImmediate(() => this.go());
  }

  private go(): void {
    clearTimeout(this.timer);
    clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    void this.run();
  }

  private async run(): Promise<void> {
    if (this.flushing || this.pending.length === 0) return;
    this.flushing = true;
    const batch = this.pending.splice(0, this.maxBatch);
    try {
      const results = await this.flush(batch.map((p) => p.item));
      batch.forEach((p, i) => p.resolve(results[i]!));
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.flushing = false;
      // What gathered meanwhile has waited long enough.
      if (this.pending.length > 0 && !this.immediate) this.immediate = setImmediate(() => this.go());
    }
  }
}
