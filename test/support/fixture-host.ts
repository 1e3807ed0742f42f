import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { REPO_ROOT } from './processes.js';

/** The golden fixture hosts: each a sys/, proc/ (and dev/) tree, a policy.yaml and expected.json. */
export const FIXTURE_HOSTS = join(REPO_ROOT, 'test/fixtures/hosts');

export function fixtureHostNames(): string[] {
  return readdirSync(FIXTURE_HOSTS, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

/**
 * An agent config that scans fixture host `host` with its policy, written to a temp dir of its
 * own: an identity dir of its own too, so no stored collector policy overrides the fixture's.
 */
export function fixtureScanConfig(host: string): string {
  const root = join(FIXTURE_HOSTS, host);
  const dir = mkdtempSync(join(tmpdir(), `smew-golden-${host}-`));
  const policyFile = join(root, 'policy.yaml');
  const config = join(dir, 'agent.yaml');
  writeFileSync(
    config,
    stringify({
      identity: { dir: join(dir, 'identity') },
      paths: {
        sysfs: join(root, 'sys'),
        procfs: join(root, 'proc'),
        devfs: join(root, 'dev'),
        // A host without these trees of its own reads none (not this machine's).
        etc: join(root, 'etc'),
        run: join(root, 'run'),
      },
      policy: existsSync(policyFile) ? parse(readFileSync(policyFile, 'utf8')) : {},
    }),
  );
  return config;
}

/** The golden output of `smew agent scan --json` over fixture host `host`. */
export function fixtureExpected(host: string): unknown {
  return JSON.parse(readFileSync(join(FIXTURE_HOSTS, host, 'expected.json'), 'utf8'));
}

/**
 * A writable copy of a fixture host tree (sys/, proc/, dev/) that a test can change while an
 * agent watches it: a NIC is "unplugged" by parking its /sys/class/net link outside the tree.
 */
export interface FixtureHost {
  root: string;
  sysfs: string;
  procfs: string;
  devfs: string;
  unplug(netdev: string): void;
  plug(netdev: string): void;
}

export function copyFixtureHost(name: string): FixtureHost {
  const root = mkdtempSync(join(tmpdir(), `smew-host-${name.replaceAll('/', '-')}-`));
  cpSync(join(REPO_ROOT, 'test/fixtures', name), root, { recursive: true, verbatimSymlinks: true });
  const parked = join(root, '.parked');
  mkdirSync(parked, { recursive: true });
  const classNet = join(root, 'sys/class/net');
  return {
    root,
    sysfs: join(root, 'sys'),
    procfs: join(root, 'proc'),
    devfs: join(root, 'dev'),
    unplug: (netdev) => renameSync(join(classNet, netdev), join(parked, netdev)),
    plug: (netdev) => renameSync(join(parked, netdev), join(classNet, netdev)),
  };
}
