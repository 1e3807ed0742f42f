import type { Store } from '../store/store.js';
import { secretMatchesHash } from '../auth/secrets.js';

/**
 * Checks agents' broker passwords against the stored hashes. Known agents are cached so a
 * reconnect storm does not become a store storm; enrollment and revocation invalidate. Agents
 * waiting for approval (enroll.approval: manual) are never cached: an approval made by another
 * process (`smew agents approve`) takes effect at their next attempt.
 */
export type CredentialCheck = 'ok' | 'refused' | 'pending-approval';

interface CachedCredential {
  brokerSecretHash: string;
  revoked: boolean;
}

export class AgentCredentials {
  private readonly cache = new Map<string, CachedCredential>();

  constructor(private readonly store: Store) {}

  /** ok when `agentId` is enrolled, approved, not revoked, and `secret` is its current broker secret. */
  async verify(agentId: string, secret: string): Promise<CredentialCheck> {
    let credential = this.cache.get(agentId);
    if (!credential) {
      const agent = await this.store.getAgent(agentId);
      // Unknown ids are not cached: anyone can make them up, and the cache must stay bounded.
      if (!agent) return 'refused';
      credential = { brokerSecretHash: agent.brokerSecretHash, revoked: agent.revokedAt !== null };
      if (!credential.revoked && !secretMatchesHash(secret, credential.brokerSecretHash)) return 'refused';
      if (!credential.revoked && !(await this.store.approvals.isApproved(agentId))) {
        return 'pending-approval';
      }
      this.cache.set(agentId, credential);
    }
    return !credential.revoked && secretMatchesHash(secret, credential.brokerSecretHash) ? 'ok' : 'refused';
  }

  invalidate(agentId: string): void {
    this.cache.delete(agentId);
  }
}
