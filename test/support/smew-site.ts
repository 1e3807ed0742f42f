import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { eventually } from './eventually.js';
import { freePort } from './ports.js';
import { ExitedEarly, runSmew, startSmew, untilReady, type Running } from './processes.js';

/** What a collector says when an address it is to listen on is taken (collector/listen-address.ts). */
const PORT_TAKEN = /(?:http|broker)\.listen: \S+ is already in use by another program/;

/**
 * A collector and agents as real `smew` processes in a temp dir, on free ports: what an operator
 * would run, driven the way an operator would drive it.
 */
export interface Site {
  dir: string;
  /** Fixed once the collector has started: a first start may move to new ports (see startCollector). */
  httpUrl: string;
  collectorConfig: string;
  apiKey: string;
  collector?: Running;
  /**
   * Starts `smew collector` and waits until it answers /healthz as itself (60 s by default). If it
   * exits first, the error has its exit code, signal and last output. The ports were picked free
   * when the site was created, and another process can bind one before the collector does: a first
   * start then moves to new ports and tries again; a restart (others know the ports by then) tries
   * the same ports again.
   */
  startCollector(options?: { timeoutMs?: number }): Promise<Running>;
  stopCollector(signal?: NodeJS.Signals): Promise<void>;
  api<T = unknown>(path: string): Promise<T>;
  token(unit?: string, kind?: 'agent' | 'collector'): Promise<string>;
}

