import { optionalString, requireOption, type Command } from '../../shared/cli.js';
import { systemClock } from '../../shared/clock.js';
import { loadAgentConfig } from '../config.js';
import { enrollAgent } from '../enroll.js';

export const agentEnrollCommand: Command = {
  name: 'agent enroll',
  summary: "makes the agent's key pair (or reuses it), registers it with a collector, writes its identity",
  usage: 'agent enroll --collector URL --token T [--config F]',
  options: {
    collector: { type: 'string' },
    token: { type: 'string' },
    config: { type: 'string' },
  },
  async run(args) {
    const token = requireOption(agentEnrollCommand, args, 'token');
    const config = loadAgentConfig(optionalString(args, 'config'));
    const collectorUrl = optionalString(args, 'collector') ?? config.collector.url;
    const outcome = await enrollAgent({
      dir: config.identity.dir,
      collectorUrl,
      token,
      clock: systemClock,
      trust: { caFile: config.collector.ca },
    });
    const { identity } = outcome;
    // stdout carries the id alone, so scripts can capture it; the story goes to stderr.
    process.stdout.write(`${identity.agentId}\n`);
    process.stderr.write(
      `enrolled ${identity.agentId} (unit ${JSON.stringify(identity.unit)}) with ${identity.collectorUrl}; ` +
        `${outcome.reusedKey ? 'kept the existing key pair' : 'made a new key pair'} in ${config.identity.dir}\n`,
    );
    if (outcome.pendingApproval) {
      process.stderr.write(
        'the collector asks for approval: an administrator must run smew agents approve ' +
          `${identity.agentId}; until then the agent keeps its events in its outbox\n`,
      );
    }
    if (outcome.movedOutbox) {
      process.stderr.write(`the outbox of the previous key was moved to ${outcome.movedOutbox}\n`);
    }
    return 0;
  },
};
