import { readFileSync } from 'node:fs';
import bcrypt from 'bcryptjs';
import { z } from 'zod';
import { durationSchema } from '../../shared/duration.js';
import type { Logger } from '../../shared/log.js';
import { agentTopic, natsSubjectOfTopic } from '../../shared/topics.js';
import type { Store } from '../store/store.js';
import type { BrokerAccount } from '../store/transport/transport-store.js';
import { brokerAccountsToWrite, reloadBroker, writeAtomically } from './access-files.js';

/**
 * The broker tier on a NATS JetStream cluster (issue 20, docs/nats.md). Agents speak MQTT to any
 * node; collectors read the agents' subjects from one replicated JetStream stream through one
 * durable pull consumer they share, and publish acks and policies over MQTT (retained).
 */
export const natsConfigSchema = z.strictObject({
  /** The cluster's NATS client URLs (nats://host:4222); the client fails over between them. */
  servers: z.array(z.string().min(1)).min(1),
  /** The JetStream stream over the agents' subjects; created when missing. */
  stream: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'a name of letters, digits, - and _')
    .default('SMEW_AGENTS'),
  /** The one durable work-queue consumer every collector of the site pulls from. */
  consumer: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'a name of letters, digits, - and _')
    .default('smew-ingest'),
  /** Copies of the stream kept on different nodes: 3 survives losing one. */
  replicas: z.int().min(1).max(5).default(3),
  /** A message a collector took but did not acknowledge within this goes to another collector. */
  ackWait: durationSchema.default(30_000),
  /** Where the collector writes the `authorization { users = [...] }` file every node includes. */
  authFile: z.string().min(1).optional(),
  /** The nodes' pid files (pid_file), signalled to reload authFile; nodes elsewhere reload by their own means. */
  pidFiles: z.array(z.string().min(1)).default([]),
  /** Mode of authFile, octal. */
  fileMode: z
    .string()
    .regex(/^0?[0-7]{3}$/, 'an octal file mode such as 0640')
    .default('0640'),
});
export type NatsConfig = z.infer<typeof natsConfigSchema>;

/** NATS keeps bcrypt hashes (`$2a$…`) of passwords in its configuration. */
export function natsPasswordHash(password: string): string {
  return bcrypt.hashSync(password, 10);
}

const RELOAD_SPACING_MS = 1_000;

const isNatsHash = (hash: string | null): hash is string => hash !== null && /^\$2[aby]\$/.test(hash);

const subjects = (agentId: string, channels: readonly Parameters<typeof agentTopic>[1][]) =>
  channels.map((channel) => natsSubjectOfTopic(agentTopic(agentId, channel)));

/**
 * The authorization block: the collector's own login (NATS and MQTT), and each agent's, MQTT only,
 * publishing only under its own id and reading only its own ack and policy. `$MQTT.sub.>` is where
 * the gateway delivers an MQTT QoS 1 subscription (nats-server's MQTT docs); without it an agent's
 * QoS 1 subscription fails. Revoked, unapproved and agents without a bcrypt hash are left out.
 */
export function renderNatsAuthorization(
  accounts: readonly BrokerAccount[],
  collector: { username: string; passwordHash: string },
): string {
  const users = [
    `    { user: ${JSON.stringify(collector.username)}, password: ${JSON.stringify(collector.passwordHash)}, ` +
      // Explicit permissions, even if they allow all: nats-server 2.9.10 dereferences the
      // permissions of whoever published a retained message (the collector: every ack) on each
      // reload, and panics when that user has none.
      `allowed_connection_types: ["STANDARD", "MQTT"], permissions: { publish: { allow: [">"] }, subscribe: { allow: [">"] } } }`,
  ];
  for (const account of accounts) {
    if (account.revoked || !isNatsHash(account.passwordHash)) continue;
    const publish = subjects(account.agentId, ['events', 'heartbeat', 'status']);
    const subscribe = [...subjects(account.agentId, ['ack', 'policy']), '$MQTT.sub.>'];
    users.push(
      `    { user: ${JSON.stringify(account.agentId)}, password: ${JSON.stringify(account.passwordHash)}, ` +
        `allowed_connection_types: ["MQTT"], permissions: { publish: { allow: ${JSON.stringify(publish)} }, ` +
        `subscribe: { allow: ${JSON.stringify(subscribe)} } } }`,
    );
  }
  return [
    '# Written by the smew collector from its store; edits are overwritten.',
    '# Each agent publishes only under its own id and reads only its own ack and policy.',
    'authorization {',
    '  users = [',
    ...users,
    '  ]',
    '}',
    '',
  ].join('\n');
}

export interface NatsAccessOptions {
  config: NatsConfig & { authFile: string };
  store: Store;
  collector: { username: string; password: string };
  logger: Logger;
}

/** Writes the authorization file from the store and asks the local nodes to reload it. */
export class NatsAccess {
  private readonly collectorHash: string;
  private writing: Promise<void> = Promise.resolve();
  private lastReloadAt = 0;

  constructor(private readonly options: NatsAccessOptions) {
    // The hash already in the file, when it still matches: a restart then changes nothing.
    this.collectorHash =
      writtenCollectorHash(readText(options.config.authFile), options.collector) ??
      natsPasswordHash(options.collector.password);
  }

  sync(): Promise<void> {
    const next = this.writing.then(() => this.write());
    this.writing = next.catch(() => undefined);
    return next;
  }

  private async write(): Promise<void> {
    const { config, store, collector, logger } = this.options;
    const accounts = await brokerAccountsToWrite(store);
    const text = renderNatsAuthorization(accounts, {
      username: collector.username,
      passwordHash: this.collectorHash,
    });
    // Unchanged: no write and no reload (every reload makes each node re-check every client).
    if (readText(config.authFile) === text) return;
    writeAtomically(config.authFile, text, parseInt(config.fileMode, 8), 'broker.nats.authFile');
    const missing = accounts.filter((a) => !a.revoked && !isNatsHash(a.passwordHash)).map((a) => a.agentId);
    if (missing.length > 0) {
      logger.warn({ agents: missing }, 'these agents have no NATS login yet; they must enroll again');
    }
    // Reloads spaced out: a burst of enrollments makes one reload a second, not one each.
    const wait = this.lastReloadAt + RELOAD_SPACING_MS - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    for (const pidFile of config.pidFiles) reloadBroker(pidFile, 'nats-server', logger);
    this.lastReloadAt = Date.now();
    logger.info(
      { agents: accounts.length - missing.length, authFile: config.authFile },
      'wrote the NATS authorization file',
    );
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The collector's bcrypt hash in a file this collector wrote, if it matches its password. */
function writtenCollectorHash(
  text: string | undefined,
  collector: { username: string; password: string },
): string | undefined {
  if (text === undefined) return undefined;
  const line = text.split('\n').find((l) => l.includes(`{ user: ${JSON.stringify(collector.username)},`));
  const hash = line ? /password: "(\$2[aby]\$[^"]+)"/.exec(line)?.[1] : undefined;
  return hash && bcrypt.compareSync(collector.password, hash) ? hash : undefined;
}
