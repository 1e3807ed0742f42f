#!/usr/bin/env node
// Builds smew-agent_<version>_<arch>.deb and smew-collector_<version>_<arch>.deb with dpkg-deb from
// the built tree (dist/), the production dependency closure of package-lock.json copied from
// node_modules (nothing is downloaded), and the Node.js runtime running this script.
//
//   node scripts/package.mjs [--out DIR] [--version V] [--compression xz|gzip|zstd|none] [--level N]
//                            [--only agent|collector]
//
// `npm run package` builds first and writes to out/packages/.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import process from 'node:process';
import { parseArgs } from 'node:util';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGING = join(REPO, 'packaging');

/** What differs between the two packages; everything else is the same tree. */
export const ROLES = {
  agent: {
    summary: 'smew agent — detects secrecy-policy violations on a classified workstation',
    // The agent is what most hosts have; a collector host that also runs one gets the collector's.
    priority: 10,
  },
  collector: {
    summary: 'smew collector — verifies agent events, raises warnings, keeps the legal clocks',
    priority: 20,
  },
};

const DEBIAN_ARCH = {
  x64: 'amd64',
  arm64: 'arm64',
  ia32: 'i386',
  arm: 'armhf',
  loong64: 'loong64',
  ppc64: 'ppc64el',
  riscv64: 'riscv64',
  s390x: 's390x',
};

class PackagingError extends Error {}

function options(argv) {
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        out: { type: 'string', default: join(REPO, 'out/packages') },
        version: { type: 'string' },
        compression: { type: 'string', default: 'xz' },
        level: { type: 'string' },
        only: { type: 'string' },
      },
      strict: true,
    });
    if (!['xz', 'gzip', 'zstd', 'none'].includes(values.compression)) {
      throw new PackagingError(
        `--compression: found "${values.compression}"; expected xz, gzip, zstd or none`,
      );
    }
    if (values.level !== undefined && !/^\d$/.test(values.level)) {
      throw new PackagingError(`--level: found "${values.level}"; expected a digit 0-9`);
    }
    if (values.only !== undefined && !Object.hasOwn(ROLES, values.only)) {
      throw new PackagingError(`--only: found "${values.only}"; expected agent or collector`);
    }
    return values;
  } catch (err) {
    if (err instanceof PackagingError) throw err;
    throw new PackagingError(err.message);
  }
}

/** npm's semver → a Debian version that sorts the same way: 1.2.0-rc.1 → 1.2.0~rc.1 (before 1.2.0). */
export function debianVersion(version) {
  const match = /^(\d+\.\d+\.\d+)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$/.exec(version);
  if (!match) throw new PackagingError(`version "${version}" is not a semver version such as 1.2.3`);
  const [, core, pre, build] = match;
  return `${core}${pre ? `~${pre}` : ''}${build ? `+${build}` : ''}`;
}

/**
 * The packages `npm ci --omit=dev` would install, found by walking the dependency graph from the
 * root through package-lock.json with Node's resolution (nearest node_modules up the tree).
 */
export function productionClosure(lock) {
  const packages = lock.packages ?? {};
  const resolveFrom = (from, name) => {
    let base = from;
    for (;;) {
      const candidate = `${base ? `${base}/` : ''}node_modules/${name}`;
      if (packages[candidate]) return candidate;
      if (!base) return undefined;
      const at = base.lastIndexOf('/node_modules/');
      base = at < 0 ? '' : base.slice(0, at);
    }
  };
  const seen = new Set();
  const queue = [''];
  while (queue.length > 0) {
    const from = queue.pop();
    const entry = packages[from];
    const optional = { ...entry.optionalDependencies, ...entry.peerDependenciesMeta };
    const names = Object.keys({
      ...entry.dependencies,
      ...entry.optionalDependencies,
      ...entry.peerDependencies,
    });
    for (const name of names) {
      const found = resolveFrom(from, name);
      if (found === undefined) {
        if (name in optional) continue;
        throw new PackagingError(
          `package-lock.json: ${from || 'the root'} needs ${name}, which the lock does not hold`,
        );
      }
      if (packages[found].dev) {
        throw new PackagingError(
          `package-lock.json: ${found} is marked dev but ${from || 'the root'} needs it at run time`,
        );
      }
      if (!seen.has(found)) {
        seen.add(found);
        queue.push(found);
      }
    }
  }
  return [...seen].sort();
}

