import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from './errors.js';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/**
 * One subcommand of `smew`. `run` returns the exit code; user mistakes are thrown as UserError
 * (exit 2, message only). Long-running commands resolve when they have been asked to stop.
 */
export interface Command {
  /** e.g. "agent enroll" */
  name: string;
  summary: string;
  /** Usage line(s) after `smew `, e.g. "agent enroll --collector URL --token T [--config F]" */
  usage: string;
  options: OptionsConfig;
  /** How many positional arguments are allowed (default 0). */
  positionals?: number;
  run(args: ParsedArgs): Promise<number>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

export function parseCommandArgs(command: Command, argv: string[]): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    const allowed = command.positionals ?? 0;
    if (positionals.length > allowed) {
      throw new UserError(
        `smew ${command.name}: unexpected argument "${positionals[allowed]}"\nusage: smew ${command.usage}`,
      );
    }
    return { values, positionals };
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`smew ${command.name}: ${(err as Error).message}\nusage: smew ${command.usage}`);
  }
}

/** Reads a required string option, or fails with the usage line. */
export function requireOption(command: Command, args: ParsedArgs, name: string): string {
  const value = args.values[name];
  if (typeof value !== 'string' || value === '') {
    throw new UserError(`smew ${command.name}: --${name} is required\nusage: smew ${command.usage}`);
  }
  return value;
}

export function optionalString(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

/** Resolves when the process is asked to stop (SIGINT/SIGTERM). */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
