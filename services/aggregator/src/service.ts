// The aggregator, defined once: its configuration, its topics, and what it is made of. Moves
// Redis usage counters into PostgreSQL (see aggregation-run.ts and the README).
import { fileURLToPath } from 'node:url';
import { aggregationCompleted, aggregationFailed, aggregationRequested, backfillRequested, schedulerTick } from '@tickflow/contracts';
import { dedupe, defineService, logging } from '@tickflow/messaging';
import { readMigrations } from '@tickflow/runtime';
import { RedisUsageCounterStore } from './adapters/usage-counter-store.ts';
import { PostgresUsageRepository } from './adapters/usage-repository.ts';
import { AggregationRunner } from './aggregation-run.ts';
import { aggregatorConfig } from './config.ts';
import { aggregateHandler } from './handlers/aggregate.ts';
import { backfillHandler } from './handlers/backfill.ts';
import { schedulerTickHandler } from './handlers/scheduler-tick.ts';
import { aggregatorApi } from './http-api.ts';
import { AggregatorMetrics } from './metrics.ts';
import { aggregatorTopics, requestsTopic } from './topics.ts';
import { UsageSurveyor } from './usage-surveyor.ts';

const migrationsDirectory = fileURLToPath(new URL('../migrations', import.meta.url));
const DAY_MS = 86_400_000;

export const service = defineService({
  service: 'aggregator',
  config: aggregatorConfig,
  uses: ['postgres', 'redis'],
  requiredSecrets: ['AGGREGATOR_API_TOKEN'],
  instance: (config) => config.AGGREGATOR_INSTANCE,
  topics: (config, instance) => aggregatorTopics(instance, config.AGGREGATOR_RETRY_TIERS),
  async create({ config, instance, log, registerMetrics }) {
    const metrics = new AggregatorMetrics();
    registerMetrics(metrics.registry);
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
    const surveyor = new UsageSurveyor(store, {
      metricTypes: config.AGGREGATOR_METRIC_TYPES,
      nearTtlMs: config.AGGREGATOR_TTL_WARNING,
      listLimit: 20,
      scanCount: config.AGGREGATOR_SCAN_COUNT,
      onSurvey: (survey) => metrics.surveyed(survey.totals, survey.pendingBatches),
    });
    // PostgreSQL may be down at start: the service still starts, and each run tries the
    // migrations again before touching anything (and fails, to be retried, until they pass).
    await repository
      .ready()
      .catch((error: unknown) => log.warn('PostgreSQL not ready; migrations will be retried before each run', { error }));
    const requests = requestsTopic(instance);
    return {
      routes(router) {
        router
          .use(logging())
          .use(dedupe())
          .route(requests, schedulerTick, schedulerTickHandler(requests), { concurrency: 3, timeoutMs: config.AGGREGATOR_RUN_TIMEOUT })
          .route(requests, backfillRequested, backfillHandler(requests, config.AGGREGATOR_MAX_BACKFILL_DAYS))
          .route(requests, aggregationRequested, aggregateHandler({ runner, recordRun: (run) => repository.recordRun(run), metrics }))
          .emits(aggregationCompleted, aggregationFailed);
      },
      http: aggregatorApi({
        store,
        repository,
        metricTypes: config.AGGREGATOR_METRIC_TYPES,
        keyTtlSeconds: Math.max(1, Math.ceil(config.AGGREGATOR_KEY_TTL / 1000)),
        usageWindow: { maxAgeMs: config.AGGREGATOR_USAGE_MAX_AGE, maxFutureMs: config.AGGREGATOR_USAGE_MAX_FUTURE },
        surveyor,
        statusMaxAgeMs: config.AGGREGATOR_STATUS_MAX_AGE,
        nearTtlMs: config.AGGREGATOR_TTL_WARNING,
        onIncrements: (count) => metrics.incrementsAccepted.inc(count),
        apiToken: config.AGGREGATOR_API_TOKEN,
      }),
      readiness: async () => ({
        postgres: await repository.check().then(
          () => true,
          () => 'unreachable',
        ),
      }),
      start: async () => surveyor.start(config.AGGREGATOR_TTL_WATCH_INTERVAL, (error) => log.warn('usage key survey failed', { error })),
      async stop() {
        surveyor.stop();
        await Promise.allSettled([store.close(), repository.close()]);
      },
    };
  },
});
