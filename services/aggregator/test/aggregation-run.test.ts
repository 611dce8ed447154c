// The aggregation run against the real Redis and PostgreSQL, in this process: what it moves,
// what it skips, and that batches interrupted at each point of the protocol are finished
// exactly once.
import { fileURLToPath } from 'node:url';
import { readMigrations } from '@tickflow/runtime';
import { stack, uniqueName } from '@tickflow/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisUsageCounterStore } from '../src/adapters/usage-counter-store.ts';
import { PostgresUsageRepository } from '../src/adapters/usage-repository.ts';
import { AggregationRunFailedError, AggregationRunner, type AggregationRunnerOptions } from '../src/aggregation-run.ts';
import { planUpsert, readPendingBatch } from '../src/domain/batch-plan.ts';
import { parseIncrements, type UsageIncrement } from '../src/domain/usage-increments.ts';
import { ANY_DATE_WINDOW, db, deleteKeys, ExpectedTotals, sumOf, uniqueDate } from './aggregator-bed.ts';

const metricTypes = new Set(['queries', 'documents', 'api_calls', 'storage_gb']);
const migrations = readMigrations(fileURLToPath(new URL('../migrations', import.meta.url)));
const namespace = uniqueName('agg-run');
const schema = namespace.replaceAll('-', '_');
const redis = new Redis(stack.redisUrl);
const stores: RedisUsageCounterStore[] = [];
const repositories: PostgresUsageRepository[] = [];

function runner(options: Partial<AggregationRunnerOptions> = {}) {
  const store = new RedisUsageCounterStore({ url: stack.redisUrl, namespace });
  const repository = new PostgresUsageRepository({ databaseUrl: stack.databaseUrl, schema, migrations });
  stores.push(store);
  repositories.push(repository);
  const aggregation = new AggregationRunner(store, repository, {
    metricTypes,
    batchSize: 7,
    scanCount: 100,
    applyConcurrency: 2,
    reportedErrorLimit: 100,
    batchIdRetentionMs: 86_400_000,
    ...options,
  });
  return { store, repository, aggregation };
}

const main = runner();

function increments(date: string, merchants: string[], amount: (i: number) => number = (i) => i + 1): UsageIncrement[] {
  return parseIncrements(
    merchants.flatMap((merchantId, i) => [...metricTypes].map((metricType) => ({ merchantId, metricType, date, amount: amount(i) }))),
    { metricTypes, now: new Date(), window: ANY_DATE_WINDOW },
  );
}

async function totals(date: string): Promise<Map<string, bigint>> {
  const result = await db.query<{ merchant_id: string; metric_type: string; metric_value: string }>(
    `SELECT merchant_id, metric_type, metric_value::text FROM "${schema}".merchant_usage WHERE date = $1`,
    [date],
  );
  return new Map(result.rows.map((r) => [`${r.merchant_id}:${r.metric_type}`, BigInt(r.metric_value)]));
}

async function keysOf(date: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of main.store.scanKeys(`usage:*:${date}:*`, 1000)) keys.push(...page);
  return keys.sort();
}

beforeAll(async () => {
  await main.repository.ready();
});

const datesUsed: string[] = [];
function testDate(): string {
  const date = uniqueDate();
  datesUsed.push(date);
  return date;
}

afterAll(async () => {
  for (const date of datesUsed) await deleteKeys(stack.redisUrl, `usage:*:${date}:*`);
  await deleteKeys(stack.redisUrl, `${namespace}:*`);
  await Promise.all([...stores.map((s) => s.close()), ...repositories.map((r) => r.close())]);
  await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  redis.disconnect();
});

