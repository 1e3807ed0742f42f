import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../../agent/config.js';
import { enrollAgent } from '../../agent/enroll.js';
import { startAgent } from '../../agent/runner.js';
import { createEnrollmentToken } from '../../collector/auth/enrollment-tokens.js';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { systemClock } from '../../shared/clock.js';
import { createLogger } from '../../shared/log.js';
import { eventually } from '../support/eventually.js';
import { tempDir, testCollectorConfig } from '../support/collector-harness.js';
import { makeTestPki, type TestPki } from '../support/tls.js';

/**
 * TLS on both listeners (issue 4): a real agent enrolls over https and delivers over mqtts to a
 * real collector, trusting only the CA in collector.ca; an agent given another CA is refused with
 * a message that says why; missing or mismatched certificate files stop the collector at start.
 */
const silent = createLogger('test', 'silent');

describe('TLS on the HTTP and MQTT listeners', () => {
  let dir: ReturnType<typeof tempDir>;
  let pki: TestPki;
  let collector: RunningCollector;

  beforeAll(async () => {
    dir = tempDir('smew-tls-');
    pki = makeTestPki(dir.path);
    collector = await startCollector(
      testCollectorConfig(dir.path, {
        http: { listen: '127.0.0.1:0', tls: { cert: pki.certFile, key: pki.keyFile } },
        broker: { listen: '127.0.0.1:0', tls: { cert: pki.certFile, key: pki.keyFile, ca: pki.caFile } },
        ingest: { ackDelay: 10, verifyWorkers: 0 },
      }),
      { logger: silent },
    );
  });
  afterAll(async () => {
    await collector?.stop();
    dir.remove();
  });

  const token = async () =>
    (await createEnrollmentToken(collector.store, { unit: '测试单位', ttlMs: 3_600_000 })).token;

  it('serves https and mqtts only', async () => {
    expect(collector.httpUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(collector.brokerUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    // Plain HTTP on the TLS port gets no API answer.
    await expect(fetch(collector.httpUrl.replace('https:', 'http:') + '/healthz')).rejects.toThrow();
  });

  it('a real agent enrolls over https and delivers an event over mqtts', async () => {
    const identityDir = join(dir.path, 'agent-good');
    const { identity } = await enrollAgent({
      dir: identityDir,
      collectorUrl: collector.httpUrl,
      token: await token(),
      clock: systemClock,
      trust: { caFile: pki.caFile },
    });
    expect(identity.broker.url).toBe(collector.brokerUrl);
    const agent = await startAgent(
      agentConfigSchema.parse({
        identity: { dir: identityDir },
        collector: { url: collector.httpUrl, ca: pki.caFile },
        heartbeat: { interval: '200ms' },
        ack: { timeout: '1s' },
        watch: { netlink: false, uevent: false, sockets: 0 },
      }),
      { logger: silent, probes: [], detectors: [], backoff: { initialMs: 50, maxMs: 200 } },
    );
    try {
      await eventually(
        async () =>
          (await collector.store.listEvents({ agentId: identity.agentId, limit: 10 })).some(
            (event) => event.type === 'agent.started',
          ),
        { what: 'agent.started stored from the TLS agent' },
      );
      await eventually(() => agent.pendingCount() === 0, { what: 'the ack over mqtts' });
    } finally {
      await agent.stop();
    }
  });

  it('an agent with the wrong CA is refused, saying why', async () => {
    const enrolling = enrollAgent({
      dir: join(dir.path, 'agent-wrong-ca'),
      collectorUrl: collector.httpUrl,
      token: await token(),
      clock: systemClock,
      trust: { caFile: pki.otherCaFile },
    });
    await expect(enrolling).rejects.toThrow(
      /refused the server's TLS certificate \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\): it does not verify against the CA in collector\.ca .*smew-other-ca\.pem/,
    );
    // No collector.ca: the system's CAs do not know the test CA either.
    await expect(
      enrollAgent({
        dir: join(dir.path, 'agent-no-ca'),
        collectorUrl: collector.httpUrl,
        token: await token(),
        clock: systemClock,
      }),
    ).rejects.toThrow(/against the system's CAs \(collector\.ca is unset\)/);

    // Enrolled with the right CA, then run with the wrong one: the broker is refused and logged.
    const identityDir = join(dir.path, 'agent-broker-wrong-ca');
    await enrollAgent({
      dir: identityDir,
      collectorUrl: collector.httpUrl,
      token: await token(),
      clock: systemClock,
      trust: { caFile: pki.caFile },
    });
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const agent = await startAgent(
      agentConfigSchema.parse({
        identity: { dir: identityDir },
        collector: { url: collector.httpUrl, ca: pki.otherCaFile },
        watch: { netlink: false, uevent: false, sockets: 0 },
      }),
      { logger, probes: [], detectors: [], backoff: { initialMs: 50, maxMs: 200 } },
    );
    try {
      await eventually(() => lines.some((line) => line.includes('refused the server')), {
        what: 'the certificate refusal in the agent log',
      });
      const refusal = JSON.parse(lines.find((line) => line.includes('refused the server'))!) as {
        level: number;
        msg: string;
      };
      expect(refusal.level).toBe(50);
      expect(refusal.msg).toMatch(
        /^broker mqtts:\/\/.*: refused the server's TLS certificate .*collector\.ca/,
      );
      expect(agent.isConnected()).toBe(false);
      expect(agent.pendingCount()).toBeGreaterThan(0);
    } finally {
      await agent.stop();
    }
  });
});

describe('TLS configuration mistakes stop the collector with the key to fix', () => {
  let dir: ReturnType<typeof tempDir>;
  let pki: TestPki;
  beforeAll(() => {
    dir = tempDir('smew-tls-config-');
    pki = makeTestPki(dir.path);
  });
  afterAll(() => dir.remove());

  const start = (overrides: Record<string, unknown>) =>
    startCollector(
      testCollectorConfig(dir.path, { ingest: { ackDelay: 10, verifyWorkers: 0 }, ...overrides }),
      { logger: silent },
    );

  it.each([
    {
      what: 'a missing certificate file',
      config: () => ({
        http: { listen: '127.0.0.1:0', tls: { cert: join(dir.path, 'nope.pem'), key: pki.keyFile } },
      }),
      error: /^http\.tls\.cert: cannot read .*nope\.pem \(does not exist\); expected a PEM certificate file$/,
    },
    {
      what: 'a key that does not belong to the certificate',
      config: () => ({
        broker: { listen: '127.0.0.1:0', tls: { cert: pki.certFile, key: pki.selfSignedKeyFile } },
      }),
      error:
        /^broker\.tls: cannot use .*server\.pem with .*self\.key: .*expected the certificate and the private key/,
    },
    {
      what: 'a file that is not PEM',
      config: () => ({ http: { listen: '127.0.0.1:0', tls: { cert: pki.keyFile, key: pki.keyFile } } }),
      error: /^http\.tls\.cert: .*server\.key holds no PEM certificate/,
    },
    {
      what: 'a CA-issued broker certificate without broker.tls.ca',
      config: () => ({ broker: { listen: '127.0.0.1:0', tls: { cert: pki.certFile, key: pki.keyFile } } }),
      error: /does not verify against broker\.tls\.cert alone.*set broker\.tls\.ca to the CA/,
    },
  ])('names $what', async ({ config, error }) => {
    await expect(start(config())).rejects.toThrow(error);
  });

  it('a self-signed broker certificate needs no CA', async () => {
    const collector = await start({
      broker: { listen: '127.0.0.1:0', tls: { cert: pki.selfSignedCertFile, key: pki.selfSignedKeyFile } },
    });
    try {
      expect(collector.brokerUrl).toMatch(/^mqtts:/);
    } finally {
      await collector.stop();
    }
  });
});
