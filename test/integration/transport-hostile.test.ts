import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../collector/auth/api-keys.js';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { ed25519Suite } from '../../shared/crypto/ed25519.js';
import { signMessage } from '../../shared/envelope.js';
import { createLogger } from '../../shared/log.js';
import { agentTopic } from '../../shared/topics.js';
import { eventually } from '../support/eventually.js';
import {
  connectAsAgent,
  enrollAgent,
  makeTestAgent,
  signedEvent,
  tempDir,
  type TestAgent,
  testCollectorConfig,
} from '../support/collector-harness.js';

/**
 * Hostile input through the real embedded broker and ingest: each message is rejected with its
 * quarantine reason (or, for a replay, dropped as a duplicate), counted by reason in /metrics,
 * and after each one the collector still answers /healthz and stores the agent's next valid
 * event. The table at the end of the run is printed for the report.
 */
const logger = createLogger('test', 'silent');

interface Row {
  name: string;
  /** The payload to publish on `topic` (default: the agent's events topic). */
  payload(ctx: Ctx): Buffer | string;
  topic?(ctx: Ctx): string;
  /**
   * The embedded broker refuses these topics to this client (and closes it): they are handed to
   * ingest as an external broker without ACLs would deliver them.
   */
  direct?: true;
  expect: { quarantine: string } | { duplicate: true } | { stored: true };
}

interface Ctx {
  agent: TestAgent;
  other: TestAgent;
  otherPassword: string;
  revoked: TestAgent;
  seq: number;
}

