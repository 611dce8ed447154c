// The router: a service declares its routes and middleware; the router consumes the
// request topics and the delay topics, runs handlers, and makes every outcome durable
// (retry record, dead letter, failure event) before it commits the offset.
import { type Context, context, isSpanContextValid, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { type EventCodec, type EventContract, jobFailed } from '@tickflow/contracts';
import {
  attemptOf,
  type CloudEventAttributes,
  cloudEventHeaders,
  deadLetterHeaders,
  type Headers,
  newCloudEvent,
  type Origin,
  originOf,
  RETRY,
  readCloudEvent,
  retryHeaders,
} from './envelope.ts';
import { type ErrorClassifier, UndecodableMessageError } from './errors.ts';
import { type Deadline, HandlerDeadlines } from './handler-deadlines.ts';
import { decideFailure } from './outcome.ts';
import { deadLetterTopic, parseTiers, type RetryTier, retryTopic } from './retry-tiers.ts';
import type { Batch, ReceivedRecord, Subscription, TopicSpec, Transport } from './transport.ts';

export type Contract<T> = EventContract<T>;

/** Encoding through the schema registry: libs/contracts' EventCodec, or another with its shape. */
export type Codec = Pick<EventCodec, 'register' | 'encode' | 'decodeAs' | 'decodeKnownAs'>;

export interface Log {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Log;
}

export interface MessageContext<T> {
  payload: T;
  event: CloudEventAttributes;
  key: string | null;
  topic: string;
  /** Failed attempts before this one: 0 on first delivery. */
  attempt: number;
  log: Log;
  /** Aborted when the route's timeout passes: long work should stop. */
  signal: AbortSignal;
  /** Writes an outcome event on `<service>.events`; resolves once the broker has it. */
  emit<E>(contract: Contract<E>, payload: E, key: string | null): Promise<void>;
}

export type Handler<T> = (message: MessageContext<T>) => Promise<void>;
export type Middleware = (next: Handler<unknown>) => Handler<unknown>;

export interface RouteOptions {
  /** Delay tiers in order, e.g. ['2s', '4s', '8s']; none: a failure goes straight to the DLQ. */
  retry?: string[];
  classify?: ErrorClassifier;
  /** Partitions of this route handled at once. */
  concurrency?: number;
  timeoutMs?: number;
}

/** What the router reports of each outcome, for metrics. */
export interface OutcomeObserver {
  onOutcome(event: {
    topic: string;
    outcome: 'success' | 'retry' | 'defer' | 'dlq';
    seconds: number;
    tier?: string;
    reason?: string;
  }): void;
}

interface TypeRoute {
  contract: Contract<unknown>;
  handler: Handler<unknown>;
  /** The handler wrapped in every middleware, built at start. */
  chain?: Handler<unknown>;
}

/** A topic's routes: one handler per event type, one set of retry tiers for the topic. */
interface Route {
  topic: string;
  byType: Map<string, TypeRoute>;
  tiers: RetryTier[];
  classify: ErrorClassifier | undefined;
  concurrency: number;
  timeoutMs: number;
}

export interface RouterOptions {
  service: string;
  transport: Transport;
  codec: Codec;
  log: Log;
  partitions?: number;
  observer?: OutcomeObserver;
}

const tracer = trace.getTracer('@tickflow/messaging');
// W3C trace context is part of the envelope, whatever propagator the process registers.
const propagator = new W3CTraceContextPropagator();
const headerGetter = { get: (carrier: Headers, key: string) => carrier[key], keys: (carrier: Headers) => Object.keys(carrier) };
const headerSetter = {
  set: (carrier: Headers, key: string, value: string) => {
    carrier[key] = value;
  },
};
const DAY_MS = 86_400_000;
const HEARTBEAT_MS = 1_000;

/** A service's request topic, as its router declares it; the scheduler creates it the same way. */
export function requestTopicSpec(topic: string, partitions = 3): TopicSpec {
  return { name: topic, partitions, retentionMs: 7 * DAY_MS, cleanupPolicy: 'delete' };
}

export class Router {
  private readonly routes = new Map<string, Route>();
  private readonly tierTopics = new Map<string, { route: Route; tier: RetryTier }>();
  private readonly middleware: Middleware[] = [];
  private readonly emitted: Contract<unknown>[] = [];
  private subscriptions: Subscription[] = [];
  private readonly deadlines = new HandlerDeadlines();

  constructor(private readonly options: RouterOptions) {}

  get eventsTopic(): string {
    return `${this.options.service}.events`;
  }

  use(middleware: Middleware): this {
    this.middleware.push(middleware);
    return this;
  }

  /**
   * Handles events of `contract`'s type on `topic`. A topic may carry several event types
   * (a tick and the service's own fan-out, say), each with its handler; the options are
   * the topic's and are given once, with its first route.
   */
  route<T>(topic: string, contract: Contract<T>, handler: Handler<T>, options?: RouteOptions): this {
    const existing = this.routes.get(topic);
    if (existing) {
      if (options) throw new Error(`topic ${topic} already has a route: give its options with the first one only`);
      if (existing.byType.has(contract.type)) throw new Error(`topic ${topic} already routes ${contract.type}`);
      existing.byType.set(contract.type, { contract, handler: handler as Handler<unknown> });
      return this;
    }
    const route: Route = {
      topic,
      byType: new Map([[contract.type, { contract, handler: handler as Handler<unknown> }]]),
      tiers: parseTiers(options?.retry ?? []),
      classify: options?.classify,
      concurrency: options?.concurrency ?? 1,
      timeoutMs: options?.timeoutMs ?? 30_000,
    };
    this.routes.set(topic, route);
    for (const tier of route.tiers) this.tierTopics.set(retryTopic(topic, tier), { route, tier });
    return this;
  }

  /** Event types this service emits on its events topic, registered at start. */
  emits(...contracts: Contract<unknown>[]): this {
    this.emitted.push(...contracts);
    return this;
  }

  /** Every topic the service needs, derived from its routes: one declaration, provisioned at start. */
  topicSpecs(): TopicSpec[] {
    const partitions = this.options.partitions ?? 3;
    const specs: TopicSpec[] = [{ name: this.eventsTopic, partitions, retentionMs: 30 * DAY_MS, cleanupPolicy: 'delete' }];
    for (const route of this.routes.values()) {
      specs.push(requestTopicSpec(route.topic, partitions));
      for (const tier of route.tiers) {
        // A record must outlive its wait: keep a week beyond the tier's delay.
        specs.push({ name: retryTopic(route.topic, tier), partitions, retentionMs: tier.delayMs + 7 * DAY_MS, cleanupPolicy: 'delete' });
      }
      specs.push({ name: deadLetterTopic(route.topic), partitions, retentionMs: -1, cleanupPolicy: 'delete' });
    }
    return specs;
  }

  async start(): Promise<void> {
    const { transport, codec, service } = this.options;
    await transport.ensureTopics(this.topicSpecs());
    const routes = [...this.routes.values()];
    const typeRoutes = routes.flatMap((r) => [...r.byType.values()]);
    await codec.register([...new Set([...typeRoutes.map((t) => t.contract), ...this.emitted, jobFailed])]);
    for (const t of typeRoutes) t.chain = this.middleware.reduceRight<Handler<unknown>>((next, mw) => mw(next), t.handler);
    if (routes.length === 0) return;
    const concurrency = Math.max(...routes.map((r) => r.concurrency));
    this.subscriptions.push(
      await transport.subscribe({ groupId: service, topics: routes.map((r) => r.topic), concurrency, onBatch: (b) => this.onBatch(b) }),
    );
    if (this.tierTopics.size > 0) {
      this.subscriptions.push(
        await transport.subscribe({
          groupId: `${service}.retry`,
          topics: [...this.tierTopics.keys()],
          // Every waiting partition may be paused at once; give each its own slot.
          concurrency: this.tierTopics.size * (this.options.partitions ?? 3),
          onBatch: (b) => this.onBatch(b),
        }),
      );
    }
  }

  /** The consumer groups the router runs, and what each reads: for lag. */
  consumerGroups(): { groupId: string; topics: string[] }[] {
    const groups = [{ groupId: this.options.service, topics: [...this.routes.keys()] }];
    if (this.tierTopics.size > 0) groups.push({ groupId: `${this.options.service}.retry`, topics: [...this.tierTopics.keys()] });
    return groups.filter((g) => g.topics.length > 0);
  }

  /** Ready once every consumer has its partitions. */
  isReady(): boolean {
    return this.subscriptions.length > 0 && this.subscriptions.every((s) => s.isAssigned());
  }

  /** Lets handlers in flight finish and commit, then leaves the groups. */
  async stop(): Promise<void> {
    const subscriptions = this.subscriptions;
    this.subscriptions = [];
    await Promise.all(subscriptions.map((s) => s.stop()));
    this.deadlines.close();
  }

  private async onBatch(batch: Batch): Promise<void> {
    let last: ReceivedRecord | undefined;
    // A handler may run longer than the group's session timeout (a big aggregation run):
    // heartbeats go on beside it, so the group does not give its partitions away.
    const heartbeats = setInterval(() => void batch.heartbeat().catch(() => undefined), HEARTBEAT_MS);
    try {
      const route = this.routes.get(batch.topic);
      for (const record of batch.records) {
        if (!batch.isRunning()) break;
        // A request topic's records go straight to their handler; a delay topic's first
        // wait until they are due.
        if (route) await this.handle(route, record);
        else if ((await this.processDelayed(record, batch)) === 'waiting') break;
        last = record;
      }
    } finally {
      clearInterval(heartbeats);
    }
    if (last) await batch.commit(last);
  }

  /** A delay topic's record: handled once due; until then its partition waits. */
  private async processDelayed(record: ReceivedRecord, batch: Batch): Promise<'done' | 'waiting'> {
    const delayed = this.tierTopics.get(record.topic);
    if (!delayed) throw new Error(`no route for topic ${record.topic}`);
    const notBefore = Number(record.headers[RETRY.notBefore] ?? 0);
    const wait = notBefore - Date.now();
    if (wait > delayed.tier.delayMs) {
      // A defer longer than this tier's delay: pass it round the tier again rather than
      // hold the partition's head, so records behind it are never late.
      await this.options.transport.produce([{ topic: record.topic, key: record.key, value: record.value, headers: record.headers }]);
      return 'done';
    }
    if (wait > 0) {
      batch.pauseUntil(record, notBefore);
      return 'waiting';
    }
    await this.handle(delayed.route, record);
    return 'done';
  }

  private async handle(route: Route, record: ReceivedRecord): Promise<void> {
    const started = performance.now();
    const parent = propagator.extract(context.active(), record.headers, headerGetter);
    const ce = readCloudEvent(record.headers);
    const attempt = attemptOf(record.headers);
    const span = tracer.startSpan(`process ${route.topic}`, { kind: SpanKind.CONSUMER }, parent);
    // Attributes only for spans that are recorded: an unsampled message costs nothing here.
    if (span.isRecording()) {
      span.setAttributes({
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.name': record.topic,
        'messaging.destination.partition.id': String(record.partition),
        'messaging.kafka.offset': Number(record.offset),
        'messaging.consumer.group.name': this.options.service,
        'messaging.message.id': 'id' in ce ? ce.id : '',
        'tickflow.attempt': attempt,
      });
    }
    // A span that records nothing and carries no context of its own (no SDK, or the
    // parent's context passed through) changes nothing downstream: keep the parent.
    const passThrough =
      !span.isRecording() && (!isSpanContextValid(span.spanContext()) || span.spanContext() === trace.getSpanContext(parent));
    const active = passThrough ? parent : trace.setSpan(parent, span);
    const delivery = new Delivery(this, route.topic, record, ce, attempt, active, this.deadlines.start(route.timeoutMs, started));
    try {
      await context.with(active, this.invoke, this, route, delivery);
      span.setStatus({ code: SpanStatusCode.OK });
      this.options.observer?.onOutcome({ topic: route.topic, outcome: 'success', seconds: (performance.now() - started) / 1000 });
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      await this.fail(route, record, attempt, error, delivery.log, span, started, active);
    } finally {
      delivery.deadline.done();
      span.end();
    }
  }

  /**
   * Decodes and runs the handler, inside the delivery's trace context. Not async: once the
   * schema is known nothing here waits, and every await is a turn of the microtask queue.
   */
  private invoke(route: Route, delivery: Delivery): Promise<void> {
    const ce = delivery.envelope;
    if ('missing' in ce) throw new UndecodableMessageError(`missing CloudEvents header ${ce.missing}`);
    const typeRoute = route.byType.get(ce.type);
    if (!typeRoute) throw new UndecodableMessageError(`no route for event type ${ce.type} on ${route.topic}`);
    const { codec } = this.options;
    const value = delivery.record.value;
    let known: { payload: unknown } | undefined;
    try {
      known = codec.decodeKnownAs(typeRoute.contract, value);
    } catch (error) {
      throw undecodable(error);
    }
    if (known) return this.run(typeRoute, delivery, known.payload);
    return codec.decodeAs(typeRoute.contract, value).then(
      (decoded) => this.run(typeRoute, delivery, decoded.payload),
      (error) => Promise.reject(undecodable(error)),
    );
  }

  private run(typeRoute: TypeRoute, delivery: Delivery, payload: unknown): Promise<void> {
    delivery.payload = payload;
    return delivery.deadline.race((typeRoute.chain ?? typeRoute.handler)(delivery as MessageContext<unknown>));
  }

  /** The router's own log: deliveries make their per-message child from it on first use. */
  get log(): Log {
    return this.options.log;
  }

  private async fail(
    route: Route,
    record: ReceivedRecord,
    attempt: number,
    error: unknown,
    log: Log,
    span: Span,
    started: number,
    active: Context,
  ) {
    const now = Date.now();
    const outcome = decideFailure(error, { attempt, tiers: route.tiers, classify: route.classify, now });
    const origin: Origin = originOf(record.headers, { topic: record.topic, partition: record.partition, offset: record.offset });
    const firstFailedAt = record.headers[RETRY.firstFailedAt] ?? new Date(now).toISOString();
    const seconds = (performance.now() - started) / 1000;
    // The retry or dead letter continues this trace: its traceparent is the failed span's.
    const base = withTraceContext(record.headers, active);
    if (outcome.kind === 'retry' || outcome.kind === 'defer') {
      const topic = retryTopic(route.topic, outcome.tier);
      await this.options.transport.produce([
        {
          topic,
          key: record.key,
          value: record.value,
          headers: retryHeaders(base, origin, outcome.attempt, outcome.notBefore, firstFailedAt),
        },
      ]);
      span.setAttribute('tickflow.outcome', outcome.kind);
      log.warn(outcome.kind === 'retry' ? 'handler failed; retrying' : 'deferred', {
        error,
        tier: outcome.tier.label,
        notBefore: new Date(outcome.notBefore).toISOString(),
      });
      this.options.observer?.onOutcome({ topic: route.topic, outcome: outcome.kind, seconds, tier: outcome.tier.label });
      return;
    }
    await this.options.transport.produce([
      {
        topic: deadLetterTopic(route.topic),
        key: record.key,
        value: record.value,
        headers: deadLetterHeaders(base, origin, outcome.attempt, firstFailedAt, outcome.reason, error),
      },
    ]);
    const ce = readCloudEvent(record.headers);
    const err = error instanceof Error ? error : new Error(String(error));
    await this.emit(
      jobFailed,
      {
        topic: route.topic,
        key: record.key?.toString() ?? null,
        eventId: 'id' in ce ? ce.id : '',
        eventType: 'type' in ce ? ce.type : '',
        attempts: outcome.attempt,
        reason: outcome.reason,
        errorClass: err.name,
        errorMessage: err.message.slice(0, 1000),
        firstFailedAt,
        failedAt: new Date(now).toISOString(),
      },
      record.key?.toString() ?? null,
      active,
    );
    span.setAttribute('tickflow.outcome', 'dlq');
    log.error('message dead-lettered', { error, reason: outcome.reason });
    this.options.observer?.onOutcome({ topic: route.topic, outcome: 'dlq', seconds, reason: outcome.reason });
  }

  async emit<E>(contract: Contract<E>, payload: E, key: string | null, parent: Context = context.active()): Promise<void> {
    const value = await this.options.codec.encode(contract, payload);
    const headers = cloudEventHeaders(newCloudEvent(`tickflow/${this.options.service}`, contract.type));
    await produceTraced(this.options.transport, { topic: this.eventsTopic, key, value, headers }, parent);
  }
}

/**
 * One delivery of a record to a handler: the MessageContext the handler sees. A class, so
 * the hot path allocates one object per message rather than a closure per field.
 */
class Delivery implements MessageContext<unknown> {
  payload: unknown;
  private childLog: Log | undefined;

  constructor(
    private readonly router: Router,
    readonly topic: string,
    readonly record: ReceivedRecord,
    readonly envelope: CloudEventAttributes | { missing: string },
    readonly attempt: number,
    private readonly traceContext: Context,
    readonly deadline: Deadline,
  ) {}

  /** Decoded on first use, like the log: many handlers key on the payload instead. */
  get key(): string | null {
    return this.record.key?.toString() ?? null;
  }

  /** Handlers only ever run once the envelope is known to be whole. */
  get event(): CloudEventAttributes {
    return this.envelope as CloudEventAttributes;
  }

  /** Built on first use: most handlers never log per message. */
  get log(): Log {
    this.childLog ??= this.router.log.child({
      topic: this.record.topic,
      partition: this.record.partition,
      offset: this.record.offset,
      key: this.key,
      attempt: this.attempt,
    });
    return this.childLog;
  }

  get signal(): AbortSignal {
    return this.deadline.signal;
  }

  emit<E>(contract: Contract<E>, payload: E, key: string | null): Promise<void> {
    return this.router.emit(contract, payload, key, this.traceContext);
  }
}

/** Writes a record under a producer span, its traceparent pointing at that span. */
export async function produceTraced(
  transport: Transport,
  record: { topic: string; key: string | Buffer | null; value: Buffer | null; headers: Headers },
  parent: Context = context.active(),
): Promise<void> {
  const span = tracer.startSpan(
    `send ${record.topic}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: { 'messaging.system': 'kafka', 'messaging.operation.type': 'send', 'messaging.destination.name': record.topic },
    },
    parent,
  );
  try {
    await transport.produce([{ ...record, headers: withTraceContext(record.headers, trace.setSpan(parent, span)) }]);
  } finally {
    span.end();
  }
}

function undecodable(error: unknown): UndecodableMessageError {
  return new UndecodableMessageError(error instanceof Error ? error.message : String(error), { cause: error });
}

function withTraceContext(headers: Headers, ctx: Context): Headers {
  const carrier: Headers = { ...headers };
  delete carrier.traceparent;
  delete carrier.tracestate;
  propagator.inject(ctx, carrier, headerSetter);
  return carrier;
}
