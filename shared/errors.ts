/**
 * A mistake the user can fix (bad flag, bad config, missing file). The CLI prints its message
 * and exits 2 without a stack trace; anything else is a bug and keeps its stack.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

export function isUserError(err: unknown): err is UserError {
  return err instanceof UserError;
}
