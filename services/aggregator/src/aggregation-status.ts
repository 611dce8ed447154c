// What `GET /v1/aggregations/:date` answers: what still waits in Redis for the date, what
// PostgreSQL holds for it, and how the last run went.
import type { UsageCounterStore } from './adapters/usage-counter-store.ts';
import type { RunRecord, UsageRepository, UsageSummary } from './adapters/usage-repository.ts';
import { COUNTER_VALUE, type SkippedKey } from './domain/batch-plan.ts';
import { UsageKeyParser, usageKeyPattern } from './domain/usage-key.ts';

export interface AggregationStatus {
  date: string;
  redis: {
    /** Well-formed counters for the date not moved yet, and the usage they hold. */
    keysWaiting: number;
    unitsWaiting: string;
    /** Waiting counters that expire within `nearTtlSeconds`: lost unless a run moves them first. */
    keysNearTtl: number;
    nearTtlSeconds: number;
    /** The first of them, soonest to expire first. */
    nearTtl: { key: string; ttlSeconds: number }[];
    keysWithoutTtl: number;
    /** Keys matching the date that no run will move: malformed key or value. */
    malformed: SkippedKey[];
    malformedCount: number;
    /** Batches moved out of Redis, any date, not yet confirmed in PostgreSQL. */
    pendingBatches: number;
  };
  postgres: UsageSummary;
  lastRun: RunRecord | null;
}

export interface StatusOptions {
  metricTypes: ReadonlySet<string>;
  scanCount: number;
  nearTtlMs: number;
  /** How many near-TTL and malformed keys are listed (all are counted). */
  listLimit: number;
}

export async function aggregationStatus(
  date: string,
  store: UsageCounterStore,
  repository: UsageRepository,
  options: StatusOptions,
): Promise<AggregationStatus> {
  const redis: AggregationStatus['redis'] = {
    keysWaiting: 0,
    unitsWaiting: '0',
    keysNearTtl: 0,
    nearTtlSeconds: Math.round(options.nearTtlMs / 1000),
    nearTtl: [],
    keysWithoutTtl: 0,
    malformed: [],
    malformedCount: 0,
    pendingBatches: 0,
  };
  let units = 0n;
  const nearTtl: { key: string; ttlMs: number }[] = [];
  const malformed = (key: string, reason: string) => {
    redis.malformedCount += 1;
    if (redis.malformed.length < options.listLimit) redis.malformed.push({ key, reason });
  };
  const parser = new UsageKeyParser(options.metricTypes);
  for await (const states of store.inspectCounters(usageKeyPattern(date), options.scanCount)) {
    for (const { key, value, ttlMs } of states) {
      const parsed = parser.parse(key);
      if (!parsed.ok) malformed(key, parsed.reason);
      else if (parsed.id.date !== date) continue;
      else if (value === null || !COUNTER_VALUE.test(value)) malformed(key, 'value is not a non-negative integer below 10^18');
      else {
        redis.keysWaiting += 1;
        units += BigInt(value);
        if (ttlMs === -1) redis.keysWithoutTtl += 1;
        else if (ttlMs < options.nearTtlMs) nearTtl.push({ key, ttlMs });
      }
    }
  }
  redis.unitsWaiting = units.toString();
  redis.keysNearTtl = nearTtl.length;
  redis.nearTtl = nearTtl
    .sort((a, b) => a.ttlMs - b.ttlMs)
    .slice(0, options.listLimit)
    .map(({ key, ttlMs }) => ({ key, ttlSeconds: Math.ceil(ttlMs / 1000) }));
  redis.pendingBatches = (await store.pendingBatchIds()).length;
  const [postgres, lastRun] = await Promise.all([repository.summary(date), repository.lastRun(date)]);
  return { date, redis, postgres, lastRun };
}
