import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { agentConfigSchema } from '../agent/config.js';
import { enrollAgent } from '../agent/enroll.js';
import { createApiKey } from '../collector/auth/api-keys.js';
import { createEnrollmentToken } from '../collector/auth/enrollment-tokens.js';
import { addUser } from '../collector/auth/users.js';
import { collectorConfigSchema } from '../collector/config.js';
import { formatHostPort, parseListenAddress, type ListenAddress } from '../collector/listen-address.js';
import { optionalString, untilSignal, type Command } from '../shared/cli.js';
import { systemClock } from '../shared/clock.js';
import { createLogger } from '../shared/log.js';

const DEMO_UNIT = '演示单位';
const DEMO_USER = 'demo';

/**
 * `smew demo`: a collector on the embedded defaults (aedes, SQLite in a temp dir) and one agent
 * watching this machine, in one process. It takes the default ports when they are free and free
 * ones otherwise (a Mosquitto on 1883 is common), and says which.
 */
export const demoCommand: Command = {
  name: 'demo',
  summary: 'run a collector and a local agent on this machine, and print where to look',
  usage: 'demo [--dir D] [--http HOST:PORT] [--mqtt HOST:PORT] [--sysfs P] [--procfs P] [--devfs P]',
  options: {
    dir: { type: 'string' },
    http: { type: 'string' },
    mqtt: { type: 'string' },
    sysfs: { type: 'string' },
    procfs: { type: 'string' },
    devfs: { type: 'string' },
  },
  async run(args) {
    const dir = resolve(optionalString(args, 'dir') ?? mkdtempSync(join(tmpdir(), 'smew-demo-')));
    const logger = createLogger('demo');
    // Loaded on use, so `smew agent run` from the same bin does not carry the collector's modules.
    const { startCollector } = await import('../collector/server.js');
    const { startAgent } = await import('../agent/runner.js');
    const http = await listenOrFree(optionalString(args, 'http') ?? '127.0.0.1:8080', '--http');
    const mqtt = await listenOrFree(optionalString(args, 'mqtt') ?? '127.0.0.1:1883', '--mqtt');
    const config = collectorConfigSchema.parse({
      unit: DEMO_UNIT,
      http: { listen: http.listen },
      broker: { listen: mqtt.listen },
      store: { url: `sqlite:${join(dir, 'smew.db')}` },
      identity: { dir: join(dir, 'collector') },
    });
    const collector = await startCollector(config);
    try {
      const { store } = collector;
      const apiKey = await createApiKey(store, { name: 'demo', role: 'secadmin' });
      const password = randomBytes(9).toString('base64url');
      // A reused --dir keeps its user: its password was printed on the first run.
      const login = (await addUser(store, { name: DEMO_USER, password, role: 'secadmin' }))
        ? `${DEMO_USER} / ${password}`
        : `${DEMO_USER} / (the password printed when ${dir} was first used)`;
      const agentDir = join(dir, 'agent');
      const { token } = await createEnrollmentToken(store, { unit: DEMO_UNIT, ttlMs: 600_000 });
      await enrollAgent({ dir: agentDir, collectorUrl: collector.httpUrl, token, clock: systemClock });
      const agent = await startAgent(
        agentConfigSchema.parse({
          collector: { url: collector.httpUrl },
          identity: { dir: agentDir },
          scan: { interval: '5s' },
          heartbeat: { interval: '10s' },
          paths: {
            sysfs: optionalString(args, 'sysfs') ?? '/sys',
            procfs: optionalString(args, 'procfs') ?? '/proc',
            devfs: optionalString(args, 'devfs') ?? '/dev',
          },
        }),
        { logger: createLogger('agent') },
      );

      const moved = (what: string, wanted: ListenAddress, url: string) =>
        wanted.port === boundPort(url)
          ? ''
          : `  (${what} port ${wanted.port} was busy; took ${boundPort(url)} instead)\n`;
      process.stdout.write(
        '\nsmew demo — 保密监测预警演示\n\n' +
          `  dashboard 仪表盘  ${collector.httpUrl}/\n` +
          `  login 登录        ${login}\n` +
          `  HTTP API          ${collector.httpUrl}/api/v1/events   (OpenAPI: ${collector.httpUrl}/api/openapi.json)\n` +
          `  API key           ${apiKey}\n` +
          `  MQTT broker       ${collector.brokerUrl} (embedded)\n` +
          moved('HTTP', http.wanted, collector.httpUrl) +
          moved('MQTT', mqtt.wanted, collector.brokerUrl) +
          `  agent             ${agent.agentId}, watching this machine (no interface is approved, so every\n` +
          '                    active link is reported: that is the point of the demo)\n' +
          `  data              ${dir}\n\n` +
          `  try: curl -H 'Authorization: Bearer ${apiKey}' ${collector.httpUrl}/api/v1/events\n\n` +
          'Stop with Ctrl-C.\n',
      );
      const signal = await untilSignal();
      logger.info({ signal }, 'stopping');
      await agent.stop();
    } finally {
      await collector.stop();
    }
    return 0;
  },
};

/**
 * The wanted address when nothing listens on it, else the same host with port 0, so the kernel
 * picks a free port when the collector binds (no window for another program to take it).
 */
async function listenOrFree(
  text: string,
  option: string,
): Promise<{ listen: string; wanted: ListenAddress }> {
  const wanted = parseListenAddress(text, option);
  const free = await new Promise<boolean>((done) => {
    const probe = createServer();
    probe.once('error', () => done(false));
    probe.listen(wanted.port, wanted.host, () => probe.close(() => done(true)));
  });
  return { listen: free ? text : formatHostPort(wanted.host, 0), wanted };
}

function boundPort(url: string): number {
  return Number(new URL(url).port);
}
