#!/usr/bin/env node
import { agentEnrollCommand } from '../agent/commands/enroll.js';
import { agentRunCommand } from '../agent/commands/run.js';
import { agentScanCommand } from '../agent/commands/scan.js';
import { beaconCommand } from '../agent/commands/beacon.js';
import { agentsListCommand, agentsRevokeCommand } from '../collector/commands/agent-admin.js';
import { apikeyCreateCommand } from '../collector/commands/apikey.js';
import { collectorCommand } from '../collector/commands/collector.js';
import { collectorEnrollCommand } from '../collector/commands/collector-enroll.js';
import { tokenCreateCommand } from '../collector/commands/token.js';
import { userAddCommand } from '../collector/commands/user.js';
import { parseCommandArgs, type Command } from '../shared/cli.js';
import { isUserError } from '../shared/errors.js';
import { demoCommand } from './demo.js';

const COMMANDS: Command[] = [
  demoCommand,
  collectorCommand,
  collectorEnrollCommand,
  tokenCreateCommand,
  agentEnrollCommand,
  agentRunCommand,
  agentScanCommand,
  beaconCommand,
  userAddCommand,
  apikeyCreateCommand,
  agentsListCommand,
  agentsRevokeCommand,
];

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'smew — 保密监测预警 (secrecy monitoring and early warning)',
    '',
    'usage: smew <command> [options]',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
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
function findCommand(argv: string[]): { command: Command; rest: string[] } | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  const candidates = COMMANDS.filter((c) => {
    const parts = c.name.split(' ');
    return parts.every((p, i) => argv[i] === p && words[i] === p);
  }).sort((a, b) => b.name.length - a.name.length);
  const command = candidates[0];
  if (!command) return undefined;
  return { command, rest: argv.slice(command.name.split(' ').length) };
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(`${overview()}\n`);
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === '--version') {
    const { SMEW_VERSION } = await import('../shared/version.js');
    process.stdout.write(`${SMEW_VERSION}\n`);
    return 0;
  }
  const found = findCommand(argv);
  if (!found) {
    process.stderr.write(`smew: unknown command "${argv.join(' ')}"\n\n${overview()}\n`);
    return 2;
  }
  const { command, rest } = found;
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
