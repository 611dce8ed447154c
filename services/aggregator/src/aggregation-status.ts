// What `GET /v1/aggregations/:date` answers: what still waits in Redis for the date, what
// PostgreSQL holds for it, and how the last run went.
//
// Finding a date's counters takes a SCAN of the whole keyspace (a million keys: seconds of
// Redis time), because applications INCRBY the counters directly: an index kept by our own
// increment script would miss their keys, and those (no TTL, malformed) are what status is
// for. So rather than making one answer cheaper, StatusReader bounds how many are computed:
// requests for a date share the computation in flight and its answer for a few seconds, and
// only a few dates are computed at once; beyond a short queue the request is refused (503).
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

/** Too many status computations at once; the client should try again shortly. */
export class StatusBusyError extends Error {
  override name = 'StatusBusyError';
}

export interface StatusLimits {
  /** How long a date's answer is served again instead of computed anew. */
  cacheMs: number;
  /** Computations (each a SCAN of the whole keyspace) running at once. */
  maxRunning: number;
  /** Computations waiting for a turn; a request beyond them is refused. */
  maxWaiting: number;
}

// A status is for people and dashboards: two seconds old is fresh enough, and two scans at
// once leave Redis most of its time for increments and runs.
export const STATUS_LIMITS: StatusLimits = { cacheMs: 2_000, maxRunning: 2, maxWaiting: 16 };

/** Status computations, shared while in flight, cached briefly, and only a few at once. */
export class StatusReader {
  private readonly answers = new Map<string, { status: Promise<AggregationStatus>; settledAt: number | undefined }>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly compute: (date: string) => Promise<AggregationStatus>,
    private readonly limits: StatusLimits = STATUS_LIMITS,
    private readonly clock: () => number = Date.now,
  ) {}

  read(date: string): Promise<AggregationStatus> {
    this.forgetStale();
    const known = this.answers.get(date);
    if (known) return known.status;
    const answer = { status: this.computeInTurn(date), settledAt: undefined as number | undefined };
    this.answers.set(date, answer);
    answer.status.then(
      () => {
        answer.settledAt = this.clock();
      },
      // A failure (Redis down, the queue full) is not kept: the next request tries again.
      () => {
        if (this.answers.get(date) === answer) this.answers.delete(date);
      },
    );
    return answer.status;
  }

  private forgetStale(): void {
    const now = this.clock();
    for (const [date, { settledAt }] of this.answers) {
      if (settledAt !== undefined && now - settledAt >= this.limits.cacheMs) this.answers.delete(date);
    }
  }

  private async computeInTurn(date: string): Promise<AggregationStatus> {
    if (this.running < this.limits.maxRunning) this.running += 1;
    else if (this.waiting.length < this.limits.maxWaiting) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else throw new StatusBusyError(`${this.running} status computations running and ${this.waiting.length} waiting`);
    try {
      return await this.compute(date);
    } finally {
      // The slot passes straight to the next in line, or is given back.
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}
