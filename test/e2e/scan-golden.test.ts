import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { runSmew } from '../support/processes.js';

/**
 * node_exporter's end-to-end test, ours: the built `smew agent scan --json` over each fixture host
 * with that host's policy, diffed against `expected.json`. `UPDATE_GOLDEN=1 npm test` rewrites
 * the golden files after a deliberate change; review their diff like code.
 */
const HOSTS = fileURLToPath(new URL('../fixtures/hosts', import.meta.url));
const UPDATE = process.env.UPDATE_GOLDEN === '1';

function configFor(host: string): string {
  const root = join(HOSTS, host);
  const dir = mkdtempSync(join(tmpdir(), `smew-golden-${host}-`));
  const policyFile = join(root, 'policy.yaml');
  const config = join(dir, 'agent.yaml');
  writeFileSync(
    config,
    stringify({
      // An identity dir of its own, so no stored collector policy overrides the fixture's.
      identity: { dir: join(dir, 'identity') },
      paths: { sysfs: join(root, 'sys'), procfs: join(root, 'proc'), devfs: join(root, 'dev') },
      policy: existsSync(policyFile) ? parse(readFileSync(policyFile, 'utf8')) : {},
    }),
  );
  return config;
}

describe('smew agent scan --json over the fixture hosts', () => {
  const hosts = readdirSync(HOSTS, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();

  it.each(hosts)('%s matches expected.json', async (host) => {
    const result = await runSmew(['agent', 'scan', '--json', '--config', configFor(host)]);
    expect(result.stderr).toBe('');
    const output = JSON.parse(result.stdout) as { findings: unknown[] };
    expect(result.code).toBe(output.findings.length > 0 ? 1 : 0);
    const golden = join(HOSTS, host, 'expected.json');
    if (UPDATE) writeFileSync(golden, `${JSON.stringify(output, null, 2)}\n`);
    expect(output).toEqual(JSON.parse(readFileSync(golden, 'utf8')));
  });
});
