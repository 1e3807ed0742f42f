import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadOrCreateCollectorIdentity } from '../../collector/identity.js';
import { startCollector } from '../../collector/server.js';
import { openPostgresStore, type PostgresStore } from '../../collector/store/postgres-store.js';
import { createLogger } from '../../shared/log.js';
import { eventually } from '../support/eventually.js';
import { startIngestMember, type IngestMember } from '../support/ingest-member.js';
import { SimulatedAgent } from '../support/simulated-agent.js';
import { startOwnMosquitto, type OwnMosquitto } from '../support/mosquitto.js';
import { adminQuery, createTestSchema, postgresAvailable, type TestSchema } from '../support/postgres.js';
import { makeTestAgent, tempDir, testCollectorConfig } from '../support/collector-harness.js';

const AGENTS = 12;
const EVENTS_PER_AGENT = 60;
const TOTAL = AGENTS * EVENTS_PER_AGENT;

// The broker is the test's own Mosquitto (always installed, like in the e2e tests); PostgreSQL is the machine's.
describe.runIf(await postgresAvailable())(
  'two collectors sharing one Mosquitto ($share) and one PostgreSQL',
  () => {
    let dir: ReturnType<typeof tempDir>;
    let schema: TestSchema;
    let mosquitto: OwnMosquitto;
    let store: PostgresStore;
    const members: IngestMember[] = [];
    const agents: SimulatedAgent[] = [];

    beforeEach(async () => {
      dir = tempDir('smew-shared-');
      schema = await createTestSchema();
      mosquitto = await startOwnMosquitto();
      store = await openPostgresStore(schema.url);
    });
    afterEach(async () => {
      for (const agent of agents.splice(0)) await agent.close();
      for (const member of members.splice(0)) await member.stop();
      await store.close();
      await mosquitto.stop();
      await schema.drop();
      dir.remove();
    });

    it(
      'stores every event exactly once and acks all of it when one collector dies mid-stream',
      { timeout: 150_000 },
      async () => {
        // One key for the group: agents accept acks from the collector they enrolled with.
        const identity = loadOrCreateCollectorIdentity(join(dir.path, 'identity'));
        const a = await startIngestMember('a', mosquitto.url, schema.url, identity);
        const b = await startIngestMember('b', mosquitto.url, schema.url, identity);
        members.push(a, b);
        const storedBy = { a: a.outcomes, b: b.outcomes };

        // Enrolled straight in the shared database (enrollment over HTTP has its own tests).
        for (let i = 0; i < AGENTS; i++) {
          const agent = makeTestAgent();
          const tokenHash = `token-${i}`;
          const now = new Date().toISOString();
          await store.createEnrollmentToken({
            tokenHash,
            unit: '一处',
            createdAt: now,
            expiresAt: '2999-01-01T00:00:00.000Z',
          });
          const enrolled = await store.enrollAgent({
            tokenHash,
            agentId: agent.id,
            alg: 'ed25519',
            publicKey: agent.keys.publicKey,
            hostname: `ws-${i}`,
            version: 'test',
            brokerSecretHash: 'unused-by-mosquitto',
            now,
          });
          expect(enrolled.ok).toBe(true);
          agents.push(await SimulatedAgent.connect(mosquitto.url, agent, identity.publicKey));
        }
        for (const agent of agents) agent.startResending(2000);

        const half = EVENTS_PER_AGENT / 2;
        for (let seq = 1; seq <= half; seq++) await Promise.all(agents.map((agent) => agent.publish(seq)));
        // Both members take a share of the first half before one of them goes.
        await eventually(() => (storedBy.a.get('event') ?? 0) > 0 && (storedBy.b.get('event') ?? 0) > 0, {
          what: 'both collectors storing events',
        });
        await b.crash();
        for (let seq = half + 1; seq <= EVENTS_PER_AGENT; seq++) {
          await Promise.all(agents.map((agent) => agent.publish(seq)));
        }

        await eventually(async () => (await countEvents(schema)) === TOTAL, {
          what: `${TOTAL} events in PostgreSQL`,
          timeoutMs: 45_000,
        });
        await eventually(() => agents.every((agent) => agent.acked === EVENTS_PER_AGENT), {
          what: 'every agent acked up to its last seq',
          timeoutMs: 20_000,
        });

        // Each (agent, seq) is stored once, with no gaps, and each insert was made by exactly one collector.
        const rows = await store.listEvents({ limit: TOTAL + 10 });
        expect(rows).toHaveLength(TOTAL);
        for (const agent of agents) {
          const seqs = rows.filter((r) => r.agentId === agent.agent.id).map((r) => r.seq);
          expect(seqs.sort((x, y) => x - y)).toEqual(
            Array.from({ length: EVENTS_PER_AGENT }, (_, i) => i + 1),
          );
          expect((await store.getAgent(agent.agent.id))!.ackedSeq).toBe(EVENTS_PER_AGENT);
        }
        const inserted = (storedBy.a.get('event') ?? 0) + (storedBy.b.get('event') ?? 0);
        expect(inserted).toBe(TOTAL);
        expect(storedBy.b.get('event') ?? 0).toBeLessThan(TOTAL);
      },
    );

    it('refuses a shared group without an external broker, naming the key', async () => {
      const config = testCollectorConfig(dir.path, { ingest: { sharedGroup: 'smew' } });
      await expect(startCollector(config, { logger: createLogger('collector', 'silent') })).rejects.toThrow(
        /ingest\.sharedGroup: needs broker\.url/,
      );
    });
  },
);

async function countEvents(schema: TestSchema): Promise<number> {
  const [row] = await adminQuery<{ n: number }>(`SELECT COUNT(*)::int AS n FROM ${schema.name}.events`);
  return row!.n;
}
