import { cpSync, mkdirSync, mkdtempSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './processes.js';

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
  const root = mkdtempSync(join(tmpdir(), `smew-host-${name}-`));
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
