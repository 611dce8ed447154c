// The Kafka transport's subscription reads the next batch ahead while one is handled, and
// commits only what was handled; a new group starts where it is told; a rebalance hands a
// partition over without two members handling a record at once; a stop keeps committing
// while it drains. These tests drive it directly, on the real broker, with real members.
import { eventually, stack, uniqueName } from '@tickflow/testing';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { KafkaJsTransport } from '../src/kafkajs-transport.ts';
import type { Batch, SubscribeOptions, Subscription } from '../src/transport.ts';

const kafka = new Kafka({ clientId: 'subscription-test', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });
const warnings: string[] = [];
const transport = memberTransport('subscription-test');
const transports: KafkaJsTransport[] = [];
const subscriptions: Subscription[] = [];

afterEach(async () => {
  await Promise.all(subscriptions.splice(0).map((s) => s.stop()));
  await Promise.all(transports.splice(0).map((t) => t.close()));
});

/** A transport of its own for each member: kafkajs' round robin gives partitions in the order of the members' client ids. */
function memberTransport(clientId: string): KafkaJsTransport {
  return new KafkaJsTransport({ clientId, brokers: stack.kafkaBrokers, log: { warn: (msg) => warnings.push(msg) } });
}

function member(clientId: string): KafkaJsTransport {
  const t = memberTransport(clientId);
  transports.push(t);
  return t;
}

async function topicWith(partitions: number, perPartition: number): Promise<string> {
  const topic = uniqueName('subscription');
  await transport.ensureTopics([{ name: topic, partitions, retentionMs: 3_600_000, cleanupPolicy: 'delete' }]);
  await produce(topic, partitions, perPartition);
  return topic;
}

/** `count` records on each of partitions 0..`partitions`-1, valued `<partition>:<n>` from `from`. */
async function produce(topic: string, partitions: number, count: number, from = 0, only?: number): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  for (let partition = 0; partition < partitions; partition++) {
    if (only !== undefined && partition !== only) continue;
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: count }, (_, i) => ({ partition, key: `p${partition}`, value: `${partition}:${from + i}` })),
    });
  }
  await producer.disconnect();
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

/** Reads the group's committed offsets every 100 ms until stopped; returns every reading. */
function watchCommitted(groupId: string, topic: string): { stop(): Promise<Record<number, string>[]> } {
  const readings: Record<number, string>[] = [];
  let watching = true;
  const loop = (async () => {
    while (watching) {
      readings.push(await committed(groupId, topic));
      await sleep(100);
    }
  })();
  return {
    async stop() {
      watching = false;
      await loop;
      return readings;
    },
  };
}

function expectNeverBackwards(readings: Record<number, string>[]): void {
  const highest = new Map<string, bigint>();
  for (const reading of readings) {
    for (const [partition, offset] of Object.entries(reading)) {
      const before = highest.get(partition) ?? -1n;
      expect(BigInt(offset), `partition ${partition}'s committed offset went from ${before} to ${offset}`).toBeGreaterThanOrEqual(before);
      highest.set(partition, BigInt(offset));
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function subscribe(
  groupId: string,
  topic: string,
  concurrency: number,
  onBatch: (batch: Batch) => Promise<void>,
  options: { via?: KafkaJsTransport; startFrom?: SubscribeOptions['startFrom'] } = {},
) {
  const subscription = await (options.via ?? transport).subscribe({
    groupId,
    topics: [topic],
    concurrency,
    startFrom: options.startFrom ?? 'earliest',
    onBatch,
  });
  subscriptions.push(subscription);
  return subscription;
}

async function handleAll(batch: Batch, handled: string[]): Promise<void> {
  for (const record of batch.records) handled.push(String(record.value));
  const last = batch.records.at(-1);
  if (last) await batch.commit(last);
}

/** One record's handling by one member. */
interface Handling {
  member: string;
  value: string;
  start: number;
  end: number;
}

/** Handles each record in `ms`, committing it, as the router does, and stopping when told to. */
function timedHandler(name: string, handlings: Handling[], ms: (value: string) => number) {
  return async (batch: Batch) => {
    for (const record of batch.records) {
      if (!batch.isRunning()) break;
      const value = String(record.value);
      const handling = { member: name, value, start: Date.now(), end: Number.POSITIVE_INFINITY };
      handlings.push(handling);
      await sleep(ms(value));
      handling.end = Date.now();
      await batch.commit(record);
    }
  };
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
    await subscribe(groupId, topic, 3, slowly(1), { via: member('subscription-test-second') });
    await eventually('every record handled', async () => (handled.size >= 600 ? true : undefined), 60_000);
    expect(byMember[1]).toBeGreaterThan(0);
    expect(handled.size).toBe(600);
  });
});

