import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { UserError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { Store } from '../store/store.js';
import type { BrokerAccount } from '../store/transport/transport-store.js';

/**
 * Broker access files the collector writes from its store (Mosquitto's password and ACL files,
 * NATS's authorization include): replaced atomically, then the broker is asked to read them again
 * with SIGHUP through its pid file. Both Mosquitto and nats-server reload on SIGHUP.
 */
export function writeAtomically(path: string, text: string, mode: number, key: string): void {
  const temporary = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(temporary, text, { mode });
    chmodSync(temporary, mode);
    renameSync(temporary, path);
  } catch (err) {
    throw new UserError(`${key}: cannot write ${path}: ${(err as Error).message}`);
  }
}

/** Sends SIGHUP to the pid in `pidFile`; a broker that is not there is logged, not fatal. */
export function reloadBroker(pidFile: string, broker: string, logger: Logger): void {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 1) throw new Error(`no pid in ${pidFile}`);
    process.kill(pid, 'SIGHUP');
  } catch (err) {
    logger.warn(
      { err: (err as Error).message, pidFile },
      `could not ask ${broker} to reload its access files`,
    );
  }
}

/**
 * The agents' broker logins an access file carries: an agent waiting for approval, or rejected
 * (enroll.approval: manual), is written as revoked, so it gets no login yet.
 */
export async function brokerAccountsToWrite(store: Store): Promise<BrokerAccount[]> {
  const unapproved = new Set(await store.approvals.listUnapproved());
  return (await store.transport.listBrokerAccounts()).map((account) =>
    unapproved.has(account.agentId) ? { ...account, revoked: true } : account,
  );
}
