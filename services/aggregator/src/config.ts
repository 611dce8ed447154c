// The aggregator's own variables, validated with the common ones at start: a bad value stops
// the start with a message naming the variable.
import { delayListVar, durationVar, intVar, listVar, secretVar, stringVar } from '@tickflow/runtime';
import { z } from 'zod';

export const DEFAULT_METRIC_TYPES = 'queries,documents,api_calls,storage_gb';

export const aggregatorConfig = z.object({
  /** Prefix of the topics and the consumer group; tests run several aggregators side by side. */
  AGGREGATOR_INSTANCE: stringVar('aggregator').refine((v) => /^[A-Za-z0-9._-]+$/.test(v), 'must be a topic-safe name'),
  AGGREGATOR_METRIC_TYPES: listVar(DEFAULT_METRIC_TYPES)
    .refine((types) => types.length > 0, 'must name at least one metric type')
    .refine((types) => types.every((t) => /^[a-z][a-z0-9_]{0,63}$/.test(t)), 'must be a comma-separated list of names like api_calls')
    .refine((types) => new Set(types).size === types.length, 'must not repeat a metric type')
    .transform((types) => new Set(types) as ReadonlySet<string>),
  AGGREGATOR_KEY_TTL: durationVar('7d'),
  AGGREGATOR_RETRY_TIERS: delayListVar('5s,30s,2m,10m'),
  AGGREGATOR_RUN_TIMEOUT: durationVar('10m'),
  AGGREGATOR_BATCH_SIZE: intVar(5000, 1, 50_000),
  AGGREGATOR_SCAN_COUNT: intVar(1000, 10, 100_000),
  AGGREGATOR_APPLY_CONCURRENCY: intVar(2, 1, 8),
  AGGREGATOR_MAX_BACKFILL_DAYS: intVar(366, 1, 3660),
  AGGREGATOR_TTL_WARNING: durationVar('24h'),
  AGGREGATOR_TTL_WATCH_INTERVAL: durationVar('5m'),
  AGGREGATOR_STATUS_MAX_AGE: durationVar('2s', { allowZero: true }),
  AGGREGATOR_DB_SCHEMA: stringVar('aggregator').refine((v) => /^[a-z_][a-z0-9_]{0,62}$/.test(v), 'must be a lower-case SQL name'),
  AGGREGATOR_REDIS_NAMESPACE: stringVar('aggregator').refine((v) => /^[A-Za-z0-9._-]{1,64}$/.test(v), 'must be letters, digits, . _ or -'),
  AGGREGATOR_API_TOKEN: secretVar({ minLength: 16 }),
  /**
   * How long after its day ends a date still takes usage through POST /v1/usage. The hourly
   * tick moves yesterday until 23:00; 12h leaves any accepted increment eleven ticks to be
   * moved in, where an older date would wait unmoved until its TTL.
   */
  AGGREGATOR_USAGE_MAX_AGE: durationVar('12h'),
  /** How far a client's clock may run ahead: a date that begins within it is taken. */
  AGGREGATOR_USAGE_MAX_FUTURE: durationVar('5m'),
});

export type AggregatorConfig = z.infer<typeof aggregatorConfig>;
