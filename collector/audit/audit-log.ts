import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../../shared/clock.js';
import { COLLECTOR_KEY_FILE, loadOrCreateCollectorIdentity } from '../identity.js';
import type { StoredAuditEntry } from '../store/audit/audit-store.js';
import type { Store } from '../store/store.js';
import { verifyAuditChain, type ChainReport, type ChainSource, type SignedAuditHead } from './audit-chain.js';

/** Entries read per statement while walking the whole log. */
const PAGE = 1000;

/** The log oldest first, a page at a time (only `units`' entries when given). */
async function* entriesOf(store: Store, units?: readonly string[]): AsyncGenerator<StoredAuditEntry> {
  for (let after = 0; ;) {
    const page = await store.audit.page(after, PAGE, units);
    yield* page;
    if (page.length < PAGE) return;
    after = page.at(-1)!.id;
  }
}

function chainSource(store: Store): ChainSource {
  return {
    entries: () => {
      const all = entriesOf(store);
      return {
        async *[Symbol.asyncIterator]() {
          for await (const entry of all) {
            if (entry.seq === null || entry.hash === null || entry.prevHash === null)
              yield { ...entry, seq: null };
            else yield { ...entry, seq: entry.seq, prevHash: entry.prevHash, hash: entry.hash };
          }
        },
      };
    },
    heads: () => store.audit.listHeads(),
    findByHash: (hash) => store.audit.findByHash(hash),
  };
}

/** Verifies the whole chain and every signed head, trusting heads signed by these collectors. */
export function verifyAuditLog(store: Store, trusted: Iterable<string>): Promise<ChainReport> {
  return verifyAuditChain(chainSource(store), new Set(trusted));
}

/** The collector's own id from its key file in `identity.dir`, without making a key where none is. */
export function ownCollectorId(identityDir: string): string | undefined {
  if (!existsSync(join(identityDir, COLLECTOR_KEY_FILE))) return undefined;
  return loadOrCreateCollectorIdentity(identityDir).id;
}

/** `smew audit export` and `GET /api/v1/audit/export`: the entries with their chain, the heads, the check. */
export interface AuditExport {
  format: 'smew-audit-export/1';
  exportedAt: string;
  /** undefined: every unit's entries, the whole chain; else only these units' (each entry still verifies alone). */
  units: string[] | null;
  verification: ChainReport;
  heads: SignedAuditHead[];
  entries: StoredAuditEntry[];
}

export async function exportAuditLog(
  store: Store,
  options: { units?: readonly string[]; trusted: Iterable<string>; clock: Clock },
): Promise<AuditExport> {
  const verification = await verifyAuditLog(store, options.trusted);
  const entries: StoredAuditEntry[] = [];
  for await (const entry of entriesOf(store, options.units)) entries.push(entry);
  return {
    format: 'smew-audit-export/1',
    exportedAt: options.clock.now().toISOString(),
    units: options.units ? [...options.units] : null,
    verification,
    heads: await store.audit.listHeads(),
    entries,
  };
}

/** The report as `smew audit verify` prints it and the dashboard shows it. */
export function describeChainReport(report: ChainReport): string {
  const lines = [`audit log: ${report.entries} entries, ${report.heads} signed heads`];
  if (report.newestHead) {
    const h = report.newestHead;
    lines.push(`newest signed head: seq ${h.seq}, ${h.signedAt}, collector ${h.collector}`);
  }
  if (report.unchained > 0)
    lines.push(`${report.unchained} entries from before the chain, sealed at the next entry`);
  if (report.problem) {
    const p = report.problem;
    const where =
      p.id !== undefined ? `entry ${p.id}${p.seq !== undefined ? ` (seq ${p.seq})` : ''}` : `seq ${p.seq}`;
    lines.push(`BROKEN at ${where}: ${p.kind} — ${p.detail}`);
    lines.push(`chain verified through seq ${report.verifiedThrough}`);
  } else {
    lines.push(`chain intact through seq ${report.verifiedThrough}`);
    if (report.unsigned > 0)
      lines.push(`${report.unsigned} entries after the newest signed head (chained, not yet signed)`);
  }
  return `${lines.join('\n')}\n`;
}