describe('where a new group starts', () => {
  it("'latest': at the end, committed before anything is read; a partition added later from its beginning", async () => {
    const topic = await topicWith(2, 3);
    const groupId = uniqueName('group');
    const handled: string[] = [];
    const first = await subscribe(groupId, topic, 2, (b) => handleAll(b, handled), { startFrom: 'latest' });
    // The start is the group's from the moment subscribe resolves, and durable.
    expect(await committed(groupId, topic)).toEqual({ 0: '3', 1: '3' });
    await produce(topic, 2, 2, 3);
    await eventually('the new records handled', async () => (handled.length >= 4 ? true : undefined), 20_000);
    await first.stop();
    expect(handled.sort()).toEqual(['0:3', '0:4', '1:3', '1:4']);

    // Written while no member runs: read on restart, from the committed position.
    await produce(topic, 2, 1, 5);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createPartitions({ topicPartitions: [{ topic, count: 3 }] });
    await admin.disconnect();
    await produce(topic, 3, 2, 0, 2);
    handled.length = 0;
    await subscribe(groupId, topic, 3, (b) => handleAll(b, handled), { startFrom: 'latest' });
    await eventually('what was written meanwhile handled', async () => (handled.length >= 4 ? true : undefined), 20_000);
    await sleep(500);
    expect(handled.sort()).toEqual(['0:5', '1:5', '2:0', '2:1']);
  });
});

