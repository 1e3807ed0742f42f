import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { SIGNATURE_ALGS, type Verifier } from '../../shared/crypto/suite.js';
import { suiteFor } from '../../shared/crypto/suites.js';
import { UserError } from '../../shared/errors.js';
import { agentIdFromPublicKey } from '../../shared/identity.js';

const agentKeySchema = z.looseObject({
  id: z.string(),
  alg: z.enum(SIGNATURE_ALGS).default('ed25519'),
  publicKey: z.string().min(1),
});
const agentKeysFileSchema = z.union([
  z.looseObject({ items: z.array(agentKeySchema) }),
  z.array(agentKeySchema).transform((items) => ({ items })),
]);

/**
 * The agent public keys the collector exported, re-read when the file changes. A key whose id
 * does not derive from it (SPEC §5) is ignored: the file cannot make one agent speak for another.
 */
export class AgentKeys {
  private verifiers = new Map<string, { alg: string; verify: Verifier }>();
  private mtimeMs = -1;

  constructor(private readonly file: string) {
    this.reload(true);
  }

  get size(): number {
    return this.verifiers.size;
  }

  verifierFor(agentId: string, alg: string): Verifier | undefined {
    this.reload(false);
    const entry = this.verifiers.get(agentId);
    return entry?.alg === alg ? entry.verify : undefined;
  }

  private reload(strict: boolean): void {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(this.file).mtimeMs;
    } catch {
      if (strict)
        throw new UserError(
          `beacon: agents file ${this.file} does not exist (export it from the collector: GET /api/v1/agents)`,
        );
      return;
    }
    if (mtimeMs === this.mtimeMs) return;
    let parsed;
    try {
      parsed = agentKeysFileSchema.safeParse(JSON.parse(readFileSync(this.file, 'utf8')));
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success) {
      if (strict) {
        throw new UserError(
          `beacon: agents file ${this.file}: expected JSON {"items":[{"id","alg","publicKey"}]} as GET /api/v1/agents returns, or a list of such objects`,
        );
      }
      return;
    }
    const verifiers = new Map<string, { alg: string; verify: Verifier }>();
    for (const agent of parsed.data.items) {
      if (agentIdFromPublicKey(agent.publicKey) !== agent.id) continue;
      verifiers.set(agent.id, { alg: agent.alg, verify: suiteFor(agent.alg).verifier(agent.publicKey) });
    }
    this.verifiers = verifiers;
    this.mtimeMs = mtimeMs;
  }
}
