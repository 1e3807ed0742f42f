import { optionalString, type Command } from '../../shared/cli.js';
import { escapeInvisibleJson } from '../../shared/visible-text.js';
import { loadAgentConfig } from '../config.js';
import { takeInventory } from '../inventory.js';
import { readSessionUsers } from '../probes/session-users.js';

export const agentInventoryCommand: Command = {
  name: 'agent inventory',
  summary: 'prints the host inventory the agent sends (host.inventory) and who is logged in; sends nothing',
  usage: 'agent inventory [--config F]',
  options: { config: { type: 'string' } },
  async run(args) {
    const config = loadAgentConfig(optionalString(args, 'config'));
    const inventory = await takeInventory(config.paths);
    const users = readSessionUsers(config.paths.run);
    // JSON only: every string in it is whatever the hardware or a user wrote; quoted, with
    // controls and bidi overrides escaped, none of it can forge lines or drive the terminal.
    const json = JSON.stringify({ inventory, ...(users ? { users } : {}) });
    process.stdout.write(`${escapeInvisibleJson(json)}\n`);
    return 0;
  },
};
