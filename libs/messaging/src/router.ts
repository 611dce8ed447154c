// The router: a service declares its routes and middleware; the router consumes the
// request topics and the delay topics, runs handlers, and makes every outcome durable
// (retry record, dead letter, failure event) before it commits the offset.
import { type Context, context, isSpanContextValid, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { type EventCodec, type EventContract, jobFailed, UndecodableError } from '@tickflow/contracts';
import { describeError } from '@tickflow/runtime';
import {
  attemptOf,
  type CloudEventAttributes,
  cloudEventHeaders,
  deadLetterHeaders,
  deferredOf,
  type Headers,
  newCloudEvent,
  type Origin,
  originOf,
  RETRY,
  readCloudEvent,
  retryHeaders,
  trimmedDeadLetterHeaders,
} from './envelope.ts';
import { type ErrorClassifier, RecordTooLargeError, UndecodableMessageError } from './errors.ts';
import { type Deadline, HandlerDeadlines, HandlerTimeoutError } from './handler-deadlines.ts';
import { decideFailure, type FailureOutcome } from './outcome.ts';
import { DEFAULT_DEFER_LIMITS, type DeferLimits } from './retry-policy.ts';
import {
  DEFAULT_DELAY_LADDER,
  deadLetterTopic,
  delayTopic,
  nextHop,
  parseLadder,
  parseTiers,
  type RetryTier,
  retryTopic,
} from './retry-tiers.ts';
import { type ConsumedTopic, DEFAULT_PARTITIONS, eventsTopicOf, type TopicDeclaration, topicSpecs } from './topic-declaration.ts';
import type { Batch, OutgoingRecord, ReceivedRecord, Subscription, TopicSpec, Transport } from './transport.ts';

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
  /** Aborted when the route's timeout passes or the service stops: long work should stop. */
  signal: AbortSignal;
  /** Writes an outcome event on `<service>.events`; resolves once the broker has it. */
  emit<E>(contract: Contract<E>, payload: E, key: string | null): Promise<void>;
  /** Sends a follow-up message (a fan-out) in this message's trace; resolves once the broker has it. */
  send<E>(topic: string, contract: Contract<E>, payload: E, options: { key: string | null; id?: string }): Promise<void>;
}

export type Handler<T> = (message: MessageContext<T>) => Promise<void>;
export type Middleware = (next: Handler<unknown>) => Handler<unknown>;

export interface RouteOptions {
  /**
   * Delay tiers in order, e.g. ['2s', '4s', '8s']: the n-th failure waits in the n-th tier,
   * the last one repeating while attempts are left. None: a failure goes straight to the DLQ.
   */
  retry?: string[];
  /** Deliveries in all, the first one included; one more than there are tiers unless given. */
  maxAttempts?: number;
  /** Says per error what to do: retryable, fatal, a policy of its own, or a defer. */
  classify?: ErrorClassifier;
  /** Steps of the delay ladder that carries defers and a classifier's own policies. */
  delayLadder?: string[];
  /** When a message deferred again and again goes to the DLQ as `deferred-too-long`. */
  deferLimits?: Partial<DeferLimits>;
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
  /** A retry, hop or dead-letter write failed and is being tried again. */
  onWriteRetry?(event: { topic: string; kind: 'retry' | 'dlq' | 'hop' | 'event' }): void;
  /** A handler ran past its route's timeout and was told to stop. */
  onTimeout?(event: { topic: string }): void;
  /** Handlers running right now went up (+1) or down (-1). */
  onInFlight?(event: { topic: string; change: 1 | -1 }): void;
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
  maxAttempts: number;
  ladder: RetryTier[];
  deferLimits: DeferLimits;
  classify: ErrorClassifier | undefined;
  concurrency: number;
  timeoutMs: number;
}

/** A delay topic: one of a route's retry tiers, or a step of its delay ladder. */
interface DelayTopic {
  route: Route;
  delay: RetryTier;
  kind: 'tier' | 'ladder';
}

