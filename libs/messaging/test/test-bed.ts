// A service of its own per test: unique topics and groups on the real Kafka and registry.
import { defineEvent, EventCodec } from '@tickflow/contracts';
import { type ReadRecord, readRecords, stack, uniqueName } from '@tickflow/testing';
import { Kafka, logLevel } from 'kafkajs';
import { cloudEventHeaders, type Headers, newCloudEvent } from '../src/envelope.ts';
import { KafkaJsTransport } from '../src/kafkajs-transport.ts';
import { type Handler, type Log, type MessageContext, type OutcomeObserver, type RouteOptions, Router } from '../src/router.ts';

export interface TestJob {
  id: string;
}

export const testJob = defineEvent<TestJob>('tickflow.test.job', {
  type: 'record',
  name: 'TestJob',
  namespace: 'dev.tickflow.test',
  fields: [{ name: 'id', type: 'string' }],
});

/** One delivery of a test job: which, at what attempt, when. */
export interface Delivery {
  id: string;
  attempt: number;
  at: number;
}

/** A handler that records each delivery, then does what `behaviour` says for the n-th delivery of that job. */
export function recording(deliveries: Delivery[], behaviour: (m: MessageContext<TestJob>, n: number) => void | Promise<void>) {
  return async (m: MessageContext<TestJob>) => {
    deliveries.push({ id: m.payload.id, attempt: m.attempt, at: Date.now() });
    await behaviour(m, deliveries.filter((d) => d.id === m.payload.id).length);
  };
}

export interface LogLine {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}

export function memoryLog(lines: LogLine[] = [], bound: Record<string, unknown> = {}): Log {
  const write =
    (level: string) =>
    (msg: string, fields: Record<string, unknown> = {}) => {
      lines.push({ level, msg, fields: { ...bound, ...fields } });
    };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (f) => memoryLog(lines, { ...bound, ...f }),
  };
}

export class TestBed {
  readonly service = uniqueName('svc');
  readonly topic = `${this.service}.requests`;
  readonly codec = new EventCodec({ registryUrl: stack.schemaRegistryUrl });
  readonly transport = new KafkaJsTransport({ clientId: this.service, brokers: stack.kafkaBrokers });
  readonly log: LogLine[] = [];
  readonly router: Router;
  private readonly kafka = new Kafka({ clientId: `${this.service}-test`, brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });
  private readonly producer = this.kafka.producer();

  constructor(handler: Handler<TestJob>, options: RouteOptions = {}, partitions = 2, observer?: OutcomeObserver) {
    this.router = new Router({
      service: this.service,
      transport: this.transport,
      codec: this.codec,
      log: memoryLog(this.log),
      partitions,
      ...(observer ? { observer } : {}),
    });
    this.router.route(this.topic, testJob, handler, options);
  }

  async start(): Promise<void> {
    await this.router.start();
    await this.producer.connect();
  }

  async send(id: string, options: { key?: string; partition?: number; headers?: Headers; topic?: string } = {}): Promise<Headers> {
    const value = await this.codec.encode(testJob, { id });
    const headers = { ...cloudEventHeaders(newCloudEvent('tickflow/test', testJob.type)), ...options.headers };
    await this.sendRaw(value, headers, options);
    return headers;
  }

  async sendRaw(value: Buffer | null, headers: Headers, options: { key?: string; partition?: number; topic?: string } = {}): Promise<void> {
    await this.producer.send({
      topic: options.topic ?? this.topic,
      acks: -1,
      messages: [
        { key: options.key ?? null, value, headers, ...(options.partition === undefined ? {} : { partition: options.partition }) },
      ],
    });
  }

  /** Reads `count` records of a topic from its beginning, or fails after `timeoutMs`. */
  read(topic: string, count: number, timeoutMs = 20_000): Promise<ReadRecord[]> {
    return readRecords(topic, count, timeoutMs);
  }

  async stop(): Promise<void> {
    await this.router.stop();
    await this.transport.close();
    await this.producer.disconnect();
  }
}
