import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { explainIssue } from '../../shared/config/load.js';
import { UserError } from '../../shared/errors.js';
import { compileRule, rulesFileSchema, type Rule } from './schema.js';

/**
 * Reads a rule file. It is taken whole or refused whole: a half-loaded rule set would silently
 * stop some warnings, which is worse than a collector that refuses to start. Every mistake is
 * reported at once, in the config loader's words: file, line, rule, key, found, expected.
 */
export function loadRules(file: string): Rule[] {
  if (!existsSync(file)) throw new UserError(`rules: file ${file} does not exist`);
  return parseRules(readFileSync(file, 'utf8'), file);
}

/** The rules shipped in config/rules.yaml, found from both the source tree and dist/. */
export function defaultRulesFile(): string {
  const candidates = ['../../config/rules.yaml', '../../../config/rules.yaml'].map((rel) =>
    fileURLToPath(new URL(rel, import.meta.url)),
  );
  return candidates.find((path) => existsSync(path)) ?? candidates[0]!;
}

export function parseRules(text: string, source: string): Rule[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const where = ` at line ${lines.linePos(yamlError.pos[0]).line}`;
    throw new UserError(`${source}${where}: not valid YAML: ${yamlError.message.split('\n')[0]}`);
  }
  const raw: unknown = doc.toJS();
  const result = rulesFileSchema.safeParse(raw);
  if (!result.success) {
    const messages = result.error.issues.map((issue) => describeIssue(source, raw, doc, lines, issue));
    throw new UserError(messages.join('\n'));
  }
  return result.data.rules.map(compileRule);
}

function describeIssue(
  source: string,
  raw: unknown,
  doc: Document,
  lines: LineCounter,
  issue: z.core.$ZodIssue,
): string {
  const explained = explainIssue(raw, issue);
  const { found } = explained;
  // The schema words its own type errors ("a list of rules"); zod's default says only "array".
  const expected =
    issue.code === 'invalid_type' && !issue.message.startsWith('Invalid input')
      ? `expected ${issue.message}`
      : explained.expected;
  const line = lineOf(doc, lines, issue.path);
  const at = line === undefined ? '' : ` line ${line}:`;
  const [top, index, ...rest] = issue.path;
  if (top === 'rules' && typeof index === 'number') {
    const name = ruleName(raw, index);
    const key = rest.join('.') || '(the rule itself)';
    return `${source}:${at} rule ${index + 1}${name}: key ${key}: found ${found}; ${expected}`;
  }
  const key = issue.path.join('.') || '(top level)';
  return `${source}:${at} key ${key}: found ${found}; ${expected}`;
}

function ruleName(raw: unknown, index: number): string {
  const rules = (raw as { rules?: unknown } | null)?.rules;
  const rule: unknown = Array.isArray(rules) ? rules[index] : undefined;
  const name = (rule as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name !== '' ? ` (${JSON.stringify(name)})` : '';
}

/** The line of the node at `path`, or of its nearest ancestor when the key is missing. */
function lineOf(doc: Document, lines: LineCounter, path: PropertyKey[]): number | undefined {
  let node: unknown = doc.contents;
  const lineAt = (n: unknown) => {
    const range = (n as { range?: [number, number, number] } | null)?.range;
    return range ? lines.linePos(range[0]).line : undefined;
  };
  let line = lineAt(node);
  for (const key of path) {
    if (isMap(node)) node = node.get(key, true);
    else if (isSeq(node) && typeof key === 'number') node = node.get(key, true);
    else break;
    if (node === undefined || node === null) break;
    line = lineAt(node) ?? line;
    if (isScalar(node)) break;
  }
  return line;
}
