/**
 * One schema per API shape (issue 15): the OpenAPI document the collector serves and the types
 * the dashboard compiles against come from the same zod schemas in shared/api/. The type checks
 * below fail to compile (npm run typecheck) when a dashboard type stops being its schema's type;
 * the runtime checks fail when a route documents a shape other than its schema.
 */
import { join } from 'node:path';
import swagger from '@fastify/swagger';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { z } from 'zod';
import { buildApi } from '../../collector/api/app.js';
import { responseSchema, type ShapeTypes } from '../../collector/api/schemas.js';
import type { ClockScheduler } from '../../collector/clocks/scheduler.js';
import { loadOrCreateCollectorIdentity } from '../../collector/identity.js';
import { CollectorMetrics } from '../../collector/metrics.js';
import { openSqliteStore, type SqliteStore } from '../../collector/store/sqlite-store.js';
import type * as Dashboard from '../../dashboard/src/api.js';
import { apiKey, apiKeyList, user, userList } from '../../shared/api/access.js';
import { agent, agentList, pendingAgentList } from '../../shared/api/agents.js';
import { auditList } from '../../shared/api/audit.js';
import { assessmentDueList, incident, incidentList, system, systemList } from '../../shared/api/clocks.js';
import type { AssessmentDue, Hop, Incident, System } from '../../shared/api/clocks.js';
import type { Actor } from '../../shared/api/common.js';
import { eventPage, type StoredEvent } from '../../shared/api/events.js';
import { notice, noticeList, type Notice } from '../../shared/api/notices.js';
import { loginReply, sessionReply, type SessionUser } from '../../shared/api/session.js';
import { silence, silenceList, type Silence } from '../../shared/api/silences.js';
import { warningDetail, warningPage, type Warning } from '../../shared/api/warnings.js';
import { ManualClock } from '../../shared/clock.js';
import { createLogger } from '../../shared/log.js';
import { tempDir } from '../support/collector-harness.js';

/** Exactly the same type, not merely assignable. */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

describe('API shapes', () => {
  it('give the dashboard its types: each is its schema’s type', () => {
    const same: [
      Same<Dashboard.Agent, z.infer<typeof agent>>,
      Same<Dashboard.StoredEvent, StoredEvent>,
      Same<Dashboard.Incident, Incident>,
      Same<Dashboard.Hop, Hop>,
      Same<Dashboard.System, System>,
      Same<Dashboard.AssessmentDue, AssessmentDue>,
      Same<Dashboard.Notice, Notice>,
      Same<Dashboard.Silence, Silence>,
      Same<Dashboard.Actor, Actor>,
      Same<Dashboard.SessionUser, SessionUser>,
      Same<Omit<Dashboard.Warning, 'history' | 'evidence'>, Warning>,
      Same<Dashboard.User, z.infer<typeof user>>,
      Same<Dashboard.ApiKey, z.infer<typeof apiKey>>,
    ] = [true, true, true, true, true, true, true, true, true, true, true, true, true];
    expect(same.every(Boolean)).toBe(true);
    expectTypeOf<Dashboard.Agent>().toHaveProperty('reportedSeq');
  });

  it('a field added to a schema shows in the route’s reply type and in the OpenAPI document', async () => {
    const extended = agent.extend({ addedField: z.string() });
    expectTypeOf<z.infer<typeof extended>>().toHaveProperty('addedField');
    const app = Fastify();
    await app.register(swagger, { openapi: { openapi: '3.1.0', info: { title: 't', version: '0' } } });
    app
      .withTypeProvider<ShapeTypes>()
      .get('/x', { schema: { response: { 200: responseSchema(extended) } } }, () => ({
        ...sampleAgent,
        addedField: 'shown',
      }));
    await app.ready();
    expect(propertyPaths(responseOf(app.swagger() as unknown as OpenApi, 'get', '/x', '200'))).toContain(
      'addedField',
    );
    expect((await app.inject({ url: '/x' })).json()).toMatchObject({ addedField: 'shown' });
    await app.close();
  });
});

