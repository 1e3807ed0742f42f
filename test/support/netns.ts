import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { writeIdentity } from '../../agent/identity.js';
import { ed25519Suite } from '../../shared/crypto/ed25519.js';
import { agentIdFromPublicKey, collectorIdFromPublicKey } from '../../shared/identity.js';
import { eventually } from './eventually.js';
import { start, SMEW_BIN, type Running } from './processes.js';

/**
 * Network namespaces for tests that need real kernel interfaces (veth pairs, routes, sockets).
 * Every namespace a lab creates is named `smewt<pid>-<n>` and deleted by `cleanup()`, and also
 * when the test process exits; a lab's first use sweeps namespaces left by test processes that
 * died without cleaning up. Addresses come only from 10.200.0.0/16 and the documentation ranges
 * (192.0.2/24, 198.51.100/24, 203.0.113/24), and nothing is ever connected to the host's own
 * namespace, so no test traffic can leave the machine.
 */
const PREFIX = 'smewt';
const NETNS_DIR = '/run/netns';

/** Runs `ip …` with arguments (never a shell) and returns its stdout; throws with stderr on failure. */
export function ip(args: readonly string[]): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`ip ${args.join(' ')} failed: ${stderr.trim() || (err as Error).message}`, {
      cause: err,
    });
  }
}

/** Why namespaces cannot be used here, or undefined when they can. */
export function netnsUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root (network namespaces need CAP_SYS_ADMIN)';
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'the ip command (iproute2) is not installed';
  }
  const probe = `${PREFIX}${process.pid}-probe`;
  try {
    ip(['netns', 'add', probe]);
    ip(['netns', 'del', probe]);
  } catch (err) {
    return `ip netns add failed: ${(err as Error).message}`;
  }
  return undefined;
}

/**
 * True when the namespace tests can run. In CI (CI=true) a machine that cannot is a failure, not
 * a skip, so a green run means the kernel was really exercised.
 */
