// The scheduler, defined once: cron schedules into tick events, fired by one leader among
// its replicas. It consumes nothing; its work is Kafka itself (a leadership group, and
// transactions that write each tick with the record of its firing), done on the host's
// own Kafka client.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { schedulerTick } from '@tickflow/contracts';
import { defineService, requestTopicSpec } from '@tickflow/messaging';
import { ConfigError, secretVar, stringVar } from '@tickflow/runtime';
import { Counter, Histogram, Registry } from 'prom-client';
import { z } from 'zod';
import { KafkaLeadership } from './adapters/leadership.ts';
import { ScheduleStateView } from './adapters/schedule-state.ts';
import { TickPublisher } from './adapters/tick-publisher.ts';
import { parseSchedules } from './domain/schedules.ts';
import { FiringLoop } from './firing-loop.ts';
import { schedulerApi } from './http-api.ts';
import { SERVICE_REQUEST_TOPICS, schedulerTopicDeclaration, schedulerTopics } from './topics.ts';

const defaultSchedulesFile = fileURLToPath(new URL('../schedules.yaml', import.meta.url));

export const schedulerConfig = z.object({
  SCHEDULES_FILE: stringVar(defaultSchedulesFile),
  SCHEDULER_API_TOKEN: secretVar({ minLength: 16 }),
  SCHEDULER_INSTANCE: stringVar('tickflow.scheduler').refine((v) => /^[A-Za-z0-9._-]+$/.test(v), 'must be a topic-safe name'),
});

function schedulerMetrics() {
  const registry = new Registry();
  return {
    registry,
    firings: new Counter({
      name: 'tickflow_scheduler_firings_total',
      help: 'Ticks sent for scheduled firings.',
      labelNames: ['schedule'],
      registers: [registry],
    }),
    firingDelay: new Histogram({
      name: 'tickflow_scheduler_firing_delay_seconds',
      help: "From a firing's scheduled time to its tick committed on the topic.",
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 60],
      registers: [registry],
    }),
  };
}

export const service = defineService({
  service: 'scheduler',
  config: schedulerConfig,
  requiredSecrets: ['SCHEDULER_API_TOKEN'],
  instance: (config) => config.SCHEDULER_INSTANCE,
  topics: (_config, instance) => schedulerTopicDeclaration(instance),
  shutdownTimeoutMs: 15_000,
  async create({ config, instance, log, registerMetrics, transport, kafka, codec }) {
    let text: string;
    try {
      text = readFileSync(config.SCHEDULES_FILE, 'utf8');
    } catch {
      throw new ConfigError(`SCHEDULES_FILE: cannot read ${config.SCHEDULES_FILE}`);
    }
    const existing = new Set(await transport.listTopics());
    const schedules = parseSchedules(text, (topic) => SERVICE_REQUEST_TOPICS.includes(topic) || existing.has(topic));
    // A service's request topic may not exist yet when the scheduler starts first; it is
    // created as the service itself declares it, so no firing waits for the service.
    const targets = [...new Set(schedules.filter((s) => s.enabled).map((s) => s.topic))].filter((t) => !existing.has(t));
    await transport.ensureTopics(targets.map((t) => requestTopicSpec(t)));

    await codec.register([schedulerTick]);
    const metrics = schedulerMetrics();
    registerMetrics(metrics.registry);
    const names = schedulerTopics(instance);
    const publisher = new TickPublisher(kafka, codec, names.state, instance);
    const state = new ScheduleStateView(kafka, names.state);
    const loop = new FiringLoop({
      schedules,
      claim: () => publisher.claim(),
      readState: () => state.readAll(),
      publishFiring: (schedule, at) => publisher.publishFiring(schedule, at),
      log,
      onFired: (schedule, at) => {
        metrics.firings.inc({ schedule: schedule.name });
        metrics.firingDelay.observe((Date.now() - at.getTime()) / 1000);
      },
    });
    const leadership = new KafkaLeadership(kafka, names.group, names.leader);
    return {
      http: schedulerApi({
        schedules,
        lastFirings: () => (loop.isLeading() ? Promise.resolve(loop.lastFirings()) : state.current()),
        trigger: (schedule, payload) => publisher.publishManual(schedule, payload),
        apiToken: config.SCHEDULER_API_TOKEN,
      }),
      readiness: async () => ({
        leadership: leadership.isJoined() ? true : 'not in the leadership group yet',
        firing: loop.failing() ?? true,
      }),
      info: () => ({ role: !leadership.isJoined() ? 'joining' : loop.isLeading() ? 'leader' : 'follower' }),
      async start() {
        await state.start();
        await leadership.start((leading) => {
          log.info(leading ? 'leading: this replica fires' : 'following');
          if (leading) void loop.lead().catch((error: unknown) => log.error('taking the lead failed', { error }));
          else loop.follow();
        });
        log.info('schedules', { schedules: schedules.filter((s) => s.enabled).map((s) => s.name) });
      },
      async stop() {
        loop.follow();
        // Leaves the group at once, so another replica takes over without waiting for a timeout.
        await leadership.stop();
        await publisher.close();
        await state.stop();
      },
    };
  },
});
