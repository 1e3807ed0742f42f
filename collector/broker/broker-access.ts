import type { CollectorContext, Subsystem } from '../subsystem.js';
import type { BrokerConfig } from './broker-config.js';
import { MosquittoAccess, collectorBrokerLogin } from './mosquitto-access.js';
import { mosquittoPasswordHash } from './mosquitto-passwd.js';
import { NatsAccess, natsPasswordHash, type NatsConfig } from './nats-access.js';

/** The access files of an external broker (Mosquitto's, NATS's), written from the store. */
export interface BrokerAccess {
  /** Rewrites the files now (a revocation or an approval); a failure is logged, not thrown. */
  resync(): void;
  /** A newly enrolled agent: its login in the broker's own hash form, then the files again. */
  enrolled(agentId: string, brokerSecret: string): Promise<void>;
}

/** Started before the broker client: the files must hold the collector's own login before it connects. */
export function brokerAccessSubsystem(
  context: CollectorContext,
  broker: BrokerConfig,
  nats: NatsConfig | undefined,
): Subsystem<BrokerAccess> {
  const { store, logger } = context;
  return {
    name: 'broker access',
    async start() {
      const natsAccess = nats?.authFile
        ? new NatsAccess({
            config: { ...nats, authFile: nats.authFile },
            store,
            collector: collectorBrokerLogin({ broker }, 'broker.nats.authFile'),
            logger,
          })
        : undefined;
      await natsAccess?.sync();
      const mosquitto = broker.mosquitto
        ? new MosquittoAccess({
            config: broker.mosquitto,
            store,
            collector: collectorBrokerLogin({ broker }),
            logger,
          })
        : undefined;
      await mosquitto?.sync();
      return {
        resync() {
          mosquitto
            ?.sync()
            .catch((err: unknown) => logger.error({ err }, 'could not rewrite the Mosquitto files'));
          natsAccess
            ?.sync()
            .catch((err: unknown) => logger.error({ err }, 'could not rewrite the NATS authorization file'));
        },
        async enrolled(agentId, brokerSecret) {
          try {
            // The broker's own hash form: bcrypt for NATS, Mosquitto's $7$ otherwise.
            const hash = nats ? natsPasswordHash(brokerSecret) : mosquittoPasswordHash(brokerSecret);
            await store.transport.setBrokerPasswordHash(agentId, hash);
          } catch (err) {
            // A store without the transport domain (PostgreSQL, for now) matters only with Mosquitto.
            if (mosquitto || natsAccess) throw err;
            logger.debug({ err }, 'no Mosquitto login kept for this agent');
          }
          await mosquitto?.sync();
          await natsAccess?.sync();
        },
      };
    },
  };
}
