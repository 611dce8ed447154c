// Redis restarted without persistence (on a Redis of the test's own, never the stack's
// shared one) loses what had not been moved yet, and nothing else: totals already in
// PostgreSQL are never lowered or reset, and the aggregator carries on when Redis is back.
// Keys nearing their TTL unmoved show on the aggregator's gauge.
import { aggregationRequested } from '@tickflow/contracts';
import { eventually } from '@tickflow/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AggregatorBed, type AggregatorProcess, ExpectedTotals, sumOf, ThrowawayRedis, uniqueDate } from './aggregator-bed.ts';

let redis: ThrowawayRedis;
let bed: AggregatorBed;
let service: AggregatorProcess;

beforeAll(async () => {
  redis = await ThrowawayRedis.start();
  bed = new AggregatorBed({ REDIS_URL: redis.url, AGGREGATOR_TTL_WARNING: '1h', AGGREGATOR_TTL_WATCH_INTERVAL: '1s' });
  service = await bed.start();
});

afterAll(async () => {
  await bed.stop();
  await redis.kill();
});

async function count(date: string, expected: ExpectedTotals, rounds: number): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    const body = ['queries', 'documents'].map((metricType, i) => ({
      merchantId: `rr-${round % 7}`,
      metricType,
      amount: round + i + 1,
      date,
    }));
    const response = await fetch(`${service.url}/v1/usage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
    for (const i of body) expected.add(i.merchantId, i.metricType, i.amount);
  }
}

async function run(date: string): Promise<void> {
  const before = service.logged('aggregation completed').length;
  await bed.send(aggregationRequested, { date, merchantId: null }, date);
  await eventually('the run', async () => (service.logged('aggregation completed').length > before ? true : undefined), 30_000);
}

describe('a Redis restart without persistence', () => {
  it('loses only what had not been moved, and never lowers a stored total', async () => {
    const date = uniqueDate();
    const moved = new ExpectedTotals();
    await count(date, moved, 40);
    await run(date);
    expect(await bed.totals(date)).toEqual(moved.byCounter);

    // Acknowledged, not moved yet: this is what a restart without persistence may lose.
    await count(date, new ExpectedTotals(), 20);
    await redis.restart();
    await eventually('the aggregator to reach Redis again', async () =>
      (await fetch(`${service.url}/v1/aggregations/${date}`)).status === 200 ? true : undefined,
    );

    // A run over the emptied Redis leaves the stored totals as they were.
    await run(date);
    expect(await bed.totals(date)).toEqual(moved.byCounter);

    const later = new ExpectedTotals();
    await count(date, later, 30);
    await run(date);
    const final = await bed.totals(date);
    expect(sumOf(final)).toBe(moved.sum() + later.sum());
    for (const [counter, total] of final) expect(total).toBe((moved.byCounter.get(counter) ?? 0n) + (later.byCounter.get(counter) ?? 0n));
  });

  it('reports keys nearing their TTL unmoved on the gauge', async () => {
    const date = uniqueDate();
    await fetch(`${service.url}/v1/usage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        { merchantId: 'ttl-1', metricType: 'queries', date },
        { merchantId: 'ttl-2', metricType: 'queries', date },
      ]),
    });
    // Written by an application with a short TTL of its own: it expires within the warning (1h).
    const { Redis } = await import('ioredis');
    const client = new Redis(redis.url);
    await client.expire(`usage:ttl-1:${date}:queries`, 1800);
    client.disconnect();
    const metrics = await eventually('the gauge', async () => {
      const text = await (await fetch(`${service.url}/metrics`)).text();
      return /^tickflow_aggregator_keys_near_ttl 1$/m.test(text) ? text : undefined;
    });
    expect(metrics).toMatch(/^tickflow_aggregator_keys_waiting 2$/m);
    expect(metrics).toMatch(/^tickflow_aggregator_pending_batches 0$/m);
  });
});