/** Build leftovers and sources of native modules, type declarations and source maps: not run. */
function keepModuleFile(packageDir, rel) {
  const parts = rel.split('/');
  if (parts.includes('node_modules')) return false; // nested packages are copied as closure entries
  if (/\.(d\.ts|d\.mts|d\.cts|map)$/.test(rel)) return false;
  if (existsSync(join(packageDir, 'binding.gyp'))) {
    if (parts[0] === 'deps' || parts[0] === 'src') return false;
    if (parts[0] === 'build') {
      return (
        rel === 'build' ||
        rel === 'build/Release' ||
        (/^build\/Release\/[^/]+\.node$/.test(rel) && !rel.includes('test_'))
      );
    }
  }
  return true;
}

function copyTree(from, to, keep = () => true) {
  cpSync(from, to, {
    recursive: true,
    verbatimSymlinks: true,
    filter: (source) => source === from || keep(relative(from, source).split('\\').join('/')),
  });
}

/** dpkg-deb wants sane modes; npm tarballs bring group-writable files and odd dirs. */
function normalizeModes(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) continue;
    if (stat.isDirectory()) {
      chmodSync(path, 0o755);
      normalizeModes(path);
    } else {
      chmodSync(path, stat.mode & 0o111 ? 0o755 : 0o644);
    }
  }
}

function walkFiles(dir, out = []) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const stat = lstatSync(path);
    if (stat.isDirectory()) walkFiles(path, out);
    else out.push({ path, stat });
  }
  return out;
}

function fill(template, values) {
  return template.replace(/@([A-Z_]+)@/g, (whole, key) => {
    if (!(key in values)) throw new PackagingError(`template placeholder ${whole} has no value`);
    return String(values[key]);
  });
}

function requireTool(name) {
  try {
    execFileSync(name, ['--version'], { stdio: 'ignore' });
  } catch {
    throw new PackagingError(`${name} is not installed; on Debian/Ubuntu: apt-get install dpkg`);
  }
}

