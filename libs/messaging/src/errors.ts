// What a handler throws decides what happens to the message (ARCHITECTURE.md, "Retry
// semantics"). Anything else a handler throws counts as retryable unless the route's
// classifier says otherwise: a transient fault is the common case for back-office jobs.

/** Worth trying again later: the message goes to the next delay tier. */
export class RetryableError extends Error {
  override name = 'RetryableError';
}

/** Trying again cannot help: the message goes straight to the dead-letter topic. */
export class FatalError extends Error {
  override name = 'FatalError';
}

/** Not now, but not a failure either (a quota used up): redeliver at `until`, same attempt. */
export class DeferError extends Error {
  override name = 'DeferError';
  constructor(
    readonly until: Date,
    message = `deferred until ${until.toISOString()}`,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The value cannot be read at all: bad wire format, unknown schema, invalid payload. */
export class UndecodableMessageError extends Error {
  override name = 'UndecodableMessageError';
}

export type ErrorClass = 'retryable' | 'fatal';
/** A route's own say on which errors are worth retrying. */
export type ErrorClassifier = (error: unknown) => ErrorClass | undefined;