describe('a rebalance', () => {
  it('hands a partition over once its record in hand is done and committed: no record handled by two members at once', async () => {
    const topic = await topicWith(2, 4);
    const groupId = uniqueName('group');
    const handlings: Handling[] = [];
    await subscribe(
      groupId,
      topic,
      2,
      timedHandler('first', handlings, () => 2000),
      { via: member('member-z') },
    );
    await eventually('the first member on its second record', async () => (handlings.length >= 4 ? true : undefined), 20_000);
    const watch = watchCommitted(groupId, topic);
    await subscribe(
      groupId,
      topic,
      2,
      timedHandler('second', handlings, () => 2000),
      { via: member('member-a') },
    );
    await eventually('every record handled', async () => (new Set(handlings.map((h) => h.value)).size >= 8 ? true : undefined), 40_000);
    await eventually('every position committed', async () => {
      const c = await committed(groupId, topic);
      return c[0] === '4' && c[1] === '4' ? true : undefined;
    });
    expectNeverBackwards(await watch.stop());

    // One partition moved to the second member, after its first two records; the other stayed.
    const second = handlings.filter((h) => h.member === 'second').map((h) => h.value);
    const moved = second[0]?.split(':')[0];
    expect(second).toEqual([`${moved}:2`, `${moved}:3`]);
    for (const a of handlings) {
      for (const b of handlings) {
        if (a === b || a.value !== b.value || a.member === b.member) continue;
        expect(a.end <= b.start || b.end <= a.start, `${a.value} handled by both members at once`).toBe(true);
      }
    }
    // The handover committed what the first member handled: its next owner handled none of it again.
    expect(handlings.filter((h) => h.value.startsWith(`${moved}:`)).map((h) => h.value)).toEqual([0, 1, 2, 3].map((n) => `${moved}:${n}`));
  });

  it('drops the late commit of a revoked partition whose record in hand outlasts the handover', async () => {
    const topic = await topicWith(1, 4);
    const groupId = uniqueName('group');
    const handlings: Handling[] = [];
    // The first member's second record takes longer than its next owner waits (the session timeout).
    await subscribe(
      groupId,
      topic,
      1,
      timedHandler('first', handlings, (v) => (v === '0:1' ? 13_000 : 10)),
      { via: member('member-z') },
    );
    await eventually('the first member in its long record', async () => (handlings.length >= 2 ? true : undefined), 20_000);
    const watch = watchCommitted(groupId, topic);
    await subscribe(
      groupId,
      topic,
      1,
      timedHandler('second', handlings, () => 10),
      { via: member('member-a') },
    );
    await eventually(
      'the second member done',
      async () => (handlings.some((h) => h.value === '0:3' && h.member === 'second') ? true : undefined),
      30_000,
    );
    await eventually(
      'the first member done',
      async () => (handlings.every((h) => h.end < Number.POSITIVE_INFINITY) ? true : undefined),
      30_000,
    );
    await sleep(1500);
    expectNeverBackwards(await watch.stop());
    expect(await committed(groupId, topic)).toEqual({ 0: '4' });
    const second = handlings.filter((h) => h.member === 'second');
    // It waited for the release, up to the session timeout, before reading from the last commit.
    expect((second[0]?.start ?? 0) - (handlings[1]?.start ?? 0)).toBeGreaterThan(8_000);
    expect(second.map((h) => h.value)).toEqual(['0:1', '0:2', '0:3']);
  });

  it('leaves no pause or seek of a partition behind once it is revoked', async () => {
    const topic = await topicWith(1, 3);
    const groupId = uniqueName('group');
    const handled: string[] = [];
    let paused = false;
    // As a delay topic does: the head not yet due, so the partition waits (a minute here).
    const handler = (name: string) => async (batch: Batch) => {
      for (const record of batch.records) {
        if (!batch.isRunning()) break;
        if (String(record.value) === '0:1' && !paused) {
          paused = true;
          batch.pauseUntil(record, Date.now() + 60_000);
          break;
        }
        handled.push(`${name} ${record.value}`);
        await batch.commit(record);
      }
    };
    await subscribe(groupId, topic, 1, handler('first'), { via: member('member-z') });
    await eventually('the partition waiting', async () => (paused ? true : undefined), 20_000);
    const second = await subscribe(groupId, topic, 1, handler('second'), { via: member('member-a') });
    await eventually('the second member reading', async () => (handled.length >= 3 ? true : undefined), 20_000);
    await second.stop();
    // Back with the first member: read at once from the second's commit, not held by its own old pause.
    await produce(topic, 1, 2, 3);
    await eventually('the first member reading again', async () => (handled.length >= 5 ? true : undefined), 20_000);
    expect(handled).toEqual(['first 0:0', 'second 0:1', 'second 0:2', 'first 0:3', 'first 0:4']);
  });
});

describe('stopping', () => {
  it('keeps committing while it drains: a lane done is committed though another is still in hand', async () => {
    const topic = await topicWith(2, 6);
    const groupId = uniqueName('group');
    let unblock: () => void = () => undefined;
    const blocked = new Promise<void>((resolve) => {
      unblock = resolve;
    });
    let partition1Started = false;
    let partition0Record = -1;
    const subscription = await subscribe(groupId, topic, 2, async (batch) => {
      for (const record of batch.records) {
        if (!batch.isRunning()) break;
        if (batch.partition === 1) {
          // A handler that does not stop in time: the host's deadline ends the process.
          partition1Started = true;
          await blocked;
        } else {
          partition0Record = Number(String(record.value).split(':')[1]);
          await sleep(400);
        }
        await batch.commit(record);
      }
    });
    await eventually('both partitions in hand', async () => (partition1Started && partition0Record >= 1 ? true : undefined), 20_000);
    const inHand = partition0Record;
    const stopping = subscription.stop();
    subscriptions.length = 0;
    await eventually(
      "partition 0's record in hand committed while partition 1 is still in hand",
      async () => ((await committed(groupId, topic))[0] === String(inHand + 1) ? true : undefined),
      5_000,
    );
    unblock();
    await stopping;
    expect(await committed(groupId, topic)).toEqual({ 0: String(inHand + 1), 1: '1' });
  });
});
