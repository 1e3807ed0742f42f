import { optionalString, requireOption, type Command } from '../../shared/cli.js';
import { UserError } from '../../shared/errors.js';
import { isRole, ROLES } from '../auth/roles.js';
import { addUser } from '../auth/users.js';
import { CONFIG_OPTION, readConfig, withStore } from './open-config.js';

/** Passwords shorter than this are refused: dashboard accounts see classified-incident data. */
export const MIN_PASSWORD_LENGTH = 8;

export const userAddCommand: Command = {
  name: 'user add',
  summary: 'add a dashboard user (password read from stdin)',
  usage: 'user add NAME --role admin|officer|viewer [--unit U] --password-stdin [--config F]',
  options: {
    role: { type: 'string' },
    unit: { type: 'string' },
    'password-stdin': { type: 'boolean' },
    ...CONFIG_OPTION,
  },
  positionals: 1,
  async run(args) {
    const name = args.positionals[0];
    if (!name) throw new UserError(`smew user add: NAME is required\nusage: smew ${this.usage}`);
    if (!/^[\p{L}\p{N}._@-]{1,64}$/u.test(name)) {
      throw new UserError(
        `smew user add: NAME: found ${JSON.stringify(name)}; expected 1-64 letters, digits, or . _ @ -`,
      );
    }
    const role = requireOption(this, args, 'role');
    if (!isRole(role)) {
      throw new UserError(
        `smew user add: --role: found ${JSON.stringify(role)}; expected one of ${ROLES.join(', ')}`,
      );
    }
    // A password on the command line would show in `ps` and shell history; stdin only.
    if (args.values['password-stdin'] !== true) {
      throw new UserError(
        `smew user add: --password-stdin is required (the password is read from standard input)\nusage: smew ${this.usage}`,
      );
    }
    const password = (await readStdin()).replace(/\r?\n$/, '');
    if (password.length < MIN_PASSWORD_LENGTH) {
      throw new UserError(
        `smew user add: the password on stdin has ${password.length} characters; expected at least ${MIN_PASSWORD_LENGTH}`,
      );
    }
    const unit = optionalString(args, 'unit');
    const config = readConfig(args);
    const added = await withStore(config, (store) => addUser(store, { name, password, role, unit }));
    if (!added) throw new UserError(`smew user add: a user named ${JSON.stringify(name)} already exists`);
    process.stderr.write(`added user ${name} (${role}${unit ? `, unit ${unit}` : ', all units'})\n`);
    return 0;
  },
};

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    process.stderr.write('password (end with Enter, then Ctrl-D): ');
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
