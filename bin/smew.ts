#!/usr/bin/env node
import { parseCommandArgs, type Command } from '../shared/cli.js';
import { isUserError } from '../shared/errors.js';

/**
 * Each command's module is imported only when that command runs, so `smew agent run` does not
 * carry the collector's code (fastify, aedes, pg, nodemailer…) in its memory for weeks.
 */
interface CommandEntry {
  name: string;
  load(): Promise<Command>;
}

/**
 * The agent's commands. scripts/build-agent.mjs bundles this file into dist/bin/smew-agent.js with
 * SMEW_AGENT_BUNDLE defined as true: that file knows these commands only, and the collector's
 * modules are not in it at all (the packaged launcher runs it for `smew agent …` and `smew beacon`).
 */
const AGENT_COMMANDS: CommandEntry[] = [
  {
    name: 'agent enroll',
    load: async () => (await import('../agent/commands/enroll.js')).agentEnrollCommand,
  },
  {
    name: 'agent inventory',
    load: async () => (await import('../agent/commands/inventory.js')).agentInventoryCommand,
  },
  { name: 'agent run', load: async () => (await import('../agent/commands/run.js')).agentRunCommand },
  {
    name: 'agent rotate-key',
    load: async () => (await import('../agent/commands/rotate-key.js')).agentRotateKeyCommand,
  },
  { name: 'agent scan', load: async () => (await import('../agent/commands/scan.js')).agentScanCommand },
  { name: 'beacon', load: async () => (await import('../agent/commands/beacon.js')).beaconCommand },
];

declare const SMEW_AGENT_BUNDLE: boolean | undefined;

const COMMANDS: CommandEntry[] =
  typeof SMEW_AGENT_BUNDLE !== 'undefined' && SMEW_AGENT_BUNDLE
    ? AGENT_COMMANDS
    : [
        { name: 'demo', load: async () => (await import('./demo.js')).demoCommand },
        {
          name: 'collector',
          load: async () => (await import('../collector/commands/collector.js')).collectorCommand,
        },
        {
          name: 'collector enroll',
          load: async () =>
            (await import('../collector/commands/collector-enroll.js')).collectorEnrollCommand,
        },
        {
          name: 'collector annual',
          load: async () =>
            (await import('../collector/commands/collector-annual.js')).collectorAnnualCommand,
        },
        {
          name: 'token create',
          load: async () => (await import('../collector/commands/token.js')).tokenCreateCommand,
        },
        ...AGENT_COMMANDS,
        {
          name: 'user add',
          load: async () => (await import('../collector/commands/user.js')).userAddCommand,
        },
        {
          name: 'user list',
          load: async () => (await import('../collector/commands/user.js')).userListCommand,
        },
        {
          name: 'user disable',
          load: async () => (await import('../collector/commands/user.js')).userDisableCommand,
        },
        {
          name: 'user enable',
          load: async () => (await import('../collector/commands/user.js')).userEnableCommand,
        },
        {
          name: 'user passwd',
          load: async () => (await import('../collector/commands/user.js')).userPasswdCommand,
        },
        {
          name: 'apikey create',
          load: async () => (await import('../collector/commands/apikey.js')).apikeyCreateCommand,
        },
        {
          name: 'apikey list',
          load: async () => (await import('../collector/commands/apikey.js')).apikeyListCommand,
        },
        {
          name: 'apikey revoke',
          load: async () => (await import('../collector/commands/apikey.js')).apikeyRevokeCommand,
        },
        {
          name: 'audit verify',
          load: async () => (await import('../collector/commands/audit.js')).auditVerifyCommand,
        },
        {
          name: 'audit export',
          load: async () => (await import('../collector/commands/audit.js')).auditExportCommand,
        },
        {
          name: 'agents list',
          load: async () => (await import('../collector/commands/agent-admin.js')).agentsListCommand,
        },
        {
          name: 'agents revoke',
          load: async () => (await import('../collector/commands/agent-admin.js')).agentsRevokeCommand,
        },
        {
          name: 'agents move',
          load: async () => (await import('../collector/commands/agent-admin.js')).agentsMoveCommand,
        },
        {
          name: 'agents pending',
          load: async () => (await import('../collector/commands/agent-approval.js')).agentsPendingCommand,
        },
        {
          name: 'agents approve',
          load: async () => (await import('../collector/commands/agent-approval.js')).agentsApproveCommand,
        },
        {
          name: 'agents reject',
          load: async () => (await import('../collector/commands/agent-approval.js')).agentsRejectCommand,
        },
      ];

async function loadCommand(entry: CommandEntry): Promise<Command> {
  const command = await entry.load();
  if (command.name !== entry.name)
    throw new Error(`command table names "${entry.name}", its module "${command.name}"`);
  return command;
}

async function overview(): Promise<string> {
  const commands = await Promise.all(COMMANDS.map(loadCommand));
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'smew — 保密监测预警 (secrecy monitoring and early warning)',
    '',
    'usage: smew <command> [options]',
    '',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run "smew <command> --help" for the options of one command.',
  ].join('\n');
}

function commandHelp(command: Command): string {
  const lines = [`usage: smew ${command.usage}`, '', command.summary, ''];
  for (const [name, option] of Object.entries(command.options)) {
    const arg = option.type === 'string' ? ` <${name}>` : '';
    lines.push(`  --${name}${arg}`);
  }
  lines.push('  --help');
  return lines.join('\n');
}

/** Longest command name that prefixes argv wins: "collector enroll" before "collector". */
function findCommand(argv: string[]): { entry: CommandEntry; rest: string[] } | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  const candidates = COMMANDS.filter((c) => {
    const parts = c.name.split(' ');
    return parts.every((p, i) => argv[i] === p && words[i] === p);
  }).sort((a, b) => b.name.length - a.name.length);
  const entry = candidates[0];
  if (!entry) return undefined;
  return { entry, rest: argv.slice(entry.name.split(' ').length) };
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(`${await overview()}\n`);
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === '--version') {
    const { SMEW_VERSION } = await import('../shared/version.js');
    process.stdout.write(`${SMEW_VERSION}\n`);
    return 0;
  }
  const found = findCommand(argv);
  if (!found) {
    process.stderr.write(`smew: unknown command "${argv.join(' ')}"\n\n${await overview()}\n`);
    return 2;
  }
  const { rest } = found;
  const command = await loadCommand(found.entry);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${commandHelp(command)}\n`);
    return 0;
  }
  return command.run(parseCommandArgs(command, rest));
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (isUserError(err)) {
      process.stderr.write(`smew: ${err.message}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    process.stderr.write(`smew: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
