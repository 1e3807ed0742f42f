import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostInventorySchema, sessionUsersSchema } from '../../shared/inventory.js';
import { FIXTURE_HOSTS, fixtureHostNames, fixtureScanConfig } from '../support/fixture-host.js';
import { completion, REPO_ROOT, runSmew, start } from '../support/processes.js';

/**
 * The built `smew agent inventory` over each fixture host that has a golden `inventory.json`
 * (as scan-golden.test.ts does for findings). `UPDATE_GOLDEN=1` rewrites them after a deliberate
 * change; review their diff like code.
 */
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const hosts = fixtureHostNames().filter((host) => existsSync(join(FIXTURE_HOSTS, host, 'inventory.json')));

describe('smew agent inventory over the fixture hosts', () => {
  it('has a fixture host with an inventory', () => {
    expect(hosts).toContain('inventory-desktop');
  });

  it.each(hosts)('%s matches inventory.json', async (host) => {
    const result = await runSmew(['agent', 'inventory', '--config', fixtureScanConfig(host)]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout) as { inventory: unknown; users: unknown };
    hostInventorySchema.parse(output.inventory);
    sessionUsersSchema.parse(output.users);
    const golden = join(FIXTURE_HOSTS, host, 'inventory.json');
    if (UPDATE) writeFileSync(golden, `${JSON.stringify(output, null, 2)}\n`);
    const { default: expected } = (await import(golden, { with: { type: 'json' } })) as { default: unknown };
    expect(output).toEqual(expected);
  });

  // The agent's bundle (what the packaged launcher runs), with its stand-ins for Node's heavy
  // modules (scripts/build-agent.mjs), reads the same inventory.
  it.each(hosts)('%s: the agent bundle prints the same', async (host) => {
    const bundle = join(REPO_ROOT, 'dist/bin/smew-agent.js');
    const args = ['--lite-mode', bundle, 'agent', 'inventory', '--config', fixtureScanConfig(host)];
    const result = await completion(start(process.execPath, args));
    expect(result.stderr).toBe('');
    const { default: expected } = (await import(join(FIXTURE_HOSTS, host, 'inventory.json'), {
      with: { type: 'json' },
    })) as { default: unknown };
    expect(JSON.parse(result.stdout)).toEqual(expected);
  });
});
