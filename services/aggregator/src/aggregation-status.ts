// What `GET /v1/aggregations/:date` answers: what still waits in Redis for the date (from a
// survey of every usage key, shared by all requests: usage-surveyor.ts), what PostgreSQL holds
// for it, and how the last run went.
import type { RunRecord, UsageRepository, UsageSummary } from './adapters/usage-repository.ts';
import type { SkippedKey } from './domain/batch-plan.ts';
import { emptyDateSurvey } from './domain/usage-survey.ts';
import type { UsageSurvey } from './usage-surveyor.ts';

export interface AggregationStatus {
  date: string;
  redis: {
    /** When the survey this answer comes from began; what follows is as of then. */
    surveyedAt: string;
    /** Well-formed counters for the date not moved yet, and the usage they hold. */
    keysWaiting: number;
    unitsWaiting: string;
    /** Waiting counters that expire within `nearTtlSeconds`: lost unless a run moves them first. */
    keysNearTtl: number;
    nearTtlSeconds: number;
    /** The first of them, soonest to expire first. */
    nearTtl: { key: string; ttlSeconds: number }[];
    keysWithoutTtl: number;
    /** Keys naming the date that no run will move: malformed key or value. */
    malformed: SkippedKey[];
    malformedCount: number;
    /** Batches moved out of Redis, any date, not yet confirmed in PostgreSQL. */
    pendingBatches: number;
  };
  postgres: UsageSummary;
  lastRun: RunRecord | null;
}

export async function aggregationStatus(
  date: string,
  survey: UsageSurvey,
  repository: UsageRepository,
  nearTtlMs: number,
): Promise<AggregationStatus> {
  const found = survey.dates.get(date) ?? emptyDateSurvey();
  const [postgres, lastRun] = await Promise.all([repository.summary(date), repository.lastRun(date)]);
  return {
    date,
    redis: {
      surveyedAt: survey.startedAt.toISOString(),
      keysWaiting: found.keysWaiting,
      unitsWaiting: found.unitsWaiting.toString(),
      keysNearTtl: found.keysNearTtl,
      nearTtlSeconds: Math.round(nearTtlMs / 1000),
      nearTtl: found.nearTtl.map(({ key, ttlMs }) => ({ key, ttlSeconds: Math.ceil(ttlMs / 1000) })),
      keysWithoutTtl: found.keysWithoutTtl,
      malformed: found.malformed,
      malformedCount: found.malformedCount,
      pendingBatches: survey.pendingBatches,
    },
    postgres,
    lastRun,
  };
}