describe('an aggregation run', () => {
  it('moves every counter of its date into merchant_usage, leaves other dates alone, and adds what later runs find', async () => {
    const [date, other] = [testDate(), testDate()];
    const merchants = Array.from({ length: 10 }, (_, i) => `m${i}`);
    await main.store.increment(increments(date, merchants), 3600);
    await main.store.increment(increments(other, merchants), 3600);

    const first = await main.aggregation.run({ date, merchantId: null });
    expect(first).toMatchObject({ date, keysRead: 40, rowsWritten: 40, errorCount: 0, recoveredBatches: 0 });
    expect((await totals(date)).get('m3:queries')).toBe(4n);
    expect(sumOf(await totals(date))).toBe(4n * 55n);
    expect(await keysOf(date)).toEqual([]);
    expect(await keysOf(other)).toHaveLength(40);

    await main.store.increment(increments(date, ['m3']), 3600);
    const second = await main.aggregation.run({ date, merchantId: null });
    expect(second).toMatchObject({ keysRead: 4, rowsWritten: 4 });
    expect((await totals(date)).get('m3:queries')).toBe(5n);

    const empty = await main.aggregation.run({ date, merchantId: null });
    expect(empty).toMatchObject({ keysRead: 0, rowsWritten: 0 });
    expect(sumOf(await totals(date))).toBe(4n * 55n + 4n);
  });

  it('skips malformed keys and values that are not counters, counts and lists them, and moves the rest', async () => {
    const date = testDate();
    await main.store.increment(increments(date, ['good1', 'good2']), 3600);
    await redis.set(`usage:bad:${date}:tokens`, '5');
    await redis.set(`usage:bad:extra:${date}:queries`, '5');
    await redis.set(`usage:text:${date}:queries`, 'twelve');
    await redis.set(`usage:neg:${date}:queries`, '-3');
    await redis.hset(`usage:hash:${date}:queries`, 'a', '1');

    const report = await main.aggregation.run({ date, merchantId: null });
    expect(report.keysRead).toBe(8);
    expect(report.errorCount).toBe(5);
    expect(Object.fromEntries(report.errors.map((e) => [e.key, e.reason]))).toEqual({
      [`usage:bad:${date}:tokens`]: 'unknown metric type tokens',
      [`usage:bad:extra:${date}:queries`]: 'not usage:{merchantId}:{date}:{metricType}',
      [`usage:text:${date}:queries`]: 'value is not a non-negative integer below 10^18',
      [`usage:neg:${date}:queries`]: 'value is not a non-negative integer below 10^18',
      [`usage:hash:${date}:queries`]: 'not a string counter',
    });
    expect(sumOf(await totals(date))).toBe(4n * 3n);
    // Skipped keys stay where they are, for an operator to see and fix.
    expect(await keysOf(date)).toHaveLength(5);
    await redis.del(...(await keysOf(date)));
  });

  it("moves only one merchant's counters in a merchant run, glob characters in its id included", async () => {
    const date = testDate();
    await main.store.increment(increments(date, ['a?c', 'abc', 'a[b]c']), 3600);
    const report = await main.aggregation.run({ date, merchantId: 'a?c' });
    expect(report.keysRead).toBe(4);
    expect([...(await totals(date)).keys()].every((k) => k.startsWith('a?c:'))).toBe(true);
    expect(await keysOf(date)).toHaveLength(8);
    await main.aggregation.run({ date, merchantId: 'a[b]c' });
    expect(await keysOf(date)).toHaveLength(4);
    await main.aggregation.run({ date, merchantId: null });
  });

  it('finishes a batch left pending by a crash between the move and the PostgreSQL commit', async () => {
    const date = testDate();
    const moved = increments(date, ['crash1', 'crash2']);
    await main.store.increment(moved, 3600);
    // The crash point: the move script ran, PostgreSQL never heard of the batch.
    const reply = await main.store.moveToPendingBatch(
      'batch-crashed-before-commit',
      moved.map((i) => i.key),
    );
    expect(reply).toEqual(moved.map((i) => String(i.amount)));
    expect(await keysOf(date)).toEqual([]);
    expect(await main.store.pendingBatchIds()).toContain('batch-crashed-before-commit');

    const report = await main.aggregation.run({ date, merchantId: null });
    expect(report).toMatchObject({ keysRead: 0, recoveredBatches: 1, rowsWritten: 8 });
    expect(sumOf(await totals(date))).toBe(4n * 3n);
    expect(await main.store.pendingBatchIds()).not.toContain('batch-crashed-before-commit');
    expect(await main.store.readPendingBatch('batch-crashed-before-commit')).toEqual([]);
  });

  it('does not count twice a batch committed before a crash that left its pending hash behind', async () => {
    const date = testDate();
    const moved = increments(date, ['crash3']);
    await main.store.increment(moved, 3600);
    await main.store.moveToPendingBatch(
      'batch-crashed-after-commit',
      moved.map((i) => i.key),
    );
    const entries = await main.store.readPendingBatch('batch-crashed-after-commit');
    // The crash point: committed in PostgreSQL, the pending hash not deleted yet.
    expect(await main.repository.applyBatch('batch-crashed-after-commit', planUpsert(readPendingBatch(entries).deltas))).toEqual({
      applied: true,
      rowsWritten: 4,
    });

    const report = await main.aggregation.run({ date, merchantId: null });
    expect(report).toMatchObject({ recoveredBatches: 0, rowsWritten: 0 });
    expect(sumOf(await totals(date))).toBe(4n);
    expect(await main.store.pendingBatchIds()).not.toContain('batch-crashed-after-commit');
    // Applying the same batch id again, as a replica finishing it at the same moment would: nothing changes.
    expect(await main.repository.applyBatch('batch-crashed-after-commit', planUpsert(readPendingBatch(entries).deltas))).toEqual({
      applied: false,
      rowsWritten: 0,
    });
    expect(sumOf(await totals(date))).toBe(4n);
  });

  it('counts everything exactly once with two runners on the same date while increments go on', async () => {
    const date = testDate();
    const [one, two] = [runner({ batchSize: 5 }), runner({ batchSize: 3 })];
    const expected = new ExpectedTotals();
    let incrementing = true;
    const incrementer = (async () => {
      for (let round = 0; incrementing || round < 20; round++) {
        const batch = increments(date, [`c${round % 13}`, `c${(round * 7) % 13}`], () => 1 + (round % 9));
        await main.store.increment(batch, 3600);
        for (const i of batch) expected.add(i.merchantId, i.metricType, i.amount);
      }
    })();
    const loop = async (r: ReturnType<typeof runner>) => {
      let runs = 0;
      while (incrementing) {
        await r.aggregation.run({ date, merchantId: null });
        runs += 1;
      }
      return runs;
    };
    const runs = Promise.all([loop(one), loop(two)]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    incrementing = false;
    await incrementer;
    expect(Math.min(...(await runs))).toBeGreaterThan(1);
    await one.aggregation.run({ date, merchantId: null });
    expect(await totals(date)).toEqual(expected.byCounter);
  });

  it('fails as a whole, moving nothing, while PostgreSQL cannot be reached', async () => {
    const date = testDate();
    const store = new RedisUsageCounterStore({ url: stack.redisUrl, namespace });
    const unreachable = new PostgresUsageRepository({
      databaseUrl: 'postgres://tickflow:tickflow@127.0.0.1:1/tickflow',
      schema,
      migrations,
    });
    stores.push(store);
    repositories.push(unreachable);
    await store.increment(increments(date, ['down']), 3600);
    const failing = new AggregationRunner(store, unreachable, {
      metricTypes,
      batchSize: 10,
      scanCount: 100,
      applyConcurrency: 1,
      reportedErrorLimit: 10,
      batchIdRetentionMs: 1,
    });
    const failure = await failing.run({ date, merchantId: null }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AggregationRunFailedError);
    expect((failure as AggregationRunFailedError).message).toMatch(/PostgreSQL: migrations not applied/);
    expect((failure as AggregationRunFailedError).report).toMatchObject({ keysRead: 0 });
    expect(await keysOf(date)).toHaveLength(4);
    await main.aggregation.run({ date, merchantId: null });
  });
});
