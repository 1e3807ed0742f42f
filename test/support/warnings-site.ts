/**
 * A collector in-process (embedded aedes, SQLite in a temp dir) with API keys of each role, a
 * loopback webhook receiver as its notification channel, and agents that sign their events
 * with their own keys and publish them over MQTT with the credentials enrollment gave them.
 * `restart()` stops the collector and starts it again on the same data directory.
 */
import type { MqttClient } from 'mqtt';
import { createApiKey } from '../../collector/auth/api-keys.js';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { createLogger } from '../../shared/log.js';
import { agentTopic } from '../../shared/topics.js';
import {
  connectAsAgent,
  enrollAgent,
  signedEvent,
  tempDir,
  type TestAgent,
  testCollectorConfig,
} from './collector-harness.js';
import { eventually } from './eventually.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

export const UNIT = '测试单位';

export interface SiteAgent {
  agent: TestAgent;
  unit: string;
  /** Signs and publishes the next event; returns its seq. */
  publish(overrides?: Record<string, unknown>): Promise<number>;
  /** Publishes `online` or `offline` on its status topic, as its connect or Last Will does. */
  status(word: 'online' | 'offline'): Promise<void>;
}

interface Enrolled {
  agent: TestAgent;
  unit: string;
  username: string;
  password: string;
  seq: number;
  client?: MqttClient;
}

export class WarningsSite {
  collector!: RunningCollector;
  keys: Record<'allUnits' | 'officer' | 'officer2' | 'viewer' | 'otherUnit' | 'auditor', string> = {
    allUnits: '',
    officer: '',
    officer2: '',
    viewer: '',
    otherUnit: '',
    auditor: '',
  };
  private readonly agents: Enrolled[] = [];

  private constructor(
    readonly dir: ReturnType<typeof tempDir>,
    readonly receiver: WebhookReceiver,
    private readonly overrides: Record<string, unknown>,
  ) {}

  /** `overrides` replace config keys; as a function it gets the webhook receiver's URL. */
  static async start(
    overrides: Record<string, unknown> | ((receiverUrl: string) => Record<string, unknown>) = {},
  ): Promise<WarningsSite> {
    const receiver = await startWebhookReceiver();
    const resolved = typeof overrides === 'function' ? overrides(receiver.url) : overrides;
    const site = new WarningsSite(tempDir('smew-warnings-'), receiver, resolved);
    await site.startCollector();
    const store = site.collector.store;
    site.keys = {
      allUnits: await createApiKey(store, { name: 'root', role: 'secadmin' }),
      officer: await createApiKey(store, { name: 'alice', role: 'secadmin', unit: UNIT }),
      officer2: await createApiKey(store, { name: 'bob', role: 'secadmin', unit: UNIT }),
      viewer: await createApiKey(store, { name: 'victor', role: 'viewer', unit: UNIT }),
      otherUnit: await createApiKey(store, { name: 'olga', role: 'secadmin', unit: '其他单位' }),
      auditor: await createApiKey(store, { name: 'audrey', role: 'auditor' }),
    };
    return site;
  }

  private async startCollector(): Promise<void> {
    this.collector = await startCollector(
      testCollectorConfig(this.dir.path, {
        notify: {
          channels: [{ name: 'hook', type: 'webhook', url: this.receiver.url, timeout: '5s' }],
          retry: { initialDelay: '50ms', maxDelay: '200ms', maxAttempts: 20 },
        },
        // Signatures on the main thread: a handful of events need no worker threads.
        ingest: { ackDelay: 10, verifyWorkers: 0 },
        ...this.overrides,
      }),
      { logger: createLogger('test', 'warn') },
    );
  }

  async restart(): Promise<void> {
    for (const enrolled of this.agents) {
      await enrolled.client?.endAsync();
      enrolled.client = undefined;
    }
    await this.collector.stop();
    await this.startCollector();
  }

  async addAgent(unit = UNIT): Promise<SiteAgent> {
    const { agent, reply } = await enrollAgent(this.collector, { unit });
    const enrolled: Enrolled = {
      agent,
      unit,
      username: reply.broker.username,
      password: reply.broker.password,
      seq: 0,
    };
    this.agents.push(enrolled);
    // The broker's port changes with each start: connect to the current one.
    const connected = async () =>
      (enrolled.client ??= await connectAsAgent(
        this.collector.brokerUrl,
        enrolled.username,
        enrolled.password,
      ));
    return {
      agent,
      unit,
      status: async (word) => {
        await (
          await connected()
        ).publishAsync(agentTopic(agent.id, 'status'), word, { qos: 1, retain: true });
      },
      publish: async (overrides = {}) => {
        const client = await connected();
        enrolled.seq += 1;
        const envelope = signedEvent(agent, enrolled.seq, overrides);
        await client.publishAsync(agentTopic(agent.id, 'events'), JSON.stringify(envelope), { qos: 1 });
        return enrolled.seq;
      },
    };
  }

  /** Waits until every event published so far is stored and evaluated by the rules. */
  async settled(): Promise<void> {
    const expected = this.agents.reduce((sum, a) => sum + a.seq, 0);
    await eventually(
      async () => {
        const stored = (await this.collector.store.listEvents({ limit: 100_000 })).length;
        if (stored < expected) return false;
        await this.collector.warnings.drain();
        return (await this.collector.store.warnings.eventsAfterRulesCursor(1)).length === 0;
      },
      { what: `${expected} events stored and evaluated` },
    );
  }

  async api<T = Record<string, unknown>>(
    path: string,
    options: { key?: keyof WarningsSite['keys']; method?: string; body?: unknown } = {},
  ): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.collector.httpUrl}${path}`, {
      method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
      headers: {
        authorization: `Bearer ${this.keys[options.key ?? 'officer']}`,
        ...(options.body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
    });
    return { status: response.status, body: (await response.json()) as T };
  }

  async warnings(query = ''): Promise<ApiWarning[]> {
    const { status, body } = await this.api<{ items: ApiWarning[] }>(`/api/v1/warnings${query}`);
    if (status !== 200) throw new Error(`GET /api/v1/warnings: ${status}`);
    return body.items;
  }

  async stop(): Promise<void> {
    for (const enrolled of this.agents) await enrolled.client?.endAsync();
    await this.collector?.stop();
    await this.receiver.close();
    this.dir.remove();
  }
}

export interface ApiWarning {
  id: string;
  state: string;
  severity: string;
  rule: string;
  key: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
  resolvedAt: string | null;
  unit: string;
  agent: string | null;
  agents: string[];
  origin: string;
  allowedTransitions: string[];
}
