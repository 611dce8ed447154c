// Sends ticks. A firing's tick and its state record go in one Kafka transaction, so a
// leader that dies between the two leaves neither behind. The replicas share one
// transactional id: a new leader claims it before it reads the state, which fences a deposed
// leader that is still running (or paused), so the same firing is never committed twice.
import { randomUUID } from 'node:crypto';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { type EventCodec, schedulerTick } from '@tickflow/contracts';
import { cloudEventHeaders, type Headers, newCloudEvent } from '@tickflow/messaging';
import type { Kafka, Producer, Transaction } from 'kafkajs';
import { tickId } from '../domain/firings.ts';
import type { Schedule } from '../domain/schedules.ts';
import { buildTick } from '../domain/ticks.ts';
import type { FiringRecord } from './schedule-state.ts';

const tracer = trace.getTracer('@tickflow/scheduler');
const propagator = new W3CTraceContextPropagator();
const SOURCE = 'tickflow/scheduler';

export interface SentTick {
  id: string;
  topic: string;
  key: string;
  scheduledTime: string;
}

/**
 * The transactional id was claimed by a newer producer: another replica has most likely
 * been given the lead.
 */
export class ProducerFencedError extends Error {
  override name = 'ProducerFencedError';
}

export class TickPublisher {
  /** The producer of this replica's claim on the transactional id, until a firing fails on it. */
  private transactional: Producer | undefined;
  private plain: Promise<Producer> | undefined;
  private transactionQueue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly kafka: Kafka,
    private readonly codec: EventCodec,
    private readonly stateTopic: string,
    private readonly transactionalId: string,
  ) {}

  /**
   * Takes the transactional id with a new producer. Its initialisation fences every older
   * producer of the id, another replica's or this one's: a transaction they have open is
   * aborted, and nothing they send later can commit. Waits for a firing under way to end.
   */
  async claim(): Promise<void> {
    await this.inTurn(async () => {
      this.dropTransactional();
      const producer = this.kafka.producer({
        transactionalId: this.transactionalId,
        idempotent: true,
        maxInFlightRequests: 1,
        // Bounded, unlike kafkajs' default for an idempotent producer (for ever): a firing
        // that cannot reach the broker fails within seconds and shows in readiness; the loop
        // then claims the id anew and reads the state before it tries again.
        retry: { retries: 5 },
      });
      try {
        await producer.connect();
        // kafkajs sends InitProducerId for the transactional id only as a first transaction
        // begins; an empty one makes it happen now. Ending it sends nothing.
        await (await producer.transaction()).abort();
      } catch (error) {
        await producer.disconnect().catch(() => undefined);
        throw error;
      }
      this.transactional = producer;
    });
  }

  /** A scheduled firing: the tick and the record that it fired, atomically. */
  async publishFiring(schedule: Schedule, scheduledTime: Date): Promise<SentTick> {
    return this.inTurn(() => this.sendFiring(schedule, scheduledTime));
  }

  // One transaction at a time per producer: schedules due together take turns.
  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    const turn = this.transactionQueue.then(work);
    this.transactionQueue = turn.catch(() => undefined);
    return turn;
  }

  private async sendFiring(schedule: Schedule, scheduledTime: Date): Promise<SentTick> {
    const producer = this.transactional;
    if (!producer) throw new Error('the transactional id is not claimed: the last firing failed, or the lead was not taken');
    const id = tickId(schedule.name, scheduledTime);
    const { record, headers } = await this.encode(schedule, scheduledTime, id, {});
    let transaction: Transaction | undefined;
    try {
      transaction = await producer.transaction();
      await transaction.send({ topic: record.topic, messages: [{ key: record.key, value: record.value, headers }] });
      const state: FiringRecord = { lastFired: scheduledTime.toISOString() };
      await transaction.send({ topic: this.stateTopic, messages: [{ key: schedule.name, value: JSON.stringify(state) }] });
      await transaction.commit();
    } catch (error) {
      await transaction?.abort().catch(() => undefined);
      // kafkajs may leave the producer stuck after a failed transaction (a failed commit
      // leaves it "committing" for ever), or it is fenced: a new claim replaces it.
      this.dropTransactional();
      throw isFencing(error) ? new ProducerFencedError(`${this.transactionalId} is claimed by a newer producer`, { cause: error }) : error;
    }
    return { id, topic: record.topic, key: record.key, scheduledTime: scheduledTime.toISOString() };
  }

  private dropTransactional(): void {
    void this.transactional?.disconnect().catch(() => undefined);
    this.transactional = undefined;
  }

  /** A manual trigger: a tick with a fresh id, now, outside the schedule's own firings. */
  async publishManual(schedule: Schedule, payloadOverride: Record<string, string>): Promise<SentTick> {
    this.plain ??= this.connect({ idempotent: true, maxInFlightRequests: 1 });
    const producer = await this.plain;
    const now = new Date();
    const id = `manual:${schedule.name}:${randomUUID()}`;
    const { record, headers } = await this.encode(schedule, now, id, payloadOverride);
    await producer.send({ topic: record.topic, acks: -1, messages: [{ key: record.key, value: record.value, headers }] });
    return { id, topic: record.topic, key: record.key, scheduledTime: now.toISOString() };
  }

  async close(): Promise<void> {
    await this.inTurn(async () => {
      await this.transactional?.disconnect();
      this.transactional = undefined;
    });
    await (await this.plain)?.disconnect();
    this.plain = undefined;
  }

  private async encode(schedule: Schedule, scheduledTime: Date, id: string, override: Record<string, string>) {
    const built = buildTick(schedule, scheduledTime, override);
    const value = await this.codec.encode(schedulerTick, built.tick);
    // A tick starts the trace that the whole job then continues.
    const span = tracer.startSpan(`send ${built.topic}`, {
      kind: SpanKind.PRODUCER,
      attributes: { 'messaging.system': 'kafka', 'messaging.destination.name': built.topic, 'messaging.message.id': id },
    });
    const headers: Headers = cloudEventHeaders(newCloudEvent(SOURCE, schedulerTick.type, id, scheduledTime));
    propagator.inject(trace.setSpan(context.active(), span), headers, {
      set: (carrier, key, v) => {
        carrier[key] = v;
      },
    });
    span.end();
    return { record: { topic: built.topic, key: built.key, value }, headers };
  }

  private async connect(options: { idempotent: boolean; maxInFlightRequests: number }): Promise<Producer> {
    const producer = this.kafka.producer(options);
    await producer.connect();
    return producer;
  }
}

// INVALID_PRODUCER_EPOCH at kafkajs' request versions; PRODUCER_FENCED (90), which kafkajs
// does not know by name, at newer ones. kafkajs may wrap either in a retry error.
function isFencing(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause) {
    const { type } = e as { type?: string };
    if (type === 'INVALID_PRODUCER_EPOCH' || type === 'PRODUCER_FENCED' || e.message.includes('error code 90')) return true;
  }
  return false;
}
