import { COLLECTOR_LEVELS } from '../shared/api/clocks.js';
import { z } from 'zod';
import { loadConfig } from '../shared/config/load.js';
import { durationSchema } from '../shared/duration.js';
import { notifyConfigSchema } from './notify/config.js';
import { clockConfigSchema } from './clocks/clock-config.js';
import { MAX_BATCH_BYTES, parentConfigSchema } from './hierarchy/hierarchy-config.js';
import { policyUpdateSchema } from './hierarchy/policy-merge.js';
import { livenessConfigSchema } from './liveness/liveness-config.js';
import { mosquittoConfigSchema } from './broker/mosquitto-access.js';
import { DEFAULT_MAX_PACKET_BYTES } from './broker/packet-limit.js';
import { byteSizeSchema } from '../shared/byte-size.js';
import { natsConfigSchema } from './broker/nats-access.js';
import { brokerTlsSchema, tlsListenerSchema } from '../shared/tls.js';
import { APPROVAL_MODES } from './approval.js';
import { parseCidr } from '../shared/net/cidr.js';

export { COLLECTOR_LEVELS };

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'a host:port such as 127.0.0.1:8080');

/** A reverse proxy the collector believes (http.trustProxy): an address or a CIDR range. */
const proxyAddress = z
  .string()
  .refine(
    (text) => parseCidr(text) !== undefined,
    'an IP address or CIDR range such as 127.0.0.1 or 10.0.0.0/8',
  );

/** Collector configuration (SPEC §4). Defaults listen on loopback only and keep data in ./data. */
export const collectorConfigSchema = z.strictObject({
  unit: z.string().min(1).default('本单位'),
  level: z.enum(COLLECTOR_LEVELS).default('unit'),
  http: z
    .strictObject({
      listen: hostPort.default('127.0.0.1:8080'),
      /** The URL agents and children use to reach this collector; derived from listen when unset. */
      publicUrl: z.url().optional(),
      /** PEM files; when set the API and dashboard are served over HTTPS only (docs/tls.md). */
      tls: tlsListenerSchema.optional(),
      /**
       * Reverse proxies whose X-Forwarded-For / -Proto the collector believes (addresses or CIDR
       * ranges). Off by default: the client address is the socket's, so a client cannot pick its
       * own address to dodge the login throttle. Behind a proxy every user would share the proxy's
       * address (and its lockout) unless the proxy is named here (docs/access.md).
       */
      trustProxy: z
        .union([z.literal(false), proxyAddress.transform((one) => [one]), z.array(proxyAddress).min(1)])
        .default(false),
      /**
       * The largest batch of reports a child collector may post (/api/v1/hierarchy/reports); it
       * is read before its signature can be checked. Larger bodies are answered 413.
       */
      maxReportBody: byteSizeSchema
        .default(MAX_BATCH_BYTES)
        .refine((n) => n >= 64 * 1024, 'expected at least 64KiB'),
    })
    .default({ listen: '127.0.0.1:8080', trustProxy: false, maxReportBody: MAX_BATCH_BYTES }),
  broker: z
    .strictObject({
      /** The embedded aedes broker's listener; ignored when `url` names an external broker. */
      listen: hostPort.default('127.0.0.1:1883'),
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
    .default({ listen: '127.0.0.1:1883', kind: 'mqtt', maxPacket: DEFAULT_MAX_PACKET_BYTES }),
  store: z
    .strictObject({ url: z.string().default('sqlite:./data/smew.db') })
    .default({ url: 'sqlite:./data/smew.db' }),
  identity: z
    .strictObject({ dir: z.string().default('./data/collector') })
    .default({ dir: './data/collector' }),
  ingest: z
    .strictObject({
      maxSkew: durationSchema.default(300_000),
      /** Events are acknowledged in small batches: one signed ack per agent per this delay. */
      ackDelay: durationSchema.default(50),
      /**
       * Several collectors on one external broker and one PostgreSQL: each subscribes as
       * $share/<sharedGroup>/… and the broker splits the agents' messages among them. They must
       * share identity.dir's key, since agents accept acks from the collector they enrolled with.
       */
      sharedGroup: z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,64}$/, 'a name of letters, digits, - and _')
        .optional(),
      /** Messages handled at once; beyond it the collector stops reading from the broker. */
      maxInFlight: z.int().min(1).max(100_000).default(1000),
      /** Signature-checking threads; 0 checks on the main thread. Default: one per core. */
      verifyWorkers: z.int().min(0).max(64).optional(),
    })
    .default({ maxSkew: 300_000, ackDelay: 50, maxInFlight: 1000 }),
  /** manual: a newly enrolled agent waits for `smew agents approve` before the broker admits it. */
  enroll: z.strictObject({ approval: z.enum(APPROVAL_MODES).default('auto') }).default({ approval: 'auto' }),
  parent: parentConfigSchema,
  /**
   * The policy this collector pushes to its agents (SPEC §4; sections left out keep the safe
   * default); policy updates from above narrow it. Unset and none from above: agents keep theirs.
   */
  policy: policyUpdateSchema.optional(),
  /** Where warnings are announced (webhook, email) and how deliveries are retried. */
  notify: notifyConfigSchema,
  /** The 第64条 rule file; default the shipped config/rules.yaml. */
  rules: z.strictObject({ file: z.string().min(1).optional() }).default({}),
  /** The legal clocks (第35条, 第61条): reminder offsets and the pass schedule. */
  clocks: clockConfigSchema,
  /** Agent liveness: missed heartbeats, Last Will, lost-seq grace (issue 4). */
  liveness: livenessConfigSchema,
});
export type CollectorConfig = z.infer<typeof collectorConfigSchema>;

export function loadCollectorConfig(file?: string, env?: NodeJS.ProcessEnv): CollectorConfig {
  return loadConfig(collectorConfigSchema, { file, env, what: 'collector' }).config;
}