describe('the OpenAPI document', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: SqliteStore;
  let doc: OpenApi;
  let ajvWarnings: string[];

  beforeAll(async () => {
    // Ajv (Fastify's validator) prints strict-mode complaints about a schema with console.warn.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    dir = tempDir('smew-api-schemas-');
    store = openSqliteStore(join(dir.path, 'smew.db'));
    const clock = new ManualClock('2026-11-26T12:00:00Z');
    const identity = loadOrCreateCollectorIdentity(join(dir.path, 'identity'));
    const metrics = new CollectorMetrics(store);
    const logger = createLogger('test', 'silent');
    const api = await buildApi({
      store,
      metrics,
      logger,
      collectorId: identity.id,
      warnings: { store, clock },
      clocks: { store, scheduler: {} as ClockScheduler, unit: 'unit-a', level: 'unit' },
      enrollment: {
        store,
        identity,
        clock,
        metrics,
        logger,
        brokerUrls: ['mqtt://x:1883'],
        maxSkewMs: 300_000,
        onCredentialsChanged: () => {},
      },
    });
    doc = (await api.inject({ url: '/api/openapi.json' })).json() as OpenApi;
    await api.close();
    ajvWarnings = warn.mock.calls.map((call) => call.join(' '));
    warn.mockRestore();
  });

  it('compile without a warning from the validator (a collector prints none at start)', () => {
    expect(ajvWarnings).toEqual([]);
  });
  afterAll(async () => {
    await store.close();
    dir.remove();
  });

  const routes: [string, string, string, z.ZodType][] = [
    ['get', '/api/v1/agents', '200', agentList],
    ['post', '/api/v1/agents/{id}/revoke', '200', agent],
    ['get', '/api/v1/events', '200', eventPage],
    ['get', '/api/v1/warnings', '200', warningPage],
    ['get', '/api/v1/warnings/{id}', '200', warningDetail],
    ['get', '/api/v1/silences', '200', silenceList],
    ['post', '/api/v1/silences', '201', silence],
    ['get', '/api/v1/notices', '200', noticeList],
    ['get', '/api/v1/notices/{id}', '200', notice],
    ['get', '/api/v1/audit', '200', auditList],
    ['get', '/api/v1/session', '200', sessionReply],
    ['post', '/api/v1/session', '200', loginReply],
    ['get', '/api/v1/systems', '200', systemList],
    ['patch', '/api/v1/systems/{id}', '200', system],
    ['get', '/api/v1/assessments/due', '200', assessmentDueList],
    ['get', '/api/v1/incidents', '200', incidentList],
    ['post', '/api/v1/incidents/{id}/reports', '201', incident],
    ['get', '/api/v1/agents/pending', '200', pendingAgentList],
    ['get', '/api/v1/users', '200', userList],
    ['get', '/api/v1/apikeys', '200', apiKeyList],
  ];

  it.each(routes)('%s %s documents every field of its schema (%s)', (method, path, status, shape) => {
    const documented = propertyPaths(responseOf(doc, method, path, status));
    const fromSchema = propertyPaths(z.toJSONSchema(shape, { io: 'output' }));
    expect(fromSchema.length).toBeGreaterThan(0);
    expect(documented).toEqual(fromSchema);
  });

  it('shows reportedSeq on the agents, as the dashboard reads it', () => {
    expect(propertyPaths(responseOf(doc, 'get', '/api/v1/agents', '200'))).toContain('items[].reportedSeq');
  });
});

interface OpenApi {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>
  >;
}

function responseOf(doc: OpenApi, method: string, path: string, status: string): unknown {
  const schema = doc.paths[path]?.[method]?.responses[status]?.content?.['application/json']?.schema;
  if (schema === undefined) throw new Error(`the document has no ${method} ${path} ${status} JSON schema`);
  return schema;
}

/** Every property of a JSON Schema as a path (`items[].reportedSeq`), sorted. */
function propertyPaths(schema: unknown, prefix = ''): string[] {
  if (typeof schema !== 'object' || schema === null) return [];
  const node = schema as { properties?: Record<string, unknown>; items?: unknown; anyOf?: unknown[] };
  const paths: string[] = [];
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    paths.push(`${prefix}${name}`, ...propertyPaths(child, `${prefix}${name}.`));
  }
  if (node.items) paths.push(...propertyPaths(node.items, `${prefix.replace(/\.$/, '')}[].`));
  for (const branch of node.anyOf ?? []) paths.push(...propertyPaths(branch, prefix));
  return [...new Set(paths)].sort();
}

const sampleAgent: z.input<typeof agent> = {
  id: 'ag-1',
  unit: 'unit-a',
  alg: 'ed25519',
  publicKey: 'AAAA',
  hostname: null,
  lastSeen: null,
  online: false,
  enrolledAt: '2026-11-26T12:00:00.000Z',
};
