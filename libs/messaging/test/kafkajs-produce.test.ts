// Produce calls made at once go out together, in the order they came, and each has the
// outcome of its own records: one too large fails its caller only.
import { stack, uniqueName } from '@tickflow/testing';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { RecordTooLargeError } from '../src/errors.ts';
import { KafkaJsTransport } from '../src/kafkajs-transport.ts';

const kafka = new Kafka({ clientId: 'produce-test', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });
const admin = kafka.admin();
const transport = new KafkaJsTransport({ clientId: 'produce-test', brokers: stack.kafkaBrokers });

afterAll(async () => {
  await admin.disconnect();
  await transport.close();
});

async function topicWith(maxMessageBytes: number): Promise<string> {
  const topic = uniqueName('produce');
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: String(maxMessageBytes) }] }],
  });
  return topic;
}

/** Every value on the topic's one partition, in offset order. */
async function valuesOn(topic: string, count: number): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('produce-reader') });
  const values: string[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        values.push(message.value?.toString() ?? '');
        if (values.length >= count) resolve();
      },
    });
  });
  await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 30_000))]);
  await consumer.disconnect();
  return values;
}

const record = (topic: string, value: string) => ({ topic, key: null, value: Buffer.from(value), headers: { n: value.slice(0, 8) } });

describe('KafkaJsTransport.produce', () => {
  it('writes calls made at once, every record once, in the order of the calls', async () => {
    const topic = await topicWith(1024 * 1024);
    const values = Array.from({ length: 300 }, (_, i) => `v${String(i).padStart(4, '0')}`);
    await Promise.all(values.map((v) => transport.produce([record(topic, v)])));
    expect(await valuesOn(topic, values.length)).toEqual(values);
  });

  it('fails only the call whose record is too large; the calls beside it are written', async () => {
    const topic = await topicWith(2000);
    const calls = Array.from({ length: 20 }, (_, i) => (i === 7 ? 'x'.repeat(5000) : `small-${i}`));
    const outcomes = await Promise.allSettled(calls.map((v) => transport.produce([record(topic, v)])));
    expect(outcomes.map((o) => o.status)).toEqual(calls.map((_, i) => (i === 7 ? 'rejected' : 'fulfilled')));
    expect((outcomes[7] as PromiseRejectedResult).reason).toBeInstanceOf(RecordTooLargeError);
    const written = await valuesOn(topic, 19);
    expect([...new Set(written)].sort()).toEqual(calls.filter((_, i) => i !== 7).sort());
  });
});
