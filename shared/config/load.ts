import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { UserError } from '../errors.js';

/**
 * The one config loader: YAML file (optional) → SMEW_* environment overrides → zod schema with
 * defaults. Every failure is a UserError naming the file, the key path, what was found and what
 * is expected.
 */
export interface LoadedConfig<T> {
  config: T;
  /** The file read, or undefined when running on defaults. */
  file: string | undefined;
}

export function loadConfig<S extends z.ZodType>(
  schema: S,
  options: { file?: string; env?: NodeJS.ProcessEnv; what: string },
): LoadedConfig<z.infer<S>> {
  const env = options.env ?? process.env;
  const source = options.file ?? '(defaults)';
  let raw: unknown = {};
  if (options.file !== undefined) {
    if (!existsSync(options.file)) {
      throw new UserError(`${options.what} config: file ${options.file} does not exist`);
    }
    const text = readFileSync(options.file, 'utf8');
    try {
      raw = parseYaml(text) ?? {};
    } catch (err) {
      const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}` : '';
      throw new UserError(
        `${options.file}${where}: not valid YAML: ${(err as Error).message.split('\n')[0]}`,
      );
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new UserError(
        `${options.file}: expected a mapping of keys at the top level, found ${describe(raw)}`,
      );
    }
  }
  const overridden = applyEnvOverrides(schema, raw as Record<string, unknown>, env);
  const result = schema.safeParse(overridden.value);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const path = issue.path.join('.') || '(top level)';
      const fromEnv = overridden.fromEnv.get(path);
      const where = fromEnv ? `environment variable ${fromEnv}` : source;
      const found = describe(valueAt(overridden.value, issue.path));
      return `${where}: key ${path}: found ${found}; ${expectation(issue)}`;
    });
    throw new UserError(lines.join('\n'));
  }
  return { config: result.data, file: options.file };
}

/** `SMEW_HTTP_LISTEN` → `http.listen`, `SMEW_INGEST_MAX_SKEW` → `ingest.maxSkew`: leaf keys the defaults know. */
function applyEnvOverrides(
  schema: z.ZodType,
  raw: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): { value: Record<string, unknown>; fromEnv: Map<string, string> } {
  const fromEnv = new Map<string, string>();
  const leaves = leafPaths(schema);
  const value = structuredClone(raw);
  for (const path of leaves) {
    const name = `SMEW_${path
      .map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2'))
      .join('_')
      .toUpperCase()}`;
    const text = env[name];
    if (text === undefined) continue;
    let parsed: unknown = text;
    try {
      parsed = parseYaml(text);
    } catch {
      // Keep the text as given; the schema will say what it expected.
    }
    setAt(value, path, parsed);
    fromEnv.set(path.join('.'), name);
  }
  return { value, fromEnv };
}

/** Every key path the schema declares, looking through defaults, optionals and transforms. */
function leafPaths(schema: z.ZodType, prefix: string[] = []): string[][] {
  let node = schema as unknown as { _zod: { def: Record<string, unknown> } };
  for (;;) {
    const def = node._zod.def;
    if (def.type === 'object') {
      const shape = def.shape as Record<string, z.ZodType>;
      return Object.entries(shape).flatMap(([key, child]) => leafPaths(child, [...prefix, key]));
    }
    const inner = (def.innerType ?? (def.type === 'pipe' ? def.in : undefined)) as typeof node | undefined;
    if (!inner) return [prefix];
    node = inner;
  }
}

function setAt(target: Record<string, unknown>, path: string[], leaf: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = leaf;
}

function valueAt(value: unknown, path: PropertyKey[]): unknown {
  let node = value;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/**
 * What was found at `path` and what the schema expected, in this loader's words, for other YAML
 * files (rule files) that must report their mistakes the same way.
 */
export function explainIssue(root: unknown, issue: z.core.$ZodIssue): { found: string; expected: string } {
  return { found: describe(valueAt(root, issue.path)), expected: expectation(issue) };
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${JSON.stringify(value)} (${typeof value})`;
}

function expectation(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return `unknown key(s) ${issue.keys.join(', ')}; check the spelling against config/ examples`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_format':
      return issue.format === 'url'
        ? 'expected a URL such as http://host:8080'
        : `expected a ${issue.format}`;
    case 'invalid_type':
      return `expected ${issue.expected}`;
    default:
      return `expected ${issue.message.replace(/^Invalid input: /, '').replace(/^expected /, '')}`;
  }
}
