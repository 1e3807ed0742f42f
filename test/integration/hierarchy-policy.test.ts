/**
 * A policy update issued at the city is applied below: the county relays it, the unit's collector
 * narrows its own policy with it and pushes the result to its agents, and a real agent there (on
 * a fixture host with a wireless NIC) now reports the NIC its unit had approved. A county's later
 * update cannot loosen what the city ruled. Real collectors, SQLite, HTTP and brokers, in process.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../../agent/config.js';
import { wirelessPresentDetector } from '../../agent/detectors/wireless-present.js';
import { enrollAgent } from '../../agent/enroll.js';
import { netdevProbe } from '../../agent/probes/netdev.js';
import { startAgent, type RunningAgent } from '../../agent/runner.js';
import { createApiKey } from '../../collector/auth/api-keys.js';
import { createEnrollmentToken } from '../../collector/auth/enrollment-tokens.js';
import { systemClock } from '../../shared/clock.js';
import { createLogger } from '../../shared/log.js';
import { tempDir } from '../support/collector-harness.js';
import {
  callApi,
  enrollNode,
  makeNode,
  run,
  startNode,
  stopAndRemove,
  type ChainNode,
} from '../support/collector-chain.js';
import { eventually } from '../support/eventually.js';
import { copyFixtureHost, type FixtureHost } from '../support/fixture-host.js';

interface PolicyView {
  policy: { level: string; wireless: { approved: string[] }; interfaces: { approved: string[] } } | null;
  rulings: { notice: string; issuerUnit: string }[];
}

describe('a policy update from the city, applied down the chain', () => {
  let unit: ChainNode;
  let county: ChainNode;
  let city: ChainNode;
  let host: FixtureHost;
  let agentDir: { path: string; remove(): void };
  let agent: RunningAgent;
  const keys = new Map<ChainNode, string>();
  // The unit approves its host's Wi-Fi NIC, as a unit might under 第35条's national rules.
  const unitPolicy = {
    level: '秘密',
    interfaces: { approved: ['enp3s0'] },
    wireless: { approved: ['wlp2s0'] },
  };

  const wirelessEvents = async () =>
    (await run(unit).store.listEvents({ type: 'net.wireless.present', limit: 100 })).map((e) => e.state);

  beforeAll(async () => {
    city = await makeNode('city', '某市保密局', 'city');
    county = await makeNode('county', '某县保密局', 'county');
    unit = await makeNode('unit', '甲单位', 'unit', { policy: unitPolicy });
    for (const node of [city, county, unit]) {
      await startNode(node);
      keys.set(node, await createApiKey(run(node).store, { name: `${node.name}-officer`, role: 'secadmin' }));
    }
    await enrollNode(county, city);
    await enrollNode(unit, county);

    host = copyFixtureHost('sys-wireless');
    agentDir = tempDir('smew-hier-agent-');
    const { token } = await createEnrollmentToken(run(unit).store, { unit: '甲单位' });
    await enrollAgent({ dir: agentDir.path, collectorUrl: run(unit).httpUrl, token, clock: systemClock });
    agent = await startAgent(
      agentConfigSchema.parse({
        identity: { dir: agentDir.path },
        scan: { interval: '50ms' },
        heartbeat: { interval: '200ms' },
        ack: { timeout: '400ms' },
        paths: { sysfs: host.sysfs, procfs: host.procfs, devfs: host.devfs },
        // Locally the same as the unit's, so nothing is raised before the collector's policy arrives.
        policy: unitPolicy,
      }),
      {
        logger: createLogger('test', 'silent'),
        backoff: { initialMs: 50, maxMs: 400 },
        stopGraceMs: 1_000,
        probes: [netdevProbe],
        detectors: [wirelessPresentDetector],
      },
    );
  }, 60_000);

  afterAll(async () => {
    await agent?.stop();
    await stopAndRemove([unit, county, city]);
    agentDir?.remove();
    if (host) rmSync(host.root, { recursive: true, force: true });
  });

  it('the unit pushes its own policy to its agent; the approved NIC raises nothing', async () => {
    await eventually(() => agent.isConnected() || undefined, { what: 'the agent connected' });
    const { body } = await callApi<PolicyView>(unit, keys.get(unit)!, '/api/v1/hierarchy/policy');
    expect(body.policy?.wireless.approved).toEqual(['wlp2s0']);
    expect(body.rulings).toEqual([]);
    // The agent takes the collector's signed policy (its hash shows in agent.config.changed).
    await eventually(
      async () =>
        (await run(unit).store.listEvents({ type: 'agent.config.changed', limit: 10 })).length > 0 ||
        undefined,
      { what: 'the agent to apply the unit’s policy' },
    );
    await agent.scanNow();
    expect(await wirelessEvents()).toEqual([]);
  });

  it('the policy pushed to the agent follows the level its terminal has in the register', async () => {
    const [enrolled] = await run(unit).store.listAgents({});
    const registered = await callApi<{ level: string }>(unit, keys.get(unit)!, '/api/v1/terminals', {
      assetNo: 'JSJ-1',
      level: '机密',
      agentId: enrolled!.id,
    });
    expect(registered.status).toBe(201);
    await eventually(() => agent.policy().level === '机密' || undefined, {
      what: 'the agent at its registered 机密',
    });
    expect(agent.policy().wireless.approved).toEqual(['wlp2s0']);
  });

  it('the city rules the Wi-Fi out: the agent at the unit now reports the NIC', async () => {
    const issued = await callApi<{ id: string }>(city, keys.get(city)!, '/api/v1/hierarchy/notices', {
      type: 'policy',
      title: '禁止涉密计算机使用无线网卡',
      body: '全市涉密计算机一律不得配备无线网卡。',
      policy: { wireless: { approved: [] } },
    });
    expect(issued.status).toBe(201);
    const raised = await eventually(
      async () => {
        const states = await wirelessEvents();
        return states.includes('raised') ? states : undefined;
      },
      { what: 'net.wireless.present from the agent at the unit', timeoutMs: 15_000 },
    );
    expect(raised).toEqual(['raised']);
    expect(agent.policy().wireless.approved).toEqual([]);
    // The unit's own sections stand where the city said nothing.
    expect(agent.policy().interfaces.approved).toEqual(['enp3s0']);

    for (const node of [county, unit]) {
      const { body } = await callApi<PolicyView>(node, keys.get(node)!, '/api/v1/hierarchy/policy');
      expect(body.rulings.map((r) => r.notice)).toEqual([issued.body.id]);
      expect(body.policy?.wireless.approved).toEqual([]);
    }
  });

  it('the county cannot loosen what the city ruled, and a bad policy is refused', async () => {
    const loosen = await callApi<{ id: string }>(county, keys.get(county)!, '/api/v1/hierarchy/notices', {
      type: 'policy',
      title: '允许无线网卡',
      body: '',
      policy: { level: '绝密', wireless: { approved: ['wlp2s0'] } },
    });
    expect(loosen.status).toBe(201);
    const { body } = await eventually(
      async () => {
        const view = await callApi<PolicyView>(unit, keys.get(unit)!, '/api/v1/hierarchy/policy');
        return view.body.rulings.length === 2 ? view : undefined;
      },
      { what: 'the county’s update at the unit' },
    );
    expect(body.policy?.wireless.approved).toEqual([]);
    // Tightening is taken: the county's 绝密 is stricter than the unit's 秘密.
    expect(body.policy?.level).toBe('绝密');
    await eventually(() => agent.policy().level === '绝密' || undefined, { what: 'the agent at 绝密' });
    expect(agent.policy().wireless.approved).toEqual([]);

    const bad = await callApi<{ error: string }>(city, keys.get(city)!, '/api/v1/hierarchy/notices', {
      type: 'policy',
      title: 'x',
      body: '',
      policy: { wireless: { approved: 'all' } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/^policy\.wireless\.approved: /);
  });
});
