import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureScanConfig } from '../support/fixture-host.js';
import { completion, REPO_ROOT, start } from '../support/processes.js';

/**
 * The agent's bundle loads Node's heavy modules only when it uses them (scripts/build-agent.mjs):
 * a full scan of a host whose policy probes no beacon loads neither TLS nor HTTP, and finds what
 * the unbundled tree finds (scan-golden.test.ts). A stand-in that loaded its module at import, or
 * a stray import of one, fails here before it costs every workstation megabytes.
 */
const dir = mkdtempSync(join(tmpdir(), 'smew-bundle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the agent bundle', () => {
  it('scans without loading tls, https, http or zlib', async () => {
    const loaded = join(dir, 'loaded.txt');
    const preload = join(dir, 'record-modules.cjs');
    writeFileSync(
      preload,
      `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(loaded)}, process.moduleLoadList.join('\\n')));`,
    );
    const bundle = join(REPO_ROOT, 'dist/bin/smew-agent.js');
    const config = fixtureScanConfig('clean');
    const result = await completion(
      start(process.execPath, ['--require', preload, bundle, 'agent', 'scan', '--json', '--config', config]),
    );
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ findings: [] });
    const builtins = readFileSync(loaded, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('NativeModule '))
      .map((line) => line.slice('NativeModule '.length));
    // The scan did read the host (net and crypto are loaded), so the check is not vacuous.
    expect(builtins).toEqual(expect.arrayContaining(['net', 'crypto', 'fs/promises']));
    for (const heavy of ['tls', 'https', 'http', 'zlib', '_http_client'])
      expect(builtins).not.toContain(heavy);
  });
});
