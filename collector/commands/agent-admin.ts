import { userInfo } from 'node:os';
import { requireOption, type Command } from '../../shared/cli.js';
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
/** The AGENT_ID positional of `smew agents <command>`, or a message that says what one looks like. */
function agentIdArgument(command: string, given: string | undefined): string {
  if (!given || !AGENT_ID_PATTERN.test(given)) {
    throw new UserError(
      `smew agents ${command}: AGENT_ID: found ${JSON.stringify(given ?? '')}; expected an agent id such as ag-abcdefghij0123456789 (see smew agents list)`,
    );
  }
  return given;
}

export const agentsRevokeCommand: Command = {
  name: 'agents revoke',
  summary: 'revoke an agent: it is disconnected and whatever it sends later is quarantined',
  usage: 'agents revoke AGENT_ID [--config F]',
  options: { ...CONFIG_OPTION },
  positionals: 1,
  async run(args) {
    const agentId = agentIdArgument('revoke', args.positionals[0]);
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

/** `smew agents move ID --unit U`: the admin action that moves an agent (re-enrollment never does). */
export const agentsMoveCommand: Command = {
  name: 'agents move',
  summary: 'move an agent to another unit (recorded in the audit log)',
  usage: 'agents move AGENT_ID --unit U [--config F]',
  options: { unit: { type: 'string' }, ...CONFIG_OPTION },
  positionals: 1,
  async run(args) {
    const agentId = agentIdArgument('move', args.positionals[0]);
    const unit = requireOption(this, args, 'unit');
    const config = readConfig(args);
    const at = systemClock.now().toISOString();
    const moved = await withStore(config, async (store) => {
      const result = await store.moveAgent(agentId, unit);
      if (result) {
        await store.audit.append({
          at,
          actor: userInfo().username,
          actorKind: 'cli',
          role: null,
          unit: null,
          action: `smew agents move ${agentId}`,
          status: null,
          ip: '',
          detail: JSON.stringify({ from: result.from, to: unit }),
        });
      }
      return result;
    });
    if (!moved)
      throw new UserError(`smew agents move: no agent ${agentId} is enrolled in ${config.store.url}`);
    process.stderr.write(`moved ${agentId} from unit ${moved.from} to ${unit}\n`);
    return 0;
  },
};
