// What every service's main.ts does, in one place: configuration, telemetry, logging,
// metrics, the HTTP server, the router, and a bounded shutdown on SIGTERM. A service
// only declares its routes.
import { EventCodec } from '@tickflow/contracts';
import {
  ConfigError,
  createLogger,
  createMessagingMetrics,
  type Logger,
  loadServiceConfig,
  type MessagingMetrics,
  type ServiceConfig,
  type ServiceName,
  startHttpServer,
  startTelemetry,
} from '@tickflow/runtime';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import type { z } from 'zod';
import { KafkaJsTransport } from './kafkajs-transport.ts';
import { type OutcomeObserver, Router } from './router.ts';

export interface ServiceContext<X extends z.ZodObject> {
  config: ServiceConfig & z.infer<X>;
  log: Logger;
  /** Serves the service's own metrics on /metrics beside the messaging metrics. */
  registerMetrics(registry: Registry): void;
}

export interface ServiceDefinition<X extends z.ZodObject> {
  service: ServiceName;
  /** Topic prefix and consumer group; the service's name unless given (tests run several). */
  instance?: string;
  /** The service's own environment variables, validated with the common ones. */
  config?: X;
  setup(router: Router, context: ServiceContext<X>): void | Promise<void>;
  /** The service's own HTTP API beside /healthz, /readyz and /metrics. */
  routes?(app: FastifyInstance, context: ServiceContext<X>): void | Promise<void>;
  /** Checks of the service's own dependencies (a database, a cache) for /readyz. */
  readiness?(): Promise<Record<string, boolean | string>>;
  /** Closes what the service opened (pools, clients), after its handlers have finished. */
  onStop?(): Promise<void>;
  /** How long SIGTERM waits for handlers in flight. */
  shutdownTimeoutMs?: number;
}

export interface RunningService {
  router: Router;
  url: string;
  log: Logger;
  stop(): Promise<void>;
}

const LAG_INTERVAL_MS = 15_000;

export async function startService<X extends z.ZodObject>(definition: ServiceDefinition<X>): Promise<RunningService> {
  const config = loadServiceConfig(definition.service, definition.config);
  const instance = definition.instance ?? definition.service;
  const telemetry = startTelemetry({ serviceName: instance, otlpEndpoint: config.infrastructure.otlpEndpoint });
  const log = createLogger({ service: instance, level: config.logLevel });
  const metrics = createMessagingMetrics();
  const transport = new KafkaJsTransport({ clientId: instance, brokers: config.infrastructure.kafkaBrokers, log });
  const codec = new EventCodec({ registryUrl: config.infrastructure.schemaRegistryUrl });
  const router = new Router({ service: instance, transport, codec, log, observer: metricsObserver(metrics) });
  const serviceRegistries: Registry[] = [];
  const context: ServiceContext<X> = { config, log, registerMetrics: (registry) => serviceRegistries.push(registry) };
  await definition.setup(router, context);

  const http = await startHttpServer({
    service: instance,
    port: config.http.port,
    host: config.http.host,
    // Merged registries share the metric objects: /metrics shows every one live.
    registry: serviceRegistries.length > 0 ? Registry.merge([metrics.registry, ...serviceRegistries]) : metrics.registry,
    logger: log,
    readiness: async () => {
      const checks: Record<string, boolean | string> = {
        kafka: router.isReady() ? true : 'partitions not assigned yet',
        ...(await definition.readiness?.()),
      };
      return { ready: Object.values(checks).every((c) => c === true), checks };
    },
    ...(definition.routes ? { routes: (app: FastifyInstance) => definition.routes?.(app, context) } : {}),
  });
  await router.start();
  const lagTimer = setInterval(() => void recordLag(router, transport, metrics, log), LAG_INTERVAL_MS).unref();
  log.info('started', { url: http.url, topics: router.topicSpecs().map((t) => t.name) });

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      clearInterval(lagTimer);
      await router.stop();
      await definition.onStop?.();
      await http.close();
      await transport.close();
      await telemetry.shutdown().catch(() => undefined);
    })();
    return stopping;
  };
  return { router, url: http.url, log, stop };
}

/** The whole of a service's main.ts: start, and stop cleanly on SIGTERM or Ctrl-C. */
export async function runService<X extends z.ZodObject>(definition: ServiceDefinition<X>): Promise<void> {
  let running: RunningService;
  try {
    running = await startService(definition);
  } catch (error) {
    // A bad configuration is the operator's to fix: say what, without a stack trace.
    console.error(error instanceof ConfigError ? `${definition.service}: ${error.message}` : error);
    process.exit(1);
  }
  const timeoutMs = definition.shutdownTimeoutMs ?? 30_000;
  const shutdown = (signal: string) => {
    running.log.info('stopping', { signal });
    const timer = setTimeout(() => {
      running.log.error('handlers still running at the shutdown deadline; exiting anyway', { timeoutMs });
      process.exit(1);
    }, timeoutMs);
    running.stop().then(
      () => {
        clearTimeout(timer);
        process.exit(0);
      },
      (error: unknown) => {
        running.log.error('stop failed', { error });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

function metricsObserver(metrics: MessagingMetrics): OutcomeObserver {
  return {
    onOutcome: ({ topic, outcome, seconds, tier, reason }) => {
      metrics.messages.inc({ topic, outcome });
      metrics.handlerDuration.observe({ topic }, seconds);
      if (outcome === 'retry' && tier) metrics.retries.inc({ topic, tier });
      if (outcome === 'dlq' && reason) metrics.dlqWrites.inc({ topic, reason });
    },
  };
}

async function recordLag(router: Router, transport: KafkaJsTransport, metrics: MessagingMetrics, log: Logger): Promise<void> {
  try {
    for (const { groupId, topics } of router.consumerGroups()) {
      for (const { topic, partition, lag } of await transport.consumerLag(groupId, topics)) {
        metrics.consumerLag.set({ group: groupId, topic, partition: String(partition) }, lag);
      }
    }
  } catch (error) {
    log.warn('consumer lag not measured', { error });
  }
}
