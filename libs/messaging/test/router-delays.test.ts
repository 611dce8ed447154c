// Defers and a classifier's own policies wait on the route's delay ladder; max attempts are
// set apart from the tiers. Against the real Kafka: what the router writes is read back.
import { jobFailed } from '@tickflow/contracts';
import { eventually, stack } from '@tickflow/testing';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { cloudEventHeaders, newCloudEvent, RETRY } from '../src/envelope.ts';
import { DeferError, RetryableError } from '../src/errors.ts';
import { exponentialBackoff } from '../src/retry-policy.ts';
import { type Delivery, recording, TestBed, testJob } from './test-bed.ts';

const kafka = new Kafka({ clientId: 'router-delays-test', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });

let bed: TestBed | undefined;
afterEach(async () => {
  await bed?.stop();
  bed = undefined;
});

/** Records written so far to the topics whose names start with `prefix`. */
async function recordsIn(prefix: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    let total = 0;
    for (const topic of (await admin.listTopics()).filter((t) => t.startsWith(prefix))) {
      for (const p of await admin.fetchTopicOffsets(topic)) total += Number(p.high);
    }
    return total;
  } finally {
    await admin.disconnect();
  }
}

describe('defers', () => {
  it('wait out a defer far longer than every tier with a handful of writes, not a busy loop', async () => {
    const deliveries: Delivery[] = [];
    bed = new TestBed(
      recording(deliveries, () => {
        throw new DeferError(new Date(Date.now() + 9 * 60_000));
      }),
      { retry: ['1s', '2s'] },
      1,
    );
    await bed.start();
    await bed.send('job-long-defer');
    await eventually('the defer written', async () => ((await recordsIn(`${bed?.topic}.delay.`)) >= 1 ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 5000));
    // One write into the ladder's 1m step... and nothing more within five seconds.
    expect(await recordsIn(`${bed.topic}.delay.`)).toBe(1);
    expect(await recordsIn(`${bed.topic}.retry.`)).toBe(0);
    expect(deliveries).toHaveLength(1);
    const [waiting] = await bed.read(`${bed.topic}.delay.1m`, 1);
    expect(waiting?.headers[RETRY.attempt]).toBe('0');
    expect(waiting?.headers[RETRY.defers]).toBe('1');
  });

  it('keep their due order: a short defer is not held behind a long one, and each ends on time', async () => {
    const deliveries: Delivery[] = [];
    const due = new Map<string, number>();
    bed = new TestBed(
      recording(deliveries, (m, n) => {
        if (n > 1) return;
        const until = Date.now() + (m.payload.id === 'long' ? 12_000 : 1500);
        due.set(m.payload.id, until);
        throw new DeferError(new Date(until));
      }),
      {},
      1,
    );
    await bed.start();
    await bed.send('long', { key: 'same' });
    await bed.send('short', { key: 'same' });
    await eventually('both redelivered', async () => (deliveries.length >= 4 ? true : undefined), 30_000);
    const redelivered = deliveries.slice(2);
    expect(redelivered.map((d) => d.id)).toEqual(['short', 'long']);
    for (const d of redelivered) {
      expect(d.attempt).toBe(0);
      const lateness = d.at - (due.get(d.id) as number);
      expect(lateness, d.id).toBeGreaterThanOrEqual(0);
      expect(lateness, d.id).toBeLessThan(1500);
    }
  });

  it('go to the DLQ as deferred-too-long past their cap, and say so on the events topic', async () => {
    const deliveries: Delivery[] = [];
    bed = new TestBed(
      recording(deliveries, () => {
        throw new DeferError(new Date(Date.now() + 200));
      }),
      { deferLimits: { maxDefers: 2 } },
      1,
    );
    await bed.start();
    await bed.send('job-forever-deferred', { key: 'carrier-x' });
    const [dead] = await bed.read(`${bed.topic}.dlq`, 1, 30_000);
    expect(deliveries).toHaveLength(3);
    expect(dead?.headers[RETRY.dlqReason]).toBe('deferred-too-long');
    expect(dead?.headers[RETRY.defers]).toBe('2');
    const [event] = await bed.read(bed.router.eventsTopic, 1);
    expect((await bed.codec.decodeAs(jobFailed, event?.value ?? null)).payload).toMatchObject({
      reason: 'exhausted',
      dlqReason: 'deferred-too-long',
      attempts: 0,
    });
  });
});

