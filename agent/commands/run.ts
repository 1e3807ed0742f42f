import { optionalString, untilSignal, type Command } from '../../shared/cli.js';
import { loadAgentConfig } from '../config.js';
import { enrollOnFirstStart } from '../first-start.js';
import { startAgent } from '../runner.js';

export const agentRunCommand: Command = {
  name: 'agent run',
  summary: 'runs the agent: scans, records events durably and sends them to the collector',
  usage: 'agent run [--config F]',
  options: { config: { type: 'string' } },
  async run(args) {
    const config = loadAgentConfig(optionalString(args, 'config'));
    // Listen before starting, so a signal during start-up still stops the agent cleanly.
    const signalled = untilSignal();
    if (!(await enrollOnFirstStart(config, { stopped: signalled }))) return 0;
    const configFile = optionalString(args, 'config');
    const agent = await startAgent(config, configFile ? { configFile } : {});
    await signalled;
    await agent.stop();
    return 0;
  },
};
