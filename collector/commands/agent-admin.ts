import type { Command } from '../../shared/cli.js';
import { systemClock } from '../../shared/clock.js';
import { UserError } from '../../shared/errors.js';
import { AGENT_ID_PATTERN } from '../../shared/identity.js';
import { createLogger } from '../../shared/log.js';
import { MosquittoAccess, collectorBrokerLogin } from '../broker/mosquitto-access.js';
import { revokeAgent } from '../revocation.js';
import { CONFIG_OPTION, readConfig, withStore } from './open-config.js';

/**
 * `smew agents …`: the collector's register of agents, acted on through its store, so these work
 * whether or not the collector runs. A running collector enforces a revocation made here within
 * `liveness.revocationPoll` (default 2 s); through the API (POST /api/v1/agents/{id}/revoke) at once.
 */
export const agentsRevokeCommand: Command = {
  name: 'agents revoke',
  summary: 'revoke an agent: it is disconnected and whatever it sends later is quarantined',
  usage: 'agents revoke AGENT_ID [--config F]',
  options: { ...CONFIG_OPTION },
  positionals: 1,
  async run(args) {
    const agentId = args.positionals[0];
    if (!agentId || !AGENT_ID_PATTERN.test(agentId)) {
      throw new UserError(
        `smew agents revoke: AGENT_ID: found ${JSON.stringify(agentId ?? '')}; expected an agent id such as ag-abcdefghij0123456789 (see smew agents list)`,
      );
    }
    const config = readConfig(args);
    const at = systemClock.now().toISOString();
    const outcome = await withStore(config, async (store) => {
      const result = await revokeAgent(store, agentId, at);
      // With Mosquitto the login goes too, whether or not the collector runs.
      if (result === 'revoked' && config.broker.mosquitto) {
        await new MosquittoAccess({
          config: config.broker.mosquitto,
          store,
          collector: collectorBrokerLogin(config),
          logger: createLogger('agents-revoke'),
        }).sync();
      }
      return result;
    });
    if (outcome === 'unknown') {
      throw new UserError(`smew agents revoke: no agent ${agentId} is enrolled in ${config.store.url}`);
    }
    process.stderr.write(
      outcome === 'revoked'
        ? `revoked ${agentId} at ${at}; a running collector disconnects it within ${config.liveness.revocationPoll} ms\n`
        : `${agentId} was already revoked\n`,
    );
    return 0;
  },
};

export const agentsListCommand: Command = {
  name: 'agents list',
  summary: 'list enrolled agents: id, unit, hostname, online, revoked',
  usage: 'agents list [--json] [--config F]',
  options: { json: { type: 'boolean' }, ...CONFIG_OPTION },
  async run(args) {
    const config = readConfig(args);
    const agents = await withStore(config, (store) => store.listAgents({}));
    if (args.values.json === true) {
      process.stdout.write(
        `${JSON.stringify({ items: agents.map(({ brokerSecretHash: _, ...a }) => a) })}\n`,
      );
      return 0;
    }
    for (const a of agents) {
      const state = a.revokedAt ? `revoked ${a.revokedAt}` : a.online ? 'online' : 'offline';
      process.stdout.write(`${a.id}\t${a.unit}\t${a.hostname ?? '-'}\t${state}\tacked ${a.ackedSeq}\n`);
    }
    return 0;
  },
};
