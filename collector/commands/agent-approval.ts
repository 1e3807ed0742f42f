import { userInfo } from 'node:os';
import type { Command } from '../../shared/cli.js';
import { systemClock } from '../../shared/clock.js';
import { UserError } from '../../shared/errors.js';
import { AGENT_ID_PATTERN } from '../../shared/identity.js';
import { createLogger } from '../../shared/log.js';
import { decideApproval, decisionRefusal, type ApprovalDecision } from '../approval.js';
import { MosquittoAccess, collectorBrokerLogin } from '../broker/mosquitto-access.js';
import { CONFIG_OPTION, readConfig, withStore } from './open-config.js';

/**
 * `smew agents pending|approve|reject` (enroll.approval: manual), through the store like
 * `smew agents revoke`, so they work whether or not the collector runs. A running collector
 * admits an approved agent at its next connection attempt (and, with Mosquitto, after rewriting
 * the password file within liveness.revocationPoll).
 */
function decisionCommand(decision: ApprovalDecision): Command {
  const name = `agents ${decision}`;
  const command: Command = {
    name,
    summary:
      decision === 'approve'
        ? 'approve an agent waiting for approval: the broker admits it and its held events arrive'
        : 'reject an agent waiting for approval: it is revoked',
    usage: `${name} AGENT_ID [--config F]`,
    options: { ...CONFIG_OPTION },
    positionals: 1,
    async run(args) {
      const agentId = args.positionals[0];
      if (!agentId || !AGENT_ID_PATTERN.test(agentId)) {
        throw new UserError(
          `smew ${name}: AGENT_ID: found ${JSON.stringify(agentId ?? '')}; expected an agent id such as ag-abcdefghij0123456789 (see smew agents pending)`,
        );
      }
      const config = readConfig(args);
      const at = systemClock.now().toISOString();
      const outcome = await withStore(config, async (store) => {
        const result = await decideApproval(store, agentId, decision, `cli:${userInfo().username}`, at);
        // With Mosquitto the login appears (approve) or stays away (reject) whether or not the collector runs.
        if (decisionRefusal(agentId, result) === undefined && config.broker.mosquitto) {
          await new MosquittoAccess({
            config: config.broker.mosquitto,
            store,
            collector: collectorBrokerLogin(config),
            logger: createLogger(`agents-${decision}`),
          }).sync();
        }
        return result;
      });
      const refusal = decisionRefusal(agentId, outcome);
      if (refusal) throw new UserError(`smew ${name}: ${refusal} (store ${config.store.url})`);
      process.stderr.write(
        outcome === 'approved'
          ? `approved ${agentId} at ${at}; it is admitted at its next connection attempt\n`
          : `rejected ${agentId} at ${at}: it is revoked\n`,
      );
      return 0;
    },
  };
  return command;
}

export const agentsApproveCommand = decisionCommand('approve');
export const agentsRejectCommand = decisionCommand('reject');

export const agentsPendingCommand: Command = {
  name: 'agents pending',
  summary: 'list agents waiting for approval (enroll.approval: manual): id, unit, hostname, since',
  usage: 'agents pending [--config F]',
  options: { ...CONFIG_OPTION },
  async run(args) {
    const config = readConfig(args);
    const rows = await withStore(config, async (store) => {
      const pending = await store.approvals.listPending();
      return Promise.all(pending.map(async (p) => ({ pending: p, agent: await store.getAgent(p.agentId) })));
    });
    for (const { pending, agent } of rows) {
      process.stdout.write(
        `${pending.agentId}\t${agent?.unit ?? '-'}\t${agent?.hostname ?? '-'}\t${pending.requestedAt}\n`,
      );
    }
    return 0;
  },
};
