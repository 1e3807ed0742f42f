import { z } from 'zod';
import type { Clock } from '../../shared/clock.js';
import { durationSchema } from '../../shared/duration.js';
import type { CollectorIdentity } from '../identity.js';
import type { Store } from '../store/store.js';
import type { CollectorContext, Stoppable, Subsystem } from '../subsystem.js';
import { headSigningBytes, type SignedAuditHead } from './audit-chain.js';

const DEFAULTS = { signInterval: 60_000 };

/**
 * `audit`: how often the collector signs the head of the audit chain with its own key (only when
 * entries were added since). Entries after the newest signed head are protected by the chain
 * alone: deleting the last of them is what a signature would catch, so keep this short.
 */
export const auditConfigSchema = z
  .strictObject({ signInterval: durationSchema.default(DEFAULTS.signInterval) })
  .default(DEFAULTS);
export type AuditConfig = z.infer<typeof auditConfigSchema>;

/** Signs the chain's newest entry unless the newest signed head already names it; the head signed, if any. */
export async function signAuditHead(
  store: Store,
  identity: CollectorIdentity,
  clock: Clock,
): Promise<SignedAuditHead | undefined> {
  const head = await store.audit.head();
  if (!head) return undefined;
  const latest = await store.audit.latestHead();
  if (latest?.seq === head.seq && latest.hash === head.hash) return undefined;
  const unsigned = {
    seq: head.seq,
    hash: head.hash,
    signedAt: clock.now().toISOString(),
    collector: identity.id,
  };
  const signed: SignedAuditHead = {
    ...unsigned,
    alg: identity.alg,
    publicKey: identity.publicKey,
    signature: identity.sign(headSigningBytes(unsigned)),
  };
  await store.audit.addHead(signed);
  return signed;
}

/** Signs the audit chain's head every `signInterval`, and once more at shutdown. */
export function auditSealSubsystem(
  context: CollectorContext,
  identity: CollectorIdentity,
  config: AuditConfig,
): Subsystem<Stoppable> {
  const { store, clock, logger } = context;
  const seal = () =>
    signAuditHead(store, identity, clock).catch((err: unknown) =>
      logger.warn({ err }, 'could not sign the audit chain head'),
    );
  return {
    name: 'audit seal',
    start() {
      const timer = setInterval(() => void seal(), config.signInterval);
      timer.unref();
      return {
        async stop() {
          clearInterval(timer);
          await seal();
        },
      };
    },
  };
}
