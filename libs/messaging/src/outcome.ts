// What becomes of a message whose handler threw: pure, so every rule is unit-tested.
import type { DeadLetterReason } from './envelope.ts';
import { DeferError, type ErrorClassifier, FatalError, RetryableError, UndecodableMessageError } from './errors.ts';
import { type DeferLimits, type RetryPolicy, waitAfter } from './retry-policy.ts';
import type { RetryTier } from './retry-tiers.ts';

export type FailureOutcome =
  /** Into the route's retry tier `tier`, or down its delay ladder when the wait is not a tier's. */
  | { kind: 'retry'; attempt: number; notBefore: number; tier: RetryTier | undefined }
  | { kind: 'defer'; attempt: number; notBefore: number; defers: number; firstDeferredAt: number }
  | { kind: 'dead-letter'; reason: DeadLetterReason; attempt: number };

export interface FailureContext {
  /** Failed attempts before this one: 0 on first delivery. */
  attempt: number;
  /** The route's own tiers: its default policy waits in their topics. */
  tiers: RetryTier[];
  /** Deliveries in all under the default policy; tiers.length + 1 unless the route says. */
  maxAttempts: number;
  classify?: ErrorClassifier | undefined;
  /** Defers of this message so far, and when the first was. */
  deferred: { count: number; since: number | undefined };
  deferLimits: DeferLimits;
  now: number;
  random?: () => number;
}

export function decideFailure(error: unknown, context: FailureContext): FailureOutcome {
  const { attempt, now } = context;
  if (error instanceof UndecodableMessageError) return { kind: 'dead-letter', reason: 'undecodable', attempt };
  const verdict =
    error instanceof DeferError
      ? { deferUntil: error.until }
      : error instanceof FatalError
        ? 'fatal'
        : error instanceof RetryableError
          ? 'retryable'
          : (context.classify?.(error) ?? 'retryable');
  if (typeof verdict === 'object' && 'deferUntil' in verdict) return defer(verdict.deferUntil.getTime(), context);
  const failures = attempt + 1;
  if (verdict === 'fatal') return { kind: 'dead-letter', reason: 'fatal', attempt: failures };
  if (verdict === 'retryable') {
    if (failures >= context.maxAttempts || context.tiers.length === 0)
      return { kind: 'dead-letter', reason: 'exhausted', attempt: failures };
    const tier = (context.tiers[failures - 1] ?? context.tiers.at(-1)) as RetryTier;
    return { kind: 'retry', attempt: failures, notBefore: now + tier.delayMs, tier };
  }
  return retryBy(verdict, failures, context);
}

function retryBy(policy: RetryPolicy, failures: number, { now, random }: FailureContext): FailureOutcome {
  const wait = waitAfter(policy, failures, random);
  if (wait === undefined) return { kind: 'dead-letter', reason: 'exhausted', attempt: failures };
  return { kind: 'retry', attempt: failures, notBefore: now + wait, tier: undefined };
}

function defer(until: number, { attempt, deferred, deferLimits, now }: FailureContext): FailureOutcome {
  const defers = deferred.count + 1;
  const firstDeferredAt = deferred.since ?? now;
  if (defers > deferLimits.maxDefers || until - firstDeferredAt > deferLimits.maxDeferredMs) {
    return { kind: 'dead-letter', reason: 'deferred-too-long', attempt };
  }
  return { kind: 'defer', attempt, notBefore: Math.max(now, until), defers, firstDeferredAt };
}
