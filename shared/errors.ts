// Error classes only for conditions callers branch on (STYLE habit 9), each
// with a stable `code`. Everything else is a plain Error with an exact message.

/** Bad input from a user or a client: the CLI prints it as one line and exits non-zero. */
export class UsageError extends Error {
  readonly code = 'EUSAGE';
  override name = 'UsageError';
}

/** The local daemon could not be reached. */
export class DaemonUnreachableError extends Error {
  readonly code = 'EDAEMON';
  override name = 'DaemonUnreachableError';
}

/** A request the daemon answered with an error status; the message is the daemon's own. */
export class ApiError extends Error {
  readonly code = 'EAPI';
  override name = 'ApiError';
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

/** The first line of an error's message: what the CLI shows. */
export function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n', 1)[0]!.trim() || (e instanceof Error ? e.name : 'error');
}
