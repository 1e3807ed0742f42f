import { existsSync } from 'node:fs';
import { optionalString, type Command } from '../../shared/cli.js';
import { escapeInvisible, hasInvisible } from '../../shared/visible-text.js';
import { systemClock } from '../../shared/clock.js';
import { createLogger } from '../../shared/log.js';
import { beaconSignerFromIdentity } from '../beacon/signer.js';
import { loadAgentConfig } from '../config.js';
import type { Finding } from '../detectors/finding.js';
import { runDetectors } from '../detectors/run-detectors.js';
import { identityFile, loadIdentity } from '../identity.js';
import { policyExpectation, policyFile, readStoredPolicy } from '../policy-store.js';
import { collectObservations } from '../probes/collect.js';

export const agentScanCommand: Command = {
  name: 'agent scan',
  summary: 'one pass of every detector; prints the findings and sends nothing (exit 0 clean, 1 findings)',
  usage: 'agent scan [--json] [--config F]',
  options: { json: { type: 'boolean' }, config: { type: 'string' } },
  async run(args) {
    const config = loadAgentConfig(optionalString(args, 'config'));
    const logger = createLogger('agent-scan', process.env.SMEW_LOG_LEVEL ?? 'warn');
    // The same policy `agent run` would apply: the collector's, if this host is enrolled and the
    // stored one verifies with its collector's key.
    const dir = config.identity.dir;
    const identity = existsSync(identityFile(dir)) ? loadIdentity(dir) : undefined;
    const stored = identity
      ? readStoredPolicy(dir, { ...policyExpectation(identity), now: systemClock.now() })
      : undefined;
    if (stored?.state === 'refused') {
      process.stderr.write(`ignored ${policyFile(dir)}: ${stored.reason}; the config's policy applies\n`);
    }
    const policy = stored?.state === 'ok' ? stored.stored.policy : config.policy;
    const observations = await collectObservations(config.paths, {
      clock: systemClock,
      logger,
      policy,
      beacon: beaconSignerFromIdentity(config.identity.dir),
    });
    const { findings, unobservedTypes } = runDetectors(observations, policy, { logger });
    if (unobservedTypes.size > 0) {
      process.stderr.write(
        `could not check (host source unreadable): ${[...unobservedTypes].sort().join(', ')}\n`,
      );
    }
    process.stdout.write(args.values.json === true ? `${findingsJson(findings)}\n` : findingsTable(findings));
    return findings.length > 0 ? 1 : 0;
  },
};

/** Exactly `{"findings":[{type,key,severity,data}]}`, sorted by key (runDetectors sorts). */
export function findingsJson(findings: readonly Finding[]): string {
  return JSON.stringify({
    findings: findings.map(({ type, key, severity, data }) => ({ type, key, severity, data })),
  });
}

/**
 * A table for people. Values are JSON-quoted, so a hostile interface name or alias with
 * newlines or escape sequences prints as visible text and cannot forge rows or drive the terminal.
 */
export function findingsTable(findings: readonly Finding[]): string {
  if (findings.length === 0) return 'no findings\n';
  const rows = findings.map((f) => [f.severity, f.type, visible(f.key), describeData(f.data)]);
  const header = ['SEVERITY', 'TYPE', 'KEY', 'DATA'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n${findings.length} finding(s)\n`;
}

function describeData(data: Record<string, unknown>): string {
  return Object.entries(data)
    .map(([k, v]) => `${visible(k)}=${escapeInvisible(JSON.stringify(v) ?? 'null')}`)
    .join(' ');
}

/** Plain text as is; text with invisible characters JSON-quoted with those characters escaped. */
export function visible(text: string): string {
  return hasInvisible(text) ? escapeInvisible(JSON.stringify(text)) : text;
}
