import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  FIXTURE_HOSTS,
  fixtureExpected,
  fixtureHostNames,
  fixtureScanConfig,
} from '../support/fixture-host.js';
import { runSmew } from '../support/processes.js';

/**
 * node_exporter's end-to-end test, ours: the built `smew agent scan --json` over each fixture host
 * with that host's policy, diffed against `expected.json`. `UPDATE_GOLDEN=1 npm test` rewrites
 * the golden files after a deliberate change; review their diff like code.
 */
const UPDATE = process.env.UPDATE_GOLDEN === '1';

describe('smew agent scan --json over the fixture hosts', () => {
  it.each(fixtureHostNames())('%s matches expected.json', async (host) => {
    const result = await runSmew(['agent', 'scan', '--json', '--config', fixtureScanConfig(host)]);
    expect(result.stderr).toBe('');
    const output = JSON.parse(result.stdout) as { findings: unknown[] };
    expect(result.code).toBe(output.findings.length > 0 ? 1 : 0);
    const golden = join(FIXTURE_HOSTS, host, 'expected.json');
    if (UPDATE) writeFileSync(golden, `${JSON.stringify(output, null, 2)}\n`);
    expect(output).toEqual(fixtureExpected(host));
  });
});
