import { requireOption, type Command } from '../../shared/cli.js';
import { parseDuration } from '../../shared/duration.js';
import { UserError } from '../../shared/errors.js';
import { createEnrollmentToken, DEFAULT_TOKEN_TTL_MS } from '../auth/enrollment-tokens.js';
import { ENROLLMENT_TOKEN_KINDS } from '../store/store.js';
import { CONFIG_OPTION, readConfig, withStore } from './open-config.js';

export const tokenCreateCommand: Command = {
  name: 'token create',
  summary: 'print a one-time enrollment token for an agent or a child collector',
  usage: 'token create --unit U [--for agent|collector] [--ttl 24h] [--config F]',
  options: { unit: { type: 'string' }, for: { type: 'string' }, ttl: { type: 'string' }, ...CONFIG_OPTION },
  async run(args) {
    const unit = requireOption(this, args, 'unit');
    const kindText = typeof args.values.for === 'string' ? args.values.for : 'agent';
    const kind = ENROLLMENT_TOKEN_KINDS.find((k) => k === kindText);
    if (!kind) {
      throw new UserError(
        `smew token create: --for: found ${JSON.stringify(kindText)}; expected agent (the default) or collector`,
      );
    }
    const ttlText = typeof args.values.ttl === 'string' ? args.values.ttl : undefined;
    const ttlMs = ttlText === undefined ? DEFAULT_TOKEN_TTL_MS : parseDuration(ttlText);
    if (ttlMs === undefined || ttlMs <= 0) {
      throw new UserError(
        `smew token create: --ttl: found ${JSON.stringify(ttlText)}; expected a duration such as 30m, 24h or 7d`,
      );
    }
    const config = readConfig(args);
    const { token, expiresAt } = await withStore(config, (store) =>
      createEnrollmentToken(store, { unit, kind, ttlMs }),
    );
    process.stderr.write(
      `enrollment token for ${kind === 'agent' ? 'an agent' : 'a child collector'} of unit ${unit}, valid once until ${expiresAt}:\n`,
    );
    process.stdout.write(`${token}\n`);
    return 0;
  },
};
