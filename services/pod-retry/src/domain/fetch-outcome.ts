// What a failed POD fetch means, and what comes next. The seed's two classes: persistent
// errors need someone to act (a tracking number that does not exist, a carrier that says no
// POD will ever exist, credentials it refuses) and are not retried; temporary ones pass
// (timeouts, resets, 5xx, 429, a reply that cannot be read) and are retried on the tiers until
// the attempts run out. Only a persistent error e-mails the client, as the seed does. A 429
// that says when to come back defers to then, spending no attempt. Pure.

export type ErrorClass = 'persistent' | 'temporary';

/** Every code a carrier adapter may report, with its class. */
export const ERROR_CLASSES = {
  'invalid-tracking-number': 'persistent',
  'unknown-shipment': 'persistent',
  'no-pod': 'persistent',
  'bad-credentials': 'persistent',
  timeout: 'temporary',
  'connection-failed': 'temporary',
  'server-error': 'temporary',
  'rate-limited': 'temporary',
  'malformed-reply': 'temporary',
  'not-yet-available': 'temporary',
} as const satisfies Record<string, ErrorClass>;

export type ErrorCode = keyof typeof ERROR_CLASSES;

export interface FetchFailure {
  class: ErrorClass;
  code: ErrorCode;
  /** Said by the carrier, or about its reply (a malformed one's first bytes); never a credential. */
  message: string;
  /** A 429's `Retry-After`, as an instant. */
  retryAfter?: Date;
}

export function fetchFailure(code: ErrorCode, message: string, retryAfter?: Date): FetchFailure {
  return { class: ERROR_CLASSES[code], code, message, ...(retryAfter === undefined ? {} : { retryAfter }) };
}

export type AfterFailure =
  /** Tried again on the next tier. */
  | { kind: 'retry' }
  /** No more tries: the claim is `gave_up`; the client is told only of a persistent error. */
  | { kind: 'give-up'; notifyClient: boolean; reason: 'persistent' | 'attempts-exhausted' }
  /** Not an attempt: tried again at `until`, the same attempt. */
  | { kind: 'defer'; until: Date };

/** What follows the failure of attempt `attempt` (1 for the first) of at most `maxAttempts`. */
export function afterFailure(failure: FetchFailure, attempt: number, maxAttempts: number, now: Date): AfterFailure {
  if (failure.code === 'rate-limited' && failure.retryAfter !== undefined && failure.retryAfter > now) {
    return { kind: 'defer', until: failure.retryAfter };
  }
  if (failure.class === 'persistent') return { kind: 'give-up', notifyClient: true, reason: 'persistent' };
  if (attempt >= maxAttempts) return { kind: 'give-up', notifyClient: false, reason: 'attempts-exhausted' };
  return { kind: 'retry' };
}

/** When attempt `attempt + 1` is due after attempt `attempt` failed at `failedAt`: the n-th tier after the n-th failure, the last one repeating. */
export function nextAttemptAt(failedAt: Date, attempt: number, tiersMs: readonly number[]): Date {
  if (tiersMs.length === 0) throw new RangeError('no retry tiers');
  const tier = tiersMs[Math.min(Math.max(attempt, 1), tiersMs.length) - 1] as number;
  return new Date(failedAt.getTime() + tier);
}

/** `Retry-After` as seconds or an HTTP date, as an instant; undefined when absent or unreadable. */
export function retryAfterOf(header: string | null | undefined, now: Date): Date | undefined {
  if (header === null || header === undefined || header.trim() === '') return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return new Date(now.getTime() + Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : new Date(at);
}
