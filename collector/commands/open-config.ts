import { userInfo } from 'node:os';
import { optionalString, type ParsedArgs } from '../../shared/cli.js';
import { loadCollectorConfig, type CollectorConfig } from '../config.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';

/**
 * What the data commands (`token`, `apikey`, `user`) share: the collector's `--config`, and its
 * store opened directly, so they work whether or not the collector is running.
 */
export function readConfig(args: ParsedArgs): CollectorConfig {
  return loadCollectorConfig(optionalString(args, 'config'));
}

export async function withStore<T>(config: CollectorConfig, work: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(config.store.url);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

export const CONFIG_OPTION = { config: { type: 'string' } } as const;

/** A data command's change in the audit log, beside the API's: who ran it (the OS user), what, on whom. */
export async function auditCommand(store: Store, action: string, detail: string): Promise<void> {
  let actor: string;
  try {
    actor = userInfo().username;
  } catch {
    // No passwd entry for this uid (a bare container): the uid still names who ran it.
    actor = `uid ${process.getuid?.() ?? '?'}`;
  }
  await store.audit.append({
    at: new Date().toISOString(),
    actor,
    actorKind: 'cli',
    role: null,
    unit: null,
    action,
    status: null,
    ip: 'local',
    detail,
  });
}

/** `user list` and `apikey list`: one line per account, withdrawn ones too, never a secret. */
export function printAccounts<
  T extends { name: string; role: string; unit: string | null; createdAt: string },
>(
  accounts: readonly T[],
  withdrawnAt: (account: T) => string | null,
  words: { active: string; withdrawn: string; none: string },
): void {
  if (accounts.length === 0) {
    process.stderr.write(`${words.none}\n`);
    return;
  }
  process.stdout.write(
    formatTable([
      ['NAME', 'ROLE', 'UNIT', 'STATE', 'SINCE'],
      ...accounts.map((a) => {
        const at = withdrawnAt(a);
        return [a.name, a.role, a.unit ?? '(all)', at ? words.withdrawn : words.active, at ?? a.createdAt];
      }),
    ]),
  );
}

/** Rows of columns padded to line up. */
function formatTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => r[i]!.length))) ?? [];
  return (
    rows
      .map((r) =>
        r
          .map((cell, i) => cell.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
