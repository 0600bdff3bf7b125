/**
 * Errors of the command-line layer.
 *
 * A `UsageError` is bad input from the user: one line naming the option and the bad value. The caller
 * prints `pasta: <message>` (or `passt: ...`) on stderr and exits with status 1. It is never used for
 * host failures or broken invariants.
 */

export class UsageError extends Error {
  /** stable code, in the style of Node's and undici's error codes */
  readonly code = 'ERR_USAGE';

  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** True for a UsageError, including one from another copy of this module (worker, test harness). */
export function isUsageError(err: unknown): err is UsageError {
  return err instanceof UsageError || (err instanceof Error && (err as { code?: unknown }).code === 'ERR_USAGE');
}
