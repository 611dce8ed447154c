// GET /v1/aggregations/:date cannot be used to load Redis. Finding a date's counters is a SCAN
// of the whole keyspace (applications INCRBY them directly, so no index of ours can list them);
// so no request scans: one survey of every usage key answers every date, at most one survey
// runs at a time, and requests share it. Measured in Redis's own INFO commandstats, on a Redis
// of the test's own holding many unrelated keys.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CounterState, UsageCounterStore } from '../src/adapters/usage-counter-store.ts';
import type { AggregationStatus } from '../src/aggregation-status.ts';
import { datesNamedBy, UsageSurveyTally } from '../src/domain/usage-survey.ts';
import { type UsageSurvey, UsageSurveyor } from '../src/usage-surveyor.ts';
import { AggregatorBed, type AggregatorProcess, ThrowawayRedis, uniqueDate } from './aggregator-bed.ts';

const UNRELATED_KEYS = 100_000;
let redis: ThrowawayRedis;
let client: Redis;
let bed: AggregatorBed;
let service: AggregatorProcess;

beforeAll(async () => {
  redis = await ThrowawayRedis.start();
  client = new Redis(redis.url);
  for (let first = 0; first < UNRELATED_KEYS; first += 10_000) {
    const pairs = Array.from({ length: 10_000 }, (_, i) => [`session:${first + i}`, 'x']).flat();
    await client.mset(...pairs);
  }
  // No timed survey during the test: the only SCANs are those status causes. Statuses on
  // the default terms: a survey is shared for 2 s.
  bed = new AggregatorBed({ REDIS_URL: redis.url, AGGREGATOR_TTL_WATCH_INTERVAL: '1h', AGGREGATOR_STATUS_MAX_AGE: '2s' });
  service = await bed.start();
});

afterAll(async () => {
  await bed?.stop();
  client?.disconnect();
  await redis?.kill();
});

/** Commands Redis ran since `CONFIG RESETSTAT`, by name, leaving out the test's own. */
async function commandCalls(): Promise<{ scan: number; all: number }> {
  const info = await client.info('commandstats');
  let scan = 0;
  let all = 0;
  for (const [, name, calls] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (name === 'info' || name?.startsWith('config')) continue;
    all += Number(calls);
    if (name === 'scan') scan += Number(calls);
  }
  return { scan, all };
}

async function measure(work: () => Promise<unknown>): Promise<{ scan: number; all: number }> {
  await client.config('RESETSTAT');
  await work();
  return commandCalls();
}

async function countUsage(date: string): Promise<void> {
  const response = await fetch(`${service.url}/v1/usage`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(['queries', 'documents', 'api_calls'].map((metricType) => ({ merchantId: 'load-m1', metricType, date }))),
  });
  expect(response.status).toBe(200);
}

const status = async (date: string): Promise<AggregationStatus> => {
  const response = await fetch(`${service.url}/v1/aggregations/${date}`);
  expect(response.status).toBe(200);
  return (await response.json()) as AggregationStatus;
};

describe('status under load', () => {
  it('answers a burst of requests for many dates from one pass over the keyspace', async () => {
    const counted = [uniqueDate(), uniqueDate(), uniqueDate()];
    for (const date of counted) await countUsage(date);
    // Past the cache of any earlier request: the next one causes a survey.
    await new Promise((resolve) => setTimeout(resolve, 2_100));

    let first: AggregationStatus | undefined;
    const one = await measure(async () => {
      first = await status(counted[0] as string);
    });
    expect(first?.redis).toMatchObject({ keysWaiting: 3, unitsWaiting: '3' });
    // What one survey costs: the whole keyspace, a SCAN page of AGGREGATOR_SCAN_COUNT at a time.
    expect(one.scan).toBeGreaterThanOrEqual(UNRELATED_KEYS / 1000);

    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const dates = [...counted, ...Array.from({ length: 57 }, () => uniqueDate())];
    const answers: AggregationStatus[] = [];
    const burst = await measure(() => Promise.all(dates.map(async (date) => answers.push(await status(date)))));
    // Sixty dates asked at once: one survey between them all.
    expect(burst.scan).toBeLessThanOrEqual(one.scan);
    expect(burst.scan).toBeGreaterThan(0);
    expect(new Set(answers.map((a) => a.redis.surveyedAt)).size).toBe(1);
    for (const answer of answers) {
      expect(answer.redis.keysWaiting).toBe(counted.includes(answer.date) ? 3 : 0);
    }

    // Asked again right after: the same survey's answers, at most one survey more should the
    // two seconds have passed on a slow machine.
    const again = await measure(async () => {
      for (const date of dates.slice(0, 20)) await status(date);
    });
    expect(again.scan).toBeLessThanOrEqual(one.scan);
  });
});

/** A store whose survey pages are released by the test, one call to `release` per survey. */
function heldStore(pages: CounterState[][]) {
  const releases: (() => void)[] = [];
  let surveys = 0;
  const store = {
    async *inspectCounters() {
      surveys += 1;
      await new Promise<void>((resolve) => releases.push(resolve));
      yield* pages;
    },
    pendingBatchIds: async () => ['b1'],
  } as unknown as UsageCounterStore;
  return {
    store,
    surveys: () => surveys,
    release: async () => {
      await new Promise((resolve) => setImmediate(resolve));
      releases.shift()?.();
    },
  };
}

const options = { metricTypes: new Set(['queries', 'documents']), nearTtlMs: 60_000, listLimit: 2, scanCount: 100 };

