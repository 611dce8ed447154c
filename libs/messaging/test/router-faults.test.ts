// What the router does when what it writes to or reads through fails: a registry outage is
// waited out, a failed outcome write is retried alone, a dead letter too large is trimmed, and
// a handler past its deadline is waited for before its retry.
import { defineEvent, EventCodec } from '@tickflow/contracts';
import { eventually, readRecords, stack, startTcpProxy, type TcpProxy, uniqueName } from '@tickflow/testing';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { cloudEventHeaders, newCloudEvent, RETRY } from '../src/envelope.ts';
import { FatalError } from '../src/errors.ts';
import { HandlerTimeoutError } from '../src/handler-deadlines.ts';
import { KafkaJsTransport } from '../src/kafkajs-transport.ts';
import { Router } from '../src/router.ts';
import { memoryLog, TestBed, testJob } from './test-bed.ts';

const kafka = new Kafka({ clientId: 'router-faults-test', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

describe('a schema registry outage', () => {
  it('dead-letters nothing: messages wait until the registry is back, then are all handled once', async () => {
    const registry = new URL(stack.schemaRegistryUrl);
    const proxy: TcpProxy = await startTcpProxy({ host: registry.hostname, port: Number(registry.port) });
    cleanups.push(() => proxy.close());
    const type = `tickflow.test.outage-${uniqueName('t')}`;
    const fields = [{ name: 'id', type: 'string' }];
    const v1 = defineEvent<{ id: string }>(type, { type: 'record', name: 'OutageJob', namespace: 'dev.tickflow.test', fields });
    // A later version the service has never seen: decoding it needs the registry.
    const v2 = defineEvent<{ id: string; note: string }>(type, {
      type: 'record',
      name: 'OutageJob',
      namespace: 'dev.tickflow.test',
      fields: [...fields, { name: 'note', type: 'string', default: '' }],
    });
    const service = uniqueName('svc');
    const topic = `${service}.requests`;
    const transport = new KafkaJsTransport({ clientId: service, brokers: stack.kafkaBrokers });
    const viaProxy = `${registry.protocol}//${proxy.address}${registry.pathname}`;
    const router = new Router({ service, transport, codec: new EventCodec({ registryUrl: viaProxy }), log: memoryLog(), partitions: 1 });
    const handled: string[] = [];
    router.route(topic, v1, async (m) => void handled.push(m.payload.id), { retry: ['1s'] });
    await router.start();
    cleanups.push(async () => {
      await router.stop();
      await transport.close();
    });

    const direct = new EventCodec({ registryUrl: stack.schemaRegistryUrl });
    await direct.register([v1, v2]);
    const producer = kafka.producer();
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    proxy.cut();
    const ids = Array.from({ length: 20 }, (_, i) => `m${i}`);
    for (const id of ids) {
      await producer.send({
        topic,
        acks: -1,
        messages: [{ key: id, value: await direct.encode(v2, { id, note: 'new' }), headers: cloudEventHeaders(newCloudEvent('t', type)) }],
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 4000));
    expect(handled).toEqual([]);
    proxy.restore();
    await eventually('every message handled', async () => (handled.length >= ids.length ? true : undefined), 30_000);
    expect([...handled].sort()).toEqual([...ids].sort());
    const admin = kafka.admin();
    await admin.connect();
    const ends = async (name: string) => (await admin.fetchTopicOffsets(name)).reduce((n, p) => n + Number(p.high), 0);
    expect(await ends(`${topic}.dlq`)).toBe(0);
    expect(await ends(`${topic}.retry.1s`)).toBe(0);
    await admin.disconnect();
  });
});

describe('outcome writes', () => {
  it('retry only the write when the retry topic is gone, never the handler', async () => {
    let calls = 0;
    const bed = new TestBed(
      async () => {
        calls += 1;
        if (calls === 1) throw new Error('first attempt fails');
      },
      { retry: ['1s'] },
      1,
    );
    cleanups.push(() => bed.stop());
    await bed.start();
    const retryTopic = `${bed.topic}.retry.1s`;
    const admin = kafka.admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    await admin.deleteTopics({ topics: [retryTopic] });
    await bed.send('job-write-fails');
    await eventually(
      'the write retried',
      async () => (bed.log.some((l) => l.msg === 'writing an outcome failed; trying again') ? true : undefined),
      30_000,
    );
    await admin.createTopics({ topics: [{ topic: retryTopic, numPartitions: 1 }], waitForLeaders: true });
    await eventually('the retry handled', async () => (calls >= 2 ? true : undefined), 60_000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(calls).toBe(2);
  });

  it('trim a dead letter too large for its topic, keeping its payload and replay headers', async () => {
    const bed = new TestBed(
      async () => {
        throw new FatalError(`carrier said: ${'x'.repeat(5000)}`);
      },
      {},
      1,
    );
    cleanups.push(() => bed.stop());
    const admin = kafka.admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    // A DLQ that takes records of at most 2,000 bytes: the full dead letter (a 1,000-character
    // message and a 2,000-character stack in its headers) does not fit.
    await admin.createTopics({
      topics: [{ topic: `${bed.topic}.dlq`, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: '2000' }] }],
      waitForLeaders: true,
    });
    await bed.start();
    await bed.send('job-too-large', { key: 'k-large' });
    const [original] = await bed.read(bed.topic, 1);
    const [dead] = await readRecords(`${bed.topic}.dlq`, 1, 30_000);
    expect(dead?.value?.equals(original?.value as Buffer)).toBe(true);
    expect(dead?.key?.toString()).toBe('k-large');
    expect(dead?.headers[RETRY.dlqReason]).toBe('fatal');
    expect(dead?.headers[RETRY.originalTopic]).toBe(bed.topic);
    expect(dead?.headers[RETRY.originalOffset]).toBe(original?.offset);
    expect(dead?.headers[RETRY.errorStack]).toBeUndefined();
    expect(dead?.headers[RETRY.errorMessage]?.length).toBe(200);
  });
});

describe('a handler past its deadline', () => {
  it('is told to stop, and its retry starts only once it has ended', async () => {
    const runs: { attempt: number; start: number; end: number }[] = [];
    let timeouts = 0;
    const bed = new TestBed(
      async (m) => {
        const start = Date.now();
        // Ignores its signal on the first attempt: runs on for 1.5 s past the 500 ms deadline.
        if (m.attempt === 0) await new Promise((resolve) => setTimeout(resolve, 2000));
        runs.push({ attempt: m.attempt, start, end: Date.now() });
        if (m.attempt === 0) throw new Error('gave up late');
      },
      { retry: ['1s'], timeoutMs: 500 },
      1,
      {
        onOutcome: () => undefined,
        onTimeout: () => {
          timeouts += 1;
        },
      },
    );
    cleanups.push(() => bed.stop());
    await bed.start();
    await bed.send('job-slow');
    await eventually('the retry', async () => (runs.length >= 2 ? true : undefined), 30_000);
    const [first, retry] = runs as [(typeof runs)[0], (typeof runs)[0]];
    expect(retry.attempt).toBe(1);
    expect(retry.start).toBeGreaterThanOrEqual(first.end);
    expect(timeouts).toBe(1);
    const failure = bed.log.find((l) => l.msg === 'handler failed; retrying');
    expect(failure?.fields.error).toBeInstanceOf(HandlerTimeoutError);
  });
});

describe('stopping', () => {
  it('tells a handler in flight to stop and leaves its message for the next owner, spending no attempt', async () => {
    const service = uniqueName('svc');
    const topic = `${service}.requests`;
    const codec = new EventCodec({ registryUrl: stack.schemaRegistryUrl });
    const runs: { attempt: number; aborted: boolean }[] = [];
    const start = async (longRun: boolean) => {
      const transport = new KafkaJsTransport({ clientId: service, brokers: stack.kafkaBrokers });
      const router = new Router({ service, transport, codec, log: memoryLog(), partitions: 1 });
      router.route(
        topic,
        testJob,
        async (m) => {
          const run = { attempt: m.attempt, aborted: false };
          runs.push(run);
          if (!longRun) return;
          // A long run that stops at its next step once told to.
          await new Promise<void>((_resolve, reject) => {
            m.signal.addEventListener('abort', () => {
              run.aborted = true;
              reject(m.signal.reason);
            });
          });
        },
        { retry: ['1s'], timeoutMs: 60_000 },
      );
      await router.start();
      return { router, transport };
    };
    const first = await start(true);
    const producer = kafka.producer();
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    await codec.register([testJob]);
    await producer.send({
      topic,
      acks: -1,
      messages: [
        { key: 'k', value: await codec.encode(testJob, { id: 'long' }), headers: cloudEventHeaders(newCloudEvent('t', testJob.type)) },
      ],
    });
    await eventually('the long run started', async () => (runs.length >= 1 ? true : undefined), 20_000);
    await first.router.stop();
    await first.transport.close();
    expect(runs[0]?.aborted).toBe(true);
    const second = await start(false);
    cleanups.push(async () => {
      await second.router.stop();
      await second.transport.close();
    });
    await eventually('the message handled by the next owner', async () => (runs.length >= 2 ? true : undefined), 30_000);
    expect(runs[1]?.attempt).toBe(0);
    const admin = kafka.admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    expect((await admin.fetchTopicOffsets(`${topic}.retry.1s`)).reduce((n, p) => n + Number(p.high), 0)).toBe(0);
  });
});
