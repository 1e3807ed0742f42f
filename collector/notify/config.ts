import { z } from 'zod';
import { durationSchema } from '../../shared/duration.js';
import { severitySchema } from '../../shared/levels.js';
import { NOTIFY_ON } from './occasion.js';

/**
 * `notify` in the collector config (SPEC §4 `notify.channels`): where warnings are announced.
 * Inside a classified network these are the unit's internal systems: an HTTP endpoint that takes
 * JSON (webhook) or an SMTP relay (email). Each channel has a name, which the delivery log and
 * silences' audit show.
 */
const channelName = z
  .string({ error: 'a channel name of letters, digits, - and _' })
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'a channel name of letters, digits, - and _');
const lang = z.enum(['zh', 'en']).default('zh');
/**
 * What a channel announces: a new warning (`opened`), a resolved warning raised again
 * (`reraised`), and any lifecycle steps listed by the state reached; only warnings of at least
 * `minSeverity` at that moment.
 */
const routing = {
  on: z.array(z.enum(NOTIFY_ON, { error: `one of ${NOTIFY_ON.join(', ')}` })).default(['opened', 'reraised']),
  minSeverity: severitySchema.default('info'),
};

const webhookChannel = z.strictObject({
  name: channelName,
  type: z.literal('webhook'),
  url: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }),
  lang,
  /** Extra request headers, e.g. an Authorization the receiver expects. */
  headers: z.record(z.string(), z.string()).default({}),
  timeout: durationSchema.default(10_000),
  ...routing,
});

const emailChannel = z.strictObject({
  name: channelName,
  type: z.literal('email'),
  host: z.string().min(1, 'the SMTP relay host'),
  port: z.int().min(1).max(65_535).default(25),
  /** TLS from the first byte (port 465); otherwise STARTTLS when the relay offers it. */
  secure: z.boolean().default(false),
  user: z.string().optional(),
  password: z.string().optional(),
  from: z.email('a sender address such as smew@unit.example'),
  to: z.array(z.email('a recipient address'), { error: 'a list of recipient addresses' }).min(1),
  lang,
  timeout: durationSchema.default(10_000),
  ...routing,
});

export const notifyChannelSchema = z.discriminatedUnion('type', [webhookChannel, emailChannel], {
  error: 'a channel with type webhook or email',
});
export type NotifyChannelConfig = z.infer<typeof notifyChannelSchema>;

export const notifyConfigSchema = z
  .strictObject({
    channels: z
      .array(notifyChannelSchema)
      .default([])
      .superRefine((channels, ctx) => {
        const seen = new Set<string>();
        channels.forEach((channel, index) => {
          if (seen.has(channel.name)) {
            ctx.addIssue({ code: 'custom', path: [index, 'name'], message: 'a name no other channel has' });
          }
          seen.add(channel.name);
        });
      }),
    /** Delivery retries: the first after `initialDelay`, doubling up to `maxDelay`, `maxAttempts` in all. */
    retry: z
      .strictObject({
        initialDelay: durationSchema.default(5_000),
        maxDelay: durationSchema.default(3_600_000),
        maxAttempts: z.int().min(1).max(1000).default(50),
      })
      .default({ initialDelay: 5_000, maxDelay: 3_600_000, maxAttempts: 50 }),
  })
  .default({ channels: [], retry: { initialDelay: 5_000, maxDelay: 3_600_000, maxAttempts: 50 } });
export type NotifyConfig = z.infer<typeof notifyConfigSchema>;
