import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './eventually.js';
import { freePort } from './ports.js';
import { start, type Running } from './processes.js';
import { portOpen } from './services.js';

/**
 * A Mosquitto of the test's own on a free port, with persistence in a temp dir, so a test can
 * restart it mid-stream without touching the machine's broker on 1883.
 */
export interface OwnMosquitto {
  port: number;
  url: string;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startOwnMosquitto(extraConfig = ''): Promise<OwnMosquitto> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'smew-mosquitto-'));
  const configFile = join(dir, 'mosquitto.conf');
  writeFileSync(
    configFile,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${dir}/`,
      'set_tcp_nodelay true',
      'max_queued_messages 100000',
      extraConfig,
    ].join('\n'),
  );
  let running: Running | undefined;
  const launch = async () => {
    running = start('mosquitto', ['-c', configFile]);
    await eventually(() => portOpen(port), { what: `mosquitto on ${port}`, timeoutMs: 10_000 });
  };
  await launch();
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    async restart() {
      await running?.stop('SIGTERM');
      await launch();
    },
    async stop() {
      await running?.stop('SIGTERM');
    },
  };
}

/**
 * Whether the mosquitto binary is installed, for tests that run a Mosquitto of their own. In CI
 * (CI=true) a missing binary is a failure, not a skip; elsewhere the skip is announced.
 */
export function requireMosquittoBinary(testName: string): boolean {
  try {
    execFileSync('mosquitto', ['-h'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return true;
  }
  if (process.env.CI === 'true') throw new Error('mosquitto is not installed; CI must install it');
  console.warn(`SKIP ${testName}: mosquitto is not installed`);
  return false;
}