export interface RouterOptions {
  service: string;
  transport: Transport;
  codec: Codec;
  log: Log;
  partitions?: number;
  /**
   * The service's topic declaration: its request topics with their retry tiers and delay
   * ladders. Without one (tests of the router itself), routes give their tiers in their options.
   */
  topics?: TopicDeclaration;
  /**
   * Where the service's consumer group starts on a request topic it has never committed
   * on: `latest` (the default) skips what was written before the service first ran.
   * The retry group always starts at the earliest: a waiting retry is never skipped.
   */
  startFrom?: 'latest' | 'earliest';
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
const HEARTBEAT_MS = 1_000;
const WRITE_RETRY_FIRST_MS = 100;
const WRITE_RETRY_MAX_MS = 5_000;

/**
 * The registry could not be asked for a schema (down, slow, refusing): the message may be
 * fine, so it is neither a failure of its handler nor undecodable. Its batch stops and is
 * read again after a pause, with no attempt spent.
 */
class SchemaRegistryUnavailableError extends Error {
  override name = 'SchemaRegistryUnavailableError';
}

/** The service is stopping and a handler was told to stop: its message is left for the next owner. */
class StoppedError extends Error {
  override name = 'StoppedError';
}

export class Router {
  private readonly routes = new Map<string, Route>();
  private readonly delayTopics = new Map<string, DelayTopic>();
  private readonly middleware: Middleware[] = [];
  private readonly emitted: Contract<unknown>[] = [];
  /** Contracts registered with the schema registry by this router, so publish registers each once. */
  private readonly registered = new Set<Contract<unknown>>();
  private subscriptions: Subscription[] = [];
  private readonly deadlines: HandlerDeadlines;
  private stopping = false;

  constructor(private readonly options: RouterOptions) {
    this.deadlines = new HandlerDeadlines((deadline) => this.options.observer?.onTimeout?.({ topic: deadline.topic }));
  }

  get eventsTopic(): string {
    return eventsTopicOf(this.options.service);
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
    const declared = this.declared(topic, options);
    const tiers = parseTiers(declared.retry ?? []);
    const maxAttempts = options?.maxAttempts ?? tiers.length + 1;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
      throw new Error(`topic ${topic}: maxAttempts must be a whole number of at least 1`);
    if (maxAttempts > 1 && tiers.length === 0) throw new Error(`topic ${topic}: maxAttempts ${maxAttempts} needs retry tiers to wait in`);
    const route: Route = {
      topic,
      byType: new Map([[contract.type, { contract, handler: handler as Handler<unknown> }]]),
      tiers,
      maxAttempts,
      ladder: parseLadder(declared.delayLadder ?? DEFAULT_DELAY_LADDER),
      deferLimits: { ...DEFAULT_DEFER_LIMITS, ...options?.deferLimits },
      classify: options?.classify,
      concurrency: options?.concurrency ?? 1,
      timeoutMs: options?.timeoutMs ?? 30_000,
    };
    this.routes.set(topic, route);
    for (const delay of route.tiers) this.delayTopics.set(retryTopic(topic, delay), { route, delay, kind: 'tier' });
    for (const delay of route.ladder) this.delayTopics.set(delayTopic(topic, delay), { route, delay, kind: 'ladder' });
    return this;
  }

  /** Event types this service emits on its events topic, registered at start. */
  emits(...contracts: Contract<unknown>[]): this {
    this.emitted.push(...contracts);
    return this;
  }

  /** Every topic the service needs, from its declaration: provisioned at start. */
  topicSpecs(): TopicSpec[] {
    return topicSpecs(this.declaration());
  }

  private declaration(): TopicDeclaration {
    if (this.options.topics) return this.options.topics;
    const consumes = [...this.routes.values()].map((r) => ({
      name: r.topic,
      retry: r.tiers.map((t) => t.label),
      delayLadder: r.ladder.map((s) => s.label),
    }));
    return { service: this.options.service, consumes, ...(this.options.partitions ? { partitions: this.options.partitions } : {}) };
  }

