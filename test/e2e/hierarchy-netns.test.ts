/**
 * The link between a unit's collector and its county's, cut and flapped for real: each collector
 * runs as a `smew collector` process in its own network namespace, joined by one veth pair
 * (10.200.61.0/30). The test reads and writes their SQLite stores directly, as `smew token` does,
 * so it needs no route into the namespaces.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { openSqliteStore, type SqliteStore } from '../../collector/store/sqlite-store.js';
import { createSignedIncident, unitIncident } from '../support/collector-chain.js';
import { eventually } from '../support/eventually.js';
import { NetnsLab, requireNetns, type Namespace } from '../support/netns.js';
import { runSmew, type Running } from '../support/processes.js';

const canRun = requireNetns();

const UNIT_ADDR = '10.200.61.1';
const COUNTY_ADDR = '10.200.61.2';
const COUNTY_HTTP = `${COUNTY_ADDR}:18080`;

function writeConfig(dir: string, unit: string, level: string, http: string): string {
  const file = join(dir, `${level}.yaml`);
  writeFileSync(
    file,
    stringify({
      unit,
      level,
      http: { listen: http },
      broker: { listen: '127.0.0.1:18830' },
      store: { url: `sqlite:${join(dir, `${level}.db`)}` },
      identity: { dir: join(dir, `${level}-identity`) },
      ingest: { verifyWorkers: 0 },
      parent: { interval: '100ms', scanInterval: '200ms', retryMax: '1s', timeout: '1s' },
    }),
  );
  return file;
}

describe.runIf(canRun)('the unit → county link cut and flapping in network namespaces', () => {
  let lab: NetnsLab;
  let unitNs: Namespace;
  let countyNs: Namespace;
  let unitConfig: string;
  let countyConfig: string;
  let dir: string;
  const running: Running[] = [];
  let unitStore: SqliteStore;
  let countyStore: SqliteStore;

  async function startIn(ns: Namespace, config: string): Promise<Running> {
    const collector = ns.startSmew(['collector', '--config', config]);
    running.push(collector);
    await eventually(
      () => {
        if (collector.child.exitCode !== null) throw new Error(`collector exited: ${collector.stderr()}`);
        return (collector.stdout() + collector.stderr()).includes('"msg":"collector running"');
      },
      { what: 'the collector to run', timeoutMs: 90_000, intervalMs: 200 },
    );
    return collector;
  }

  beforeAll(async () => {
    lab = new NetnsLab();
    unitNs = lab.namespace('unit');
    countyNs = lab.namespace('county');
    lab.veth(unitNs, 'u0', countyNs, 'c0');
    unitNs.ip(['addr', 'add', `${UNIT_ADDR}/30`, 'dev', 'u0']);
    countyNs.ip(['addr', 'add', `${COUNTY_ADDR}/30`, 'dev', 'c0']);
    unitNs.ip(['link', 'set', 'u0', 'up']);
    countyNs.ip(['link', 'set', 'c0', 'up']);

    dir = mkdtempSync(join(tmpdir(), 'smew-hier-netns-'));
    countyConfig = writeConfig(dir, '某县保密局', 'county', COUNTY_HTTP);
    unitConfig = writeConfig(dir, '测试单位', 'unit', '127.0.0.1:18081');
    // Opening the stores first migrates them; the collectors share the files (WAL) as the CLI does.
    countyStore = openSqliteStore(join(dir, 'county.db'));
    unitStore = openSqliteStore(join(dir, 'unit.db'));

    await startIn(countyNs, countyConfig);
    const token = await runSmew([
      'token',
      'create',
      '--unit',
      '测试单位',
      '--for',
      'collector',
      '--config',
      countyConfig,
    ]);
    expect(token.code).toBe(0);
    const enrolled = await unitNs.smew([
      'collector',
      'enroll',
      '--parent',
      `http://${COUNTY_HTTP}`,
      '--token',
      token.stdout.trim(),
      '--config',
      unitConfig,
    ]);
    expect(enrolled.code, enrolled.stderr).toBe(0);
    await startIn(unitNs, unitConfig);
  }, 240_000);

  afterAll(async () => {
    await lab?.cleanup();
    await unitStore?.close();
    await countyStore?.close();
  });

  async function raise(n: number, label: string): Promise<void> {
    for (let i = 0; i < n; i++) {
      await createSignedIncident(
        unitStore,
        unitIncident(`inc-${label}-${i}`, `${label} ${i}`, { unit: '测试单位' }),
      );
    }
  }

  async function incidentsAtCounty(): Promise<string[]> {
    return (await countyStore.hierarchy.listReports({ type: 'incident', limit: 10_000 })).map((r) => r.key);
  }

  it('reports raised while the link is down and while it flaps arrive once each when it is back', async () => {
    await raise(5, 'before');
    await eventually(async () => ((await incidentsAtCounty()).length >= 5 ? true : undefined), {
      what: 'the first incidents at the county over the veth',
      timeoutMs: 30_000,
    });

    unitNs.ip(['link', 'set', 'u0', 'down']);
    await raise(20, 'cut');
    await eventually(async () => (await unitStore.hierarchy.getParent())?.lastError ?? undefined, {
      what: 'the unit to fail to reach the county',
      timeoutMs: 30_000,
    });
    // Flap: up and down a few times while more reports are raised.
    for (let i = 0; i < 4; i++) {
      unitNs.ip(['link', 'set', 'u0', i % 2 === 0 ? 'up' : 'down']);
      await raise(5, `flap${i}`);
      await new Promise((r) => setTimeout(r, 400));
    }
    const backlog = (await unitStore.hierarchy.outboxStats()).pending;
    unitNs.ip(['link', 'set', 'u0', 'up']);
    const back = Date.now();
    const keys = await eventually(
      async () => {
        const found = await incidentsAtCounty();
        return found.length >= 45 ? found : undefined;
      },
      { what: 'all 45 incidents at the county', timeoutMs: 60_000 },
    );
    const drained = Date.now() - back;
    expect(keys).toHaveLength(45);
    expect(new Set(keys).size).toBe(45);
    await eventually(async () => (await unitStore.hierarchy.outboxStats()).pending === 0, {
      what: 'the unit outbox drained',
    });
    console.log(
      `[hierarchy netns] link cut and flapped: 45 raised, ${keys.length} at the county, ${keys.length - new Set(keys).size} duplicated; ` +
        `backlog ${backlog} drained ${drained} ms after the link came back`,
    );
  }, 240_000);
});
