import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { siblingWorker } from '../worker-thread.js';
import type { VerifyAnswer, VerifyBatch, VerifyRequest } from './verify-worker.js';

/**
 * Signature verification across the cores: a few worker threads, each verifying whole batches
 * for its share of the agents' keys.
 * Requests made in one turn of the event loop travel together (one message per worker rather
 * than one per signature), which keeps the thread hand-off small beside the verification.
 */
export class VerifyPool {
  private workers: { worker: Worker }[] = [];
  private readonly waiting = new Map<
    number,
    { resolve: (valid: boolean[]) => void; reject: (err: Error) => void }
  >();
  private queued: {
    request: VerifyRequest;
    resolve: (valid: boolean) => void;
    reject: (err: Error) => void;
  }[] = [];
  private flushScheduled = false;
  private nextId = 1;
  private closed = false;

  constructor(size: number = availableParallelism()) {
    for (let i = 0; i < Math.max(1, size); i++) {
      const worker = siblingWorker(import.meta.url, 'verify-worker');
      worker.unref();
      worker.on('message', (answer: VerifyAnswer) => this.answered(answer));
      worker.on('error', (err) => this.failAll(err));
      worker.on('exit', () => {
        if (this.closed) return;
        // Fail what it held (the pipeline quarantines those as internal errors) and carry on without it.
        this.workers = this.workers.filter((w) => w.worker !== worker);
        if (this.workers.length === 0) this.closed = true;
        this.failAll(new Error('a verification thread exited'));
      });
      this.workers.push({ worker });
    }
  }

  get size(): number {
    return this.workers.length;
  }

  /** Whether `text` (signed JSON) carries a valid signature by `publicKey`. */
  verify(request: VerifyRequest): Promise<boolean> {
    if (this.closed) return Promise.reject(new Error('the verification pool is closed'));
    return new Promise((resolve, reject) => {
      this.queued.push({ request, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.failAll(new Error('the verification pool closed'));
    await Promise.all(this.workers.map(({ worker }) => worker.terminate()));
  }

  private flush(): void {
    this.flushScheduled = false;
    const queued = this.queued;
    this.queued = [];
    if (queued.length === 0) return;
    // Each key goes to the same thread every time, so a thread parses and keeps only its share of
    // the keys (parsing one costs more than a verification; 100 000 agents are 100 000 keys). An
    // agent's backlog comes in signed batches, so one thread per agent is no bottleneck.
    const parts = this.workers.map(() => [] as typeof queued);
    for (const q of queued) parts[threadOf(q.request.publicKey, parts.length)]!.push(q);
    parts.forEach((part, t) => {
      if (part.length === 0) return;
      const target = this.workers[t]!;
      const id = this.nextId++;
      this.waiting.set(id, {
        resolve: (valid) => part.forEach((q, i) => q.resolve(valid[i] === true)),
        reject: (err) => part.forEach((q) => q.reject(err)),
      });
      const batch: VerifyBatch = { id, requests: part.map((q) => q.request) };
      target.worker.postMessage(batch);
    });
  }

  private answered(answer: VerifyAnswer): void {
    const waiter = this.waiting.get(answer.id);
    this.waiting.delete(answer.id);
    waiter?.resolve(answer.valid);
  }

  private failAll(err: Error): void {
    for (const waiter of this.waiting.values()) waiter.reject(err);
    this.waiting.clear();
    for (const q of this.queued.splice(0)) q.reject(err);
  }
}

/** A thread for `publicKey`: FNV-1a over its last characters (the random part of the encoded key). */
export function threadOf(publicKey: string, threads: number): number {
  let hash = 0x811c9dc5;
  for (let i = Math.max(0, publicKey.length - 24); i < publicKey.length; i++) {
    hash = Math.imul(hash ^ publicKey.charCodeAt(i), 0x01000193);
  }
  return (hash >>> 0) % threads;
}
