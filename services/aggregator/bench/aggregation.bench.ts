// npm run bench -w services/aggregator
//
// End to end through the real aggregator process: 1,000,000 counters over 10,000 merchants
// are loaded into Redis, one aggregation request goes onto the requests topic, and the clock
// stops when its aggregation-completed event is read back; PostgreSQL must then hold every
// unit loaded. Beside it, in the same run, the seed's own approach (SCAN, a GET per key, an
// upsert per key) on a smaller set; the ratio of the two rates is the figure to keep.
//
// Redis is a throwaway redis-server of the benchmark's own (no persistence), so that a
// million keys never land in the stack's shared Redis; BENCH_REDIS_URL points at another.
// Sizes: BENCH_KEYS (1,000,000), BENCH_MERCHANTS (10,000), BENCH_SEED_KEYS (20,000).
import { randomInt } from 'node:crypto';
import { aggregationRequested } from '@tickflow/contracts';
import { eventually } from '@tickflow/testing';
import { Redis } from 'ioredis';
import pg from 'pg';
import { DEFAULT_METRIC_TYPES } from '../src/config.ts';
import { AggregatorBed, db, type ReadEvent, ThrowawayRedis, uniqueDate } from '../test/aggregator-bed.ts';

const KEYS = Number(process.env.BENCH_KEYS ?? 1_000_000);
const MERCHANTS = Number(process.env.BENCH_MERCHANTS ?? 10_000);
const SEED_KEYS = Number(process.env.BENCH_SEED_KEYS ?? 20_000);
const TTL_SECONDS = 7 * 86_400;

// 100 counters per merchant on one date: the four default metric types and 96 more.
const perMerchant = Math.ceil(KEYS / MERCHANTS);
const metricTypes = [
  ...DEFAULT_METRIC_TYPES.split(','),
  ...Array.from({ length: Math.max(0, perMerchant - 4) }, (_, i) => `metric_${i + 4}`),
];

/** INCRBY + EXPIRE for each counter, in pipelines of 20,000 commands; returns the units loaded. */
async function load(redis: Redis, date: string, keys: number, merchants: number, merchantPrefix: string): Promise<bigint> {
  let units = 0n;
  let pipeline = redis.pipeline();
  for (let i = 0; i < keys; i++) {
    const amount = 1 + randomInt(1000);
    units += BigInt(amount);
    const key = `usage:${merchantPrefix}${i % merchants}:${date}:${metricTypes[Math.floor(i / merchants) % metricTypes.length]}`;
    pipeline.incrby(key, amount).expire(key, TTL_SECONDS);
    if (pipeline.length >= 20_000) {
      await pipeline.exec();
      pipeline = redis.pipeline();
    }
  }
  await pipeline.exec();
  return units;
}

async function storedUnits(schema: string, date: string): Promise<{ rows: number; units: bigint }> {
  const result = await db.query<{ rows: number; units: string | null }>(
    `SELECT count(*)::int AS rows, sum(metric_value)::text AS units FROM "${schema}".merchant_usage WHERE date = $1`,
    [date],
  );
  return { rows: result.rows[0]?.rows ?? 0, units: BigInt(result.rows[0]?.units ?? 0) };
}

/** The seed's UsageAggregationJob: SCAN in batches of 100, then for each key a GET and an upsert of its own. */
async function seedApproach(redis: Redis, schema: string, date: string): Promise<number> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL ?? 'postgres://tickflow:tickflow@127.0.0.1:5432/tickflow' });
  await client.connect();
  const started = performance.now();
  let cursor = '0';
  let moved = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `usage:*:${date}:*`, 'COUNT', 100);
    cursor = next;
    for (const key of keys) {
      const value = await redis.get(key);
      if (value === null) continue;
      const [, merchantId, keyDate, metricType] = key.split(':');
      await client.query(
        `INSERT INTO "${schema}".merchant_usage (merchant_id, date, metric_type, metric_value, updated_at) VALUES ($1, $2, $3, $4, now())
         ON CONFLICT (merchant_id, date, metric_type) DO UPDATE SET metric_value = EXCLUDED.metric_value, updated_at = now()`,
        [merchantId, keyDate, metricType, value],
      );
      moved += 1;
    }
  } while (cursor !== '0');
  const seconds = (performance.now() - started) / 1000;
  await client.end();
  return moved / seconds;
}

