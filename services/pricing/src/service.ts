// Pricing, defined once: its configuration, its topics, and what it is made of. Syncs the
// public AWS EC2 price list and Azure's retail VM prices into a catalogue in PostgreSQL and announces what changed (see the README).
import { fileURLToPath } from 'node:url';
import {
  pricingPriceChanged,
  pricingRegionSyncRequested,
  pricingSyncCompleted,
  pricingWebhookDelivery,
  schedulerTick,
} from '@tickflow/contracts';
import { dedupe, defineService, logging } from '@tickflow/messaging';
import { readMigrations, ServiceDatabase, SideEffectLedger, sideEffectLedgerMigration } from '@tickflow/runtime';
import { AwsPriceList } from './adapters/aws-price-list.ts';
import { AwsPricingApi } from './adapters/aws-pricing-api.ts';
import { AzureRetailPrices } from './adapters/azure-retail-prices.ts';
import { CatalogueRepository } from './adapters/catalogue-repository.ts';
import { WebhookRepository } from './adapters/webhook-repository.ts';
import { WebhookSender } from './adapters/webhook-sender.ts';
import { pricingConfig } from './config.ts';
import { regionSyncHandler } from './handlers/region-sync.ts';
import { schedulerTickHandler } from './handlers/scheduler-tick.ts';
import { webhookDeliveryHandler } from './handlers/webhook-delivery.ts';
import { pricingApi } from './http-api.ts';
import { PricingMetrics } from './metrics.ts';
import { pricingTopics, requestsTopic } from './topics.ts';

const migrationsDirectory = fileURLToPath(new URL('../migrations', import.meta.url));

export const service = defineService({
  service: 'pricing',
  config: pricingConfig,
  uses: ['postgres'],
  requiredSecrets: ['PRICING_API_TOKEN'],
  instance: (config) => config.PRICING_INSTANCE,
  topics: (config, instance) => pricingTopics(instance, config.PRICING_RETRY_TIERS, config.PRICING_PARTITIONS),
  async create({ config, instance, log, registerMetrics }) {
    const metrics = new PricingMetrics();
    registerMetrics(metrics.registry);
    const db = new ServiceDatabase({
      databaseUrl: config.infrastructure.databaseUrl,
      applicationName: 'tickflow-pricing',
      schema: config.PRICING_DB_SCHEMA,
      migrations: [...readMigrations(migrationsDirectory), sideEffectLedgerMigration],
      // Per region syncing: two staging writes in flight and the switch.
      poolSize: config.PRICING_PARTITIONS * 3 + 4,
      onMigrated: (applied) => {
        if (applied.length > 0) log.info('migrations applied', { applied, schema: config.PRICING_DB_SCHEMA });
      },
    });
    const repository = new CatalogueRepository(db);
    const webhooks = new WebhookRepository(db);
    const sender = new WebhookSender({
      timeoutMs: config.PRICING_WEBHOOK_TIMEOUT,
      allowPrivate: config.PRICING_WEBHOOK_ALLOW_PRIVATE,
      onDelivery: ({ status }) => metrics.webhookDeliveries.inc({ status: String(status) }),
    });
    const ledger = new SideEffectLedger({
      pool: db.pool,
      schema: config.PRICING_DB_SCHEMA,
      leaseMs: config.PRICING_WEBHOOK_TIMEOUT * 3 + 10_000,
    });
    const priceList = new AwsPriceList({
      baseUrl: config.PRICING_AWS_BASE_URL,
      timeoutMs: config.PRICING_FETCH_TIMEOUT,
      onCall: ({ route, status, seconds }) => metrics.priceListCalls.observe({ route, status: String(status) }, seconds),
      onBytes: (bytes) => metrics.bytesRead.inc(bytes),
    });
    const azure = new AzureRetailPrices({
      baseUrl: config.PRICING_AZURE_BASE_URL,
      timeoutMs: config.PRICING_FETCH_TIMEOUT,
      onCall: ({ route, status, seconds }) => metrics.priceListCalls.observe({ route, status: String(status) }, seconds),
      onBytes: (bytes) => metrics.bytesRead.inc(bytes),
    });
    const queryApi =
      config.PRICING_AWS_SOURCE === 'query-api'
        ? new AwsPricingApi({
            endpoint: config.PRICING_AWS_API_ENDPOINT || undefined,
            apiRegion: config.PRICING_AWS_API_REGION,
            timeoutMs: config.PRICING_FETCH_TIMEOUT,
            onCall: ({ route, status, seconds }) => metrics.priceListCalls.observe({ route, status: String(status) }, seconds),
            onBytes: (bytes) => metrics.bytesRead.inc(bytes),
          })
        : null;
    // PostgreSQL may be down at start: the service still starts, and each handler tries the migrations again first.
    await db.ready().catch((error: unknown) => log.warn('PostgreSQL not ready; migrations will be retried', { error }));
    const requests = requestsTopic(instance);
    return {
      routes(router) {
        router
          .use(logging())
          .use(dedupe())
          .route(
            requests,
            schedulerTick,
            schedulerTickHandler({
              priceList,
              queryApi,
              azure,
              regions: config.PRICING_AWS_REGIONS,
              azureRegions: config.PRICING_AZURE_REGIONS,
              requestsTopic: requests,
            }),
            // Options of the topic, for both types: a region's file may take minutes to stream.
            { concurrency: config.PRICING_PARTITIONS, timeoutMs: 30 * 60_000 },
          )
          .route(
            requests,
            pricingRegionSyncRequested,
            regionSyncHandler({
              priceList,
              queryApi,
              azure,
              repository,
              metrics,
              batchRows: config.PRICING_BATCH_ROWS,
              webhooks,
              requestsTopic: requests,
            }),
          )
          .route(requests, pricingWebhookDelivery, webhookDeliveryHandler({ webhooks, sender, ledger }))
          .emits(pricingPriceChanged, pricingSyncCompleted);
      },
      http: pricingApi({ repository, webhooks, sender, apiToken: config.PRICING_API_TOKEN }),
      readiness: async () => ({
        postgres: await db.check().then(
          () => true,
          () => 'unreachable',
        ),
      }),
      async stop() {
        await db.close().catch(() => undefined);
      },
    };
  },
});
