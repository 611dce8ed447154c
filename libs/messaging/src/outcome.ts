// What becomes of a message whose handler threw: pure, so every rule is unit-tested.
import type { DeadLetterReason } from './envelope.ts';
import { DeferError, type ErrorClassifier, FatalError, RetryableError, UndecodableMessageError } from './errors.ts';
import { type RetryTier, tierAfter, tierForWait } from './retry-tiers.ts';

export type FailureOutcome =
  | { kind: 'retry'; tier: RetryTier; attempt: number; notBefore: number }
  | { kind: 'defer'; tier: RetryTier; attempt: number; notBefore: number }
  | { kind: 'dead-letter'; reason: DeadLetterReason; attempt: number };

export interface FailureContext {
  /** Failed attempts before this one: 0 on first delivery. */
  attempt: number;
  tiers: RetryTier[];
  classify?: ErrorClassifier | undefined;
  now: number;
}

export function decideFailure(error: unknown, { attempt, tiers, classify, now }: FailureContext): FailureOutcome {
  if (error instanceof UndecodableMessageError) return { kind: 'dead-letter', reason: 'undecodable', attempt };
  if (error instanceof DeferError) {
    const tier = tierForWait(tiers, error.until.getTime() - now);
    if (tier) return { kind: 'defer', tier, attempt, notBefore: Math.max(now, error.until.getTime()) };
  }
  const failures = attempt + 1;
  const verdict =
    error instanceof FatalError ? 'fatal' : error instanceof RetryableError ? 'retryable' : (classify?.(error) ?? 'retryable');
  if (verdict === 'fatal') return { kind: 'dead-letter', reason: 'fatal', attempt: failures };
  const tier = tierAfter(tiers, failures);
  if (!tier) return { kind: 'dead-letter', reason: 'exhausted', attempt: failures };
  return { kind: 'retry', tier, attempt: failures, notBefore: now + tier.delayMs };
}
