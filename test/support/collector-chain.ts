/**
 * Real collectors chained in one process for the hierarchy tests: each with its own SQLite,
 * HTTP port and embedded broker; `enroll` makes one the child of another as `smew collector
 * enroll` does, over HTTP with a one-time token.
 */
import { createEnrollmentToken } from '../../collector/auth/enrollment-tokens.js';
import type { CollectorConfig } from '../../collector/config.js';
import { SUBJECTS } from '../../collector/documents/sign-off.js';
import type { NewIncident } from '../../collector/store/clocks/clock-store.js';
import type { Store } from '../../collector/store/store.js';
import { enrollAtParent } from '../../collector/hierarchy/enroll-at-parent.js';
import { loadOrCreateCollectorIdentity } from '../../collector/identity.js';
import { startCollector, type CollectorRuntime, type RunningCollector } from '../../collector/server.js';
import { createLogger } from '../../shared/log.js';
import { tempDir, testCollectorConfig } from './collector-harness.js';
import { measuresAt } from './clock-records.js';
import { freePort } from './ports.js';

export interface ChainNode {
  name: string;
  config: CollectorConfig;
  running?: RunningCollector;
  dir: { path: string; remove(): void };
}

const logger = createLogger('test', 'silent');

/** A collector of `unit` at `level`, with a quick link (100 ms) unless `overrides` say otherwise. */
export async function makeNode(
  name: string,
  unit: string,
  level: string,
  overrides: Record<string, unknown> = {},
): Promise<ChainNode> {
  const dir = tempDir(`smew-hier-${name}-`);
  const port = await freePort();
  const config = testCollectorConfig(dir.path, {
    unit,
    level,
    http: { listen: `127.0.0.1:${port}` },
    ingest: { ackDelay: 10, verifyWorkers: 0 },
    parent: { interval: '100ms', scanInterval: '200ms', retryMax: '500ms', timeout: '2s' },
    ...overrides,
  });
  return { name, config, dir };
}

export async function startNode(node: ChainNode, runtime: CollectorRuntime = {}): Promise<RunningCollector> {
  node.running = await startCollector(node.config, { logger, ...runtime });
  return node.running;
}

export function run(node: ChainNode): RunningCollector {
  if (!node.running) throw new Error(`${node.name} is not running`);
  return node.running;
}

export async function enrollNode(child: ChainNode, parent: ChainNode): Promise<void> {
  const { token } = await createEnrollmentToken(run(parent).store, {
    unit: child.config.unit,
    kind: 'collector',
  });
  await enrollAtParent({
    parentUrl: run(parent).httpUrl,
    token,
    identity: loadOrCreateCollectorIdentity(child.config.identity.dir),
    unit: child.config.unit,
    level: child.config.level,
    store: run(child).store.hierarchy,
  });
}

/** One sample of a node's /metrics (Prometheus text), by name and labels as written; undefined when absent. */
export async function metric(node: ChainNode, sample: string): Promise<number | undefined> {
  const text = await (await fetch(`${run(node).httpUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

export async function receivedReports(node: ChainNode, type: string, origin?: string) {
  return run(node).store.hierarchy.listReports({ type, origin, limit: 10_000 });
}

/** A bearer-key request to a node's API; `body` is sent as JSON (POST unless `method` says otherwise). */
export async function callApi<T>(
  node: ChainNode,
  key: string,
  path: string,
  body?: unknown,
  method?: string,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${run(node).httpUrl}${path}`, {
    method: method ?? (body === undefined ? 'GET' : 'POST'),
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as T };
}

export async function stopAndRemove(nodes: readonly ChainNode[]): Promise<void> {
  for (const node of nodes) await node.running?.stop();
  for (const node of nodes) node.dir.remove();
}

/** A 第61条 incident entered by hand at 甲单位 (a unit), discovered now unless overridden, with one measure taken. */
export function unitIncident(id: string, title: string, overrides: Partial<NewIncident> = {}): NewIncident {
  const now = new Date().toISOString();
  return {
    id,
    title,
    level: '秘密',
    unit: '甲单位',
    unitLevel: 'unit',
    discoveredAt: now,
    discoverySource: 'manual',
    description: null,
    measures: measuresAt(now, '已断网'),
    evidence: [],
    createdAt: now,
    createdBy: 'test',
    ...overrides,
  };
}

/**
 * Records the incident as an officer would have it go up: with its 泄密事件报告 drafted and signed
 * off (签发), since the hierarchy forwards an incident only then.
 */
export async function createSignedIncident(store: Store, incident: NewIncident): Promise<void> {
  await store.clocks.createIncident(incident);
  await signOffIncidentReport(store, incident);
}

/** A signed-off 泄密事件报告 for an incident already recorded. */
export async function signOffIncidentReport(
  store: Store,
  incident: Pick<NewIncident, 'id' | 'unit' | 'level'>,
  at = new Date().toISOString(),
): Promise<void> {
  const id = `doc-${incident.id}`;
  await store.documents.create({
    id,
    kind: 'incident-report',
    subject: SUBJECTS.incident(incident.id),
    unit: incident.unit,
    title: '关于可能泄露国家秘密事件的报告',
    level: incident.level,
    term: null,
    urgency: '特急',
    number: null,
    fields: { nature: '可能泄露' },
    createdAt: at,
    createdBy: '保密干部',
  });
  await store.documents.signOff(id, '保密干部', at);
}

/**
 * Over HTTP, as an officer would have an incident go up: records it, drafts its 泄密事件报告 and
 * signs it off (签发). Answers the incident's POST (status and body).
 */
export async function postSignedIncident(
  httpUrl: string,
  key: string,
  incident: Record<string, unknown>,
): Promise<{ status: number; body: { id: string } }> {
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${httpUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = { status: response.status, body: (await response.json()) as { id: string } };
    if (response.status >= 300)
      throw new Error(`POST ${path}: ${response.status} ${JSON.stringify(answer.body)}`);
    return answer;
  };
  const created = await post('/api/v1/incidents', incident);
  const document = await post('/api/v1/documents', {
    kind: 'incident-report',
    incidentId: created.body.id,
    nature: '可能泄露',
  });
  await post(`/api/v1/documents/${document.body.id}/signoff`, {});
  return created;
}
