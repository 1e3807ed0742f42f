/**
 * How often an open live stream re-checks that its session or key is still good, for access
 * withdrawn outside this process (the CLI, another collector); within it, AccessChanges triggers
 * the re-check at once.
 */
export const STREAM_RECHECK_MS = 5_000;

/**
 * Access was withdrawn in this process (a user disabled, a password changed, a key revoked, a
 * logout): every open live stream re-checks its caller at once. Changes made elsewhere (the
 * `smew user|apikey` commands, another collector on the same database) reach the streams at their
 * next periodic re-check (STREAM_RECHECK_MS).
 */
export class AccessChanges {
  private readonly listeners = new Set<() => void>();

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  withdrawn(): void {
    for (const listener of this.listeners) listener();
  }
}
