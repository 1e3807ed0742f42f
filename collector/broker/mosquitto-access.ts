import { z } from 'zod';
import { UserError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { agentTopic, allAgentsTopic } from '../../shared/topics.js';
import type { Store } from '../store/store.js';
import type { BrokerAccount } from '../store/transport/transport-store.js';
import { brokerAccountsToWrite, reloadBroker, writeAtomically } from './access-files.js';
import { mosquittoPasswordHash } from './mosquitto-passwd.js';

/**
 * Access control on a Mosquitto broker (SPEC §5, issue 4): the collector writes Mosquitto's
 * `password_file` and `acl_file` from its store, so each agent logs in with the broker secret it
 * got at enrollment and may publish only under its own id and read only its own ack and policy.
 * Revoked agents are left out. The store keeps only hashes: the `$7$` hash of each agent's
 * secret is made at enrollment, when the secret is at hand (agents enrolled before this was kept
 * must enroll again to get a Mosquitto login). Files are replaced atomically; Mosquitto reads
 * them again on SIGHUP, which the collector sends when `pidFile` names Mosquitto's pid file.
 * docs/mosquitto.md shows the broker side.
 */
export const mosquittoConfigSchema = z.strictObject({
  passwordFile: z.string().min(1),
  aclFile: z.string().min(1),
  /** Mosquitto's pid_file: after writing, the collector sends it SIGHUP to reload both files. */
  pidFile: z.string().min(1).optional(),
  /**
   * Mode of both files, octal. Mosquitto re-reads them on SIGHUP as its own user (it drops root),
   * so that user must be able to read them: 0640 with the collector in Mosquitto's group.
   */
  fileMode: z
    .string()
    .regex(/^0?[0-7]{3}$/, 'an octal file mode such as 0640')
    .default('0640'),
});
export type MosquittoConfig = z.infer<typeof mosquittoConfigSchema>;

const AGENT_WRITES = ['events', 'heartbeat', 'status'] as const;
const AGENT_READS = ['ack', 'policy'] as const;

export function renderPasswordFile(
  accounts: readonly BrokerAccount[],
  collector: { username: string; passwordHash: string },
): string {
  const lines = [`${collector.username}:${collector.passwordHash}`];
  for (const account of accounts) {
    if (account.revoked || account.passwordHash === null) continue;
    lines.push(`${account.agentId}:${account.passwordHash}`);
  }
  return `${lines.join('\n')}\n`;
}

export function renderAclFile(accounts: readonly BrokerAccount[], collectorUsername: string): string {
  const out = [
    '# Written by the smew collector from its store; edits are overwritten.',
    '# Each agent publishes only under its own id and reads only its own ack and policy.',
    '',
    `user ${collectorUsername}`,
    ...(['events', 'heartbeat', 'status'] as const).map((c) => `topic read ${allAgentsTopic(c)}`),
    ...(['ack', 'policy'] as const).map((c) => `topic write ${allAgentsTopic(c)}`),
  ];
  for (const account of accounts) {
    if (account.revoked || account.passwordHash === null) continue;
    out.push('', `user ${account.agentId}`);
    for (const channel of AGENT_WRITES) out.push(`topic write ${agentTopic(account.agentId, channel)}`);
    for (const channel of AGENT_READS) out.push(`topic read ${agentTopic(account.agentId, channel)}`);
  }
  return `${out.join('\n')}\n`;
}

export interface MosquittoAccessOptions {
  config: MosquittoConfig;
  store: Store;
  /** The collector's own login on the broker (broker.username / broker.password). */
  collector: { username: string; password: string };
  logger: Logger;
}

/**
 * The collector's own broker login, which the access files it writes (broker.mosquitto, or
 * broker.nats.authFile named by `key`) must hold.
 */
export function collectorBrokerLogin(
  config: { broker: { username?: string; password?: string } },
  key = 'broker.mosquitto',
): {
  username: string;
  password: string;
} {
  const { username, password } = config.broker;
  if (!username || !password) {
    throw new UserError(
      `${key}: needs broker.username and broker.password (the collector’s own broker login, written into that file)`,
    );
  }
  return { username, password };
}

export class MosquittoAccess {
  private readonly collectorHash: string;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly options: MosquittoAccessOptions) {
    this.collectorHash = mosquittoPasswordHash(options.collector.password);
  }

  /** Rewrites both files from the store and asks Mosquitto to reload them. One write at a time. */
  sync(): Promise<void> {
    const next = this.writing.then(() => this.write());
    this.writing = next.catch(() => undefined);
    return next;
  }

  private async write(): Promise<void> {
    const { config, store, collector, logger } = this.options;
    const accounts = await brokerAccountsToWrite(store);
    const mode = parseInt(config.fileMode, 8);
    writeAtomically(
      config.passwordFile,
      renderPasswordFile(accounts, { username: collector.username, passwordHash: this.collectorHash }),
      mode,
      'broker.mosquitto.passwordFile',
    );
    writeAtomically(
      config.aclFile,
      renderAclFile(accounts, collector.username),
      mode,
      'broker.mosquitto.aclFile',
    );
    const usable = accounts.filter((a) => !a.revoked && a.passwordHash !== null).length;
    const missing = accounts.filter((a) => !a.revoked && a.passwordHash === null).map((a) => a.agentId);
    if (missing.length > 0) {
      logger.warn(
        { agents: missing },
        'these agents enrolled before Mosquitto logins were kept; they must enroll again',
      );
    }
    if (config.pidFile) reloadBroker(config.pidFile, 'Mosquitto', logger);
    logger.info(
      { agents: usable, passwordFile: config.passwordFile },
      'wrote the Mosquitto password and ACL files',
    );
  }
}
