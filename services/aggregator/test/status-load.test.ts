// GET /v1/aggregations/:date cannot be used to load Redis. Finding a date's counters is a SCAN
// of the whole keyspace (applications INCRBY them directly, so no index of ours can list them),
// so what is bounded is how many such scans requests cause: one per date for a burst and for
// the following seconds, at most two at once, a short queue, then 503. Measured in Redis's own
// INFO commandstats, on a Redis of the test's own holding many unrelated keys.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AggregationStatus, StatusBusyError, StatusReader } from '../src/aggregation-status.ts';
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
  // No TTL survey during the test: the only SCANs are those status causes.
  bed = new AggregatorBed({ REDIS_URL: redis.url, AGGREGATOR_TTL_WATCH_INTERVAL: '1h' });
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

const status = (date: string) => fetch(`${service.url}/v1/aggregations/${date}`);

describe('status under load', () => {
  it('computes a date once for a burst of requests and for the seconds after', async () => {
    const [first, second] = [uniqueDate(), uniqueDate()];
    await countUsage(first);
    await countUsage(second);

    let answer: AggregationStatus | undefined;
    const one = await measure(async () => {
      answer = (await (await status(first)).json()) as AggregationStatus;
    });
    expect(answer?.redis).toMatchObject({ keysWaiting: 3, unitsWaiting: '3' });
    // What one computation costs: the whole keyspace, a SCAN page of AGGREGATOR_SCAN_COUNT at a time.
    expect(one.scan).toBeGreaterThanOrEqual(UNRELATED_KEYS / 1000);

    const bodies: string[] = [];
    const burst = await measure(() =>
      Promise.all(
        Array.from({ length: 50 }, async () => {
          const response = await status(second);
          expect(response.status).toBe(200);
          bodies.push(await response.text());
        }),
      ),
    );
    expect(new Set(bodies).size).toBe(1);
    expect(burst.scan).toBeLessThanOrEqual(one.scan);
    expect(burst.all).toBeLessThanOrEqual(one.all);

    // Asked again right after: the answer of the burst, at most one computation more should
    // the cache's two seconds have passed on a slow machine.
    const again = await measure(async () => {
      for (let i = 0; i < 20; i++) expect((await status(second)).status).toBe(200);
    });
    expect(again.scan).toBeLessThanOrEqual(one.scan);
  });

  it('computes at most a few dates at once and refuses the rest with 503 and Retry-After', async () => {
    const one = await measure(async () => expect((await status(uniqueDate())).status).toBe(200));
    const dates = Array.from({ length: 60 }, () => uniqueDate());
    const answers: { status: number; retryAfter: string | null }[] = [];
    const calls = await measure(() =>
      Promise.all(
        dates.map(async (date) => {
          const response = await status(date);
          await response.arrayBuffer();
          answers.push({ status: response.status, retryAfter: response.headers.get('retry-after') });
        }),
      ),
    );
    const computed = answers.filter((a) => a.status === 200).length;
    const refused = answers.filter((a) => a.status === 503);
    expect(computed + refused.length).toBe(dates.length);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((a) => a.retryAfter === '1')).toBe(true);
    // Each computation is one pass over the keyspace; refused requests cost Redis nothing.
    expect(calls.scan).toBeLessThanOrEqual(computed * one.scan);
  });
});

describe('StatusReader', () => {
  const answer = (date: string) => ({ date }) as AggregationStatus;

  it('shares the computation in flight and its answer for cacheMs, then computes again', async () => {
    let now = 0;
    const computed: string[] = [];
    const reader = new StatusReader(
      async (date) => {
        computed.push(date);
        return answer(date);
      },
      { cacheMs: 2_000, maxRunning: 2, maxWaiting: 1 },
      () => now,
    );
    await Promise.all([reader.read('d1'), reader.read('d1'), reader.read('d1')]);
    expect(computed).toEqual(['d1']);
    now = 1_999;
    await reader.read('d1');
    expect(computed).toEqual(['d1']);
    now = 2_000;
    await reader.read('d1');
    expect(computed).toEqual(['d1', 'd1']);
  });

  it('runs maxRunning computations at once, queues maxWaiting, and refuses the rest', async () => {
    const started: string[] = [];
    const finish = new Map<string, () => void>();
    const reader = new StatusReader(
      (date) =>
        new Promise((resolve) => {
          started.push(date);
          finish.set(date, () => resolve(answer(date)));
        }),
      { cacheMs: 0, maxRunning: 2, maxWaiting: 1 },
    );
    const reads = ['a', 'b', 'c', 'd'].map((date) => reader.read(date));
    await expect(reads[3]).rejects.toBeInstanceOf(StatusBusyError);
    expect(started).toEqual(['a', 'b']);
    finish.get('a')?.();
    await reads[0];
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual(['a', 'b', 'c']);
    finish.get('b')?.();
    finish.get('c')?.();
    await Promise.all(reads.slice(0, 3));
    // Slots are all given back: two more start at once.
    void reader.read('e');
    void reader.read('f');
    expect(started).toEqual(['a', 'b', 'c', 'e', 'f']);
    finish.get('e')?.();
    finish.get('f')?.();
  });

  it('keeps no failure: the next request computes again', async () => {
    let attempts = 0;
    const reader = new StatusReader(async (date) => {
      attempts += 1;
      if (attempts === 1) throw new Error('Redis unavailable');
      return answer(date);
    });
    await expect(reader.read('d1')).rejects.toThrow('Redis unavailable');
    expect(await reader.read('d1')).toEqual(answer('d1'));
    expect(attempts).toBe(2);
  });
});
