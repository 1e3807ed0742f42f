import { pino, type Logger } from 'pino';

export type { Logger };

/** The one logger: JSON lines on stderr, so stdout stays free for what commands print. */
export function createLogger(name: string, level = process.env.SMEW_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination(2));
}