  /** A route's topic as the service declares it; a router without a declaration takes the route's options. */
  private declared(topic: string, options: RouteOptions | undefined): ConsumedTopic {
    const { topics } = this.options;
    if (!topics) return { name: topic, retry: options?.retry ?? [], delayLadder: options?.delayLadder ?? DEFAULT_DELAY_LADDER };
    const declared = topics.consumes.find((c) => c.name === topic);
    if (!declared) throw new Error(`topic ${topic} is not among the topics ${topics.service} declares`);
    if (options?.retry || options?.delayLadder) {
      throw new Error(`topic ${topic}: its retry tiers and delay ladder come from the service's topic declaration, not the route`);
    }
    return declared;
  }

  async start(): Promise<void> {
    const { transport, codec, service } = this.options;
    const unrouted = this.declaration().consumes.filter((c) => !this.routes.has(c.name));
    if (unrouted.length > 0) throw new Error(`${service} declares ${unrouted.map((c) => c.name).join(', ')} but routes nothing from it`);
    await transport.ensureTopics(this.topicSpecs());
    await this.drainRemovedDelayTopics();
    const routes = [...this.routes.values()];
    const typeRoutes = routes.flatMap((r) => [...r.byType.values()]);
    const contracts = [...new Set([...typeRoutes.map((t) => t.contract), ...this.emitted, jobFailed])];
    await codec.register(contracts);
    for (const contract of contracts) this.registered.add(contract);
    for (const t of typeRoutes) t.chain = this.middleware.reduceRight<Handler<unknown>>((next, mw) => mw(next), t.handler);
    if (routes.length === 0) return;
    const concurrency = Math.max(...routes.map((r) => r.concurrency));
    this.subscriptions.push(
      await transport.subscribe({
        groupId: service,
        topics: routes.map((r) => r.topic),
        concurrency,
        // A new group reads requests from now on, not the week of them its topic keeps.
        startFrom: this.options.startFrom ?? 'latest',
        onBatch: (b) => this.onBatch(b),
      }),
    );
    if (this.delayTopics.size > 0) {
      this.subscriptions.push(
        await transport.subscribe({
          groupId: `${service}.retry`,
          topics: [...this.delayTopics.keys()],
          // Every waiting partition may be paused at once; give each its own slot.
          concurrency: this.delayTopics.size * (this.declaration().partitions ?? DEFAULT_PARTITIONS),
          // A new retry group must not skip what already waits in its delay topics.
          startFrom: 'earliest',
          onBatch: (b) => this.onBatch(b),
        }),
      );
    }
  }

  /**
   * A retry tier or ladder step no longer declared may still hold messages waiting in it
   * (the tiers were changed): they are not stranded, the router keeps draining that topic as
   * a tier of its old delay until it is empty. An empty one is left alone, for the operator to
   * delete.
   */
  private async drainRemovedDelayTopics(): Promise<void> {
    const { transport, service, log } = this.options;
    const names = await transport.listTopics();
    for (const route of this.routes.values()) {
      const removed = names.filter((name) => {
        const delay = /\.(retry|delay)\.(\d+(?:ms|s|m|h|d))$/.exec(name.slice(route.topic.length));
        return name.startsWith(`${route.topic}.`) && delay?.index === 0 && !this.delayTopics.has(name);
      });
      if (removed.length === 0) continue;
      const lag = await transport.consumerLag(`${service}.retry`, removed);
      for (const name of removed) {
        const waiting = lag.filter((l) => l.topic === name).reduce((sum, l) => sum + Math.max(0, l.lag), 0);
        if (waiting === 0) continue;
        const label = name.slice(name.lastIndexOf('.') + 1);
        this.delayTopics.set(name, {
          route,
          delay: parseTiers([label])[0] as RetryTier,
          kind: name.includes('.delay.') ? 'ladder' : 'tier',
        });
        log.warn('draining a delay topic no longer declared', { topic: name, waiting });
      }
    }
  }

