import nodemailer from 'nodemailer';
import type { NotifyChannelConfig } from './config.js';
import type { Delivery, Sender } from './sender.js';

type EmailConfig = Extract<NotifyChannelConfig, { type: 'email' }>;

/**
 * Sends through the unit's SMTP relay. The Message-ID is the notification's idempotency key, so
 * a resend after a crash mid-delivery is recognisable as the same message.
 */
export function emailSender(config: EmailConfig): Sender {
  const transport = nodemailer.createTransport({
    host: config.host,
    port: config.port,
    secure: config.secure,
    ...(config.user !== undefined && { auth: { user: config.user, pass: config.password ?? '' } }),
    connectionTimeout: config.timeout,
    greetingTimeout: config.timeout,
    socketTimeout: config.timeout,
  });
  return {
    channel: 'email',
    lang: config.lang,
    async send(delivery: Delivery, signal: AbortSignal): Promise<void> {
      if (delivery.rendered.channel !== 'email') throw new Error('email channel given a webhook body');
      signal.throwIfAborted();
      await transport.sendMail({
        from: config.from,
        to: config.to,
        subject: delivery.rendered.subject,
        text: delivery.rendered.text,
        messageId: `<${delivery.idempotencyKey}@smew>`,
      });
    },
    close: () => transport.close(),
  };
}
