import { optionalString, type Command } from '../../shared/cli.js';
import { systemClock } from '../../shared/clock.js';
import { loadAgentConfig } from '../config.js';
import { rotateAgentKey } from '../rotate-key.js';

export const agentRotateKeyCommand: Command = {
  name: 'agent rotate-key',
  summary:
    "replaces the agent's key pair, proven to the collector with the current key; keeps the id, seq and history (stop the agent first)",
  usage: 'agent rotate-key [--collector URL] [--config F]',
  options: {
    collector: { type: 'string' },
    config: { type: 'string' },
  },
  async run(args) {
    const config = loadAgentConfig(optionalString(args, 'config'));
    const collectorUrl = optionalString(args, 'collector') ?? config.collector.url;
    const outcome = await rotateAgentKey({
      dir: config.identity.dir,
      collectorUrl,
      ...(config.broker.url ? { brokerUrl: config.broker.url } : {}),
      clock: systemClock,
      trust: { caFile: config.collector.ca },
    });
    // stdout: the new public key alone, for scripts; the story goes to stderr.
    process.stdout.write(`${outcome.identity.publicKey}\n`);
    process.stderr.write(
      `rotated the key of ${outcome.identity.agentId} with ${collectorUrl}` +
        `${outcome.resumed ? ' (the collector already held the new key from an earlier attempt)' : ''}; ` +
        `the id, seq numbering and history are kept; start the agent again to sign with the new key\n`,
    );
    return 0;
  },
};
