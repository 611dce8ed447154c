// The metrics every service exposes on /metrics about the messages it consumes. They live in a
// registry of their own rather than prom-client's global one, so that tests and a process with
// several routers never collide on a metric name.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export type MessageOutcome = 'success' | 'retry' | 'dlq' | 'defer';

export interface MessagingMetrics {
  registry: Registry;
  /** Labels: topic, outcome (a MessageOutcome). */
  messages: Counter<'topic' | 'outcome'>;
  handlerDuration: Histogram<'topic'>;
  /** Labels: topic, tier (the retry tier's delay, e.g. `1h`). */
  retries: Counter<'topic' | 'tier'>;
  /** Labels: topic, reason (`exhausted` | `fatal` | `undecodable`). */
  dlqWrites: Counter<'topic' | 'reason'>;
  consumerLag: Gauge<'group' | 'topic' | 'partition'>;
  /** Labels: topic, kind (`retry` | `dlq` | `hop` | `event`). */
  outcomeWriteRetries: Counter<'topic' | 'kind'>;
  handlerTimeouts: Counter<'topic'>;
  handlersInFlight: Gauge<'topic'>;
}

// Handlers call third-party APIs (Clazar, carriers, AWS price lists) that take seconds, so the
// buckets reach well past prom-client's default ceiling of 10 s.
const handlerDurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export function createMessagingMetrics(registry: Registry = new Registry()): MessagingMetrics {
  // Node's default metrics are registered once per registry; a second registration would throw.
  if (registry.getSingleMetric('process_cpu_user_seconds_total') === undefined) {
    collectDefaultMetrics({ register: registry });
  }
  return {
    registry,
    messages: new Counter({
      name: 'tickflow_messages_total',
      help: 'Messages consumed, by outcome: success, retry, dlq or defer.',
      labelNames: ['topic', 'outcome'],
      registers: [registry],
    }),
    handlerDuration: new Histogram({
      name: 'tickflow_handler_duration_seconds',
      help: 'Time a handler took for one message, whatever its outcome.',
      labelNames: ['topic'],
      buckets: handlerDurationBuckets,
      registers: [registry],
    }),
    retries: new Counter({
      name: 'tickflow_retries_total',
      help: 'Messages sent to a retry tier.',
      labelNames: ['topic', 'tier'],
      registers: [registry],
    }),
    dlqWrites: new Counter({
      name: 'tickflow_dlq_writes_total',
      help: 'Messages written to a dead-letter topic, by reason.',
      labelNames: ['topic', 'reason'],
      registers: [registry],
    }),
    consumerLag: new Gauge({
      name: 'tickflow_consumer_lag',
      help: 'Messages between the committed offset of a consumer group and the end of a partition.',
      labelNames: ['group', 'topic', 'partition'],
      registers: [registry],
    }),
    outcomeWriteRetries: new Counter({
      name: 'tickflow_outcome_write_retries_total',
      help: 'Writes of a retry, delay hop, dead letter or failure event that failed and were tried again (the handler is not run again).',
      labelNames: ['topic', 'kind'],
      registers: [registry],
    }),
    handlerTimeouts: new Counter({
      name: 'tickflow_handler_timeouts_total',
      help: "Handlers that ran past their route's timeout and were told to stop; their partition waits until they end.",
      labelNames: ['topic'],
      registers: [registry],
    }),
    handlersInFlight: new Gauge({
      name: 'tickflow_handlers_in_flight',
      help: 'Handlers running right now.',
      labelNames: ['topic'],
      registers: [registry],
    }),
  };
}