export function requireNetns(): boolean {
  const reason = netnsUnavailableReason();
  if (reason === undefined) return true;
  const message = `network namespace tests cannot run: ${reason}`;
  if (process.env.CI === 'true') throw new Error(`${message}; CI must run them as root with iproute2`);
  console.warn(`SKIP: ${message}`);
  return false;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Deletes namespaces whose creating test process is gone (a crash or a SIGKILL mid-test). */
function sweepStale(): void {
  if (!existsSync(NETNS_DIR)) return;
  for (const name of readdirSync(NETNS_DIR)) {
    const match = new RegExp(`^${PREFIX}(\\d+)-`).exec(name);
    if (match === null || pidAlive(Number(match[1]))) continue;
    try {
      ip(['netns', 'del', name]);
    } catch {
      // Someone else swept it first.
    }
  }
}

export interface Namespace {
  name: string;
  /** `ip -n NS …` */
  ip(args: readonly string[]): string;
  /** Runs a program inside the namespace (via `ip netns exec`, which also remounts /sys for it). */
  spawn(command: string, args: readonly string[], env?: NodeJS.ProcessEnv): Running;
  /** Runs `smew …` from dist/ inside the namespace to completion. */
  smew(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Starts a long-running `smew …` inside the namespace. */
  startSmew(args: readonly string[], env?: NodeJS.ProcessEnv): Running;
}

/** The stand-in for an internet host (documentation range 203.0.113.0/24). */
export const INTERNET_HOST = '203.0.113.10';

/** A TCP listener on INTERNET_HOST:port in `internet`, resolved once it accepts connections. */
export async function listenOnInternet(
  internet: Namespace,
  port: number,
  title = 'smew-inet-srv',
): Promise<Running> {
  const listener = internet.spawn(process.execPath, [
    '-e',
    `process.title = ${JSON.stringify(title)};
     require('node:net').createServer((s) => s.on('error', () => {})).listen(${port}, '${INTERNET_HOST}', () => console.log('listening'));`,
  ]);
  await eventually(() => listener.stdout().includes('listening'), {
    what: 'listener in the internet namespace',
  });
  return listener;
}

export class NetnsLab {
  private readonly namespaces: string[] = [];
  private readonly children: Running[] = [];
  private count = 0;
  private readonly onExit = () => this.deleteNamespaces();

  constructor() {
    sweepStale();
    process.once('exit', this.onExit);
  }

  /** A new empty namespace with its loopback up. */
  namespace(label: string): Namespace {
    const name = `${PREFIX}${process.pid}-${this.count++}-${label}`;
    ip(['netns', 'add', name]);
    this.namespaces.push(name);
    ip(['-n', name, 'link', 'set', 'lo', 'up']);
    const children = this.children;
    return {
      name,
      ip: (args) => ip(['-n', name, ...args]),
      spawn(command, args, env) {
        const running = start('ip', ['netns', 'exec', name, command, ...args], env ? { env } : {});
        children.push(running);
        return running;
      },
      async smew(args) {
        const running = this.spawn(process.execPath, [SMEW_BIN, ...args]);
        running.child.stdin?.end();
        const code = await running.exited;
        return { code, stdout: running.stdout(), stderr: running.stderr() };
      },
      startSmew(args, env) {
        return this.spawn(process.execPath, [SMEW_BIN, ...args], env);
      },
    };
  }

  /**
   * A veth pair with one end in each namespace, created directly inside them: the host namespace
   * never holds either end. Both ends stay down until the test sets them up.
   */
  veth(a: Namespace, aName: string, b: Namespace, bName: string): void {
    a.ip(['link', 'add', aName, 'type', 'veth', 'peer', 'name', bName, 'netns', b.name]);
  }

  /**
   * The agent's namespace joined to an "internet" namespace by veth a0 (203.0.113.2) ⇄ n0
   * (203.0.113.10), both up; neither has a route anywhere else.
   */
  agentAndInternet(): { agent: Namespace; internet: Namespace } {
    const agent = this.namespace('agent');
    const internet = this.namespace('inet');
    this.veth(agent, 'a0', internet, 'n0');
    agent.ip(['addr', 'add', '203.0.113.2/24', 'dev', 'a0']);
    internet.ip(['addr', 'add', `${INTERNET_HOST}/24`, 'dev', 'n0']);
    // No IPv6 link-local addresses: their duplicate-address detection ends a second or two after
    // the link comes up, and that late address notice would trigger a scan the test did not ask for.
    agent.ip(['link', 'set', 'a0', 'addrgenmode', 'none']);
    internet.ip(['link', 'set', 'n0', 'addrgenmode', 'none']);
    agent.ip(['link', 'set', 'a0', 'up']);
    internet.ip(['link', 'set', 'n0', 'up']);
    return { agent, internet };
  }

  /** Stops the children it started, then deletes every namespace (which removes their veths). */
  async cleanup(): Promise<void> {
    await Promise.all(this.children.splice(0).map((child) => child.stop('SIGKILL', 2000)));
    this.deleteNamespaces();
    process.off('exit', this.onExit);
  }

  private deleteNamespaces(): void {
    for (const name of this.namespaces.splice(0)) {
      try {
        ip(['netns', 'del', name]);
      } catch {
        // Already gone.
      }
    }
  }
}

/**
 * An agent identity and config for `smew agent run` inside a namespace with no collector: the
 * identity names a broker on a closed loopback port, so events stay in the outbox and the agent's
 * log ("condition changed") is what a test watches. The periodic scan is an hour away, so only a
 * change notice can explain a prompt event.
 */
export function offlineAgentConfig(overrides: Record<string, unknown> = {}): { file: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'smew-netns-agent-'));
  const keys = ed25519Suite.generateKeyPair();
  const collectorKeys = ed25519Suite.generateKeyPair();
  const agentId = agentIdFromPublicKey(keys.publicKey);
  writeIdentity(join(dir, 'identity'), {
    agentId,
    ...keys,
    collectorUrl: 'http://127.0.0.1:1',
    unit: 'test',
    collector: {
      id: collectorIdFromPublicKey(collectorKeys.publicKey),
      alg: 'ed25519',
      publicKey: collectorKeys.publicKey,
    },
    broker: { url: 'mqtt://127.0.0.1:1', username: agentId, password: 'unused' },
    enrolledAt: '2026-01-01T00:00:00Z',
  });
  const file = join(dir, 'agent.yaml');
  writeFileSync(
    file,
    stringify({
      identity: { dir: join(dir, 'identity') },
      scan: { interval: '1h' },
      heartbeat: { interval: '1h' },
      ...overrides,
    }),
  );
  return { file, dir };
}

export interface LoggedChange {
  type: string;
  state: string;
  key: string;
  /** performance.now() in the test process when the line arrived */
  seenAt: number;
}

/**
 * Calls `onLine` for each whole line a child writes to `stream`, with performance.now() in this
 * process when the chunk holding it arrived (the last, unfinished line waits for its end).
 */
export function followLines(
  running: Running,
  stream: 'stdout' | 'stderr',
  onLine: (line: string, seenAt: number) => void,
): void {
  let buffer = '';
  running.child[stream]?.on('data', (chunk: Buffer) => {
    const seenAt = performance.now();
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) onLine(line, seenAt);
  });
}

/** Follows an agent's stderr log and collects its "condition changed" lines as they arrive. */
export function followChanges(running: Running): LoggedChange[] {
  const changes: LoggedChange[] = [];
  followLines(running, 'stderr', (line, seenAt) => {
    try {
      const entry = JSON.parse(line) as { msg?: string; type?: string; state?: string; key?: string };
      if (entry.msg === 'condition changed' && entry.type && entry.state && entry.key) {
        changes.push({ type: entry.type, state: entry.state, key: entry.key, seenAt });
      }
    } catch {
      // Not a log line (a crash trace): the test's own assertions report it.
    }
  });
  return changes;
}
