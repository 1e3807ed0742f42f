import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { agentRunCommand } from '../../agent/commands/run.js';
import { agentScanCommand, findingsJson, findingsTable, visible } from '../../agent/commands/scan.js';
import type { Finding } from '../../agent/detectors/finding.js';
import { writeIdentity } from '../../agent/identity.js';
import { ed25519Suite } from '../../shared/crypto/ed25519.js';
import { UserError } from '../../shared/errors.js';
import { agentIdFromPublicKey, collectorIdFromPublicKey } from '../../shared/identity.js';
import { eventually } from '../support/eventually.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = join(REPO, 'test/fixtures/sys-wireless');

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const step of cleanup.splice(0).reverse()) await step();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'smew-agent-cmd-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function configFile(dir: string, extra: Record<string, unknown> = {}): string {
  const file = join(dir, 'agent.yaml');
  writeFileSync(
    file,
    stringify({
      identity: { dir: join(dir, 'identity') },
      paths: { sysfs: join(FIXTURE, 'sys'), procfs: join(FIXTURE, 'proc'), devfs: join(FIXTURE, 'dev') },
      ...extra,
    }),
  );
  return file;
}

async function captureStdout(run: () => Promise<number>): Promise<{ code: number; out: string }> {
  let out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  const code = await run();
  vi.restoreAllMocks();
  return { code, out };
}

describe('smew agent scan', () => {
  it('prints exactly {"findings":[…]} sorted by key and exits 1 on the wireless fixture', async () => {
    const file = configFile(tempDir());
    const { code, out } = await captureStdout(() =>
      agentScanCommand.run({ values: { json: true, config: file }, positionals: [] }),
    );
    expect(code).toBe(1);
    const parsed = JSON.parse(out) as { findings: Finding[] };
    expect(Object.keys(parsed)).toEqual(['findings']);
    const keys = parsed.findings.map((f) => f.key);
    expect(keys).toEqual([...keys].sort());
    for (const finding of parsed.findings)
      expect(Object.keys(finding)).toEqual(['type', 'key', 'severity', 'data']);
    expect(parsed.findings.find((f) => f.type === 'net.wireless.present')).toEqual({
      type: 'net.wireless.present',
      key: 'net.wireless.present:wlp2s0',
      severity: 'high',
      data: { iface: 'wlp2s0', mac: '3c:f0:11:2a:7b:01', driver: 'iwlwifi', bus: 'pci' },
    });
  });

  it('needs no enrollment and honours the local policy', async () => {
    const file = configFile(tempDir(), {
      policy: { level: '绝密', wireless: { approved: ['3C:F0:11:2A:7B:01'] } },
    });
    const { out } = await captureStdout(() =>
      agentScanCommand.run({ values: { json: true, config: file }, positionals: [] }),
    );
    const parsed = JSON.parse(out) as { findings: Finding[] };
    expect(parsed.findings.filter((f) => f.type === 'net.wireless.present')).toEqual([]);
  });

  it('prints a readable table, or "no findings" and exit 0', async () => {
    const file = configFile(tempDir());
    const { out } = await captureStdout(() =>
      agentScanCommand.run({ values: { config: file }, positionals: [] }),
    );
    expect(out).toMatch(/^SEVERITY\s+TYPE\s+KEY\s+DATA\n/);
    expect(out).toContain('net.wireless.present:wlp2s0');
    expect(findingsTable([])).toBe('no findings\n');
  });

  it('shows hostile text as inert, visible data', () => {
    const hostile: Finding = {
      type: 'net.wireless.present',
      key: 'net.wireless.present:<x>"\n',
      severity: 'high',
      data: { iface: '<script>"\'\n\u001b[31m\u009b', alias: 'a\u202eb' },
    };
    const table = findingsTable([hostile]);
    // One header, one row, one summary line: a newline in the data cannot forge a row.
    expect(table.split('\n')).toHaveLength(4);
    for (const raw of ['\u001b', '\u009b', '\u202e']) expect(table).not.toContain(raw);
    expect(table).toContain('"net.wireless.present:<x>\\"\\n"');
    expect(table).toContain('iface="<script>\\"\'\\n\\u001b[31m\\u009b"');
    expect(table).toContain('alias="a\\u202eb"');
    expect(visible('wlp2s0')).toBe('wlp2s0');
    // JSON carries the strings exactly; escaping is the reader's job.
    expect((JSON.parse(findingsJson([hostile])) as { findings: Finding[] }).findings[0]).toEqual(hostile);
  });
});

describe('smew agent run', () => {
  it('refuses to run before enrollment, naming the identity dir', async () => {
    const dir = tempDir();
    const file = configFile(dir);
    const error = await agentRunCommand
      .run({ values: { config: file }, positionals: [] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toContain(join(dir, 'identity'));
    expect((error as Error).message).toContain('run smew agent enroll first');
  });

  it('exits 0 promptly on SIGTERM, even with its broker unreachable', async () => {
    const dir = tempDir();
    const keys = ed25519Suite.generateKeyPair();
    const collectorKeys = ed25519Suite.generateKeyPair();
    const agentId = agentIdFromPublicKey(keys.publicKey);
    writeIdentity(join(dir, 'identity'), {
      agentId,
      ...keys,
      collectorUrl: 'http://127.0.0.1:9',
      unit: 'u',
      collector: {
        id: collectorIdFromPublicKey(collectorKeys.publicKey),
        alg: 'ed25519',
        publicKey: collectorKeys.publicKey,
      },
      // Port 9 (discard) on loopback: nothing listens, the agent keeps retrying.
      broker: { url: 'mqtt://127.0.0.1:9', username: agentId, password: 'p' },
      enrolledAt: '2026-01-01T00:00:00Z',
    });
    const file = configFile(dir, { scan: { interval: '100ms' } });
    const entry = join(dir, 'run.mts');
    writeFileSync(
      entry,
      `import { agentRunCommand } from ${JSON.stringify(join(REPO, 'agent/commands/run.ts'))};\n` +
        `process.exitCode = await agentRunCommand.run({ values: { config: ${JSON.stringify(file)} }, positionals: [] });\n`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', entry], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SMEW_LOG_LEVEL: 'info' },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    cleanup.push(() => child.kill('SIGKILL'));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await eventually(() => stderr.includes('agent started'), { what: 'agent started', timeoutMs: 20_000 });
    const signalledAt = Date.now();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(4_000);
    expect(stderr).toContain('agent stopped');
  });
});
