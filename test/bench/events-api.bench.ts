/**
 * The events list route's serialization: GET /api/v1/events?limit=1000 answered from a store
 * that hands back ready rows, so the figure is Fastify's validation, the route and the response
 * serializer built from the route's schema (shared/api/), not the database.
 * Run: npx tsx test/bench/events-api.bench.ts [--short] [--rounds N]
 */
import Fastify from 'fastify';
import { eventRoutes } from '../../collector/api/events.js';
import type { Store, StoredEvent } from '../../collector/store/store.js';
import { argValue, isShort, median, printTable, reportFigures } from './support/report.js';

const PAGE = 1000;
const rounds = isShort() ? 5 : argValue('--rounds', 300);
const events: StoredEvent[] = Array.from({ length: PAGE + 1 }, (_, i) => ({
  id: PAGE + 1 - i,
  agentId: `agent-${i % 50}`,
  unit: 'unit-a',
  seq: i + 1,
  ts: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  receivedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i, 500)).toISOString(),
  type: 'usb.storage.mounted',
  state: 'raised',
  key: `usb:${i}`,
  severity: 'high',
  data: { vendor: '0781', product: '5581', serial: `SN${i}`, mount: '/media/usb' },
  skewed: false,
  envelope: JSON.stringify({ v: 1, agent: `agent-${i % 50}`, seq: i + 1, sig: 'x'.repeat(88) }),
}));
// The register names each event's terminal: an empty one here, so the figure is the page's own cost.
const store = {
  listEvents: async () => events,
  register: { listTerminals: async () => [], personsByAccount: async () => new Map() },
} as unknown as Store;

const app = Fastify();
app.decorateRequest('principal', null);
app.addHook('onRequest', async (request) => {
  request.principal = { name: 'bench', role: 'secadmin', unit: null, kind: 'api-key' } as never;
});
await app.register(eventRoutes(store));
await app.ready();

const times: number[] = [];
let bytes = 0;
for (let i = 0; i < rounds + 20; i++) {
  const start = performance.now();
  const reply = await app.inject({ method: 'GET', url: `/api/v1/events?limit=${PAGE}` });
  const ms = performance.now() - start;
  if (reply.statusCode !== 200) throw new Error(`HTTP ${reply.statusCode}: ${reply.body}`);
  bytes = reply.body.length;
  if (i >= 20) times.push(ms);
}
await app.close();
const figures = {
  page: PAGE,
  rounds,
  bytes,
  medianMs: median(times),
  p90Ms: times.sort((a, b) => a - b)[Math.floor(times.length * 0.9)]!,
};
printTable([figures]);
reportFigures(figures);
