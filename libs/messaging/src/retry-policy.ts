// How a failed message is tried again. A route has a default policy (its retry tiers and
// max attempts); its classifier may pick another per error category: fixed delays with their
// own attempt limit, or exponential backoff with jitter (reporting's seed), or call the
// error fatal. Policies are built once, when the service's module loads, so a bad delay
// stops the start instead of surfacing on the first failure.
import { parseDelay, parseTiers, type RetryTier } from './retry-tiers.ts';

export interface FixedDelays {
  kind: 'fixed';
  /** The wait after the n-th failure is the n-th delay; the last one repeats. */
  delays: RetryTier[];
  /** Deliveries in all, the first one included. */
  maxAttempts: number;
}

export interface ExponentialBackoff {
  kind: 'exponential';
  initialMs: number;
  maxMs: number;
  multiplier: number;
  /** full: anywhere from 0 to the backoff; equal: from half of it to all of it; none: exactly it. */
  jitter: 'full' | 'equal' | 'none';
  maxAttempts: number;
}

export type RetryPolicy = FixedDelays | ExponentialBackoff;

function attemptsProblem(maxAttempts: number): string | undefined {
  return Number.isInteger(maxAttempts) && maxAttempts >= 1
    ? undefined
    : `maxAttempts must be a whole number of at least 1, not ${maxAttempts}`;
}

/** Fixed delays, e.g. `fixedDelays(['1h', '6h', '24h', '72h'], { maxAttempts: 4 })`. */
export function fixedDelays(delays: string[], { maxAttempts = delays.length + 1 }: { maxAttempts?: number } = {}): FixedDelays {
  const problem = attemptsProblem(maxAttempts);
  if (problem) throw new Error(problem);
  if (delays.length === 0 && maxAttempts > 1) throw new Error('a policy that retries needs at least one delay');
  return { kind: 'fixed', delays: parseTiers(delays), maxAttempts };
}

export function exponentialBackoff(options: {
  initial: string;
  max: string;
  multiplier?: number;
  jitter?: ExponentialBackoff['jitter'];
  maxAttempts: number;
}): ExponentialBackoff {
  const problem = attemptsProblem(options.maxAttempts);
  if (problem) throw new Error(problem);
  const multiplier = options.multiplier ?? 2;
  if (!(multiplier >= 1)) throw new Error(`multiplier must be at least 1, not ${multiplier}`);
  const initialMs = parseDelay(options.initial).delayMs;
  const maxMs = parseDelay(options.max).delayMs;
  if (maxMs < initialMs) throw new Error(`max backoff ${options.max} is shorter than the initial ${options.initial}`);
  return { kind: 'exponential', initialMs, maxMs, multiplier, jitter: options.jitter ?? 'full', maxAttempts: options.maxAttempts };
}

/** The wait after `failures` failures (1 after the first), or undefined once the attempts are spent. */
export function waitAfter(policy: RetryPolicy, failures: number, random: () => number = Math.random): number | undefined {
  if (failures >= policy.maxAttempts) return undefined;
  if (policy.kind === 'fixed') return (policy.delays[failures - 1] ?? policy.delays.at(-1))?.delayMs;
  const backoff = Math.min(policy.maxMs, policy.initialMs * policy.multiplier ** (failures - 1));
  if (policy.jitter === 'none') return backoff;
  if (policy.jitter === 'equal') return Math.round(backoff / 2 + random() * (backoff / 2));
  return Math.round(random() * backoff);
}

/** How long a message may keep being deferred before it goes to the DLQ as `deferred-too-long`. */
export interface DeferLimits {
  /** Defers of one message in all. */
  maxDefers: number;
  /** From its first defer. */
  maxDeferredMs: number;
}

export const DEFAULT_DEFER_LIMITS: DeferLimits = { maxDefers: 1000, maxDeferredMs: 7 * 86_400_000 };