export async function createSite(
  options: { brokerUrl?: string; extra?: Record<string, unknown> } = {},
): Promise<Site> {
  const dir = mkdtempSync(join(tmpdir(), 'smew-site-'));
  const httpPort = await freePort();
  const brokerPort = await freePort();
  const collectorConfig = join(dir, 'collector.yaml');
  writeFileSync(
    collectorConfig,
    stringify({
      unit: '测试单位',
      http: { listen: `127.0.0.1:${httpPort}` },
      broker: options.brokerUrl ? { url: options.brokerUrl } : { listen: `127.0.0.1:${brokerPort}` },
      store: { url: `sqlite:${join(dir, 'smew.db')}` },
      identity: { dir: join(dir, 'collector-identity') },
      ...options.extra,
    }),
  );
  const created = await runSmew([
    'apikey',
    'create',
    '--name',
    'e2e',
    '--role',
    'secadmin',
    '--config',
    collectorConfig,
  ]);
  if (created.code !== 0) throw new Error(`apikey create failed: ${created.stderr}`);
  const apiKey = created.stdout.trim();
  let started = false;
  /** New free ports in the config, for a first start that found one taken. */
  const movePorts = async () => {
    const config = parse(readFileSync(collectorConfig, 'utf8')) as {
      http: { listen: string };
      broker: { listen?: string };
    };
    config.http.listen = `127.0.0.1:${await freePort()}`;
    if (config.broker.listen) config.broker.listen = `127.0.0.1:${await freePort()}`;
    writeFileSync(collectorConfig, stringify(config));
    site.httpUrl = `http://${config.http.listen}`;
  };
  const site: Site = {
    dir,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    collectorConfig,
    apiKey,
    async startCollector({ timeoutMs = 60_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (let attempt = 1; ; attempt++) {
        const collector = startSmew(['collector', '--config', collectorConfig]);
        site.collector = collector;
        try {
          await untilReady(
            collector,
            async () => {
              const response = await fetch(`${site.httpUrl}/healthz`, { signal: AbortSignal.timeout(5_000) });
              if (!response.ok) return false;
              // Another test's collector could hold the port: ready when this child names the one answering.
              const { collector: id } = (await response.json()) as { collector: string };
              return collector.stderr().includes(`smew collector ${id}\n`);
            },
            { what: `collector ${site.httpUrl}/healthz`, timeoutMs: Math.max(deadline - Date.now(), 1_000) },
          );
          started = true;
          return collector;
        } catch (err) {
          const taken = err instanceof ExitedEarly ? PORT_TAKEN.exec(collector.stderr()) : null;
          if (!taken || attempt >= 5 || Date.now() >= deadline) throw err;
          const was = taken[0];
          if (started) await new Promise((resolve) => setTimeout(resolve, 500));
          else await movePorts();
          console.warn(
            `[smew-site] collector start ${attempt} failed (${was}); trying again on ${started ? 'the same ports' : site.httpUrl}`,
          );
        }
      }
    },
    async stopCollector(signal = 'SIGTERM') {
      await site.collector?.stop(signal);
      site.collector = undefined;
    },
    async api<T>(path: string): Promise<T> {
      const response = await fetch(`${site.httpUrl}${path}`, {
        headers: { authorization: `Bearer ${apiKey}` },
      });
      if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
      return (await response.json()) as T;
    },
    async token(unit = '测试单位', kind: 'agent' | 'collector' = 'agent') {
      const result = await runSmew([
        'token',
        'create',
        '--unit',
        unit,
        '--for',
        kind,
        '--config',
        collectorConfig,
      ]);
      if (result.code !== 0) throw new Error(`token create failed: ${result.stderr}`);
      return result.stdout.trim();
    },
  };
  return site;
}

/** `smew collector enroll` of `child` at `parent` for `unit`; returns the child's collector id. */
export async function enrollCollector(child: Site, parent: Site, unit: string): Promise<string> {
  const token = await parent.token(unit, 'collector');
  const result = await runSmew([
    'collector',
    'enroll',
    '--parent',
    parent.httpUrl,
    '--token',
    token,
    '--config',
    child.collectorConfig,
  ]);
  if (result.code !== 0) throw new Error(`collector enroll failed (${result.code}): ${result.stderr}`);
  return result.stdout.trim();
}

export interface AgentHandle {
  config: string;
  identityDir: string;
  agentId: string;
  process?: Running;
  run(): Running;
}

/** How a test runs `smew`: the built tree, or another installation of it (a package's launcher). */
export interface SmewCommand {
  run: typeof runSmew;
  start: typeof startSmew;
}
const BUILT_TREE: SmewCommand = { run: runSmew, start: startSmew };

/** Enrolls an agent with `smew agent enroll` (of `smew`, the built tree unless said) at the site. */
export async function enrollAgent(
  site: Site,
  host: { sysfs: string; procfs: string; devfs: string },
  overrides: Record<string, unknown> = {},
  smew: SmewCommand = BUILT_TREE,
): Promise<AgentHandle> {
  const identityDir = mkdtempSync(join(site.dir, 'agent-'));
  const config = join(identityDir, 'agent.yaml');
  writeFileSync(
    config,
    stringify({
      collector: { url: site.httpUrl },
      identity: { dir: identityDir },
      scan: { interval: '50ms' },
      heartbeat: { interval: '1s' },
      ack: { timeout: '2s' },
      // Test agents scan every 50 ms on a loaded machine: the self-limit would slow them and add events.
      limits: { maxCpuPercent: 100 },
      paths: { sysfs: host.sysfs, procfs: host.procfs, devfs: host.devfs },
      ...overrides,
    }),
  );
  const enrolled = await smew.run(['agent', 'enroll', '--token', await site.token(), '--config', config]);
  if (enrolled.code !== 0) throw new Error(`agent enroll failed (${enrolled.code}): ${enrolled.stderr}`);
  const agentId = enrolled.stdout.trim();
  const handle: AgentHandle = {
    config,
    identityDir,
    agentId,
    run() {
      handle.process = smew.start(['agent', 'run', '--config', config]);
      return handle.process;
    },
  };
  return handle;
}

/** The condition changes an agent process has logged so far (each one is in its outbox). */
export function loggedChanges(agent: Running, key?: string): { key: string; state: string }[] {
  return agent
    .stderr()
    .split('\n')
    .filter((line) => line.includes('"condition changed"'))
    .map((line) => JSON.parse(line) as { key: string; state: string })
    .filter((change) => key === undefined || change.key === key);
}

/** The events an agent process recorded for its host inventory so far (agent/inventory.ts). */
export function loggedInventoryEvents(agent: Running): number {
  return agent
    .stderr()
    .split('\n')
    .filter((line) => line.includes('"inventory recorded"')).length;
}

/**
 * Unplugs and replugs `netdev` `times` times, waiting after each move until the agent has
 * recorded the change, so the test knows exactly which events exist without racing the scan.
 */
export async function toggleNic(
  host: { unplug(netdev: string): void; plug(netdev: string): void },
  agent: Running,
  netdev: string,
  times: number,
  between: (index: number) => void | Promise<void> = () => undefined,
): Promise<void> {
  const key = `net.wireless.present:${netdev}`;
  await eventually(() => loggedChanges(agent, key).length > 0, {
    what: `the agent's first scan of ${netdev}`,
  });
  for (let i = 0; i < times; i++) {
    const before = loggedChanges(agent, key).length;
    if (i % 2 === 0) host.unplug(netdev);
    else host.plug(netdev);
    await eventually(() => loggedChanges(agent, key).length > before, {
      what: `the agent to record toggle ${i + 1} of ${netdev}`,
    });
    await between(i);
  }
}