  /** The consumer groups the router runs, and what each reads: for lag. */
  consumerGroups(): { groupId: string; topics: string[] }[] {
    const groups = [{ groupId: this.options.service, topics: [...this.routes.keys()] }];
    if (this.delayTopics.size > 0) groups.push({ groupId: `${this.options.service}.retry`, topics: [...this.delayTopics.keys()] });
    return groups.filter((g) => g.topics.length > 0);
  }

  /** Whether the router consumes anything: a service without routes (the scheduler) has no partitions to wait for. */
  consumes(): boolean {
    return this.routes.size > 0;
  }

  /** Ready once every consumer has its partitions. */
  isReady(): boolean {
    return this.subscriptions.length > 0 && this.subscriptions.every((s) => s.isAssigned());
  }

  /**
   * Tells every handler in flight to stop (their AbortSignal), lets them end and commits what
   * was handled, then leaves the groups. A handler stopped this way leaves its message
   * uncommitted for the next owner: stopping is not its failure.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    const subscriptions = this.subscriptions;
    this.subscriptions = [];
    this.deadlines.abortAll();
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
        if (route) await this.handle(route, record, batch);
        else if ((await this.processDelayed(record, batch)) === 'waiting') break;
        last = record;
      }
    } finally {
      clearInterval(heartbeats);
      // Also when a record could not be dealt with (the registry down): those before it are
      // done, and the batch is read again from that record.
      if (last) await batch.commit(last);
    }
  }

  /**
   * A delay topic's record: handled once due; until then its partition waits. A ladder
   * record whose hop is over but whose wait is not goes down to the next step.
   */
  private async processDelayed(record: ReceivedRecord, batch: Batch): Promise<'done' | 'waiting'> {
    const delayed = this.delayTopics.get(record.topic);
    if (!delayed) throw new Error(`no route for topic ${record.topic}`);
    const notBefore = Number(record.headers[RETRY.notBefore] ?? 0);
    const wakeAt = delayed.kind === 'ladder' ? Number(record.headers[RETRY.wakeAt] ?? notBefore) : notBefore;
    const now = Date.now();
    if (wakeAt > now) {
      batch.pauseUntil(record, wakeAt);
      return 'waiting';
    }
    if (notBefore > now) {
      const hop = nextHop(delayed.route.ladder, notBefore - now, now);
      const headers = { ...record.headers, [RETRY.wakeAt]: String(hop.wakeAt) };
      await this.write([{ topic: delayTopic(delayed.route.topic, hop.step), key: record.key, value: record.value, headers }], 'hop', batch);
      return 'done';
    }
    await this.handle(delayed.route, record, batch);
    return 'done';
  }

