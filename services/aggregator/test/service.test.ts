// The aggregator as a process on the real Kafka: a tick fans out into one run per date, a
// backfill into one per day of its range, a merchant request moves one merchant; each run
// announces its outcome on <instance>.events, and a tick with its fan-out and runs is one
// trace in Jaeger. Requests that cannot succeed go to the DLQ with their reason.
import { randomBytes } from 'node:crypto';
import { aggregationRequested, backfillRequested, schedulerTick } from '@tickflow/contracts';
import { eventually, stack } from '@tickflow/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AggregationStatus } from '../src/aggregation-status.ts';
import { AggregatorBed, type AggregatorProcess, type ReadEvent, sumOf, uniqueDate } from './aggregator-bed.ts';

interface JaegerSpan {
  traceID: string;
  operationName: string;
}

const bed = new AggregatorBed({ AGGREGATOR_RETRY_TIERS: '1s' });
const redis = new Redis(stack.redisUrl);
let service: AggregatorProcess;
let events: ReadEvent[];
let dlq: ReadEvent[];

beforeAll(async () => {
  service = await bed.start();
  events = await bed.read(`${bed.instance}.events`);
  dlq = await bed.read(`${bed.instance}.requests.dlq`);
});

afterAll(async () => {
  await bed.stop();
  redis.disconnect();
});

