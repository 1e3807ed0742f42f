import type { Store } from '../store/store.js';
import { secretMatchesHash } from '../auth/secrets.js';

/**
 * Checks agents' broker passwords against the stored hashes. Known agents are cached so a
 * reconnect storm does not become a store storm; enrollment and revocation invalidate.
 */
interface CachedCredential {
  brokerSecretHash: string;
  revoked: boolean;
}

export class AgentCredentials {
  private readonly cache = new Map<string, CachedCredential>();

  constructor(private readonly store: Store) {}

  /** True when `agentId` is enrolled, not revoked, and `secret` is its current broker secret. */
  async verify(agentId: string, secret: string): Promise<boolean> {
    let credential = this.cache.get(agentId);
    if (!credential) {
      const agent = await this.store.getAgent(agentId);
      // Unknown ids are not cached: anyone can make them up, and the cache must stay bounded.
      if (!agent) return false;
      credential = { brokerSecretHash: agent.brokerSecretHash, revoked: agent.revokedAt !== null };
      this.cache.set(agentId, credential);
    }
    return !credential.revoked && secretMatchesHash(secret, credential.brokerSecretHash);
  }

  invalidate(agentId: string): void {
    this.cache.delete(agentId);
  }
}
