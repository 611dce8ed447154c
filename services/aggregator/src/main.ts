// The aggregator: moves Redis usage counters into PostgreSQL. Wiring only.
import { fileURLToPath } from 'node:url';
import {
  aggregationCompleted,
  aggregationFailed,
  aggregationRequested,
  backfillRequested,
  EventCodec,
  schedulerTick,
} from '@tickflow/contracts';
import { dedupe, KafkaJsTransport, logging, runService } from '@tickflow/messaging';
import type { Logger, ServiceConfig } from '@tickflow/runtime';
import { KafkaAggregationRequestPublisher } from './adapters/aggregation-request-publisher.ts';
import { readMigrations } from './adapters/migrations.ts';
import { RedisUsageCounterStore } from './adapters/usage-counter-store.ts';
import { PostgresUsageRepository } from './adapters/usage-repository.ts';
import { AggregationRunner } from './aggregation-run.ts';
import { type AggregatorConfig, aggregatorConfig } from './config.ts';
import { aggregateHandler } from './handlers/aggregate.ts';
import { backfillHandler } from './handlers/backfill.ts';
import { schedulerTickHandler } from './handlers/scheduler-tick.ts';
import { aggregatorApi } from './http-api.ts';
import { KeyTtlWatch } from './key-ttl-watch.ts';
import { AggregatorMetrics } from './metrics.ts';
import { aggregatorTopics } from './topics.ts';

// Read before the configuration is validated, because the host needs it to name topics; the
// schema still checks it, so a bad value stops the start.
const instance = process.env.AGGREGATOR_INSTANCE?.trim() || 'aggregator';
const topics = aggregatorTopics(instance);
const migrationsDirectory = fileURLToPath(new URL('../migrations', import.meta.url));
const DAY_MS = 86_400_000;

function wire(config: ServiceConfig & AggregatorConfig, log: Logger) {
  const metrics = new AggregatorMetrics();
  const store = new RedisUsageCounterStore({
    url: config.infrastructure.redisUrl,
    namespace: config.AGGREGATOR_REDIS_NAMESPACE,
    onConnectionChange: (up, error) => (up ? log.info('Redis reachable again') : log.warn('Redis unreachable; reconnecting', { error })),
  });
  const repository = new PostgresUsageRepository({
    databaseUrl: config.infrastructure.databaseUrl,
    schema: config.AGGREGATOR_DB_SCHEMA,
    migrations: readMigrations(migrationsDirectory),
    // Three runs at once, each writing AGGREGATOR_APPLY_CONCURRENCY batches, plus status queries.
    poolSize: 3 * config.AGGREGATOR_APPLY_CONCURRENCY + 2,
    onMigrated: (applied) => {
      if (applied.length > 0) log.info('migrations applied', { applied, schema: config.AGGREGATOR_DB_SCHEMA });
    },
  });
  const runner = new AggregationRunner(store, repository, {
    metricTypes: config.AGGREGATOR_METRIC_TYPES,
    batchSize: config.AGGREGATOR_BATCH_SIZE,
    scanCount: config.AGGREGATOR_SCAN_COUNT,
    applyConcurrency: config.AGGREGATOR_APPLY_CONCURRENCY,
    reportedErrorLimit: 100,
    batchIdRetentionMs: 30 * DAY_MS,
  });
  const publisher = new KafkaAggregationRequestPublisher({
    transport: new KafkaJsTransport({ clientId: `${instance}-fan-out`, brokers: config.infrastructure.kafkaBrokers }),
    codec: new EventCodec({ registryUrl: config.infrastructure.schemaRegistryUrl }),
    topic: topics.requests,
    source: `tickflow/${instance}`,
  });
  const ttlWatch = new KeyTtlWatch(store, metrics, {
    intervalMs: config.AGGREGATOR_TTL_WATCH_INTERVAL,
    nearTtlMs: config.AGGREGATOR_TTL_WARNING,
    scanCount: config.AGGREGATOR_SCAN_COUNT,
    onError: (error) => log.warn('usage key TTL survey failed', { error }),
  });
  return { metrics, store, repository, runner, publisher, ttlWatch };
}

// setup and routes receive the same configuration; the objects they share are built once.
let wired: ReturnType<typeof wire> | undefined;
const aggregator = (config: ServiceConfig & AggregatorConfig, log: Logger) => {
  wired ??= wire(config, log);
  return wired;
};

await runService({
  service: 'aggregator',
  instance,
  config: aggregatorConfig,
  async setup(router, { config, log, registerMetrics }) {
    const { repository, publisher, runner, metrics, ttlWatch } = aggregator(config, log);
    registerMetrics(metrics.registry);
    // PostgreSQL may be down at start: the service still starts, and each run tries the
    // migrations again before touching anything (and fails, to be retried, until they pass).
    await repository
      .ready()
      .catch((error: unknown) => log.warn('PostgreSQL not ready; migrations will be retried before each run', { error }));
    await publisher.start();
    const { requests } = topics;
    router
      .use(logging())
      .use(dedupe())
      .route(requests, schedulerTick, schedulerTickHandler(publisher), {
        retry: config.AGGREGATOR_RETRY_TIERS,
        concurrency: 3,
        timeoutMs: config.AGGREGATOR_RUN_TIMEOUT,
      })
      .route(requests, backfillRequested, backfillHandler(publisher, config.AGGREGATOR_MAX_BACKFILL_DAYS))
      .route(requests, aggregationRequested, aggregateHandler({ runner, recordRun: (run) => repository.recordRun(run), metrics }))
      .emits(aggregationCompleted, aggregationFailed);
    ttlWatch.start();
  },
  routes(app, { config, log }) {
    const { store, repository, metrics } = aggregator(config, log);
    aggregatorApi({
      store,
      repository,
      metricTypes: config.AGGREGATOR_METRIC_TYPES,
      keyTtlSeconds: Math.max(1, Math.ceil(config.AGGREGATOR_KEY_TTL / 1000)),
      status: { scanCount: config.AGGREGATOR_SCAN_COUNT, nearTtlMs: config.AGGREGATOR_TTL_WARNING, listLimit: 20 },
      onIncrements: (count) => metrics.incrementsAccepted.inc(count),
      apiToken: config.AGGREGATOR_API_TOKEN,
    })(app);
  },
  async readiness(): Promise<Record<string, boolean | string>> {
    if (!wired) return { aggregator: 'not set up yet' };
    return {
      postgres: await wired.repository.ready().then(
        () => true,
        () => 'unreachable',
      ),
    };
  },
  async onStop() {
    wired?.ttlWatch.stop();
    await Promise.allSettled([wired?.publisher.close(), wired?.store.close(), wired?.repository.close()]);
  },
});
