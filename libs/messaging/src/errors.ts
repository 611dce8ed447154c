// What a handler throws decides what happens to the message (ARCHITECTURE.md, "Retry
// semantics"). Anything else a handler throws counts as retryable unless the route's
// classifier says otherwise: a transient fault is the common case for back-office jobs.
import type { RetryPolicy } from './retry-policy.ts';

export { DeferError, FatalError, RetryableError } from '@tickflow/runtime';

/** The value cannot be read at all: bad wire format, unknown schema, invalid payload. */
export class UndecodableMessageError extends Error {
  override name = 'UndecodableMessageError';
}

/**
 * A route's own say on an error its handler threw that is none of the typed ones:
 * `retryable` (the route's default policy), `fatal`, a policy of its own for this kind of
 * error (its attempt limit and delays, or exponential backoff with jitter), or a time to
 * defer to without spending an attempt. Undefined: retryable.
 */
export type ErrorVerdict = 'retryable' | 'fatal' | RetryPolicy | { deferUntil: Date };
export type ErrorClassifier = (error: unknown) => ErrorVerdict | undefined;

/** The broker refused a record as larger than the topic accepts: sending it again as it is cannot help. */
export class RecordTooLargeError extends Error {
  override name = 'RecordTooLargeError';
}