describe('retry policies', () => {
  it("follow a classifier's own policy down the ladder, with its own attempt limit", async () => {
    const deliveries: Delivery[] = [];
    const throttled = exponentialBackoff({ initial: '1s', max: '2s', jitter: 'none', maxAttempts: 3 });
    bed = new TestBed(
      recording(deliveries, () => {
        throw new Error('429 Too Many Requests');
      }),
      { retry: ['1h'], classify: (error) => ((error as Error).message.startsWith('429') ? throttled : undefined) },
      1,
    );
    await bed.start();
    await bed.send('job-throttled');
    const [dead] = await bed.read(`${bed.topic}.dlq`, 1, 30_000);
    expect(dead?.headers[RETRY.dlqReason]).toBe('exhausted');
    expect(deliveries.map((d) => d.attempt)).toEqual([0, 1, 2]);
    const [first, second, third] = deliveries as [Delivery, Delivery, Delivery];
    expect(second.at - first.at).toBeGreaterThanOrEqual(1000);
    expect(third.at - second.at).toBeGreaterThanOrEqual(2000);
    expect(await recordsIn(`${bed.topic}.retry.`)).toBe(0);
  });

  it('take max attempts apart from the tiers: the last tier repeats', async () => {
    const deliveries: Delivery[] = [];
    bed = new TestBed(
      recording(deliveries, () => {
        throw new RetryableError('still failing');
      }),
      { retry: ['1s'], maxAttempts: 3 },
      1,
    );
    await bed.start();
    await bed.send('job-three-times');
    const [dead] = await bed.read(`${bed.topic}.dlq`, 1, 30_000);
    expect(dead?.headers[RETRY.attempt]).toBe('3');
    expect(deliveries.map((d) => d.attempt)).toEqual([0, 1, 2]);
    expect(await recordsIn(`${bed.topic}.retry.1s`)).toBe(2);
  });

  it('refuses max attempts that the route has no tiers to wait in', () => {
    expect(() => new TestBed(async () => undefined, { maxAttempts: 3 })).toThrow('needs retry tiers');
  });
});

describe('changing the tiers', () => {
  it('keeps draining a retry tier no longer declared while messages wait in it', async () => {
    const deliveries: Delivery[] = [];
    bed = new TestBed(
      recording(deliveries, () => undefined),
      { retry: ['1s'] },
      1,
    );
    // A tier of an earlier configuration, with a retry still waiting in it.
    const removed = `${bed.topic}.retry.5s`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: removed, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    await bed.codec.register([testJob]);
    const producer = kafka.producer();
    await producer.connect();
    const headers = {
      ...cloudEventHeaders(newCloudEvent('tickflow/test', testJob.type)),
      [RETRY.attempt]: '1',
      [RETRY.notBefore]: String(Date.now() + 1000),
    };
    await producer.send({
      topic: removed,
      acks: -1,
      messages: [{ key: null, value: await bed.codec.encode(testJob, { id: 'job-in-old-tier' }), headers }],
    });
    await producer.disconnect();
    await bed.start();
    await eventually('the waiting retry handled', async () => (deliveries.length >= 1 ? true : undefined), 20_000);
    expect(deliveries.map((d) => [d.id, d.attempt])).toEqual([['job-in-old-tier', 1]]);
    expect(bed.log.some((l) => l.msg === 'draining a delay topic no longer declared' && l.fields.topic === removed)).toBe(true);
  });
});
