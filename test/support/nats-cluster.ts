import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './eventually.js';
import { freePort } from './ports.js';
import { start, type Running } from './processes.js';
import { portOpen } from './services.js';

/**
 * A three-node NATS cluster of the test's own on free loopback ports: each node a nats-server
 * process with JetStream (its own store dir), an MQTT listener and routes to the other two, all
 * including one authorization file (`authFile`) that the collector rewrites. Never the
 * machine's NATS on 4222.
 */
export interface NatsNode {
  name: string;
  natsUrl: string;
  mqttUrl: string;
  mqttPort: number;
  /** The node's HTTP monitoring endpoint (/jsz, /connz), for diagnosing a failure. */
  monitorUrl: string;
  pidFile: string;
  running: boolean;
  /** What the node wrote (nats-server logs to stderr), for failure messages. */
  output(lines?: number): string;
  kill(): Promise<void>;
  restart(): Promise<void>;
}

export interface NatsCluster {
  dir: string;
  authFile: string;
  nodes: NatsNode[];
  stop(): Promise<void>;
}

export async function startNatsCluster(initialAuthorization: string, size = 3): Promise<NatsCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'smew-nats-'));
  const authFile = join(dir, 'auth.conf');
  writeFileSync(authFile, initialAuthorization, { mode: 0o600 });
  const ports: { client: number; route: number; mqtt: number; monitor: number }[] = [];
  for (let i = 0; i < size; i++) {
    ports.push({
      client: await freePort(),
      route: await freePort(),
      mqtt: await freePort(),
      monitor: await freePort(),
    });
  }
  const nodes: NatsNode[] = ports.map((port, i) => {
    const name = `n${i + 1}`;
    const storeDir = join(dir, name);
    mkdirSync(storeDir);
    const pidFile = join(dir, `${name}.pid`);
    const configFile = join(dir, `${name}.conf`);
    const routes = ports.filter((_, j) => j !== i).map((p) => `nats-route://127.0.0.1:${p.route}`);
    writeFileSync(
      configFile,
      [
        `server_name: ${name}`,
        `listen: 127.0.0.1:${port.client}`,
        `http: 127.0.0.1:${port.monitor}`,
        `pid_file: "${pidFile}"`,
        `jetstream { store_dir: "${storeDir}", max_memory_store: 64MB, max_file_store: 1GB }`,
        size > 1
          ? `cluster { name: smew, listen: 127.0.0.1:${port.route}, routes: ${JSON.stringify(routes)} }`
          : '',
        // Sessions and retained messages on every node; the per-subscription consumers in memory on
        // one, since an agent subscribes again on every connect and the retained ack carries the state.
        `mqtt { listen: 127.0.0.1:${port.mqtt}, stream_replicas: ${size}, consumer_replicas: 1, consumer_memory_storage: true }`,
        'include "auth.conf"',
        '',
      ].join('\n'),
    );
    let server: Running | undefined;
    const launch = async () => {
      server = start('nats-server', ['-c', configFile]);
      node.running = true;
      await eventually(
        async () => {
          if (server!.child.exitCode !== null)
            throw new Error(`nats-server ${name} exited: ${server!.stderr()}`);
          return (await portOpen(port.client)) && (await portOpen(port.mqtt));
        },
        { what: `nats-server ${name}`, timeoutMs: 20_000 },
      );
    };
    const node: NatsNode = {
      name,
      natsUrl: `nats://127.0.0.1:${port.client}`,
      mqttUrl: `mqtt://127.0.0.1:${port.mqtt}`,
      mqttPort: port.mqtt,
      monitorUrl: `http://127.0.0.1:${port.monitor}`,
      pidFile,
      running: false,
      output: (lines = 40) => (server ? server.describeExit(lines) : ''),
      async kill() {
        node.running = false;
        await server?.stop('SIGKILL');
      },
      /** Starts the node (again), on its ports and store dir. */
      restart: launch,
    };
    return node;
  });
  // Each node waits for its routes to come up; they start together.
  await Promise.all(nodes.map((node) => node.restart()));
  return {
    dir,
    authFile,
    nodes,
    async stop() {
      for (const node of nodes) if (node.running) await node.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Whether nats-server is installed. In CI (CI=true) a missing binary is a failure, not a skip;
 * elsewhere the skip is announced.
 */
export function requireNatsServer(testName: string): boolean {
  try {
    execFileSync('nats-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return true;
  }
  if (process.env.CI === 'true')
    throw new Error('nats-server is not installed; CI must install it (.ci/run)');
  console.warn(`SKIP ${testName}: nats-server is not installed`);
  return false;
}