  private async handle(route: Route, record: ReceivedRecord, batch: Batch): Promise<void> {
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
    const delivery = new Delivery(
      this,
      route.topic,
      record,
      ce,
      attempt,
      active,
      this.deadlines.start(route.topic, route.timeoutMs, started),
    );
    this.options.observer?.onInFlight?.({ topic: route.topic, change: 1 });
    try {
      await context.with(active, this.invoke, this, route, delivery);
      span.setStatus({ code: SpanStatusCode.OK });
      this.options.observer?.onOutcome({ topic: route.topic, outcome: 'success', seconds: (performance.now() - started) / 1000 });
    } catch (caught) {
      if (caught instanceof SchemaRegistryUnavailableError) throw caught;
      // Stopped by the service's own shutdown: not this message's failure; the next owner reads it again.
      if (this.stopping && delivery.deadline.abortedBy === 'stop')
        throw new StoppedError('the service stopped this handler', { cause: caught });
      const error =
        delivery.deadline.abortedBy === 'timeout' ? new HandlerTimeoutError(delivery.deadline.message(), { cause: caught }) : caught;
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: describeError(error).message });
      await this.fail(route, record, attempt, error, delivery.log, span, started, active, batch);
    } finally {
      delivery.deadline.done();
      this.options.observer?.onInFlight?.({ topic: route.topic, change: -1 });
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
      throw decodeFailure(error);
    }
    if (known) return this.run(typeRoute, delivery, known.payload);
    return codec.decodeAs(typeRoute.contract, value).then(
      (decoded) => this.run(typeRoute, delivery, decoded.payload),
      (error) => Promise.reject(decodeFailure(error)),
    );
  }

  /**
   * A handler past its deadline is told to stop, and waited for: its message goes on to its
   * retry only once it has ended, so it never runs beside its own retry. Its partition waits
   * meanwhile; the timeouts metric says how often that happens.
   */
  private run(typeRoute: TypeRoute, delivery: Delivery, payload: unknown): Promise<void> {
    delivery.payload = payload;
    return (typeRoute.chain ?? typeRoute.handler)(delivery as MessageContext<unknown>);
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
    batch: Batch,
  ) {
    const now = Date.now();
    const outcome = decideFailure(error, {
      attempt,
      tiers: route.tiers,
      maxAttempts: route.maxAttempts,
      classify: route.classify,
      deferred: deferredOf(record.headers),
      deferLimits: route.deferLimits,
      now,
    });
    const origin: Origin = originOf(record.headers, { topic: record.topic, partition: record.partition, offset: record.offset });
    const firstFailedAt = record.headers[RETRY.firstFailedAt] ?? new Date(now).toISOString();
    const seconds = (performance.now() - started) / 1000;
    // The retry or dead letter continues this trace: its traceparent is the failed span's.
    const base = withTraceContext(record.headers, active);
    if (outcome.kind === 'retry' || outcome.kind === 'defer') {
      const headers = retryHeaders(base, origin, outcome.attempt, outcome.notBefore, firstFailedAt);
      if (outcome.kind === 'defer') {
        headers[RETRY.defers] = String(outcome.defers);
        headers[RETRY.firstDeferredAt] = String(outcome.firstDeferredAt);
      }
      const { topic, label } = this.delayFor(route, outcome, headers, now);
      await this.write([{ topic, key: record.key, value: record.value, headers }], 'retry', batch);
      span.setAttribute('tickflow.outcome', outcome.kind);
      log.warn(outcome.kind === 'retry' ? 'handler failed; retrying' : 'deferred', {
        error,
        delay: label,
        notBefore: new Date(outcome.notBefore).toISOString(),
      });
      this.options.observer?.onOutcome({ topic: route.topic, outcome: outcome.kind, seconds, tier: label });
      return;
    }
    const headers = deadLetterHeaders(base, origin, outcome.attempt, firstFailedAt, outcome.reason, error);
    await this.write([{ topic: deadLetterTopic(route.topic), key: record.key, value: record.value, headers }], 'dlq', batch);
    const ce = readCloudEvent(record.headers);
    const described = describeError(error);
    await this.retryWrite('event', batch, () =>
      this.emit(
        jobFailed,
        {
          topic: route.topic,
          key: record.key?.toString() ?? null,
          eventId: 'id' in ce ? ce.id : '',
          eventType: 'type' in ce ? ce.type : '',
          attempts: outcome.attempt,
          reason: outcome.reason === 'deferred-too-long' ? 'exhausted' : outcome.reason,
          dlqReason: outcome.reason,
          errorClass: described.errorClass,
          errorMessage: described.message,
          firstFailedAt,
          failedAt: new Date(now).toISOString(),
        },
        record.key?.toString() ?? null,
        active,
      ),
    );
    span.setAttribute('tickflow.outcome', 'dlq');
    log.error('message dead-lettered', { error, reason: outcome.reason });
    this.options.observer?.onOutcome({ topic: route.topic, outcome: 'dlq', seconds, reason: outcome.reason });
  }

  /** Where a retry or defer waits: its tier's topic, or the first hop down the route's ladder. */
  private delayFor(route: Route, outcome: Extract<FailureOutcome, { kind: 'retry' | 'defer' }>, headers: Headers, now: number) {
    if (outcome.kind === 'retry' && outcome.tier) return { topic: retryTopic(route.topic, outcome.tier), label: outcome.tier.label };
    const hop = nextHop(route.ladder, outcome.notBefore - now, now);
    headers[RETRY.wakeAt] = String(hop.wakeAt);
    return { topic: delayTopic(route.topic, hop.step), label: `delay.${hop.step.label}` };
  }

  /**
   * Writes an outcome record, trying again with backoff until the broker takes it: the
   * handler's work is done and must not be repeated for a write that failed. A dead letter
   * too large for its topic is trimmed to fit. Gives up only when the subscription stops;
   * the record is then read again by the next owner.
   */
  private write(records: OutgoingRecord[], kind: 'retry' | 'dlq' | 'hop', batch: Batch): Promise<void> {
    let pending = records;
    return this.retryWrite(kind, batch, async () => {
      try {
        await this.options.transport.produce(pending);
      } catch (error) {
        if (error instanceof RecordTooLargeError && kind === 'dlq')
          pending = pending.map((r) => ({ ...r, headers: trimmedDeadLetterHeaders(r.headers) }));
        throw error;
      }
    });
  }

  private async retryWrite(kind: 'retry' | 'dlq' | 'hop' | 'event', batch: Batch, attempt: () => Promise<void>): Promise<void> {
    let waitMs = WRITE_RETRY_FIRST_MS;
    for (;;) {
      try {
        await attempt();
        return;
      } catch (error) {
        if (!batch.isRunning()) throw error;
        this.options.observer?.onWriteRetry?.({ topic: batch.topic, kind });
        this.options.log.warn('writing an outcome failed; trying again', { kind, topic: batch.topic, error, retryInMs: waitMs });
        await new Promise((resolve) => setTimeout(resolve, waitMs));
        waitMs = Math.min(WRITE_RETRY_MAX_MS, waitMs * 2);
      }
    }
  }

  async emit<E>(contract: Contract<E>, payload: E, key: string | null, parent: Context = context.active()): Promise<void> {
    await this.publish(this.eventsTopic, contract, payload, { key }, parent);
  }

  /**
   * Sends a message (a fan-out, a request to another service) through the router's own
   * transport and codec, with the CloudEvents envelope and the trace of `parent` carried on.
   * Resolves once the broker has it. An `id` derived from what caused the message makes a
   * redelivered cause send the same ids, for the receiver to drop duplicates by.
   */
  async publish<E>(
    topic: string,
    contract: Contract<E>,
    payload: E,
    { key, id }: { key: string | null; id?: string },
    parent: Context = context.active(),
  ): Promise<void> {
    if (!this.registered.has(contract)) {
      await this.options.codec.register([contract]);
      this.registered.add(contract);
    }
    const value = await this.options.codec.encode(contract, payload);
    const headers = cloudEventHeaders(newCloudEvent(`tickflow/${this.options.service}`, contract.type, id));
    await produceTraced(this.options.transport, { topic, key, value, headers }, parent);
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

  send<E>(topic: string, contract: Contract<E>, payload: E, options: { key: string | null; id?: string }): Promise<void> {
    return this.router.publish(topic, contract, payload, options, this.traceContext);
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

/** Only a value that can never decode is undecodable; any other failure is the registry's. */
function decodeFailure(error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof UndecodableError) return new UndecodableMessageError(message, { cause: error });
  return new SchemaRegistryUnavailableError(`the schema registry could not decode the message: ${message}`, { cause: error });
}

function withTraceContext(headers: Headers, ctx: Context): Headers {
  const carrier: Headers = { ...headers };
  delete carrier.traceparent;
  delete carrier.tracestate;
  propagator.inject(ctx, carrier, headerSetter);
  return carrier;
}
