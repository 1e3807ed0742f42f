import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { SIGNATURE_ALGS } from '../shared/crypto/suite.js';
import { UserError } from '../shared/errors.js';
import { agentIdFromPublicKey } from '../shared/identity.js';

/**
 * The agent's identity: its key pair and what enrollment taught it (the collector's key, broker
 * credentials). One JSON file in `identity.dir`, readable by the owner only, since it holds the
 * private key. The id is derived from the key, so the file cannot claim another agent's id.
 */
export const IDENTITY_FILE = 'identity.json';

const keyPairFields = {
  agentId: z.string(),
  alg: z.enum(SIGNATURE_ALGS),
  publicKey: z.string().min(1),
  privateKey: z.string().min(1),
  /** After a key rotation (agent/rotate-key.ts): the enrolled key the id was derived from. */
  idPublicKey: z.string().min(1).optional(),
};

/**
 * The broker login enrollment hands out. `urls` (newer collectors) lists every broker node the
 * agent may use, `url` first; the agent fails over between them. Older identities have `url` alone.
 */
export const brokerLoginSchema = z.object({
  url: z.string().min(1),
  urls: z.array(z.string().min(1)).min(1).optional(),
  username: z.string(),
  password: z.string(),
});

/** The brokers to use, in order: `broker.url` from the agent's config alone, else what enrollment taught. */
export function brokerUrlsFor(
  configUrl: string | undefined,
  broker: { url: string; urls?: readonly string[] | undefined },
): string[] {
  if (configUrl) return [configUrl];
  return broker.urls && broker.urls.length > 0 ? [...broker.urls] : [broker.url];
}

/** A key pair written before enrollment finished, so a retry registers the same key. */
const keyOnlySchema = z.object(keyPairFields);

export const agentIdentitySchema = z.object({
  ...keyPairFields,
  collectorUrl: z.string(),
  unit: z.string(),
  collector: z.object({ id: z.string().min(1), alg: z.enum(SIGNATURE_ALGS), publicKey: z.string().min(1) }),
  broker: brokerLoginSchema,
  enrolledAt: z.string(),
  /** A rotation in progress: the new key, kept until the collector has taken it (agent/rotate-key.ts). */
  pendingKey: z
    .object({ alg: z.enum(SIGNATURE_ALGS), publicKey: z.string().min(1), privateKey: z.string().min(1) })
    .optional(),
  keyRotatedAt: z.string().optional(),
});
export type AgentIdentity = z.infer<typeof agentIdentitySchema>;
export type AgentKeyPair = z.infer<typeof keyOnlySchema>;

export function identityFile(dir: string): string {
  return join(dir, IDENTITY_FILE);
}

/** The enrolled identity, or a UserError saying how to get one. */
export function loadIdentity(dir: string): AgentIdentity {
  const file = identityFile(dir);
  const raw = readIdentityJson(file);
  if (raw === undefined) {
    throw new UserError(
      `this agent is not enrolled: ${resolve(file)} does not exist (identity.dir is ${resolve(dir)}); ` +
        'run smew agent enroll first',
    );
  }
  const parsed = agentIdentitySchema.safeParse(raw);
  if (!parsed.success) {
    const hint = keyOnlySchema.safeParse(raw).success
      ? 'it holds a key pair but its enrollment did not finish'
      : 'it is not an agent identity file';
    throw new UserError(`this agent is not enrolled: ${resolve(file)}: ${hint}; run smew agent enroll first`);
  }
  checkIdDerivation(file, parsed.data);
  return parsed.data;
}

/** The key pair already in `dir` (enrolled or not), if there is a usable one. */
export function loadKeyPair(dir: string): AgentKeyPair | undefined {
  const file = identityFile(dir);
  const parsed = keyOnlySchema.safeParse(readIdentityJson(file));
  if (!parsed.success) return undefined;
  checkIdDerivation(file, parsed.data);
  return {
    agentId: parsed.data.agentId,
    alg: parsed.data.alg,
    publicKey: parsed.data.publicKey,
    privateKey: parsed.data.privateKey,
    ...(parsed.data.idPublicKey ? { idPublicKey: parsed.data.idPublicKey } : {}),
  };
}

/**
 * Writes the identity file with mode 0600 in a 0700 directory, through a temporary file and a
 * rename, so a crash never leaves half a key behind.
 */
export function writeIdentity(dir: string, identity: AgentIdentity | AgentKeyPair): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    const file = identityFile(dir);
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(identity, null, 2)}\n`, { mode: 0o600 });
    chmodSync(temporary, 0o600);
    renameSync(temporary, file);
  } catch (err) {
    throw new UserError(`identity.dir: cannot write ${identityFile(dir)}: ${(err as Error).message}`);
  }
}

function readIdentityJson(file: string): unknown {
  if (!existsSync(file)) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`identity.dir: cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UserError(`identity.dir: ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

function checkIdDerivation(
  file: string,
  identity: { agentId: string; publicKey: string; idPublicKey?: string },
): void {
  const expected = agentIdFromPublicKey(identity.idPublicKey ?? identity.publicKey);
  if (identity.agentId !== expected) {
    throw new UserError(
      `identity.dir: ${file}: agentId ${identity.agentId} does not match its public key (expected ${expected})`,
    );
  }
}
