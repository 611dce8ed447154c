// A run that fails as a whole (PostgreSQL unreachable) is announced on every attempt, retried
// through the delay tiers, and dead-lettered when they are spent; nothing leaves Redis.
import { aggregationRequested } from '@tickflow/contracts';
import { eventually, freePort, stack } from '@tickflow/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AggregatorBed, type ReadEvent, uniqueDate } from './aggregator-bed.ts';

const bed = new AggregatorBed();
const redis = new Redis(stack.redisUrl);

beforeAll(async () => {
  // A port nobody listens on: PostgreSQL is down for the whole test.
  const closed = await freePort();
  await bed.start({ DATABASE_URL: `postgres://tickflow:tickflow@127.0.0.1:${closed}/tickflow`, AGGREGATOR_RETRY_TIERS: '1s,2s' });
});

afterAll(async () => {
  await bed.stop();
  redis.disconnect();
});

describe('a run while PostgreSQL is down', () => {
  it('fails on every attempt through the tiers, ends in the DLQ, and leaves the counters in Redis', async () => {
    const date = uniqueDate();
    const [events, dlq] = await Promise.all([bed.read(`${bed.instance}.events`), bed.read(`${bed.instance}.requests.dlq`)]);
    await redis.set(`usage:down-m1:${date}:queries`, '42', 'EX', 600);
    await bed.send(aggregationRequested, { date, merchantId: null }, date);

    const dead = await eventually('the request dead-lettered', async () => dlq.find((e) => e.key === date), 30_000);
    expect(dead.headers).toMatchObject({ tickflow_dlq_reason: 'exhausted', tickflow_attempt: '3', tickflow_error_class: 'RetryableError' });
    expect(dead.headers.tickflow_error_message).toMatch(/^aggregation of .* failed: PostgreSQL: migrations not applied/);

    const failed = await eventually('three failed runs announced', async () => {
      const found = events.filter((e: ReadEvent) => e.type === 'tickflow.aggregator.aggregation-failed' && e.key === date);
      return found.length >= 3 ? found : undefined;
    });
    expect(failed.map((e) => e.payload.attempt)).toEqual([0, 1, 2]);
    expect(failed[0]?.payload).toMatchObject({ date, merchantId: null, keysRead: 0, rowsWritten: 0, errorClass: 'UsageRepositoryError' });
    expect(String(failed[0]?.payload.errorMessage)).not.toContain('tickflow:tickflow');
    expect(events.filter((e) => e.type === 'tickflow.aggregator.aggregation-completed')).toEqual([]);
    await eventually('the job failure announced', async () => events.find((e) => e.type === 'tickflow.job.failed' && e.key === date));

    expect(await redis.get(`usage:down-m1:${date}:queries`)).toBe('42');
    await redis.del(`usage:down-m1:${date}:queries`);
  });
});