async function usage(merchantId: string, date: string, amounts: Record<string, number>): Promise<void> {
  const body = Object.entries(amounts).map(([metricType, amount]) => ({ merchantId, metricType, amount, date }));
  const response = await fetch(`${service.url}/v1/usage`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
}

function outcomes(type: 'completed' | 'failed', key: string): ReadEvent[] {
  return events.filter((e) => e.type === `tickflow.aggregator.aggregation-${type}` && e.key === key);
}

describe('the aggregator service', () => {
  it('fans a tick out into a run for each of its dates, announces each, and traces it all as one trace', async () => {
    const [yesterday, today] = [uniqueDate(), uniqueDate()];
    await usage('tick-m1', yesterday, { queries: 3, documents: 4 });
    await usage('tick-m1', today, { queries: 10 });
    await usage('tick-m2', today, { api_calls: 7 });

    const traceId = randomBytes(16).toString('hex');
    await bed.send(
      schedulerTick,
      { schedule: 'aggregator-hourly', scheduledTime: new Date().toISOString(), payload: { date: today, previousDate: yesterday } },
      today,
      { headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` } },
    );

    const [doneYesterday, doneToday] = await eventually('both runs announced', async () => {
      const found = [outcomes('completed', yesterday)[0], outcomes('completed', today)[0]];
      return found.every(Boolean) ? (found as ReadEvent[]) : undefined;
    });
    expect(doneYesterday?.payload).toMatchObject({
      date: yesterday,
      merchantId: null,
      keysRead: 2,
      rowsWritten: 2,
      errorCount: 0,
      errors: [],
    });
    expect(doneToday?.payload).toMatchObject({ date: today, keysRead: 2, rowsWritten: 2 });
    expect(Number(doneToday?.payload.durationMs)).toBeGreaterThanOrEqual(0);
    expect(await bed.totals(yesterday)).toEqual(
      new Map([
        ['tick-m1:queries', 3n],
        ['tick-m1:documents', 4n],
      ]),
    );
    expect(await bed.totals(today)).toEqual(
      new Map([
        ['tick-m1:queries', 10n],
        ['tick-m2:api_calls', 7n],
      ]),
    );

    const status = (await (await fetch(`${service.url}/v1/aggregations/${today}`)).json()) as AggregationStatus;
    expect(status).toMatchObject({
      redis: { keysWaiting: 0, unitsWaiting: '0' },
      postgres: { rows: 2, merchants: 2, totals: { queries: '10', api_calls: '7' } },
      lastRun: { status: 'completed', date: today, merchantId: null, keysRead: 2, rowsWritten: 2, errorCount: 0, errors: [] },
    });

    const spans = await eventually(
      'the whole trace in Jaeger',
      async () => {
        const response = await fetch(`${stack.jaegerQueryUrl}/api/traces/${traceId}`);
        if (!response.ok) return undefined;
        const body = (await response.json()) as { data: { spans: JaegerSpan[] }[] };
        const all = body.data.flatMap((t) => t.spans);
        const count = (name: string) => all.filter((s) => s.operationName === name).length;
        // The tick and both runs consumed, the two fan-out requests sent, both outcomes sent.
        return count(`process ${bed.instance}.requests`) >= 3 &&
          count(`send ${bed.instance}.requests`) >= 2 &&
          count(`send ${bed.instance}.events`) >= 2
          ? all
          : undefined;
      },
      40_000,
    );
    expect(new Set(spans.map((s) => s.traceID))).toEqual(new Set([traceId]));
  });

  it('backfills a range with one run per date, and sends a range beyond the bound to the DLQ saying why', async () => {
    const from = uniqueDate();
    const dates = [0, 1, 2].map((i) => new Date(Date.parse(`${from}T00:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10));
    for (const [i, date] of dates.entries()) await usage('backfill-m', date, { storage_gb: i + 1 });
    await bed.send(backfillRequested, { from: dates[0] as string, to: dates[2] as string, merchantId: null }, 'backfill');
    await eventually('three runs announced', async () => (dates.every((d) => outcomes('completed', d).length > 0) ? true : undefined));
    for (const [i, date] of dates.entries()) expect(await bed.totals(date)).toEqual(new Map([['backfill-m:storage_gb', BigInt(i + 1)]]));

    await bed.send(backfillRequested, { from: '2026-01-01', to: '2027-01-02', merchantId: null }, 'too-long');
    const dead = await eventually('the long backfill dead-lettered', async () => dlq.find((e) => e.key === 'too-long'));
    expect(dead.headers.tickflow_dlq_reason).toBe('fatal');
    expect(dead.headers.tickflow_error_message).toBe('backfill from 2026-01-01 to 2027-01-02 covers 367 days; at most 366 at once');
    await eventually('the job failure announced', async () =>
      events.find((e) => e.type === 'tickflow.job.failed' && e.key === 'too-long' && e.payload.reason === 'fatal'),
    );
  });

  it("moves one merchant's counters for a merchant request, keyed merchant:date", async () => {
    const date = uniqueDate();
    await usage('one-m1', date, { queries: 1 });
    await usage('one-m2', date, { queries: 2 });
    await bed.send(aggregationRequested, { date, merchantId: 'one-m1' }, `one-m1:${date}`);
    const done = await eventually('the merchant run announced', async () => outcomes('completed', `one-m1:${date}`)[0]);
    expect(done.payload).toMatchObject({ date, merchantId: 'one-m1', keysRead: 1 });
    expect(await bed.totals(date)).toEqual(new Map([['one-m1:queries', 1n]]));
    expect(await redis.get(`usage:one-m2:${date}:queries`)).toBe('2');
    await redis.del(`usage:one-m2:${date}:queries`);
  });

  it('skips a malformed key and a value that is not a counter, reporting them in the outcome, and moves the rest', async () => {
    const date = uniqueDate();
    await usage('skip-m1', date, { queries: 8, documents: 1 });
    await redis.set(`usage:skip-m2:${date}:queries`, 'NaN', 'EX', 600);
    await redis.set(`usage:skip-m3:${date}:unknown_metric`, '3', 'EX', 600);
    await bed.send(aggregationRequested, { date, merchantId: null }, date);
    const done = await eventually('the run announced', async () => outcomes('completed', date)[0]);
    expect(done.payload).toMatchObject({ keysRead: 2, rowsWritten: 2, errorCount: 2 });
    expect(new Set((done.payload.errors as { key: string }[]).map((e) => e.key))).toEqual(
      new Set([`usage:skip-m2:${date}:queries`, `usage:skip-m3:${date}:unknown_metric`]),
    );
    expect(sumOf(await bed.totals(date))).toBe(9n);
    await redis.del(`usage:skip-m2:${date}:queries`, `usage:skip-m3:${date}:unknown_metric`);
  });

  it('sends a tick without a usable date and a request for an impossible date straight to the DLQ', async () => {
    await bed.send(
      schedulerTick,
      { schedule: 'aggregator-hourly', scheduledTime: new Date().toISOString(), payload: { date: '2026-02-30' } },
      'bad-tick',
    );
    await bed.send(aggregationRequested, { date: '2026-13-01', merchantId: null }, 'bad-date');
    const [tick, request] = await eventually('both dead-lettered', async () => {
      const found = [dlq.find((e) => e.key === 'bad-tick'), dlq.find((e) => e.key === 'bad-date')];
      return found.every(Boolean) ? (found as ReadEvent[]) : undefined;
    });
    expect(tick?.headers).toMatchObject({
      tickflow_dlq_reason: 'fatal',
      tickflow_error_message: 'tick payload date is not a calendar date (2026-02-30)',
    });
    expect(request?.headers).toMatchObject({
      tickflow_dlq_reason: 'fatal',
      tickflow_error_message: 'aggregation request: date is not a calendar date (2026-13-01)',
    });
  });
});
