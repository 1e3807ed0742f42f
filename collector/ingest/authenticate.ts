import type { SignatureAlg, Verifier } from '../../shared/crypto/suite.js';
import { hasSuite, suiteFor } from '../../shared/crypto/suites.js';
import { verifyMessage } from '../../shared/envelope.js';
import type { AgentRecord, Store } from '../store/store.js';
import { Rejection } from './rejection.js';
import type { VerifyPool } from './verify-pool.js';

/** Stages that establish who sent a message: the topic, the enrolled agent, its signature. */

export function checkTopicAgent(topicAgentId: string, messageAgentId: string): void {
  if (topicAgentId !== messageAgentId) {
    throw new Rejection('topic-mismatch', `topic names ${topicAgentId}, message names ${messageAgentId}`);
  }
}

export async function resolveAgent(store: Store, agentId: string): Promise<AgentRecord> {
  const agent = await store.getAgent(agentId);
  if (!agent) throw new Rejection('unknown-agent', `${agentId} is not enrolled`);
  if (agent.revokedAt !== null)
    throw new Rejection('revoked', `${agentId} was revoked at ${agent.revokedAt}`);
  return agent;
}

/**
 * Verifies signatures with the agent's enrolled key: on worker threads when given a pool (the
 * collector's ingest), else on this thread. Parsing a public key costs more than a verification,
 * so verifiers are kept per (agent, key); a re-enrolled key gets a new entry.
 */
export class SignatureCheck {
  private readonly verifiers = new Map<string, { publicKey: string; verify: Verifier }>();

  constructor(private readonly pool?: VerifyPool) {}

  /** `text` is the message as received, which `message` was parsed from. */
  async verify(
    agent: AgentRecord,
    message: Record<string, unknown> & { alg: SignatureAlg },
    text: string,
  ): Promise<void> {
    if (message.alg !== agent.alg) {
      throw new Rejection(
        'bad-signature',
        `signed with ${message.alg}, but ${agent.id} enrolled a ${agent.alg} key`,
      );
    }
    if (!hasSuite(agent.alg)) {
      throw new Rejection('bad-signature', `this collector cannot verify ${agent.alg} signatures`);
    }
    const valid = this.pool
      ? await this.pool.verify({ alg: agent.alg, publicKey: agent.publicKey, text })
      : verifyMessage(message, this.verifierFor(agent));
    if (!valid) {
      throw new Rejection('bad-signature', `signature does not verify with ${agent.id}'s key`);
    }
  }

  private verifierFor(agent: AgentRecord): Verifier {
    const cached = this.verifiers.get(agent.id);
    if (cached && cached.publicKey === agent.publicKey) return cached.verify;
    const verify = suiteFor(agent.alg).verifier(agent.publicKey);
    this.verifiers.set(agent.id, { publicKey: agent.publicKey, verify });
    return verify;
  }
}
