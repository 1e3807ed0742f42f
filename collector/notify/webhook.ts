import type { NotifyChannelConfig } from './config.js';
import type { Delivery, Sender } from './sender.js';

type WebhookConfig = Extract<NotifyChannelConfig, { type: 'webhook' }>;

/** POSTs the rendered JSON; any 2xx is delivery. The idempotency key lets a receiver drop a resend. */
export function webhookSender(config: WebhookConfig): Sender {
  return {
    channel: 'webhook',
    lang: config.lang,
    async send(delivery: Delivery, signal: AbortSignal): Promise<void> {
      if (delivery.rendered.channel !== 'webhook') throw new Error('webhook channel given an e-mail');
      const response = await fetch(config.url, {
        method: 'POST',
        headers: {
          ...config.headers,
          'content-type': 'application/json; charset=utf-8',
          'idempotency-key': delivery.idempotencyKey,
        },
        body: delivery.rendered.body,
        signal: AbortSignal.any([signal, AbortSignal.timeout(config.timeout)]),
        redirect: 'error',
      });
      await response.body?.cancel();
      if (response.status < 200 || response.status > 299) {
        throw new Error(`${config.url} answered HTTP ${response.status}`);
      }
    },
  };
}