async function main(): Promise<void> {
  const throwaway = process.env.BENCH_REDIS_URL ? undefined : await ThrowawayRedis.start();
  const redisUrl = process.env.BENCH_REDIS_URL ?? (throwaway as ThrowawayRedis).url;
  const redis = new Redis(redisUrl);
  const bed = new AggregatorBed({ REDIS_URL: redisUrl, AGGREGATOR_METRIC_TYPES: metricTypes.join(',') });
  try {
    const date = uniqueDate();
    const seedDate = uniqueDate();
    console.log(
      `loading ${KEYS.toLocaleString('en')} counters (${MERCHANTS.toLocaleString('en')} merchants x ${metricTypes.length} metric types) into ${redisUrl}…`,
    );
    const loadStarted = performance.now();
    const units = await load(redis, date, KEYS, MERCHANTS, 'bench-m');
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    console.log(`  loaded in ${loadSeconds.toFixed(1)} s (${Math.round(KEYS / loadSeconds).toLocaleString('en')} keys/s)`);

    const service = await bed.start();
    const events: ReadEvent[] = await bed.read(`${bed.instance}.events`);
    // Ready: the consumer has its partitions, so the clock measures the work, not the group join.
    await eventually(
      'the aggregator ready',
      async () => ((await fetch(`${service.url}/readyz`)).status === 200 ? true : undefined),
      30_000,
    );

    const started = performance.now();
    await bed.send(aggregationRequested, { date, merchantId: null }, date);
    const completed = await eventually(
      'the aggregation-completed event',
      async () => events.find((e) => e.type === 'tickflow.aggregator.aggregation-completed' && e.key === date),
      300_000,
    );
    const seconds = (performance.now() - started) / 1000;
    const stored = await storedUnits(bed.schema, date);
    if (stored.rows !== KEYS || stored.units !== units) {
      throw new Error(`PostgreSQL holds ${stored.rows} rows and ${stored.units} units; loaded ${KEYS} counters and ${units} units`);
    }
    const rate = KEYS / seconds;

    console.log(`seed's approach on ${SEED_KEYS.toLocaleString('en')} counters…`);
    await load(redis, seedDate, SEED_KEYS, Math.min(MERCHANTS, SEED_KEYS), 'seed-m');
    const seedRate = await seedApproach(redis, bed.schema, seedDate);

    const runMs = Number(completed.payload.durationMs);
    console.log('');
    console.log(
      `  aggregator, end to end (request produced -> completed event read): ${KEYS.toLocaleString('en')} keys in ${seconds.toFixed(1)} s = ${Math.round(rate).toLocaleString('en')} keys/s`,
    );
    console.log(
      `    the run itself (its durationMs): ${(runMs / 1000).toFixed(1)} s = ${Math.round(KEYS / (runMs / 1000)).toLocaleString('en')} keys/s`,
    );
    console.log(`    PostgreSQL: ${stored.rows.toLocaleString('en')} rows, ${stored.units} units = every unit loaded`);
    // A run longer than the consumer's session (10 s) without a heartbeat gets the member
    // evicted and the request handled again once it rejoins: harmless, and worth seeing.
    const runs = service.logged('aggregation completed').filter((line) => line.date === date).length;
    console.log(
      `    runs of the request: ${runs}${runs > 1 ? ' (redelivered after the consumer lost its session; the later runs found nothing left)' : ''}`,
    );
    console.log(`  seed's approach (GET per key, an upsert per key): ${Math.round(seedRate).toLocaleString('en')} keys/s`);
    console.log(`  ratio: ${(rate / seedRate).toFixed(1)}x`);
    console.log(`  goal: 1,000,000 keys in under 20 s — ${seconds < 20 && KEYS >= 1_000_000 ? 'met' : 'not met'}`);
  } finally {
    await bed.stop();
    redis.disconnect();
    await throwaway?.kill();
    await db.end();
  }
}

await main();
