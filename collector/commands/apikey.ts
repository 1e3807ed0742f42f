import { optionalString, requireOption, type Command } from '../../shared/cli.js';
import { UserError } from '../../shared/errors.js';
import { createApiKey } from '../auth/api-keys.js';
import { isRole, ROLES } from '../auth/roles.js';
import { CONFIG_OPTION, readConfig, withStore } from './open-config.js';

export const apikeyCreateCommand: Command = {
  name: 'apikey create',
  summary: 'print a bearer key for the HTTP API',
  usage: 'apikey create --name N --role admin|officer|viewer [--unit U] [--config F]',
  options: { name: { type: 'string' }, role: { type: 'string' }, unit: { type: 'string' }, ...CONFIG_OPTION },
  async run(args) {
    const name = requireOption(this, args, 'name');
    const role = requireOption(this, args, 'role');
    if (!isRole(role)) {
      throw new UserError(
        `smew apikey create: --role: found ${JSON.stringify(role)}; expected one of ${ROLES.join(', ')}`,
      );
    }
    const unit = optionalString(args, 'unit');
    const config = readConfig(args);
    const key = await withStore(config, (store) => createApiKey(store, { name, role, unit }));
    process.stderr.write(
      `api key "${name}" (${role}${unit ? `, unit ${unit}` : ', all units'}); send it as Authorization: Bearer <key>.\n` +
        'It is shown once and stored only as a hash:\n',
    );
    process.stdout.write(`${key}\n`);
    return 0;
  },
};
