import type { Lang, RenderedNotification } from '../warnings/templates.js';
import type { NotifyChannelConfig } from './config.js';
import { emailSender } from './email.js';
import { webhookSender } from './webhook.js';

/** One notification on its way out: the rendered text and a key that names it across resends. */
export interface Delivery {
  rendered: RenderedNotification;
  idempotencyKey: string;
}

/** A channel: renders in `lang` and sends; throwing means "not delivered, try again later". */
export interface Sender {
  channel: 'webhook' | 'email';
  lang: Lang;
  send(delivery: Delivery, signal: AbortSignal): Promise<void>;
  close?(): void;
}

export function senderFor(config: NotifyChannelConfig): Sender {
  return config.type === 'webhook' ? webhookSender(config) : emailSender(config);
}
