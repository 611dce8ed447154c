// The heart of the aggregator: while a client keeps incrementing, the aggregator is killed
// with SIGKILL at random points of its runs, again and again; after a last clean run the
// totals in PostgreSQL equal the sum of every acknowledged increment, exactly.
import { randomInt } from 'node:crypto';
import { aggregationRequested } from '@tickflow/contracts';
import { eventually, stack } from '@tickflow/testing';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisUsageCounterStore } from '../src/adapters/usage-counter-store.ts';
import { parseIncrements } from '../src/domain/usage-increments.ts';
import { AggregatorBed, type AggregatorProcess, ANY_DATE_WINDOW, ExpectedTotals, uniqueDate } from './aggregator-bed.ts';

const CYCLES = Number(process.env.AGGREGATOR_SOAK_CYCLES ?? 10);
const metricTypes = new Set(['queries', 'documents', 'api_calls', 'storage_gb']);
// Tiny batches and many counters: a run is a hundred batches or more, so a kill lands inside one.
const bed = new AggregatorBed({ AGGREGATOR_BATCH_SIZE: '10', AGGREGATOR_SCAN_COUNT: '100', AGGREGATOR_APPLY_CONCURRENCY: '2' });
const redis = new Redis(stack.redisUrl);
const store = new RedisUsageCounterStore({ url: stack.redisUrl, namespace: bed.namespace });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterAll(async () => {
  await bed.stop();
  await store.close();
  redis.disconnect();
});

describe('the aggregator killed with SIGKILL at random points of its runs', () => {
  it('loses nothing and counts nothing twice', { timeout: 150_000 }, async () => {
    const date = uniqueDate();
    const expected = new ExpectedTotals();
    let incrementing = true;
    // Another application counting usage straight into Redis, as the key contract allows;
    // each increment counts once Redis has acknowledged it.
    const client = (async () => {
      while (incrementing) {
        const body = Array.from({ length: 100 }, () => ({
          merchantId: `soak-${randomInt(500)}`,
          metricType: [...metricTypes][randomInt(4)],
          amount: 1 + randomInt(1000),
          date,
        }));
        const increments = parseIncrements(body, { metricTypes, now: new Date(), window: ANY_DATE_WINDOW });
        await store.increment(increments, 3600);
        for (const i of increments) expected.add(i.merchantId, i.metricType, i.amount);
        await sleep(5);
      }
    })();

    const pendingAtKill: number[] = [];
    const processes: AggregatorProcess[] = [];
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      // A fresh consumer group per process: the killed member's session never holds the next one up.
      const instance = `${bed.instance}-${cycle}`;
      const service = await bed.start({ AGGREGATOR_INSTANCE: instance });
      processes.push(service);
      let triggering = true;
      const triggers = (async () => {
        while (triggering) {
          await bed.send(aggregationRequested, { date, merchantId: null }, date, { instance });
          await sleep(100);
        }
      })();
      await eventually('a run completed', async () => (service.logged('aggregation completed').length > 0 ? true : undefined), 30_000);
      await sleep(randomInt(600));
      service.child.kill('SIGKILL');
      await service.exited;
      triggering = false;
      await triggers;
      pendingAtKill.push(await redis.scard(`${bed.namespace}:batches:pending`));
    }

    incrementing = false;
    await client;
    const last = await bed.start({ AGGREGATOR_INSTANCE: `${bed.instance}-final` });
    processes.push(last);
    await bed.send(aggregationRequested, { date, merchantId: null }, date, { instance: `${bed.instance}-final` });
    await eventually('the final run', async () => (last.logged('aggregation completed').length > 0 ? true : undefined), 30_000);

    const totals = await bed.totals(date);
    expect(totals.size).toBe(expected.byCounter.size);
    expect(totals).toEqual(expected.byCounter);
    const left: string[] = [];
    for await (const page of store.scanKeys(`usage:*:${date}:*`, 1000)) left.push(...page);
    expect(left).toEqual([]);
    expect(await redis.scard(`${bed.namespace}:batches:pending`)).toBe(0);

    // The kills did land inside runs: batches were left pending, and later runs finished them.
    const recovered = processes
      .flatMap((p) => p.logged('aggregation completed'))
      .reduce((sum, line) => sum + Number(line.recoveredBatches), 0);
    console.log(
      `soak: ${CYCLES} kills, pending batches at each kill ${pendingAtKill.join(',')}, batches recovered ${recovered}, ` +
        `${expected.byCounter.size} counters, total ${expected.sum()}`,
    );
    expect(pendingAtKill.some((n) => n > 0)).toBe(true);
    expect(recovered).toBeGreaterThan(0);
  });
});