const ROWS: Row[] = [
  { name: 'malformed JSON', payload: () => '{"v":1,"agent":', expect: { quarantine: 'malformed-json' } },
  {
    name: 'invalid UTF-8',
    payload: () =>
      Buffer.concat([Buffer.from('{"v":1,"key":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]),
    expect: { quarantine: 'malformed-json' },
  },
  {
    // The embedded broker refuses such a packet as its header arrives (see the test below); an
    // external broker without max_packet_size would deliver it, and ingest refuses it too.
    name: 'payload over 64 KiB',
    payload: () => Buffer.alloc(64 * 1024 + 1, 0x20),
    direct: true,
    expect: { quarantine: 'oversized' },
  },
  {
    name: 'unsigned envelope',
    payload: ({ agent, seq }) => {
      const { sig: _sig, ...unsigned } = signedEvent(agent, seq);
      return JSON.stringify(unsigned);
    },
    expect: { quarantine: 'schema' },
  },
  {
    name: 'wrong types (seq as a string)',
    payload: ({ agent, seq }) => JSON.stringify(signedEvent(agent, seq, { seq: String(seq) })),
    expect: { quarantine: 'schema' },
  },
  {
    name: 'signature by another key',
    payload: ({ agent, seq }) =>
      JSON.stringify({ ...signedEvent(agent, seq), sig: signedEvent(makeTestAgent(), seq).sig }),
    expect: { quarantine: 'bad-signature' },
  },
  {
    name: 'signed content altered after signing',
    payload: ({ agent, seq }) => JSON.stringify({ ...signedEvent(agent, seq), severity: 'info' }),
    expect: { quarantine: 'bad-signature' },
  },
  {
    name: 'envelope naming another agent on its own topic (spoofed sender)',
    payload: ({ other, seq }) => JSON.stringify(signedEvent(other, seq)),
    expect: { quarantine: 'topic-mismatch' },
  },
  {
    name: '<script> as the event type',
    payload: ({ agent, seq }) =>
      JSON.stringify(signedEvent(agent, seq, { type: '<script>alert(1)</script>' })),
    expect: { quarantine: 'schema' },
  },
  {
    name: 'unknown agent',
    payload: ({ seq }) => JSON.stringify(signedEvent(unknownAgent, seq)),
    topic: () => agentTopic(unknownAgent.id, 'events'),
    direct: true,
    expect: { quarantine: 'unknown-agent' },
  },
  {
    name: 'valid envelope of a revoked agent',
    payload: ({ revoked }) => JSON.stringify(signedEvent(revoked, 1)),
    topic: ({ revoked }) => agentTopic(revoked.id, 'events'),
    direct: true,
    expect: { quarantine: 'revoked' },
  },
  {
    name: 'heartbeat with a forged signature',
    payload: ({ agent }) =>
      JSON.stringify({
        ...signMessage(
          {
            v: 1,
            agent: agent.id,
            ts: new Date().toISOString(),
            type: 'agent.heartbeat',
            lastSeq: 5,
            alg: 'ed25519',
          },
          ed25519Suite.signer(ed25519Suite.generateKeyPair().privateKey),
        ),
      }),
    topic: ({ agent }) => agentTopic(agent.id, 'heartbeat'),
    expect: { quarantine: 'bad-signature' },
  },
  {
    name: 'status other than online/offline',
    payload: () => '<script>alert(1)</script>',
    topic: ({ agent }) => agentTopic(agent.id, 'status'),
    expect: { quarantine: 'schema' },
  },
  {
    name: 'a different event under an already stored seq',
    payload: ({ agent }) => JSON.stringify(signedEvent(agent, 1, { key: 'net.wireless.present:other' })),
    expect: { quarantine: 'seq-conflict' },
  },
  {
    // Stored (it is validly signed evidence) but it opens a gap the watermark never crosses:
    // heartbeats reporting it raise agent.events.lost (test/integration/transport-liveness.test.ts).
    name: 'a huge seq jump',
    payload: ({ agent }) => JSON.stringify(signedEvent(agent, HUGE_SEQ)),
    expect: { stored: true },
  },
  {
    name: 'a stored envelope replayed',
    payload: ({ agent }) => JSON.stringify(firstEvent(agent)),
    expect: { duplicate: true },
  },
];

const MiB = 1024 * 1024;

/**
 * Writes a QoS 1 PUBLISH whose fixed header announces `size` bytes on the client's own socket,
 * then its body from one reused buffer, as fast as the socket takes it, until the broker closes
 * the connection or everything was sent. Returns how many body bytes were written.
 */
async function streamOversizedPublish(client: MqttClient, topic: string, size: number): Promise<number> {
  const stream = client.stream;
  const topicBytes = Buffer.from(topic);
  const lengthBytes: number[] = [];
  for (let n = size; ;) {
    const digit = n % 128;
    n = Math.floor(n / 128);
    lengthBytes.push(n > 0 ? digit | 0x80 : digit);
    if (n === 0) break;
  }
  const head = Buffer.concat([
    Buffer.from([0x32, ...lengthBytes, topicBytes.length >> 8, topicBytes.length & 0xff]),
    topicBytes,
    Buffer.from([0x7f, 0x01]),
  ]);
  const chunk = Buffer.alloc(MiB, 0x20);
  let sent = 0;
  let closed = false;
  stream.once('close', () => (closed = true));
  stream.on('error', () => (closed = true));
  stream.write(head);
  sent += head.length;
  while (!closed && sent < size) {
    const part = chunk.subarray(0, Math.min(chunk.length, size - sent));
    sent += part.length;
    if (!stream.write(part)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          stream.off('drain', done);
          stream.off('close', done);
          resolve();
        };
        stream.on('drain', done);
        stream.on('close', done);
      });
    }
  }
  // Everything written and the connection still open: the broker is taking the whole packet.
  return sent;
}

const unknownAgent = makeTestAgent();
const HUGE_SEQ = Number.MAX_SAFE_INTEGER - 1;
const firstEvents = new Map<string, ReturnType<typeof signedEvent>>();
function firstEvent(agent: TestAgent) {
  if (!firstEvents.has(agent.id)) firstEvents.set(agent.id, signedEvent(agent, 1));
  return firstEvents.get(agent.id)!;
}

