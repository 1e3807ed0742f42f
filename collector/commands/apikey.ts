import { optionalString, requireOption, type Command } from '../../shared/cli.js';
import { UserError } from '../../shared/errors.js';
import { STREAM_RECHECK_MS } from '../auth/access-changes.js';
import { createApiKey, revokeApiKey } from '../auth/api-keys.js';
import { parseRole, ROLES } from '../auth/roles.js';
import { auditCommand, CONFIG_OPTION, printAccounts, readConfig, withStore } from './open-config.js';

export const apikeyCreateCommand: Command = {
  name: 'apikey create',
  summary: 'print a bearer key for the HTTP API',
  usage: `apikey create --name N --role ${ROLES.join('|')} [--unit U] [--config F]`,
  options: { name: { type: 'string' }, role: { type: 'string' }, unit: { type: 'string' }, ...CONFIG_OPTION },
  async run(args) {
    const name = requireOption(this, args, 'name');
    const role = parseRole(requireOption(this, args, 'role'), 'smew apikey create: --role');
    const unit = optionalString(args, 'unit');
    const config = readConfig(args);
    const key = await withStore(config, async (store) => {
      const created = await createApiKey(store, { name, role, unit });
      await auditCommand(store, 'apikey.create', `${name} ${role}${unit ? ` ${unit}` : ''}`);
      return created;
    });
    process.stderr.write(
      `api key "${name}" (${role}${unit ? `, unit ${unit}` : ', all units'}); send it as Authorization: Bearer <key>.\n` +
        'It is shown once and stored only as a hash:\n',
    );
    process.stdout.write(`${key}\n`);
    return 0;
  },
};

export const apikeyListCommand: Command = {
  name: 'apikey list',
  summary: 'list API keys by name, role and unit, and whether they are revoked (never the key)',
  usage: 'apikey list [--config F]',
  options: { ...CONFIG_OPTION },
  async run(args) {
    const keys = await withStore(readConfig(args), (store) => store.listApiKeys());
    printAccounts(keys, (k) => k.revokedAt, {
      active: 'active',
      withdrawn: 'revoked',
      none: 'no api keys yet (smew apikey create --name N --role R)',
    });
    return 0;
  },
};

export const apikeyRevokeCommand: Command = {
  name: 'apikey revoke',
  summary: 'revoke every active API key of that name: refused at once, its live streams end',
  usage: 'apikey revoke NAME [--config F]',
  options: { ...CONFIG_OPTION },
  positionals: 1,
  async run(args) {
    const name = args.positionals[0];
    if (!name) throw new UserError(`smew ${this.name}: NAME is required\nusage: smew ${this.usage}`);
    const revoked = await withStore(readConfig(args), async (store) => {
      const count = await revokeApiKey(store, name);
      if (count > 0) await auditCommand(store, 'apikey.revoke', `${name} (${count})`);
      return count;
    });
    if (revoked === 0) {
      throw new UserError(
        `smew ${this.name}: no active api key named ${JSON.stringify(name)} (see smew apikey list)`,
      );
    }
    process.stderr.write(
      `revoked ${revoked} key${revoked === 1 ? '' : 's'} named ${name}; refused from now on (open live streams within ${STREAM_RECHECK_MS / 1000} s)\n`,
    );
    return 0;
  },
};