/** The tree both packages share: the app, its runtime dependencies and the bundled Node.js. */
function stageCommon(stage, pkg, lock, closure) {
  const app = join(stage, 'app');
  const dist = join(REPO, 'dist');
  // smew.js is the whole CLI; the launcher runs the agent's commands from smew-agent.js, the bundle
  // scripts/build-agent.mjs makes.
  for (const entry of ['bin/smew.js', 'bin/smew-agent.js']) {
    if (!existsSync(join(dist, entry))) {
      throw new PackagingError(`dist/${entry} is missing: run npm run build first (npm run package does)`);
    }
  }
  mkdirSync(app, { recursive: true });
  copyTree(dist, join(app, 'dist'), (rel) => !rel.endsWith('.map'));
  copyTree(join(REPO, 'config'), join(app, 'config'));
  // version.ts reads name and version from here; "type": "module" makes dist/*.js ESM.
  const manifest = {
    name: pkg.name,
    version: pkg.version,
    description: pkg.description,
    license: pkg.license,
    type: pkg.type,
    engines: pkg.engines,
    dependencies: pkg.dependencies,
  };
  writeFileSync(join(app, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  for (const entry of closure) {
    const source = join(REPO, entry);
    if (!existsSync(join(source, 'package.json'))) {
      // An optional dependency for another platform is legitimately absent.
      if (lock.packages[entry].optional) continue;
      throw new PackagingError(`${entry} is in package-lock.json but not installed: run npm ci`);
    }
    copyTree(source, join(app, entry), (rel) => keepModuleFile(source, rel));
  }
  const node = join(stage, 'node/bin/node');
  mkdirSync(dirname(node), { recursive: true });
  copyFileSync(process.execPath, node);
  chmodSync(node, 0o755);
  for (const license of [
    join(dirname(process.execPath), '../share/doc/node/LICENSE'),
    '/usr/share/doc/nodejs/LICENSE',
  ]) {
    if (existsSync(license)) {
      copyFileSync(license, join(stage, 'node/LICENSE'));
      break;
    }
  }
  const launcher = join(stage, 'bin/smew');
  mkdirSync(dirname(launcher), { recursive: true });
  writeFileSync(
    launcher,
    fill(readFileSync(join(PACKAGING, 'smew.sh.in'), 'utf8'), { ABI: process.versions.modules }),
  );
  chmodSync(launcher, 0o755);
  normalizeModes(stage);
}

function buildPackage(role, { work, common, version, arch, out, compression, level }) {
  const root = join(work, `root-${role}`);
  const prefix = join(root, `usr/lib/smew-${role}`);
  mkdirSync(dirname(prefix), { recursive: true });
  cpSync(common, prefix, { recursive: true, verbatimSymlinks: true });

  const place = (source, target, mode = 0o644) => {
    mkdirSync(dirname(join(root, target)), { recursive: true });
    copyFileSync(source, join(root, target));
    chmodSync(join(root, target), mode);
  };
  place(join(PACKAGING, `systemd/smew-${role}.service`), `lib/systemd/system/smew-${role}.service`);
  place(join(PACKAGING, `config/${role}.yaml`), `usr/share/smew-${role}/${role}.yaml`);
  if (role === 'agent')
    place(join(PACKAGING, 'preseed/agent.yaml'), 'usr/share/doc/smew-agent/examples/agent.preseed.yaml');
  const guide = join(REPO, 'docs/deployment.md');
  if (existsSync(guide)) place(guide, `usr/share/doc/smew-${role}/deployment.md`);
  mkdirSync(join(root, `usr/share/doc/smew-${role}`), { recursive: true });
  writeFileSync(
    join(root, `usr/share/doc/smew-${role}/copyright`),
    [
      'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
      'Upstream-Name: smew',
      '',
      'Files: *',
      'License: Apache-2.0',
      '',
      `Files: usr/lib/smew-${role}/node/*`,
      'License: MIT and others; see usr/lib/smew-' + role + '/node/LICENSE',
      '',
      `Files: usr/lib/smew-${role}/app/node_modules/*`,
      'License: each package states its own in its directory',
      '',
    ].join('\n'),
  );
  normalizeModes(join(root, 'usr'));
  normalizeModes(join(root, 'lib'));

  const files = walkFiles(root);
  const installedKiB = Math.ceil(
    files.reduce((sum, f) => sum + (f.stat.isFile() ? f.stat.size : 0), 0) / 1024,
  );
  const control = join(root, 'DEBIAN');
  mkdirSync(control, { recursive: true });
  const values = {
    ROLE: role,
    VERSION: version,
    ARCH: arch,
    INSTALLED_SIZE: installedKiB,
    SUMMARY: ROLES[role].summary,
    PRIORITY: ROLES[role].priority,
  };
  writeFileSync(
    join(control, 'control'),
    fill(readFileSync(join(PACKAGING, 'debian/control.in'), 'utf8'), values),
  );
  for (const script of ['postinst', 'prerm', 'postrm']) {
    writeFileSync(
      join(control, script),
      fill(readFileSync(join(PACKAGING, `debian/${script}.in`), 'utf8'), values),
    );
    chmodSync(join(control, script), 0o755);
  }
  // dpkg --verify checks installed files against these.
  const sums = files
    .filter((f) => f.stat.isFile())
    .map((f) => `${createHash('md5').update(readFileSync(f.path)).digest('hex')}  ${relative(root, f.path)}`);
  writeFileSync(join(control, 'md5sums'), `${sums.join('\n')}\n`);
  chmodSync(control, 0o755);

  const deb = join(out, `smew-${role}_${version}_${arch}.deb`);
  const args = ['--root-owner-group', `-Z${compression}`];
  if (level !== undefined) args.push(`-z${level}`);
  execFileSync('dpkg-deb', [...args, '--build', root, deb], { stdio: ['ignore', 'ignore', 'inherit'] });
  rmSync(root, { recursive: true, force: true });
  return { role, deb, bytes: statSync(deb).size, installedKiB };
}

export function buildPackages(argv) {
  const opts = options(argv);
  requireTool('dpkg-deb');
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8'));
  const arch = DEBIAN_ARCH[process.arch];
  if (!arch) throw new PackagingError(`no Debian architecture known for Node's ${process.arch}`);
  const version = debianVersion(opts.version ?? pkg.version);
  const out = resolve(opts.out);
  mkdirSync(out, { recursive: true });
  // Staged outside the repo, so a failed build leaves nothing for lint or git to trip on.
  const work = mkdtempSync(join(tmpdir(), 'smew-package-'));
  try {
    const common = join(work, 'common');
    stageCommon(common, { ...pkg, version: opts.version ?? pkg.version }, lock, productionClosure(lock));
    const roles = opts.only ? [opts.only] : Object.keys(ROLES);
    return roles.map((role) =>
      buildPackage(role, {
        work,
        common,
        version,
        arch,
        out,
        compression: opts.compression,
        level: opts.level,
      }),
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const started = Date.now();
    for (const { deb, bytes, installedKiB } of buildPackages(process.argv.slice(2))) {
      process.stdout.write(
        `${deb}\t${(bytes / 1048576).toFixed(1)} MiB (installed ${(installedKiB / 1024).toFixed(1)} MiB)\n`,
      );
    }
    process.stderr.write(`built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  } catch (err) {
    if (!(err instanceof PackagingError)) throw err;
    process.stderr.write(`package: ${err.message}\n`);
    process.exitCode = 2;
  }
}
