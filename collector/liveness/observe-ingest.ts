import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import { eachOutcome, type IngestPipeline } from '../ingest/pipeline.js';
import type { Store } from '../store/store.js';
import type { DeclaredDrop } from '../store/transport/transport-store.js';
import type { LivenessMonitor } from './monitor.js';

/**
 * Feeds what ingest accepted into liveness, after ingest has verified it: heartbeats (their
 * `lastSeq` and announced `intervalMs`), `offline` statuses, and the seq ranges an
 * `agent.queue.overflow` event declares dropped — those move the watermark on, so the agent's
 * later events can be acknowledged and a declared drop is not mistaken for a loss.
 */
export const OVERFLOW_EVENT_TYPE = 'agent.queue.overflow';
/** Ranges read from one overflow report; the agent lists at most 1000. */
const MAX_DECLARED_RANGES = 1000;

export interface ObserveIngestOptions {
  pipeline: IngestPipeline;
  store: Store;
  monitor: LivenessMonitor;
  clock: Clock;
  logger: Logger;
  /** Asks for a fresh signed ack to the agent once its watermark moved. */
  scheduleAck(agentId: string): void;
}

export function observeIngest(options: ObserveIngestOptions): void {
  const { pipeline, store, monitor, clock, logger } = options;
  const handle = pipeline.handle.bind(pipeline);
  pipeline.handle = async (topic, payload) => {
    const outcome = await handle(topic, payload);
    try {
      if (outcome.kind === 'heartbeat') {
        const message = JSON.parse(payload.toString('utf8')) as { lastSeq: number; intervalMs?: unknown };
        await monitor.heartbeat(outcome.agentId, {
          at: clock.now().toISOString(),
          lastSeq: message.lastSeq,
          ...(validInterval(message.intervalMs) ? { intervalMs: message.intervalMs } : {}),
        });
      } else if (outcome.kind === 'status' && !outcome.online) {
        await monitor.offline(outcome.agentId, clock.now().toISOString());
      } else {
        // A queue overflow event declares the seqs the agent dropped (alone or within a batch).
        const drops: ReturnType<typeof declaredDrops> = [];
        eachOutcome(outcome, payload, (one, onePayload) => {
          if (one.kind === 'event' || one.kind === 'duplicate')
            drops.push(...declaredDrops(one.agentId, one.seq, onePayload));
        });
        if (drops.length > 0) {
          await store.transport.addDeclaredDrops(drops);
          await store.transport.skipDeclaredDrops(drops[0]!.agentId);
          options.scheduleAck(drops[0]!.agentId);
        }
      }
    } catch (err) {
      logger.error({ err, topic }, 'liveness could not record an accepted message');
    }
    return outcome;
  };
}

function validInterval(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 100 && value <= 86_400_000;
}

/**
 * The ranges of a verified overflow report. They may lie above the report's own seq: an agent
 * re-signs a report it has not sent yet, under the same seq, as more rows are dropped.
 */
export function declaredDrops(agentId: string, seq: number, payload: Buffer): DeclaredDrop[] {
  // Most events are not overflow notices: skip parsing them again.
  if (!payload.includes(OVERFLOW_EVENT_TYPE)) return [];
  const message = JSON.parse(payload.toString('utf8')) as { type?: unknown; data?: { seqs?: unknown } };
  if (message.type !== OVERFLOW_EVENT_TYPE || !Array.isArray(message.data?.seqs)) return [];
  const drops: DeclaredDrop[] = [];
  for (const range of message.data.seqs.slice(0, MAX_DECLARED_RANGES)) {
    if (!Array.isArray(range) || range.length !== 2) continue;
    const [from, to] = range as unknown[];
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to)) continue;
    const fromSeq = from as number;
    const toSeq = to as number;
    if (fromSeq < 1 || toSeq < fromSeq || (fromSeq <= seq && seq <= toSeq)) continue;
    drops.push({ agentId, fromSeq, toSeq, declaredBySeq: seq });
  }
  return drops;
}