describe('hostile input', () => {
  const dir = tempDir('smew-hostile-');
  let collector: RunningCollector;
  let client: MqttClient;
  let readerKey: string;
  const ctx = {} as Ctx;
  let nextSeq = 2;
  const table: string[] = [];

  async function enroll(): Promise<{ agent: TestAgent; password: string }> {
    const { agent, reply } = await enrollAgent(collector);
    return { agent, password: reply.broker.password };
  }

  const connect = (agent: TestAgent, password: string) =>
    connectAsAgent(collector.brokerUrl, agent.id, password);

  async function metric(name: string, labels = ''): Promise<number> {
    const text = await (await fetch(`${collector.httpUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
    return line ? Number(line.split(' ')[1]) : 0;
  }

  /** The main agent's next valid event is stored and acknowledged. */
  async function nextValidEvent(what: string): Promise<void> {
    const seq = nextSeq++;
    await client.publishAsync(
      agentTopic(ctx.agent.id, 'events'),
      JSON.stringify(signedEvent(ctx.agent, seq)),
      {
        qos: 1,
      },
    );
    await eventually(async () => (await collector.store.getAgent(ctx.agent.id))?.ackedSeq === seq, {
      what: `valid event ${seq} ${what}`,
    });
  }

  beforeAll(async () => {
    collector = await startCollector(
      testCollectorConfig(dir.path, { ingest: { ackDelay: 10, verifyWorkers: 0 } }),
      {
        logger,
      },
    );
    readerKey = await createApiKey(collector.store, { name: 'reader', role: 'secadmin' });
    const main = await enroll();
    const other = await enroll();
    const revoked = await enroll();
    Object.assign(ctx, {
      agent: main.agent,
      other: other.agent,
      otherPassword: other.password,
      revoked: revoked.agent,
    });
    await collector.store.revokeAgent(revoked.agent.id, new Date().toISOString());
    client = await connect(main.agent, main.password);
    await client.publishAsync(agentTopic(main.agent.id, 'events'), JSON.stringify(firstEvent(main.agent)), {
      qos: 1,
    });
    await eventually(async () => (await collector.store.getAgent(main.agent.id))?.ackedSeq === 1, {
      what: 'the first valid event',
    });
  }, 60_000);

  afterAll(async () => {
    console.log(`\nhostile input — outcome per message\n${table.join('\n')}\n`);
    await client?.endAsync(true);
    await collector?.stop();
    dir.remove();
  });

  it.each(ROWS)('$name', async (row) => {
    ctx.seq = nextSeq;
    const reason = 'quarantine' in row.expect ? row.expect.quarantine : undefined;
    const before = reason ? await metric('smew_ingest_rejected_total', `{reason="${reason}"}`) : 0;
    const duplicatesBefore = await metric('smew_ingest_duplicates_total');
    const quarantinedBefore = (await collector.store.listQuarantine({ limit: 1000 })).length;
    const topic = row.topic?.(ctx) ?? agentTopic(ctx.agent.id, 'events');
    const payload = row.payload(ctx);
    if (row.direct) await collector.ingest.handle(topic, Buffer.from(payload));
    else await client.publishAsync(topic, payload as Buffer, { qos: 1 });

    if (reason) {
      await eventually(
        async () => (await metric('smew_ingest_rejected_total', `{reason="${reason}"}`)) === before + 1,
        {
          what: `smew_ingest_rejected_total{reason="${reason}"} to count it`,
        },
      );
      const [latest] = await collector.store.listQuarantine({ limit: 1 });
      expect(latest!.reason).toBe(reason);
      expect((await collector.store.listQuarantine({ limit: 1000 })).length).toBe(quarantinedBefore + 1);
      table.push(
        `| ${row.name}${row.direct ? ' (handed to ingest)' : ''} | rejected: ${reason} | quarantined, counted |`,
      );
    } else if ('stored' in row.expect) {
      const ackedBefore = (await collector.store.getAgent(ctx.agent.id))!.ackedSeq;
      await eventually(
        async () =>
          (await collector.store.listEvents({ agentId: ctx.agent.id, limit: 1000 })).some(
            (e) => e.seq === HUGE_SEQ,
          ),
        { what: 'the far-ahead event to be stored' },
      );
      expect((await collector.store.getAgent(ctx.agent.id))!.ackedSeq).toBe(ackedBefore);
      table.push(
        `| ${row.name} | stored; the watermark stays, the gap shows | agent.events.lost once heartbeats report it |`,
      );
    } else {
      await eventually(async () => (await metric('smew_ingest_duplicates_total')) === duplicatesBefore + 1, {
        what: 'the replay to be counted as a duplicate',
      });
      expect((await collector.store.listQuarantine({ limit: 1000 })).length).toBe(quarantinedBefore);
      table.push(
        `| ${row.name} | dropped as a repeat (idempotent) | counted in smew_ingest_duplicates_total |`,
      );
    }

    // Still serving: health, and the next valid event is stored and acknowledged.
    expect((await fetch(`${collector.httpUrl}/healthz`)).status).toBe(200);
    await nextValidEvent(`after "${row.name}"`);
  });

  it('MQTT packets over broker.maxPacket are refused as their header arrives, the client cut off, memory flat', async () => {
    const refused = () => metric('smew_broker_refused_total', '{reason="oversized-packet"}');
    const before = await refused();
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 20);
    const sentPerAttempt: number[] = [];
    try {
      // Three PUBLISH packets of 100 MB each from an authenticated agent, as the review sent
      // them; written from one reused 1 MiB buffer, so the sender itself holds no 100 MB.
      for (let attempt = 0; attempt < 3; attempt++) {
        const hostile = await connect(ctx.other, ctx.otherPassword);
        sentPerAttempt.push(
          await streamOversizedPublish(hostile, agentTopic(ctx.other.id, 'events'), 100 * MiB),
        );
        await hostile.endAsync(true);
      }
    } finally {
      clearInterval(sampler);
    }
    const grewMiB = (rssPeak - rssBefore) / MiB;
    table.push(
      `| 3 × 100 MB PUBLISH (header first) | refused at the fixed header, connection closed after ${sentPerAttempt
        .map((n) => (n / MiB).toFixed(1))
        .join(
          ', ',
        )} MiB sent; peak RSS +${grewMiB.toFixed(1)} MiB | smew_broker_refused_total{reason="oversized-packet"} |`,
    );
    expect(
      sentPerAttempt.map((n) => n < 100 * MiB),
      'closed before the whole packet was sent',
    ).toEqual([true, true, true]);
    expect(grewMiB, 'peak RSS growth (MiB)').toBeLessThan(40);
    await eventually(async () => (await refused()) === before + 3, {
      what: 'smew_broker_refused_total{reason="oversized-packet"} to count three packets',
    });

    // mqtt.js itself sending a 1 MiB message: disconnected, counted, never reaches ingest.
    const quarantinedBefore = (await collector.store.listQuarantine({ limit: 1000 })).length;
    const sender = await connect(ctx.other, ctx.otherPassword);
    const closed = new Promise<void>((resolve) => sender.once('close', () => resolve()));
    sender.publish(agentTopic(ctx.other.id, 'events'), Buffer.alloc(MiB, 0x20), { qos: 1 });
    await closed;
    await sender.endAsync(true);
    await eventually(async () => (await refused()) === before + 4, { what: 'the 1 MiB publish counted' });
    expect((await collector.store.listQuarantine({ limit: 1000 })).length).toBe(quarantinedBefore);
    table.push(
      '| 1 MiB PUBLISH from mqtt.js | connection closed by the broker | never reaches ingest; counted |',
    );

    // The legitimate agent on its own connection goes on.
    await nextValidEvent('from the legitimate agent');
  });

  it('a batch body over http.maxReportBody at /api/v1/hierarchy/reports is refused with 413 before it is parsed', async () => {
    const refused = () => metric('smew_hierarchy_messages_refused_total', '{status="413"}');
    const before = await refused();
    const body = `{"kind":"smew.hierarchy.batch","records":[],"pad":"${'a'.repeat(9 * MiB)}"}`;
    const announced = await fetch(`${collector.httpUrl}/api/v1/hierarchy/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(announced.status).toBe(413);
    expect(((await announced.json()) as { error: string }).error).toMatch(/http\.maxReportBody/);
    // Without a content-length (chunked), the limit holds as the bytes arrive.
    const streamed = await fetch(`${collector.httpUrl}/api/v1/hierarchy/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new Blob([body]).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    await eventually(async () => (await refused()) === before + 2, { what: 'both counted' });
    expect((await fetch(`${collector.httpUrl}/healthz`)).status).toBe(200);
    table.push(
      '| 9 MiB body at /api/v1/hierarchy/reports (with and without content-length) | 413 naming http.maxReportBody, before parsing | smew_hierarchy_messages_refused_total{status="413"} |',
    );
  });

  it('a publish on another agent’s topic is refused by the broker and never reaches ingest', async () => {
    const quarantinedBefore = (await collector.store.listQuarantine({ limit: 1000 })).length;
    const refusedBefore = await metric('smew_broker_refused_total', '{reason="publish-not-allowed"}');
    const forged = signedEvent(ctx.agent, 1, { agent: ctx.other.id });
    // aedes answers a refused QoS 1 publish by closing the connection.
    const spoofer = await connect(ctx.agent, (await enrollAgain()).password);
    const closed = new Promise<void>((resolve) => spoofer.once('close', () => resolve()));
    spoofer.publish(agentTopic(ctx.other.id, 'events'), JSON.stringify(forged), { qos: 1 });
    await closed;
    await spoofer.endAsync(true);
    expect(await collector.store.listEvents({ agentId: ctx.other.id, limit: 10 })).toEqual([]);
    expect((await collector.store.listQuarantine({ limit: 1000 })).length).toBe(quarantinedBefore);
    expect(await metric('smew_broker_refused_total', '{reason="publish-not-allowed"}')).toBe(
      refusedBefore + 1,
    );
    table.push(
      '| publish on another agent’s topic | refused by the broker (connection closed) | never reaches ingest; smew_broker_refused_total{reason="publish-not-allowed"} |',
    );
    // The real connection was taken over by the spoofer's login (same client id); reconnect it.
    client = await connect(ctx.agent, currentPassword);
  });

  it('an unauthenticated or wrong-password connect is refused', async () => {
    const refusedBefore = await metric('smew_broker_refused_total', '{reason="bad-credentials"}');
    await expect(
      mqtt.connectAsync(
        collector.brokerUrl,
        { clientId: 'x', reconnectPeriod: 0, protocolVersion: 4 },
        false,
      ),
    ).rejects.toThrow(/Bad username or password|Not authorized/i);
    await expect(connect(ctx.agent, 'smew-bs-wrong')).rejects.toThrow(
      /Bad username or password|Not authorized/i,
    );
    expect(await metric('smew_broker_refused_total', '{reason="bad-credentials"}')).toBe(refusedBefore + 2);
    table.push(
      '| connect without or with wrong credentials | CONNACK refused | smew_broker_refused_total{reason="bad-credentials"} |',
    );
  });

  it('<script> inside event data is stored as data and served as JSON, never as markup', async () => {
    const seq = nextSeq++;
    const evil = '<script>alert(1)</script>';
    await client.publishAsync(
      agentTopic(ctx.agent.id, 'events'),
      JSON.stringify(
        signedEvent(ctx.agent, seq, {
          type: 'file.marked',
          key: 'file.marked:x',
          data: { path: evil, marking: '秘密' },
        }),
      ),
      { qos: 1 },
    );
    await eventually(async () => (await collector.store.getAgent(ctx.agent.id))?.ackedSeq === seq, {
      what: 'stored',
    });
    const response = await fetch(`${collector.httpUrl}/api/v1/events?type=file.marked`, {
      headers: { authorization: `Bearer ${readerKey}` },
    });
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as { items: { data: { path: string } }[] };
    expect(body.items[0]!.data.path).toBe(evil);
    table.push(
      '| <script> in event data | stored verbatim as data (signed evidence) | served as application/json |',
    );
  });

  let currentPassword = '';
  async function enrollAgain(): Promise<{ password: string }> {
    // Re-enrolling the same key issues a fresh broker secret for the spoofing connection.
    const { reply } = await enrollAgent(collector, { agent: ctx.agent });
    currentPassword = reply.broker.password;
    return { password: currentPassword };
  }
});
