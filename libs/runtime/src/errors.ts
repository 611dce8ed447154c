// What a failure means for the work that hit it (ARCHITECTURE.md, "Retry semantics"). They
// live here, below the messaging lib, so that any library a handler calls (the side-effect
// ledger, a client of a third-party API) can say so in the same terms the router acts on.

/** Worth trying again later: the message goes to the next retry tier. */
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
