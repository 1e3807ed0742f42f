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
