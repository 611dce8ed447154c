// Two aggregator processes handling the same ticks at the same time (as after a consumer
// group rebalance, or with a tick delivered twice), while clients keep counting through both
// processes' HTTP API: every acknowledged increment is in PostgreSQL exactly once.
import { randomInt } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { schedulerTick } from '@tickflow/contracts';
import { cloudEventHeaders, newCloudEvent } from '@tickflow/messaging';
import { eventually } from '@tickflow/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { AggregatorBed, type AggregatorProcess, ExpectedTotals, uniqueDate } from './aggregator-bed.ts';

const metricTypes = ['queries', 'documents', 'api_calls', 'storage_gb'];
const bed = new AggregatorBed({ AGGREGATOR_BATCH_SIZE: '25', AGGREGATOR_SCAN_COUNT: '200' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterAll(async () => {
  await bed.stop();
});

describe('two aggregator replicas', () => {
  it('consuming the same ticks while increments go on, count every acknowledged increment exactly once', { timeout: 150_000 }, async () => {
    const [yesterday, today] = [uniqueDate(), uniqueDate()];
    const replicas = await Promise.all([
      bed.start({ AGGREGATOR_INSTANCE: `${bed.instance}-a` }),
      bed.start({ AGGREGATOR_INSTANCE: `${bed.instance}-b` }),
    ]);
    const expected = { [yesterday]: new ExpectedTotals(), [today]: new ExpectedTotals() };
    let incrementing = true;
    let refused = 0;
    const client = async (replica: AggregatorProcess) => {
      while (incrementing) {
        const body = Array.from({ length: 10 }, () => ({
          merchantId: `rep-${randomInt(300)}`,
          metricType: metricTypes[randomInt(4)] as string,
          amount: 1 + randomInt(100),
          date: randomInt(2) === 0 ? yesterday : today,
        }));
        const response = await fetch(`${replica.url}/v1/usage`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        // Only what the API acknowledged is owed.
        if (response.status === 200) for (const i of body) expected[i.date]?.add(i.merchantId, i.metricType, i.amount);
        else refused += 1;
      }
    };
    const clients = Promise.all(replicas.flatMap((r) => [client(r), client(r)]));
    const tick = async () => {
      // One tick, id and all, delivered to both replicas.
      const headers = cloudEventHeaders(
        newCloudEvent('tickflow/scheduler', schedulerTick.type, `tick:aggregator-hourly:${new Date().toISOString()}`),
      );
      const payload = {
        schedule: 'aggregator-hourly',
        scheduledTime: new Date().toISOString(),
        payload: { date: today, previousDate: yesterday },
      };
      await Promise.all(replicas.map((r) => bed.send(schedulerTick, payload, today, { instance: r.instance, headers })));
    };
    for (let i = 0; i < 15; i++) {
      await tick();
      await sleep(300);
    }
    incrementing = false;
    await clients;
    expect(refused).toBe(0);

    // A run that failed on a deadlock between the replicas goes round the retry tiers, so the
    // last counters may land a few seconds after a tick: tick until PostgreSQL holds every
    // acknowledged increment, or time out (a lost increment never lands; one counted twice
    // never matches). The comparison at the end shows the difference.
    const settled = async () => {
      for (const date of [yesterday, today]) {
        if (!isDeepStrictEqual(await bed.totals(date), expected[date]?.byCounter)) return undefined;
      }
      return true;
    };
    const lastTicks = setInterval(() => void tick(), 3_000);
    try {
      await tick();
      await eventually('every acknowledged increment in PostgreSQL', settled, 60_000).catch(() => undefined);
    } finally {
      clearInterval(lastTicks);
    }
    for (const date of [yesterday, today]) expect(await bed.totals(date)).toEqual(expected[date]?.byCounter);
    // Both did move counters: the runs overlapped rather than took turns.
    for (const replica of replicas) {
      expect(replica.logged('aggregation completed').some((line) => Number(line.keysRead) > 0)).toBe(true);
    }
  });
});
