// The scheduler: cron schedules into tick events. Wiring only.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EventCodec, schedulerTick } from '@tickflow/contracts';
import { KafkaJsTransport, requestTopicSpec } from '@tickflow/messaging';
import { ConfigError, createLogger, loadServiceConfig, startHttpServer, startTelemetry, stringVar } from '@tickflow/runtime';
import { Kafka, logLevel } from 'kafkajs';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { z } from 'zod';
import { KafkaLeadership } from './adapters/leadership.ts';
import { ScheduleStateStore } from './adapters/schedule-state.ts';
import { TickPublisher } from './adapters/tick-publisher.ts';
import { parseSchedules, ScheduleConfigError } from './domain/schedules.ts';
import { FiringLoop } from './firing-loop.ts';
import { schedulerApi } from './http-api.ts';
import { SERVICE_REQUEST_TOPICS, schedulerTopics, topicSpecs } from './topics.ts';

const defaultSchedulesFile = fileURLToPath(new URL('../schedules.yaml', import.meta.url));

async function main(): Promise<void> {
  const config = loadServiceConfig(
    'scheduler',
    z.object({
      SCHEDULES_FILE: stringVar(defaultSchedulesFile),
      SCHEDULER_API_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
      SCHEDULER_INSTANCE: stringVar('tickflow.scheduler').refine((v) => /^[A-Za-z0-9._-]+$/.test(v), 'must be a topic-safe name'),
    }),
  );
  const instance = config.SCHEDULER_INSTANCE;
  const names = schedulerTopics(instance);
  const telemetry = startTelemetry({ serviceName: 'scheduler', otlpEndpoint: config.infrastructure.otlpEndpoint });
  const log = createLogger({ service: 'scheduler', level: config.logLevel });
  const kafka = new Kafka({ clientId: instance, brokers: config.infrastructure.kafkaBrokers, logLevel: logLevel.ERROR });
  const transport = new KafkaJsTransport({ clientId: instance, brokers: config.infrastructure.kafkaBrokers });
  await transport.ensureTopics(topicSpecs(instance));

  const admin = kafka.admin();
  await admin.connect();
  const existing = new Set(await admin.listTopics());
  await admin.disconnect();
  let text: string;
  try {
    text = readFileSync(config.SCHEDULES_FILE, 'utf8');
  } catch {
    throw new ConfigError(`SCHEDULES_FILE: cannot read ${config.SCHEDULES_FILE}`);
  }
  const schedules = parseSchedules(text, (topic) => SERVICE_REQUEST_TOPICS.includes(topic) || existing.has(topic));
  // A service's request topic may not exist yet when the scheduler starts first; it is
  // created as the service itself declares it, so no firing waits for the service.
  const targets = [...new Set(schedules.filter((s) => s.enabled).map((s) => s.topic))].filter((t) => !existing.has(t));
  await transport.ensureTopics(targets.map((t) => requestTopicSpec(t)));

  const codec = new EventCodec({ registryUrl: config.infrastructure.schemaRegistryUrl });
  await codec.register([schedulerTick]);

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const firings = new Counter({
    name: 'tickflow_scheduler_firings_total',
    help: 'Ticks sent for scheduled firings.',
    labelNames: ['schedule'],
    registers: [registry],
  });
  const firingDelay = new Histogram({
    name: 'tickflow_scheduler_firing_delay_seconds',
    help: "From a firing's scheduled time to its tick committed on the topic.",
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 60],
    registers: [registry],
  });

  const publisher = new TickPublisher(kafka, codec, names.state, instance);
  const state = new ScheduleStateStore(kafka, names.state);
  const loop = new FiringLoop({
    schedules,
    readState: () => state.readAll(),
    settled: () => publisher.settled(),
    publishFiring: (schedule, at) => publisher.publishFiring(schedule, at),
    log,
    onFired: (schedule, at) => {
      firings.inc({ schedule: schedule.name });
      firingDelay.observe((Date.now() - at.getTime()) / 1000);
    },
  });
  const leadership = new KafkaLeadership(kafka, names.group, names.leader);

  const http = await startHttpServer({
    service: 'scheduler',
    port: config.http.port,
    host: config.http.host,
    registry,
    logger: log,
    readiness: async () => ({
      ready: leadership.isJoined(),
      checks: { leadership: leadership.isJoined() ? (loop.isLeading() ? 'leader' : 'follower') : false },
    }),
    routes: schedulerApi({
      schedules,
      lastFirings: () => (loop.isLeading() ? Promise.resolve(loop.lastFirings()) : state.readAll()),
      trigger: (schedule, payload) => publisher.publishManual(schedule, payload),
      apiToken: config.SCHEDULER_API_TOKEN,
    }),
  });
  await leadership.start((leading) => {
    log.info(leading ? 'leading: this replica fires' : 'following');
    if (leading) void loop.lead().catch((error: unknown) => log.error('taking the lead failed', { error }));
    else loop.follow();
  });
  log.info('started', { url: http.url, schedules: schedules.filter((s) => s.enabled).map((s) => s.name) });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    const deadline = setTimeout(() => process.exit(1), 15_000);
    loop.follow();
    await leadership.stop();
    await publisher.close();
    await http.close();
    await transport.close();
    await telemetry.shutdown().catch(() => undefined);
    clearTimeout(deadline);
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  // A bad schedule or setting is the operator's to fix: say what, without a stack trace.
  console.error(error instanceof ConfigError || error instanceof ScheduleConfigError ? `scheduler: ${error.message}` : error);
  process.exit(1);
});
