import { optionalString, requireOption, type Command, type ParsedArgs } from '../../shared/cli.js';
import { ACCOUNT_NAME } from '../../shared/api/access.js';
import { UserError } from '../../shared/errors.js';
import { STREAM_RECHECK_MS } from '../auth/access-changes.js';
import { parseRole, ROLES } from '../auth/roles.js';
import { addUser, MIN_PASSWORD_LENGTH, setUserEnabled, setUserPassword } from '../auth/users.js';
import { auditCommand, CONFIG_OPTION, printAccounts, readConfig, withStore } from './open-config.js';

export const userAddCommand: Command = {
  name: 'user add',
  summary: 'add a dashboard user (password read from stdin)',
  usage: `user add NAME --role ${ROLES.join('|')} [--unit U] --password-stdin [--config F]`,
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
    if (!ACCOUNT_NAME.test(name)) {
      throw new UserError(
        `smew user add: NAME: found ${JSON.stringify(name)}; expected 1-64 letters, digits, or . _ @ -`,
      );
    }
    const role = parseRole(requireOption(this, args, 'role'), 'smew user add: --role');
    const password = await passwordFromStdin(this, args);
    const unit = optionalString(args, 'unit');
    const config = readConfig(args);
    const added = await withStore(config, async (store) => {
      const ok = await addUser(store, { name, password, role, unit });
      if (ok) await auditCommand(store, 'user.add', `${name} ${role}${unit ? ` ${unit}` : ''}`);
      return ok;
    });
    if (!added) throw new UserError(`smew user add: a user named ${JSON.stringify(name)} already exists`);
    process.stderr.write(`added user ${name} (${role}${unit ? `, unit ${unit}` : ', all units'})\n`);
    return 0;
  },
};

/** The NAME positional of the user commands, or a usage error. */
function userName(command: Command, args: ParsedArgs): string {
  const name = args.positionals[0];
  if (!name) throw new UserError(`smew ${command.name}: NAME is required\nusage: smew ${command.usage}`);
  return name;
}

function noSuchUser(command: Command, name: string): UserError {
  return new UserError(`smew ${command.name}: no user named ${JSON.stringify(name)} (see smew user list)`);
}

export const userListCommand: Command = {
  name: 'user list',
  summary: 'list dashboard users with their role, unit and whether they are disabled',
  usage: 'user list [--config F]',
  options: { ...CONFIG_OPTION },
  async run(args) {
    const users = await withStore(readConfig(args), (store) => store.listUsers());
    printAccounts(users, (u) => u.disabledAt, {
      active: 'enabled',
      withdrawn: 'disabled',
      none: 'no users yet (smew user add NAME --role R --password-stdin)',
    });
    return 0;
  },
};

function enableCommand(enabled: boolean): Command {
  const verb = enabled ? 'enable' : 'disable';
  return {
    name: `user ${verb}`,
    summary: enabled
      ? 'let a disabled dashboard user log in again'
      : 'disable a dashboard user: their sessions and live streams end, they cannot log in',
    usage: `user ${verb} NAME [--config F]`,
    options: { ...CONFIG_OPTION },
    positionals: 1,
    async run(args) {
      const name = userName(this, args);
      const user = await withStore(readConfig(args), async (store) => {
        const changed = await setUserEnabled(store, name, enabled);
        if (changed) await auditCommand(store, `user.${verb}`, name);
        return changed;
      });
      if (!user) throw noSuchUser(this, name);
      process.stderr.write(
        enabled
          ? `user ${name} enabled\n`
          : `user ${name} disabled at ${user.disabledAt}; their sessions are ended (open live streams within ${STREAM_RECHECK_MS / 1000} s)\n`,
      );
      return 0;
    },
  };
}

export const userDisableCommand = enableCommand(false);
export const userEnableCommand = enableCommand(true);

export const userPasswdCommand: Command = {
  name: 'user passwd',
  summary: 'set a dashboard user’s password (read from stdin); their sessions end',
  usage: 'user passwd NAME --password-stdin [--config F]',
  options: { 'password-stdin': { type: 'boolean' }, ...CONFIG_OPTION },
  positionals: 1,
  async run(args) {
    const name = userName(this, args);
    const password = await passwordFromStdin(this, args);
    const changed = await withStore(readConfig(args), async (store) => {
      const ok = await setUserPassword(store, name, password);
      if (ok) await auditCommand(store, 'user.passwd', name);
      return ok;
    });
    if (!changed) throw noSuchUser(this, name);
    process.stderr.write(`new password set for ${name}; their sessions are ended\n`);
    return 0;
  },
};

/** The password of `user add` and `user passwd`: from stdin only, at least MIN_PASSWORD_LENGTH long. */
async function passwordFromStdin(command: Command, args: ParsedArgs): Promise<string> {
  // A password on the command line would show in `ps` and shell history; stdin only.
  if (args.values['password-stdin'] !== true) {
    throw new UserError(
      `smew ${command.name}: --password-stdin is required (the password is read from standard input)\nusage: smew ${command.usage}`,
    );
  }
  const password = (await readStdin()).replace(/\r?\n$/, '');
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new UserError(
      `smew ${command.name}: the password on stdin has ${password.length} characters; expected at least ${MIN_PASSWORD_LENGTH}`,
    );
  }
  return password;
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    process.stderr.write('password (end with Enter, then Ctrl-D): ');
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
