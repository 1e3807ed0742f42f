import { COLLECTOR_LEVELS } from '../shared/api/clocks.js';
import { z } from 'zod';
import { loadConfig } from '../shared/config/load.js';
import { byteSizeSchema } from '../shared/byte-size.js';
import { parseCidr } from '../shared/net/cidr.js';
import { tlsListenerSchema } from '../shared/tls.js';
import { APPROVAL_MODES } from './approval.js';
import { auditConfigSchema } from './audit/audit-seal.js';
import { brokerConfigSchema } from './broker/broker-config.js';
import { clockConfigSchema } from './clocks/clock-config.js';
import { documentsConfigSchema } from './documents/documents-config.js';
import { MAX_BATCH_BYTES, parentConfigSchema } from './hierarchy/hierarchy-config.js';
import { policyUpdateSchema } from './hierarchy/policy-merge.js';
import { ingestConfigSchema } from './ingest/ingest-config.js';
import { hostPortSchema } from './listen-address.js';
import { livenessConfigSchema } from './liveness/liveness-config.js';
import { notifyConfigSchema } from './notify/config.js';
import { rulesConfigSchema } from './rules/rules-config.js';

export { COLLECTOR_LEVELS };

/** A reverse proxy the collector believes (http.trustProxy): an address or a CIDR range. */
const proxyAddress = z
  .string()
  .refine(
    (text) => parseCidr(text) !== undefined,
    'an IP address or CIDR range such as 127.0.0.1 or 10.0.0.0/8',
  );

const httpConfigSchema = z
  .strictObject({
    listen: hostPortSchema.default('127.0.0.1:8080'),
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
  .default({ listen: '127.0.0.1:8080', trustProxy: false, maxReportBody: MAX_BATCH_BYTES });

const storeConfigSchema = z
  .strictObject({ url: z.string().default('sqlite:./data/smew.db') })
  .default({ url: 'sqlite:./data/smew.db' });

const identityConfigSchema = z
  .strictObject({ dir: z.string().default('./data/collector') })
  .default({ dir: './data/collector' });

/** manual: a newly enrolled agent waits for `smew agents approve` before the broker admits it. */
const enrollConfigSchema = z
  .strictObject({ approval: z.enum(APPROVAL_MODES).default('auto') })
  .default({ approval: 'auto' });

/**
 * Collector configuration (SPEC §4), one section per subsystem. A subsystem with a folder keeps
 * its section there (`broker/broker-config.ts`, `ingest/ingest-config.ts`, `clocks/clock-config.ts`…);
 * the sections of the top-level parts (http, store, identity, enroll) are above. Defaults listen
 * on loopback only and keep data in ./data.
 */
export const collectorConfigSchema = z.strictObject({
  unit: z.string().min(1).default('本单位'),
  level: z.enum(COLLECTOR_LEVELS).default('unit'),
  http: httpConfigSchema,
  broker: brokerConfigSchema,
  store: storeConfigSchema,
  identity: identityConfigSchema,
  ingest: ingestConfigSchema,
  enroll: enrollConfigSchema,
  parent: parentConfigSchema,
  /**
   * The policy this collector pushes to its agents (SPEC §4; sections left out keep the safe
   * default); policy updates from above narrow it. Unset and none from above: agents keep theirs.
   */
  policy: policyUpdateSchema.optional(),
  /** Where warnings are announced (webhook, email) and how deliveries are retried. */
  notify: notifyConfigSchema,
  /** The 第64条 rule file; default the shipped config/rules.yaml. */
  rules: rulesConfigSchema,
  /** The legal clocks (第35条, 第61条): reminder offsets and the pass schedule. */
  clocks: clockConfigSchema,
  /** Agent liveness: missed heartbeats, Last Will, lost-seq grace (issue 4). */
  liveness: livenessConfigSchema,
  /** Official documents (公文): the fonts their PDFs are set in. */
  documents: documentsConfigSchema,
  /** How often the audit chain's head is signed (collector/audit/audit-seal.ts). */
  audit: auditConfigSchema,
});
export type CollectorConfig = z.infer<typeof collectorConfigSchema>;

export function loadCollectorConfig(file?: string, env?: NodeJS.ProcessEnv): CollectorConfig {
  return loadConfig(collectorConfigSchema, { file, env, what: 'collector' }).config;
}
