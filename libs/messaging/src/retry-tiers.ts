// Retry tiers: each tier is one delay topic with one fixed delay, so every delay topic
// is in due order and its consumer only ever waits for the head of a partition.

export interface RetryTier {
  /** As written in the topic name: `2s`, `1h`. */
  label: string;
  delayMs: number;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDelay(text: string): RetryTier {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) throw new Error(`retry delay "${text}" is not a number followed by ms, s, m, h or d`);
  const delayMs = Number(match[1]) * (UNITS[match[2] as string] as number);
  if (delayMs <= 0) throw new Error(`retry delay "${text}" must be positive`);
  return { label: `${match[1]}${match[2]}`, delayMs };
}

export function parseTiers(delays: string[]): RetryTier[] {
  const tiers = delays.map(parseDelay);
  const labels = new Set(tiers.map((t) => t.label));
  if (labels.size !== tiers.length) throw new Error(`retry delays repeat a tier: ${delays.join(', ')}`);
  return tiers;
}

export const retryTopic = (topic: string, tier: RetryTier) => `${topic}.retry.${tier.label}`;
export const deadLetterTopic = (topic: string) => `${topic}.dlq`;

/**
 * The tier for a message that has failed `attempt` times (1 after the first failure),
 * or undefined when every tier has been spent.
 */
export function tierAfter(tiers: RetryTier[], attempt: number): RetryTier | undefined {
  return tiers[attempt - 1];
}

/** The tier whose fixed delay is closest above the wait, for a defer: due order holds. */
export function tierForWait(tiers: RetryTier[], waitMs: number): RetryTier | undefined {
  const sorted = [...tiers].sort((a, b) => a.delayMs - b.delayMs);
  return sorted.find((t) => t.delayMs >= waitMs) ?? sorted.at(-1);
}
