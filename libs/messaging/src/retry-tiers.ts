// Delay topics. Each has one fixed delay, so every delay topic is in due order and its
// consumer only ever waits for the head of a partition. There are two kinds:
// - a route's retry tiers (`<topic>.retry.<delay>`): the n-th failure waits in the n-th tier;
// - its delay ladder (`<topic>.delay.<step>`): any other wait (a defer, a jittered backoff)
//   is made of hops down the ladder, the longest step that fits first, so a wait of any
//   length is due within a second of its time and never busy-loops, and a short wait never
//   queues behind a long one.

import { parseDuration } from '@tickflow/runtime';

export interface RetryTier {
  /** As written in the topic name: `2s`, `1h`. */
  label: string;
  delayMs: number;
}

export function parseDelay(text: string): RetryTier {
  const trimmed = text.trim();
  try {
    return { label: trimmed, delayMs: parseDuration(trimmed) };
  } catch {
    throw new Error(
      /^\d+(ms|s|m|h|d)$/.test(trimmed)
        ? `retry delay "${text}" must be positive`
        : `retry delay "${text}" is not a number followed by ms, s, m, h or d`,
    );
  }
}

export function parseTiers(delays: string[]): RetryTier[] {
  const tiers = delays.map(parseDelay);
  const labels = new Set(tiers.map((t) => t.label));
  if (labels.size !== tiers.length) throw new Error(`retry delays repeat a tier: ${delays.join(', ')}`);
  return tiers;
}

export const retryTopic = (topic: string, tier: RetryTier) => `${topic}.retry.${tier.label}`;
export const delayTopic = (topic: string, step: RetryTier) => `${topic}.delay.${step.label}`;
export const deadLetterTopic = (topic: string) => `${topic}.dlq`;

/**
 * The ladder every route has. Steps a factor of ten apart keep the hops of a long wait few
 * (72 hours: under a hundred rewrites over three days); the last step of one second bounds
 * how late a wait ends.
 */
export const DEFAULT_DELAY_LADDER = ['1s', '10s', '1m', '10m', '1h'];

/** Steps sorted shortest first, so the longest that fits is found from the end. */
export function parseLadder(steps: string[]): RetryTier[] {
  if (steps.length === 0) throw new Error('a delay ladder needs at least one step');
  return parseTiers(steps).sort((a, b) => a.delayMs - b.delayMs);
}

/**
 * The next hop of a wait of `waitMs`: the longest step that does not overshoot it, or the
 * shortest for what is left below it. `wakeAt` is when the hop's consumer looks again.
 */
export function nextHop(ladder: RetryTier[], waitMs: number, now: number): { step: RetryTier; wakeAt: number } {
  let step = ladder[0] as RetryTier;
  for (const candidate of ladder) if (candidate.delayMs <= waitMs) step = candidate;
  return { step, wakeAt: now + Math.min(step.delayMs, Math.max(0, waitMs)) };
}
