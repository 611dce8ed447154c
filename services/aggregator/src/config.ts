// The aggregator's own variables, validated with the common ones at start: a bad value stops
// the start with a message naming the variable.
import { parseDelay, parseTiers } from '@tickflow/messaging';
import { stringVar } from '@tickflow/runtime';
import { z } from 'zod';

export const DEFAULT_METRIC_TYPES = 'queries,documents,api_calls,storage_gb';

/** A duration such as `7d`, `90m`, `30s`, or a number of seconds; in milliseconds. */
function durationVar(fallback: string) {
  return stringVar(fallback)
    .transform((value) => (/^\d+$/.test(value) ? `${value}s` : value))
    .refine((value) => /^\d+(ms|s|m|h|d)$/.test(value) && Number.parseInt(value, 10) > 0, 'must be a duration such as 30s, 2m, 24h or 7d')
    .transform((value) => parseDelay(value).delayMs);
}

function intVar(fallback: number, min: number, max: number) {
  return stringVar(String(fallback))
    .refine((value) => /^\d+$/.test(value) && Number(value) >= min && Number(value) <= max, `must be a whole number from ${min} to ${max}`)
    .transform(Number);
}

function listVar(fallback: string) {
  return stringVar(fallback).transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== ''),
  );
}

export const aggregatorConfig = z.object({
  /** Prefix of the topics and the consumer group; tests run several aggregators side by side. */
  AGGREGATOR_INSTANCE: stringVar('aggregator').refine((v) => /^[A-Za-z0-9._-]+$/.test(v), 'must be a topic-safe name'),
  AGGREGATOR_METRIC_TYPES: listVar(DEFAULT_METRIC_TYPES)
    .refine((types) => types.length > 0, 'must name at least one metric type')
    .refine((types) => types.every((t) => /^[a-z][a-z0-9_]{0,63}$/.test(t)), 'must be a comma-separated list of names like api_calls')
    .refine((types) => new Set(types).size === types.length, 'must not repeat a metric type')
    .transform((types) => new Set(types) as ReadonlySet<string>),
  AGGREGATOR_KEY_TTL: durationVar('7d'),
  AGGREGATOR_RETRY_TIERS: listVar('5s,30s,2m,10m').refine((tiers) => {
    try {
      parseTiers(tiers);
      return true;
    } catch {
      return false;
    }
  }, 'must be a comma-separated list of distinct delays such as 5s,30s,2m'),
  AGGREGATOR_RUN_TIMEOUT: durationVar('10m'),
  AGGREGATOR_BATCH_SIZE: intVar(5000, 1, 50_000),
  AGGREGATOR_SCAN_COUNT: intVar(1000, 10, 100_000),
  AGGREGATOR_APPLY_CONCURRENCY: intVar(2, 1, 8),
  AGGREGATOR_MAX_BACKFILL_DAYS: intVar(366, 1, 3660),
  AGGREGATOR_TTL_WARNING: durationVar('24h'),
  AGGREGATOR_TTL_WATCH_INTERVAL: durationVar('5m'),
  AGGREGATOR_DB_SCHEMA: stringVar('aggregator').refine((v) => /^[a-z_][a-z0-9_]{0,62}$/.test(v), 'must be a lower-case SQL name'),
  AGGREGATOR_REDIS_NAMESPACE: stringVar('aggregator').refine((v) => /^[A-Za-z0-9._-]{1,64}$/.test(v), 'must be letters, digits, . _ or -'),
  AGGREGATOR_API_TOKEN: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()))
    .refine((v) => v === undefined || v.length >= 16, 'must be at least 16 characters'),
});

export type AggregatorConfig = z.infer<typeof aggregatorConfig>;
