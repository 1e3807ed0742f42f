// Bundles the agent's commands (bin/smew.ts with SMEW_AGENT_BUNDLE defined true, so its command
// table holds `agent …` and `beacon` only) into one minified file, dist/bin/smew-agent.js, which the
// packaged launcher runs for those commands. The agent runs for weeks on every workstation: one
// file of minified code keeps ~10 MB less in memory than ~440 separate modules (their source text,
// module records and the code of unused exports). better-sqlite3 stays outside (a native addon,
// found through node_modules beside dist/). No hashes, no timestamps: the same source builds the
// same bytes.
//
//   node scripts/build-agent.mjs [OUTFILE] [--sourcemap]      (npm run build runs it after tsc)
// --sourcemap also writes OUTFILE.map, to read a minified stack trace from an agent's journal.
import { readFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const [outArg] = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const outfile = resolve(outArg ?? join(root, 'dist', 'bin', 'smew-agent.js'));

/**
 * Node's own modules are loaded with require(), never with an ES import. Node builds an ES module
 * facade for an imported builtin by reading every export, and that wakes their lazy getters:
 * `import … from 'node:http'` alone loads http2, web streams and undici (http.WebSocket…) on Node 24,
 * `node:fs` and `node:util` some thirty internal modules more; ~10 MB resident that the agent never
 * uses. Through require() a builtin is its plain exports object, and a named import is read when used.
 */
const builtinsThroughRequire = {
  name: 'builtins-through-require',
  setup(build) {
    build.onResolve({ filter: /^(node:)?[a-z_/0-9]+$/ }, (args) => {
      const name = args.path.replace(/^node:/, '');
      // A stand-in's own require() is the real module: left to Node (external).
      if (!builtinModules.includes(name) || args.namespace === 'lazy-builtin') return undefined;
      if (args.kind === 'import-statement' || args.kind === 'dynamic-import') {
        return { path: name, namespace: LAZY_BUILTINS.has(name) ? 'lazy-builtin' : 'builtin' };
      }
      // The CommonJS packages' own require() calls of a heavy module get the stand-in too.
      return args.kind === 'require-call' && LAZY_BUILTINS.has(name)
        ? { path: name, namespace: 'lazy-builtin' }
        : undefined;
    });
    build.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(`node:${args.path}`)});`,
      loader: 'js',
    }));
    build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
      contents: lazyBuiltin(args.path),
      loader: 'js',
    }));
  },
};

/**
 * Node's modules that cost resident memory and that an idle agent may never use: TLS and HTTPS
 * only with an https:// collector or an mqtts:// broker, HTTP only to enroll or to probe a beacon,
 * zlib, worker threads, UDP and DNS only for a beacon's DNS probe, perf_hooks, assert, tty.
 * In the agent, which needs net and crypto anyway, leaving them unloaded saves ~2 MB resident on
 * Node.js 24 (each alone in an empty process: https +9.7 MB). Each is a stand-in that loads the
 * real module the first time one of its members is read, so a module that imports it but never
 * uses it at idle leaves it unloaded.
 */
const LAZY_BUILTINS = new Set([
  'http',
  'https',
  'tls',
  'zlib',
  'worker_threads',
  'dgram',
  'dns',
  'dns/promises',
  'perf_hooks',
  'assert',
  'tty',
]);

/**
 * The stand-in: a Proxy whose keys are the module's export names (read here, at build time, from
 * the same Node.js the package carries) and whose every read loads the real module. The checks
 * bundlers and TypeScript's interop helpers make on an import (`__esModule`, `then`, symbols) are
 * answered without loading it: Node's modules have none of them.
 */
function lazyBuiltin(name) {
  const specifier = JSON.stringify(`node:${name}`);
  const names = JSON.stringify(Object.keys(createRequire(import.meta.url)(`node:${name}`)));
  return `let real;
const load = () => (real ??= require(${specifier}));
const names = ${names};
const inert = (key) => typeof key === 'symbol' || key === '__esModule' || key === 'then';
module.exports = new Proxy({}, {
  get: (_, key) => (inert(key) ? undefined : load()[key]),
  set: (_, key, value) => { load()[key] = value; return true; },
  has: (_, key) => !inert(key) && key in load(),
  ownKeys: () => names,
  getOwnPropertyDescriptor: (_, key) =>
    names.includes(key) ? { configurable: true, enumerable: true, get: () => load()[key] } : undefined,
});
`;
}

/**
 * zod re-exports every language's error messages (z.locales, ~260 KB of the bundle's ~1.1 MB); the
 * agent uses none of them (its messages are its own, and zod's English default is loaded apart).
 */
const zodWithoutLocales = {
  name: 'zod-without-locales',
  setup(build) {
    build.onResolve({ filter: /locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'zod-locales' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'zod-locales' }, () => ({
      contents: 'export {};',
      loader: 'js',
    }));
  },
};

/**
 * mqtt.js loads its WebSocket transport (the `ws` package, which reads node:http as it loads) on
 * the first connection, whatever the URL. The agent speaks mqtt:// and mqtts:// only (the brokers
 * the collector hands out); a ws:// URL is refused with a message instead. ~1 MB resident.
 */
const mqttWithoutWebSockets = {
  name: 'mqtt-without-websockets',
  setup(build) {
    build.onResolve({ filter: /^\.\/ws$/ }, (args) =>
      /[\\/]mqtt[\\/]build[\\/]lib[\\/]connect[\\/]/.test(args.importer)
        ? { path: 'mqtt-ws', namespace: 'mqtt-without-websockets' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'mqtt-without-websockets' }, () => ({
      contents: `const refuse = () => { throw new Error('the agent connects to mqtt:// or mqtts:// brokers; a WebSocket (ws://, wss://) broker URL is not supported'); };
exports.streamBuilder = refuse;
exports.browserStreamBuilder = refuse;`,
      loader: 'js',
    }));
  },
};

const result = await build({
  entryPoints: [join(root, 'bin', 'smew.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.19',
  // Whole minification, short names included: ~4 MB less resident than whitespace and syntax
  // alone, ~1 MB less than with keepNames (which gives every function a name property). A stack
  // trace from the journal is read with the map --sourcemap writes: the build is reproducible.
  minify: true,
  sourcemap: process.argv.includes('--sourcemap') ? 'external' : false,
  define: { SMEW_AGENT_BUNDLE: 'true' },
  external: ['better-sqlite3'],
  plugins: [builtinsThroughRequire, zodWithoutLocales, mqttWithoutWebSockets],
  // The CommonJS packages inside (mqtt, pino, yaml…) call require() for Node's own modules.
  banner: {
    js: "import { createRequire as __smewCreateRequire } from 'node:module'; const require = __smewCreateRequire(import.meta.url);",
  },
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});

// Source files only: the plugins' stand-ins (builtin:http, zod-locales:…) are not modules of ours.
const inputs = Object.keys(result.metafile.inputs).filter((input) => !/^[a-z-]+:/.test(input));
// The point of this file is what it leaves out; a stray import would quietly bring it all back.
const strays = inputs.filter((input) => /^(collector|dashboard)\/|^bin\/demo\.ts$/.test(input));
if (strays.length > 0) {
  process.stderr.write(
    `build-agent: ${relative(process.cwd(), outfile)} must hold the agent's code only, but it holds ${strays.slice(0, 5).join(', ')}${strays.length > 5 ? ` and ${strays.length - 5} more` : ''}; import those modules lazily from a collector command instead\n`,
  );
  process.exit(1);
}
// esbuild escapes non-ASCII characters (charset ascii) except where it cannot (String.raw); one
// such character makes V8 keep the whole source as two-byte text, twice the memory.
const source = readFileSync(outfile, 'latin1');
const wide = /[\u0080-\uffff]/.exec(source);
if (wide) {
  process.stderr.write(
    `build-agent: ${relative(process.cwd(), outfile)} must be ASCII, but holds a non-ASCII character near "${source.slice(Math.max(0, wide.index - 60), wide.index + 20)}" (a String.raw template with non-ASCII text? use a plain string)\n`,
  );
  process.exit(1);
}
// Past the banner, Node's modules come in through require() only (builtinsThroughRequire).
const esImport = /(?:^|[;}\s])import\s*(?:[\w$*{][^;]*?from\s*)?["'](node:[^"']+)["']/m.exec(
  source.slice(source.indexOf('\n', source.indexOf('__smewCreateRequire')) + 1),
);
if (esImport) {
  process.stderr.write(
    `build-agent: ${relative(process.cwd(), outfile)} must load Node's modules with require(), but ES-imports ${esImport[1]} (an import the builtins-through-require plugin missed)\n`,
  );
  process.exit(1);
}
const bytes = result.metafile.outputs[relative(process.cwd(), outfile)]?.bytes ?? 0;
process.stderr.write(
  `agent built into ${relative(process.cwd(), outfile)} (${(bytes / 1024).toFixed(0)} KB from ${inputs.length} modules)\n`,
);
