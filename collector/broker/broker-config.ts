import { z } from 'zod';
import { byteSizeSchema } from '../../shared/byte-size.js';
import { UserError } from '../../shared/errors.js';
import { brokerTlsSchema } from '../../shared/tls.js';
import { hostPortSchema } from '../listen-address.js';
import { mosquittoConfigSchema } from './mosquitto-access.js';
import { natsConfigSchema, type NatsConfig } from './nats-access.js';
import { DEFAULT_MAX_PACKET_BYTES } from './packet-limit.js';

/** `broker:` in the collector config: the embedded broker, or the external one the collector uses. */
export const brokerConfigSchema = z
  .strictObject({
    /** The embedded aedes broker's listener; ignored when `url` names an external broker. */
    listen: hostPortSchema.default('127.0.0.1:1883'),
    /**
     * mqtt: the embedded broker, or an external MQTT broker at `url`. nats: a NATS JetStream
     * cluster (broker.nats): collectors read through JetStream and publish acks over MQTT at `url`.
     */
    kind: z.enum(['mqtt', 'nats']).default('mqtt'),
    /** An external MQTT broker (Mosquitto, EMQX, a NATS node's MQTT listener) instead of the embedded one. */
    url: z.string().optional(),
    /** Other nodes of the same broker cluster, for the collector's own MQTT client to fail over to. */
    urls: z.array(z.string().min(1)).optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    /** The broker URL handed to agents at enrollment; defaults to the one the collector uses. */
    publicUrl: z.string().optional(),
    /**
     * Every broker node agents may use (a NATS or EMQX cluster), handed out at enrollment; agents
     * fail over between them. The first is also sent as the single `url` older agents read.
     */
    publicUrls: z.array(z.string().min(1)).min(1).optional(),
    /** With an external Mosquitto: where the collector writes its password and ACL files. */
    mosquitto: mosquittoConfigSchema.optional(),
    /** broker.kind nats: the cluster, its stream and consumer, and the authorization file (docs/nats.md). */
    nats: natsConfigSchema.optional(),
    /** cert/key: the embedded broker speaks MQTT over TLS; ca: whom the collector's client trusts (docs/tls.md). */
    tls: brokerTlsSchema.optional(),
    /**
     * The embedded broker's largest MQTT packet; a client announcing a larger one is cut off
     * before it is buffered. Default: the 64 KiB ingest limit plus 1 KiB for topic and headers.
     */
    maxPacket: byteSizeSchema
      .default(DEFAULT_MAX_PACKET_BYTES)
      .refine((n) => n >= 1024, 'expected at least 1KiB'),
  })
  .default({ listen: '127.0.0.1:1883', kind: 'mqtt', maxPacket: DEFAULT_MAX_PACKET_BYTES });
export type BrokerConfig = z.infer<typeof brokerConfigSchema>;

/** How ingest reaches the agents' messages, checked across broker.* and ingest.sharedGroup. */
export interface IngestTransport {
  /** broker.kind nats: the cluster's settings; undefined for MQTT. */
  nats: NatsConfig | undefined;
  sharedGroup: string | undefined;
}

export function ingestTransport(config: {
  broker: BrokerConfig;
  ingest: { sharedGroup?: string | undefined };
}): IngestTransport {
  const { sharedGroup } = config.ingest;
  if (sharedGroup !== undefined && !config.broker.url) {
    throw new UserError(
      'ingest.sharedGroup: needs broker.url (an external broker such as Mosquitto); the embedded broker serves one collector',
    );
  }
  return { nats: natsSettings(config.broker, sharedGroup), sharedGroup };
}

function natsSettings(broker: BrokerConfig, sharedGroup: string | undefined): NatsConfig | undefined {
  if (broker.kind !== 'nats') {
    if (broker.nats) throw new UserError('broker.nats: is used only with broker.kind: nats');
    return undefined;
  }
  if (!broker.nats) {
    throw new UserError('broker.kind: nats needs broker.nats.servers (the cluster’s nats:// URLs)');
  }
  if (!broker.url) {
    throw new UserError(
      'broker.kind: nats needs broker.url: a node’s MQTT listener (mqtt://host:1883), where the collector publishes acks and policies',
    );
  }
  if (sharedGroup !== undefined) {
    throw new UserError(
      'ingest.sharedGroup: not used with broker.kind: nats; the collectors share the JetStream consumer broker.nats.consumer',
    );
  }
  return broker.nats;
}