describe('UsageSurveyor', () => {
  it('shares the survey running and the last one while younger than the age asked for', async () => {
    let now = 0;
    const held = heldStore([[{ key: 'usage:m1:2026-01-01:queries', value: '4', ttlMs: -1 }]]);
    const surveyed: UsageSurvey[] = [];
    const surveyor = new UsageSurveyor(held.store, { ...options, onSurvey: (s) => surveyed.push(s) }, () => now);
    const reads = [surveyor.read(2_000), surveyor.read(2_000), surveyor.read(0)];
    await held.release();
    const [a, b] = await Promise.all(reads.slice(0, 2));
    expect(a).toBe(b);
    expect(a?.dates.get('2026-01-01')).toMatchObject({ keysWaiting: 1, unitsWaiting: 4n, keysWithoutTtl: 1 });
    expect(a?.pendingBatches).toBe(1);
    // read(0) came while the first ran: it waits for a survey begun after it.
    await held.release();
    const fresh = await reads[2];
    expect(fresh).not.toBe(a);
    expect(held.surveys()).toBe(2);
    now = 1_999;
    expect(await surveyor.read(2_000)).toBe(fresh);
    now = 2_000;
    const next = surveyor.read(2_000);
    await held.release();
    expect(await next).not.toBe(fresh);
    expect(held.surveys()).toBe(3);
    expect(surveyed).toHaveLength(3);
  });

  it('never runs two surveys at once: all who ask during one share the next', async () => {
    const held = heldStore([]);
    const surveyor = new UsageSurveyor(held.store, { ...options, onSurvey: () => undefined });
    const first = surveyor.read(0);
    await new Promise((resolve) => setImmediate(resolve));
    const waiting = Array.from({ length: 50 }, () => surveyor.read(0));
    expect(held.surveys()).toBe(1);
    await held.release();
    await first;
    await held.release();
    const answers = await Promise.all(waiting);
    expect(new Set(answers).size).toBe(1);
    expect(held.surveys()).toBe(2);
  });

  it('keeps no failure: the next request surveys again', async () => {
    let attempts = 0;
    const store = {
      // biome-ignore lint/correctness/useYield: fails before its first page
      async *inspectCounters() {
        attempts += 1;
        if (attempts === 1) throw new Error('Redis unavailable');
      },
      pendingBatchIds: async () => [],
    } as unknown as UsageCounterStore;
    const surveyor = new UsageSurveyor(store, { ...options, onSurvey: () => undefined });
    await expect(surveyor.read(60_000)).rejects.toThrow('Redis unavailable');
    expect((await surveyor.read(60_000)).totals.keys).toBe(0);
    expect(attempts).toBe(2);
  });
});

describe('UsageSurveyTally', () => {
  it('sums each date, lists its soonest-expiring and malformed keys up to the limit, and counts all', () => {
    const tally = new UsageSurveyTally(options);
    tally.add([
      { key: 'usage:m1:2026-01-01:queries', value: '10', ttlMs: 50_000 },
      { key: 'usage:m2:2026-01-01:queries', value: '5', ttlMs: 10_000 },
      { key: 'usage:m3:2026-01-01:documents', value: '1', ttlMs: 30_000 },
    ]);
    tally.add([
      { key: 'usage:m4:2026-01-01:documents', value: '2', ttlMs: 90_000 },
      { key: 'usage:m5:2026-01-01:documents', value: '3', ttlMs: -1 },
      { key: 'usage:m6:2026-01-01:tokens', value: '1', ttlMs: 10 },
      { key: 'usage:m7:2026-01-01:queries', value: 'lots', ttlMs: -1 },
      { key: 'usage:m8:2026-01-02:queries', value: '7', ttlMs: -1 },
      { key: 'usage:a:b:2026-01-02:x:2026-01-01:q', value: '1', ttlMs: -1 },
    ]);
    const { totals, dates } = tally.result();
    expect(totals).toEqual({ keys: 9, nearTtl: 4, withoutTtl: 4 });
    expect(dates.get('2026-01-01')).toEqual({
      keysWaiting: 5,
      unitsWaiting: 21n,
      keysWithoutTtl: 1,
      keysNearTtl: 3,
      nearTtl: [
        { key: 'usage:m2:2026-01-01:queries', ttlMs: 10_000 },
        { key: 'usage:m3:2026-01-01:documents', ttlMs: 30_000 },
      ],
      malformedCount: 3,
      malformed: [
        { key: 'usage:m6:2026-01-01:tokens', reason: 'unknown metric type tokens' },
        { key: 'usage:m7:2026-01-01:queries', reason: 'value is not a non-negative integer below 10^18' },
      ],
    });
    expect(dates.get('2026-01-02')).toMatchObject({ keysWaiting: 1, unitsWaiting: 7n, malformedCount: 1 });
  });

  it("finds the dates a malformed key names where an operator's SCAN usage:*:{date}:* would", () => {
    expect([...datesNamedBy('usage:a:b:2026-01-02:x')]).toEqual(['2026-01-02']);
    expect([...datesNamedBy('usage::2026-01-02:')]).toEqual(['2026-01-02']);
    expect([...datesNamedBy('usage:2026-01-02:queries')]).toEqual([]);
    expect([...datesNamedBy('usage:m:2026-02-30:queries')]).toEqual([]);
    expect([...datesNamedBy('usage:m:2026-01-02')]).toEqual([]);
  });
});
