import { writeFileSync } from 'node:fs';
import { optionalString, type Command, type ParsedArgs } from '../../shared/cli.js';
import { systemClock } from '../../shared/clock.js';
import { UserError } from '../../shared/errors.js';
import { describeChainReport, exportAuditLog, ownCollectorId, verifyAuditLog } from '../audit/audit-log.js';
import type { CollectorConfig } from '../config.js';
import { CONFIG_OPTION, readConfig, withStore } from './open-config.js';

const TRUST_OPTION = { trust: { type: 'string', multiple: true } } as const;

/** This collector's key, and any other collector sharing the database named with --trust. */
function trustedSigners(config: CollectorConfig, args: ParsedArgs): string[] {
  const own = ownCollectorId(config.identity.dir);
  const others = (args.values.trust as string[] | undefined) ?? [];
  return [...(own ? [own] : []), ...others.flatMap((t) => t.split(',')).filter(Boolean)];
}

export const auditVerifyCommand: Command = {
  name: 'audit verify',
  summary:
    'check the audit log’s hash chain and signed heads; exit 1 at the first edited, deleted or reordered entry',
  usage: 'audit verify [--trust COLLECTOR_ID]… [--config F]',
  options: { ...TRUST_OPTION, ...CONFIG_OPTION },
  async run(args) {
    const config = readConfig(args);
    const report = await withStore(config, (store) => verifyAuditLog(store, trustedSigners(config, args)));
    (report.ok ? process.stdout : process.stderr).write(describeChainReport(report));
    return report.ok ? 0 : 1;
  },
};

export const auditExportCommand: Command = {
  name: 'audit export',
  summary: 'write the whole audit log with its chain, signed heads and the verification as JSON',
  usage: 'audit export [--out FILE] [--trust COLLECTOR_ID]… [--config F]',
  options: { out: { type: 'string' }, ...TRUST_OPTION, ...CONFIG_OPTION },
  async run(args) {
    const config = readConfig(args);
    const exported = await withStore(config, (store) =>
      exportAuditLog(store, { trusted: trustedSigners(config, args), clock: systemClock }),
    );
    const text = `${JSON.stringify(exported, null, 2)}\n`;
    const out = optionalString(args, 'out');
    if (out === undefined) process.stdout.write(text);
    else {
      try {
        writeFileSync(out, text, { mode: 0o600 });
      } catch (err) {
        throw new UserError(`smew audit export: --out: cannot write ${out}: ${(err as Error).message}`);
      }
    }
    process.stderr.write(describeChainReport(exported.verification));
    return 0;
  },
};
