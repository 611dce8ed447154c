// Metering, defined once: its configuration, its topics, and what it is made of. Sends each
// plan's monthly usage from the S3 export to the Clazar metering API (see the README).
import { fileURLToPath } from 'node:url';
import {
  meteringContractFailed,
  meteringContractRequested,
  meteringContractSent,
  meteringMonthCompleted,
  meteringPlanMonthRequested,
  schedulerTick,
} from '@tickflow/contracts';
import { dedupe, defineService, logging } from '@tickflow/messaging';
import {
  ConfigError,
  createS3Client,
  readMigrations,
  ServiceDatabase,
  SideEffectLedger,
  sideEffectLedgerMigration,
} from '@tickflow/runtime';
import { ClazarClient } from './adapters/clazar-client.ts';
import { MeteringRepository } from './adapters/metering-repository.ts';
import { S3UsageExport } from './adapters/usage-export.ts';
import { meteringConfig } from './config.ts';
import { customDimensionsFrom } from './domain/dimensions.ts';
import { contractMonthHandler } from './handlers/contract-month.ts';
import { planMonthHandler } from './handlers/plan-month.ts';
import { schedulerTickHandler } from './handlers/scheduler-tick.ts';
import { meteringApi } from './http-api.ts';
import { MeteringMetrics } from './metrics.ts';
import { meteringTopics, requestsTopic } from './topics.ts';

const migrationsDirectory = fileURLToPath(new URL('../migrations', import.meta.url));

export const service = defineService({
  service: 'metering',
  config: meteringConfig,
  uses: ['postgres', 's3'],
  requiredSecrets: ['METERING_API_TOKEN', 'CLAZAR_CLIENT_SECRET'],
  instance: (config) => config.METERING_INSTANCE,
  topics: (config, instance) => meteringTopics(instance, config.METERING_RETRY_TIERS, config.METERING_PARTITIONS),
  async create({ config, instance, log, registerMetrics, publish }) {
    // Needed to start, not to list the service's topics (`tickflow topics provision`), so checked here.
    // DIMENSION_<name> is a family of variables, read here rather than by the schema.
    const { dimensions, problems } = customDimensionsFrom(process.env);
    if (config.METERING_PLANS.length === 0) problems.unshift('METERING_PLANS: must name at least one plan as service:environment:plan');
    if (dimensions.length === 0 && problems.length === 0) {
      problems.push('DIMENSION_<name>: no dimension is configured; set at least one, e.g. DIMENSION_cpu_core_hours=cpu_core_hours');
    }
    if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
    if (!config.CLAZAR_CLIENT_ID && !config.METERING_DRY_RUN)
      throw new ConfigError('invalid configuration:\n  CLAZAR_CLIENT_ID: must be set (or METERING_DRY_RUN=true)');

    const metrics = new MeteringMetrics();
    registerMetrics(metrics.registry);
    const db = new ServiceDatabase({
      databaseUrl: config.infrastructure.databaseUrl,
      applicationName: 'tickflow-metering',
      schema: config.METERING_DB_SCHEMA,
      migrations: [...readMigrations(migrationsDirectory), sideEffectLedgerMigration],
      poolSize: config.METERING_PARTITIONS + 4,
      onMigrated: (applied) => {
        if (applied.length > 0) log.info('migrations applied', { applied, schema: config.METERING_DB_SCHEMA });
      },
    });
    const repository = new MeteringRepository(db);
    const ledger = new SideEffectLedger({ pool: db.pool, schema: config.METERING_DB_SCHEMA, leaseMs: config.CLAZAR_TIMEOUT * 3 + 10_000 });
    const s3 = createS3Client(config.infrastructure.s3);
    const usageExport = new S3UsageExport(s3, config.METERING_S3_BUCKET);
    const clazar = new ClazarClient({
      baseUrl: config.CLAZAR_API_URL,
      clientId: config.CLAZAR_CLIENT_ID,
      clientSecret: config.CLAZAR_CLIENT_SECRET ?? '',
      timeoutMs: config.CLAZAR_TIMEOUT,
      onCall: ({ route, status, seconds }) => metrics.clazarCalls.observe({ route, status: String(status) }, seconds),
    });
    // PostgreSQL may be down at start: the service still starts, and each handler tries the migrations again first.
    await db.ready().catch((error: unknown) => log.warn('PostgreSQL not ready; migrations will be retried', { error }));
    const requests = requestsTopic(instance);
    const maxAttempts = config.METERING_MAX_RETRIES + 1;
    return {
      routes(router) {
        router
          .use(logging())
          .use(dedupe())
          .route(
            requests,
            schedulerTick,
            schedulerTickHandler({
              plans: config.METERING_PLANS,
              usageExport,
              repository,
              requestsTopic: requests,
              startMonth: config.METERING_START_MONTH,
              maxMonths: config.METERING_MAX_MONTHS_PER_RUN,
              maxRetries: config.METERING_MAX_RETRIES,
            }),
            // Options of the topic, for all three types: a month of files may take minutes to read.
            { maxAttempts, concurrency: config.METERING_PARTITIONS, timeoutMs: 30 * 60_000 },
          )
          .route(
            requests,
            meteringPlanMonthRequested,
            planMonthHandler({
              plans: config.METERING_PLANS,
              usageExport,
              repository,
              dimensions,
              requestsTopic: requests,
              cloud: config.CLAZAR_CLOUD,
              truncateEachRecord: config.METERING_TRUNCATE_EACH_RECORD,
              dryRun: config.METERING_DRY_RUN,
              // Measured on a month of 744 files: 4 at once read as fast as 8 with 60 MB less peak RSS.
              readConcurrency: 4,
              metrics,
            }),
          )
          .route(requests, meteringContractRequested, contractMonthHandler({ repository, ledger, clazar, maxAttempts, metrics }))
          .emits(meteringContractSent, meteringContractFailed, meteringMonthCompleted);
      },
      http: meteringApi({
        plans: config.METERING_PLANS,
        repository,
        dryRun: config.METERING_DRY_RUN,
        publish: (contractId, payload, id) => publish(requests, meteringContractRequested, payload, { key: contractId, id }),
        apiToken: config.METERING_API_TOKEN,
      }),
      readiness: async () => ({
        postgres: await db.check().then(
          () => true,
          () => 'unreachable',
        ),
      }),
      async stop() {
        s3.destroy();
        await db.close().catch(() => undefined);
      },
    };
  },
});
