import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import { STREAM_RECHECK_MS, type AccessChanges } from '../auth/access-changes.js';
import { eachOutcome, type IngestOutcome, type IngestPipeline } from '../ingest/pipeline.js';
import type { Store } from '../store/store.js';
import { authenticate, seesUnit } from './bearer-auth.js';
import { authErrorResponses } from './schemas.js';
import { SECURITY_HEADERS } from './static.js';

/**
 * `GET /api/v1/stream`: server-sent events for the dashboard. The collector publishes what
 * happens (an event stored, an agent going on- or offline, a warning changed) on a LiveFeed;
 * each open stream forwards what its caller's units may see. Messages say what changed, not the
 * whole record: the page fetches the record through the same scoped API as everything else.
 */
export type LiveMessage =
  | { type: 'event'; unit: string; agent: string; seq: number; eventType?: string; severity?: string }
  | { type: 'agent'; unit: string; agent: string; online: boolean }
  | { type: 'warning'; unit: string; id: string; severity: string; state: string };

type Listener = (message: LiveMessage) => void;

export class LiveFeed {
  private readonly listeners = new Set<Listener>();

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(message: LiveMessage): void {
    for (const listener of this.listeners) listener(message);
  }

  get subscribers(): number {
    return this.listeners.size;
  }
}

/**
 * Publishes what ingest stores. Wraps the pipeline's handle (the one place every agent message
 * passes) rather than teaching ingest about browsers; publishing never delays or fails ingest.
 */
export function publishIngest(pipeline: IngestPipeline, feed: LiveFeed, store: Store, logger: Logger): void {
  const handle = pipeline.handle.bind(pipeline);
  pipeline.handle = async (topic, payload) => {
    const outcome = await handle(topic, payload);
    if (feed.subscribers > 0) {
      eachOutcome(outcome, payload, (one, onePayload) =>
        announce(one, onePayload, feed, store).catch((err: unknown) =>
          logger.warn({ err }, 'live feed publish failed'),
        ),
      );
    }
    return outcome;
  };
}

/** `payload` is the message the outcome is about: for a stored event, its verified envelope. */
async function announce(
  outcome: IngestOutcome,
  payload: Buffer,
  feed: LiveFeed,
  store: Store,
): Promise<void> {
  if (outcome.kind !== 'event' && outcome.kind !== 'status') return;
  const agent = await store.getAgent(outcome.agentId);
  if (!agent) return;
  if (outcome.kind === 'status') {
    feed.publish({ type: 'agent', unit: agent.unit, agent: agent.id, online: outcome.online });
    return;
  }
  const event = JSON.parse(payload.toString('utf8')) as { type: string; severity: string };
  feed.publish({
    type: 'event',
    unit: agent.unit,
    agent: agent.id,
    seq: outcome.seq,
    eventType: event.type,
    severity: event.severity,
  });
}

/** A stream that says nothing for this long gets a comment line, so proxies keep it open. */
const KEEPALIVE_MS = 20_000;
/** Open streams are cheap but not free; a page holds one. */
export const MAX_STREAMS = 500;

export interface StreamDeps {
  store: Store;
  clock: Clock;
  changes: AccessChanges;
  recheckMs?: number;
}

export function streamRoutes(feed: LiveFeed, deps: StreamDeps) {
  return async (app: FastifyInstance) => {
    const open = new Set<ServerResponse>();
    // Fastify's close waits for open connections and a stream never goes idle: end them before it does.
    app.addHook('preClose', async () => {
      for (const res of open) res.end();
    });

    app.get(
      '/api/v1/stream',
      {
        config: { permission: 'monitoring.read' },
        schema: {
          summary: 'Live updates for the dashboard (text/event-stream)',
          description:
            'Server-sent events `event`, `agent`, `warning`, each with a JSON `data` line naming what changed, ' +
            'only for the caller’s units; a `hello` first. The stream ends (after an `ended` event) when the ' +
            'caller logs out, is disabled, gets a new password or has their key revoked.',
          tags: ['stream'],
          security: [{ bearer: [] }],
          produces: ['text/event-stream'],
          response: {
            ...authErrorResponses,
            503: { type: 'object', properties: { error: { type: 'string' } } },
          },
        },
      },
      async (request, reply) => {
        if (open.size >= MAX_STREAMS) {
          return reply.code(503).send({ error: `too many open streams (${MAX_STREAMS}); try again later` });
        }
        const principal = request.principal;
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          ...SECURITY_HEADERS,
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-store',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        open.add(res);
        const send = (event: string, data: unknown) =>
          res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        res.write('retry: 3000\n\n');
        send('hello', { at: new Date().toISOString() });
        const unsubscribe = feed.subscribe((message) => {
          if (seesUnit(principal, message.unit)) send(message.type, message);
        });
        const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
        // A stream lives as long as its caller's access: logout, a disabled user or a revoked key ends it.
        let checking: Promise<void> | undefined;
        let again = false;
        const recheck = (): void => {
          if (checking) {
            again = true;
            return;
          }
          checking = authenticate(deps.store, request, deps.clock, { touch: false })
            .then((still) => {
              if (!still.ok) {
                send('ended', { reason: still.error });
                res.end();
              }
            })
            .catch((err: unknown) => request.log.warn({ err }, 'live stream access re-check failed'))
            .finally(() => {
              checking = undefined;
              if (again && !res.writableEnded) {
                again = false;
                recheck();
              }
            });
        };
        const rechecks = setInterval(recheck, deps.recheckMs ?? STREAM_RECHECK_MS);
        const unsubscribeChanges = deps.changes.subscribe(recheck);
        const finish = () => {
          clearInterval(keepalive);
          clearInterval(rechecks);
          unsubscribe();
          unsubscribeChanges();
          open.delete(res);
        };
        request.raw.on('close', finish);
        res.on('close', finish);
      },
    );
  };
}
