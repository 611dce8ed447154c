// The Kafka transport's subscription reads the next batch ahead while one is handled, and
// commits only what was handled. These tests drive it directly, on the real broker.
import { eventually, stack, uniqueName } from '@tickflow/testing';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { KafkaJsTransport } from '../src/kafkajs-transport.ts';
import type { Batch, Subscription } from '../src/transport.ts';

const kafka = new Kafka({ clientId: 'subscription-test', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });
const warnings: string[] = [];
const transport = new KafkaJsTransport({
  clientId: 'subscription-test',
  brokers: stack.kafkaBrokers,
  log: { warn: (msg) => warnings.push(msg) },
});
const subscriptions: Subscription[] = [];

afterEach(async () => {
  await Promise.all(subscriptions.splice(0).map((s) => s.stop()));
});

async function topicWith(partitions: number, perPartition: number): Promise<string> {
  const topic = uniqueName('subscription');
  await transport.ensureTopics([{ name: topic, partitions, retentionMs: 3_600_000, cleanupPolicy: 'delete' }]);
  const producer = kafka.producer();
  await producer.connect();
  for (let partition = 0; partition < partitions; partition++) {
    await producer.send({
      topic,
      messages: Array.from({ length: perPartition }, (_, i) => ({ partition, key: `p${partition}`, value: `${partition}:${i}` })),
    });
  }
  await producer.disconnect();
  return topic;
}

async function committed(groupId: string, topic: string): Promise<Record<number, string>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return Object.fromEntries((offsets?.partitions ?? []).map((p) => [p.partition, p.offset]));
  } finally {
    await admin.disconnect();
  }
}

async function subscribe(groupId: string, topic: string, concurrency: number, onBatch: (batch: Batch) => Promise<void>) {
  const subscription = await transport.subscribe({ groupId, topics: [topic], concurrency, onBatch });
  subscriptions.push(subscription);
  return subscription;
}

async function handleAll(batch: Batch, handled: string[]): Promise<void> {
  for (const record of batch.records) handled.push(String(record.value));
  const last = batch.records.at(-1);
  if (last) await batch.commit(last);
}

describe('KafkaJsTransport subscription', () => {
  it('reads a batch again from its first record when handling it fails, and commits only what was handled', async () => {
    const topic = await topicWith(1, 5);
    const groupId = uniqueName('group');
    const handled: string[] = [];
    let failed = false;
    const subscription = await subscribe(groupId, topic, 1, async (batch) => {
      if (!failed) {
        // Two records handled, then the outcome of the third cannot be made durable.
        handled.push(...batch.records.slice(0, 2).map((r) => String(r.value)));
        failed = true;
        throw new Error('broker unreachable');
      }
      await handleAll(batch, handled);
    });
    await eventually('every record handled', async () => (handled.length >= 7 ? true : undefined), 20_000);
    await subscription.stop();
    subscriptions.length = 0;
    expect(handled).toEqual(['0:0', '0:1', '0:0', '0:1', '0:2', '0:3', '0:4']);
    expect(warnings.some((w) => w.includes('reading it again'))).toBe(true);
    expect(await committed(groupId, topic)).toEqual({ 0: '5' });
  });

  it('commits nothing for records fetched ahead but never handled', async () => {
    const topic = await topicWith(1, 3);
    const groupId = uniqueName('group');
    const seen: string[] = [];
    // Sees each batch and hands nothing back as handled.
    const subscription = await subscribe(groupId, topic, 1, async (batch) => {
      seen.push(...batch.records.map((r) => String(r.value)));
    });
    await eventually('the batch seen', async () => (seen.length >= 3 ? true : undefined), 20_000);
    await subscription.stop();
    subscriptions.length = 0;
    expect(await committed(groupId, topic)).toEqual({ 0: '-1' });
  });

  it('handles at most `concurrency` partitions at once, each in order', async () => {
    for (const concurrency of [1, 3]) {
      const topic = await topicWith(3, 20);
      const handled: string[] = [];
      let running = 0;
      let mostAtOnce = 0;
      await subscribe(uniqueName('group'), topic, concurrency, async (batch) => {
        running += 1;
        mostAtOnce = Math.max(mostAtOnce, running);
        await new Promise((resolve) => setTimeout(resolve, 300));
        await handleAll(batch, handled);
        running -= 1;
      });
      await eventually('every record handled', async () => (handled.length >= 60 ? true : undefined), 20_000);
      expect(mostAtOnce).toBe(concurrency);
      for (let partition = 0; partition < 3; partition++) {
        const order = handled.filter((v) => v.startsWith(`${partition}:`)).map((v) => Number(v.split(':')[1]));
        expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i));
      }
    }
  });

  it('loses no record when a second member joins the group and takes partitions over', async () => {
    const topic = await topicWith(3, 200);
    const groupId = uniqueName('group');
    const handled = new Set<string>();
    const byMember = [0, 0];
    const slowly = (member: number) => async (batch: Batch) => {
      for (const record of batch.records) {
        if (!batch.isRunning()) break;
        await new Promise((resolve) => setTimeout(resolve, 5));
        handled.add(String(record.value));
        byMember[member] = (byMember[member] ?? 0) + 1;
        await batch.commit(record);
      }
    };
    await subscribe(groupId, topic, 3, slowly(0));
    await eventually('the first member under way', async () => (handled.size >= 50 ? true : undefined), 20_000);
    await subscribe(groupId, topic, 3, slowly(1));
    await eventually('every record handled', async () => (handled.size >= 600 ? true : undefined), 60_000);
    expect(byMember[1]).toBeGreaterThan(0);
    expect(handled.size).toBe(600);
  });
});
