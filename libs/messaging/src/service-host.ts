// One host for every service. A service is defined once (defineService): its configuration,
// its topic declaration, and a create(context) that returns its routes, HTTP routes,
// readiness checks and stop hook. The host does what every main.ts would otherwise repeat:
// configuration, telemetry, logging, metrics, the HTTP server, the router, consumer lag, and
// a bounded shutdown on SIGTERM.
import { EventCodec } from '@tickflow/contracts';
import {
  ConfigError,
  createLogger,
  createMessagingMetrics,
  type InfrastructureName,
  type Logger,
  loadServiceConfig,
  type MessagingMetrics,
  type ServiceConfig,
  type ServiceName,
  startHttpServer,
  startTelemetry,
} from '@tickflow/runtime';
import type { FastifyInstance } from 'fastify';
import type { Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import type { z } from 'zod';
import { KafkaJsTransport } from './kafkajs-transport.ts';
import { type Contract, type OutcomeObserver, Router } from './router.ts';
import { type TopicDeclaration, topicSpecs } from './topic-declaration.ts';
import type { TopicSpec, Transport } from './transport.ts';

export type ServiceSettings<X extends z.ZodObject, U extends InfrastructureName = never> = ServiceConfig<U> & z.infer<X>;

export interface ServiceContext<X extends z.ZodObject, U extends InfrastructureName = never> {
  config: ServiceSettings<X, U>;
  /** The instance name: topic prefix and consumer group. */
  instance: string;
  topics: TopicDeclaration;
  log: Logger;
  /** Serves the service's own metrics on /metrics beside the messaging metrics. */
  registerMetrics(registry: Registry): void;
  /**
   * Sends a message through the host's own transport and codec, in the active trace (a
   * handler's, when called from one). Outside handlers, for instance from an HTTP route.
   */
  publish<E>(topic: string, contract: Contract<E>, payload: E, options: { key: string | null; id?: string }): Promise<void>;
  /** The host's Kafka transport, for what routes do not cover (topics beyond the declaration's). */
  transport: Transport;
  /**
   * The kafkajs client the transport runs on, with its SASL and TLS: for the few services
   * whose work is Kafka itself (the scheduler's leadership group and transactions).
   */
  kafka: Kafka;
  /** The host's registry codec, for services that encode records they write themselves. */
  codec: EventCodec;
}

/** What a service is made of once created; every part is optional. */
export interface ServiceParts {
  /** Declares the service's routes and middleware on the host's router. */
  routes?(router: Router): void;
  /** The service's own HTTP API beside /healthz, /readyz and /metrics. */
  http?(app: FastifyInstance): void | Promise<void>;
  /** Checks of the service's own dependencies (a database, a cache) for /readyz: true when fine. */
  readiness?(): Promise<Record<string, boolean | string>>;
  /** What /readyz says of the service beside its checks (the scheduler: leader or follower). */
  info?(): Record<string, string>;
  /** Runs once the router consumes and the HTTP server listens (background work, leadership). */
  start?(): Promise<void>;
  /** Closes what the service opened (pools, clients), after its handlers have finished. */
  stop?(): Promise<void>;
}

export interface ServiceDefinition<X extends z.ZodObject, U extends InfrastructureName = never> {
  service: ServiceName;
  /** The service's own environment variables, validated with the common ones. */
  config?: X;
  /** The infrastructure it uses beyond Kafka, the registry and OTLP: only their variables are read. */
  uses?: readonly U[];
  /** Its own variables that must be set outside TICKFLOW_ENV=local: its API token. */
  requiredSecrets?: readonly (keyof z.infer<X> & string)[];
  /** The instance name from the configuration; the service's name unless given (tests run several). */
  instance?(config: ServiceSettings<X, U>): string;
  /** The service's topics: pure, so the CLI and tests derive the same list (see topicSpecsOf). */
  topics(config: ServiceSettings<X, U>, instance: string): TopicDeclaration;
  create(context: ServiceContext<X, U>): ServiceParts | Promise<ServiceParts>;
  /** How long SIGTERM waits for handlers in flight. */
  shutdownTimeoutMs?: number;
}

/** Only types its argument: a service's definition reads as one declaration. */
export function defineService<X extends z.ZodObject, const U extends InfrastructureName = never>(
  definition: ServiceDefinition<X, U>,
): ServiceDefinition<X, U> {
  return definition;
}

export interface RunningService {
  router: Router;
  url: string;
  log: Logger;
  stop(): Promise<void>;
}

const LAG_INTERVAL_MS = 15_000;
const TOPIC_SAFE = /^[A-Za-z0-9._-]{1,200}$/;

interface Resolved<X extends z.ZodObject, U extends InfrastructureName> {
  config: ServiceSettings<X, U>;
  instance: string;
  topics: TopicDeclaration;
}

/** The configuration, instance and topics of a definition, from `env`: what starting it would use. */
export function resolveService<X extends z.ZodObject, U extends InfrastructureName>(
  definition: ServiceDefinition<X, U>,
  env: Record<string, string | undefined> = process.env,
  { forStart = true }: { forStart?: boolean } = {},
): Resolved<X, U> {
  const config = loadServiceConfig(definition.service, definition.config, env, {
    uses: definition.uses ?? [],
    requiredSecrets: definition.requiredSecrets ?? [],
    forStart,
  }) as ServiceSettings<X, U>;
  const instance = definition.instance?.(config) ?? definition.service;
  if (!TOPIC_SAFE.test(instance))
    throw new ConfigError(`invalid configuration:\n  instance name of ${definition.service}: must be a topic-safe name`);
  return { config, instance, topics: definition.topics(config, instance) };
}

/** Every topic a service provisions at start, for `tickflow topics provision` and the tests. */
export function topicSpecsOf<X extends z.ZodObject, U extends InfrastructureName>(
  definition: ServiceDefinition<X, U>,
  env: Record<string, string | undefined> = process.env,
): TopicSpec[] {
  // An operator provisioning topics need not hold the service's secrets.
  return topicSpecs(resolveService(definition, env, { forStart: false }).topics);
}

export async function startService<X extends z.ZodObject, U extends InfrastructureName>(
  definition: ServiceDefinition<X, U>,
): Promise<RunningService> {
  const { config, instance, topics } = resolveService(definition);
  // Traces and logs carry the service's name, what an operator searches by; an instance of
  // another name (a test's, a second deployment's) says so on every line.
  const telemetry = startTelemetry({ serviceName: definition.service, otlpEndpoint: config.infrastructure.otlpEndpoint });
  const serviceLog = createLogger({ service: definition.service, level: config.logLevel });
  const log = instance === definition.service ? serviceLog : serviceLog.child({ instance });
  const metrics = createMessagingMetrics();
  const { infrastructure } = config;
  const transport = new KafkaJsTransport({
    clientId: instance,
    brokers: infrastructure.kafkaBrokers,
    security: infrastructure.kafkaSecurity,
    replication: infrastructure.kafkaReplication,
    log,
  });
  const codec = new EventCodec({ registryUrl: infrastructure.schemaRegistryUrl, auth: infrastructure.schemaRegistryAuth });
  const router = new Router({
    service: instance,
    transport,
    codec,
    log,
    topics,
    startFrom: infrastructure.kafkaNewGroupStart,
    observer: metricsObserver(metrics),
  });
  const serviceRegistries: Registry[] = [];
  let parts: ServiceParts;
  try {
    parts = await definition.create({
      config,
      instance,
      topics,
      log,
      registerMetrics: (registry) => serviceRegistries.push(registry),
      publish: (topic, contract, payload, options) => router.publish(topic, contract, payload, options),
      transport,
      kafka: transport.client,
      codec,
    });
    parts.routes?.(router);
  } catch (error) {
    await transport.close().catch(() => undefined);
    await telemetry.shutdown().catch(() => undefined);
    throw error;
  }

  const http = await startHttpServer({
    service: instance,
    port: config.http.port,
    host: config.http.host,
    // Merged registries share the metric objects: /metrics shows every one live.
    registry: serviceRegistries.length > 0 ? Registry.merge([metrics.registry, ...serviceRegistries]) : metrics.registry,
    logger: log,
    readiness: async () => {
      const checks: Record<string, boolean | string> = {
        ...(router.consumes() ? { kafka: router.isReady() ? true : 'partitions not assigned yet' } : {}),
        ...(await parts.readiness?.()),
      };
      const info = parts.info?.();
      return { ready: Object.values(checks).every((c) => c === true), checks, ...(info ? { info } : {}) };
    },
    ...(parts.http ? { routes: (app: FastifyInstance) => parts.http?.(app) } : {}),
  });
  await router.start();
  await parts.start?.();
  const lagTimer = setInterval(() => void recordLag(router, transport, metrics, log), LAG_INTERVAL_MS).unref();
  log.info('started', { url: http.url, topics: router.topicSpecs().map((t) => t.name) });

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      clearInterval(lagTimer);
      await router.stop();
      await parts.stop?.();
      await http.close();
      await transport.close();
      await telemetry.shutdown().catch(() => undefined);
    })();
    return stopping;
  };
  return { router, url: http.url, log, stop };
}

/** The whole of a service's main.ts: start, and stop cleanly on SIGTERM or Ctrl-C. */
export async function runService<X extends z.ZodObject, U extends InfrastructureName>(definition: ServiceDefinition<X, U>): Promise<void> {
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
    onWriteRetry: ({ topic, kind }) => metrics.outcomeWriteRetries.inc({ topic, kind }),
    onTimeout: ({ topic }) => metrics.handlerTimeouts.inc({ topic }),
    onInFlight: ({ topic, change }) => metrics.handlersInFlight.inc({ topic }, change),
  };
}

async function recordLag(router: Router, transport: Transport, metrics: MessagingMetrics, log: Logger): Promise<void> {
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
