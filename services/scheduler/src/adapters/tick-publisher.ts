// Sends ticks. A firing's tick and its state record go in one Kafka transaction, so a
// leader that dies between the two leaves neither behind, and the transactional id fences
// a deposed leader that is still running: the same firing is never committed twice.
import { randomUUID } from 'node:crypto';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { type EventCodec, schedulerTick } from '@tickflow/contracts';
import { cloudEventHeaders, type Headers, newCloudEvent } from '@tickflow/messaging';
import type { Kafka, Producer } from 'kafkajs';
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

export class TickPublisher {
  private transactional: Promise<Producer> | undefined;
  private plain: Promise<Producer> | undefined;
  private transactionQueue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly kafka: Kafka,
    private readonly codec: EventCodec,
    private readonly stateTopic: string,
    private readonly transactionalId: string,
  ) {}

  /** A scheduled firing: the tick and the record that it fired, atomically. */
  async publishFiring(schedule: Schedule, scheduledTime: Date): Promise<SentTick> {
    // One transaction at a time per producer: schedules due together take turns.
    const turn = this.transactionQueue.then(() => this.sendFiring(schedule, scheduledTime));
    this.transactionQueue = turn.catch(() => undefined);
    return turn;
  }

  private async sendFiring(schedule: Schedule, scheduledTime: Date): Promise<SentTick> {
    this.transactional ??= this.connect({ transactionalId: this.transactionalId, idempotent: true, maxInFlightRequests: 1 });
    const producer = await this.transactional;
    const id = tickId(schedule.name, scheduledTime);
    const { record, headers } = await this.encode(schedule, scheduledTime, id, {});
    const transaction = await producer.transaction();
    try {
      await transaction.send({ topic: record.topic, messages: [{ key: record.key, value: record.value, headers }] });
      const state: FiringRecord = { lastFired: scheduledTime.toISOString() };
      await transaction.send({ topic: this.stateTopic, messages: [{ key: schedule.name, value: JSON.stringify(state) }] });
      await transaction.commit();
    } catch (error) {
      await transaction.abort().catch(() => undefined);
      throw error;
    }
    return { id, topic: record.topic, key: record.key, scheduledTime: scheduledTime.toISOString() };
  }

  /** Resolves once no firing is being sent: what has fired is then all in the state topic. */
  async settled(): Promise<void> {
    await this.transactionQueue;
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
    for (const producer of [this.transactional, this.plain]) await (await producer)?.disconnect();
    this.transactional = undefined;
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

  private async connect(options: { transactionalId?: string; idempotent: boolean; maxInFlightRequests: number }): Promise<Producer> {
    const producer = this.kafka.producer(options);
    await producer.connect();
    return producer;
  }
}
