import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { copyFixtureHost } from '../support/fixture-host.js';
import { freePort } from '../support/ports.js';
import { startSmew, type Running } from '../support/processes.js';

const running: Running[] = [];
const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(running.map((r) => r.stop('SIGKILL')));
  for (const server of servers) server.close();
});

function occupy(port: number): Promise<void> {
  return new Promise((resolve) => {
    const server = createServer();
    servers.push(server);
    server.listen(port, '127.0.0.1', () => resolve());
  });
}

describe('smew demo', () => {
  it('takes a free port when the wanted one is busy, says so, and shows the local agent’s events', async () => {
    const busyHttp = await freePort();
    await occupy(busyHttp);
    const mqtt = await freePort();
    const host = copyFixtureHost('sys-wireless');
    const demo = startSmew([
      'demo',
      '--http',
      `127.0.0.1:${busyHttp}`,
      '--mqtt',
      `127.0.0.1:${mqtt}`,
      '--sysfs',
      host.sysfs,
      '--procfs',
      host.procfs,
      '--devfs',
      host.devfs,
    ]);
    running.push(demo);
    const printed = await eventually(
      () => {
        if (demo.child.exitCode !== null) throw new Error(`demo exited: ${demo.stderr()}`);
        return demo.stdout().includes('Ctrl-C') ? demo.stdout() : undefined;
      },
      { what: 'the demo banner' },
    );
    expect(printed).toContain(`HTTP port ${busyHttp} was busy`);
    expect(printed).not.toContain('MQTT port');
    const httpUrl = /dashboard \S+\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(printed)?.[1];
    const apiKey = /API key\s+(\S+)/.exec(printed)?.[1];
    expect(httpUrl).toBeDefined();
    expect(httpUrl).not.toContain(`:${busyHttp}`);
    expect(printed).toMatch(/login \S+\s+demo \/ \S{8,}/);

    const event = await eventually(
      async () => {
        const response = await fetch(`${httpUrl}/api/v1/events?type=net.wireless.present`, {
          headers: { authorization: `Bearer ${apiKey}` },
        });
        const { items } = (await response.json()) as { items: { key: string; state: string }[] };
        return items.find((e) => e.state === 'raised');
      },
      { what: 'the fixture NIC reported through the demo' },
    );
    expect(event.key).toBe('net.wireless.present:wlp2s0');
    expect(await demo.stop('SIGTERM')).toBe(0);
  });
});
