// The two ways a command fails, told apart by exit code: scripts can retry a runtime
// failure, but a command line that is wrong stays wrong however often it runs.

/** The command line itself is wrong: unknown flag, bad value, malformed JSON. Exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The command line is fine but the command could not be done: unknown topic or group, unreachable service. Exit 1. */
export class CommandError extends Error {
  override name = 'CommandError';
}

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
