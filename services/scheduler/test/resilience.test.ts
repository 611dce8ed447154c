// The scheduler through faults that break a transaction or move the lead: a broker killed in
// the middle of a transaction, leadership going A→B→A, and an old leader paused (SIGSTOP)
// and resumed after another has taken over. Whatever happens, every second's firing is
// committed once: none missing, none twice.
import { ThrowawayKafka, uniqueName } from '@tickflow/testing';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createTopics,
  createTopicsOn,
  kafka,
  leaderAndFollower,
  type ReadTick,
  readTicks,
  role,
  type SchedulerProcess,
  schedulesFile,
  startScheduler,
  stopScheduler,
} from './scheduler-process.ts';

const running: SchedulerProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) {
    s.child.kill('SIGCONT');
    await stopScheduler(s, 'SIGKILL');
  }
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function start(instance: string, file: string, env: Record<string, string> = {}): Promise<SchedulerProcess> {
  const scheduler = await startScheduler(instance, file, env);
  running.push(scheduler);
  return scheduler;
}

const everySecond = (topic: string) =>
  schedulesFile(
    `schedules:\n  - { name: every-second, cron: "* * * * * *", topic: ${topic}, key: "{{schedule}}", catchUp: { policy: all, window: 1h } }\n`,
  );

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`not within ${timeoutMs} ms: ${what}`);
}

/**
 * Calls `act` as soon as a tick is written but not yet committed (read_uncommitted sees it):
 * the firing's transaction has begun, and its state record and commit are still to come.
 */
async function inTheMiddleOfATransaction(client: Kafka, topic: string, act: () => void): Promise<() => Promise<void>> {
  const consumer = client.consumer({ groupId: uniqueName('uncommitted-watch'), maxWaitTimeInMs: 10, readUncommitted: true });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: false });
  await new Promise<void>((resolve) => {
    let acted = false;
    void consumer.run({
      eachMessage: async () => {
        if (acted) return;
        acted = true;
        act();
        resolve();
      },
    });
  });
  return () => consumer.disconnect().catch(() => undefined);
}

/** Every second from the first tick to the last is there exactly once. */
function expectEverySecondOnce(ticks: ReadTick[], context: string): void {
  const ids = ticks.map((t) => t.id);
  expect(ids.length - new Set(ids).size, `ticks fired twice:\n${ids.join('\n')}\n${context}`).toBe(0);
  const times = ticks.map((t) => Date.parse(t.tick.scheduledTime));
  const gaps = times.slice(1).map((t, i) => (t - (times[i] as number)) / 1000);
  expect(
    gaps.filter((g) => g !== 1),
    `seconds missing or out of order:\n${ids.join('\n')}\n${context}`,
  ).toEqual([]);
}

async function lastFiring(scheduler: SchedulerProcess, schedule: string): Promise<number> {
  const response = await fetch(`${scheduler.url}/schedules`).catch(() => undefined);
  const listed = (await response?.json()) as { schedules: { name: string; lastFiring: string | null }[] } | undefined;
  return Date.parse(listed?.schedules.find((s) => s.name === schedule)?.lastFiring ?? '') || 0;
}

/** What the schedulers logged themselves, without kafkajs' own lines, for a failure's message. */
function outputOf(...schedulers: SchedulerProcess[]): string {
  const own = (s: SchedulerProcess) =>
    s.output
      .join('')
      .split('\n')
      .filter((line) => !line.includes('"logger":"kafkajs"'));
  return schedulers.map((s, i) => `--- scheduler ${i}\n${own(s).join('\n')}`).join('\n');
}

describe('the scheduler through faults', () => {
  it('keeps firing, each second once, through a broker killed in the middle of a transaction and started again', async () => {
    const broker = await ThrowawayKafka.start();
    cleanups.push(() => broker.remove());
    const client = new Kafka({ clientId: 'scheduler-test', brokers: broker.brokers, logLevel: logLevel.NOTHING });
    const instance = uniqueName('sched');
    const topic = `${instance}.target`;
    await createTopicsOn(client, [topic]);
    const scheduler = await start(instance, everySecond(topic), { KAFKA_BROKERS: broker.brokers.join(',') });
    await until('it leads', async () => (await role(scheduler)) === 'leader');
    await sleep(2000);

    const stopWatching = await inTheMiddleOfATransaction(client, topic, () => void broker.kill());
    // While no firing can be committed, readiness must not say all is well.
    await until('readiness to report the failing firings', async () => (await fetch(`${scheduler.url}/readyz`)).status === 503, 45_000);
    await broker.start();
    await stopWatching();
    // Caught up with the seconds the broker was away, and firing on time again.
    await until('it fires on time again', async () => (await lastFiring(scheduler, 'every-second')) > Date.now() - 2000, 60_000);
    await sleep(2000);
    await stopScheduler(scheduler);
    const stoppedAt = Date.now();

    const ticks = await readTicks(topic, 1, 20_000, client);
    const context = outputOf(scheduler);
    expectEverySecondOnce(ticks, context);
    expect(Date.parse(ticks.at(-1)?.tick.scheduledTime ?? ''), `it fired up to its stop\n${context}`).toBeGreaterThan(stoppedAt - 3000);
  }, 120_000);

  it('fires each second once as the lead goes from A to B and back to A', async () => {
    const instance = uniqueName('sched');
    const topic = `${instance}.target`;
    await createTopics(topic);
    const file = everySecond(topic);
    const a = await start(instance, file);
    await until('A leads', async () => (await role(a)) === 'leader');
    await sleep(2000);
    const b = await start(instance, file);
    // The group may hand the lead to B as it joins; if not, a pause of A longer than the
    // session timeout makes it. Either way B's producer fences A's.
    const [leader] = await leaderAndFollower(a, b);
    if (leader === a) {
      a.child.kill('SIGSTOP');
      await until('B leads', async () => (await role(b)) === 'leader');
      a.child.kill('SIGCONT');
    }
    await sleep(3000);
    // B leaves: A leads again, under the transactional id B took from it.
    await stopScheduler(b);
    await until('A leads again', async () => (await role(a)) === 'leader');
    await sleep(4000);
    await stopScheduler(a);
    const stoppedAt = Date.now();

    const ticks = await readTicks(topic, 1);
    const context = outputOf(a, b);
    expectEverySecondOnce(ticks, context);
    expect(Date.parse(ticks.at(-1)?.tick.scheduledTime ?? ''), `A fired up to its stop\n${context}`).toBeGreaterThan(stoppedAt - 3000);
  }, 120_000);

  it('fires nothing twice and misses nothing when a paused old leader resumes just after the takeover', async () => {
    const instance = uniqueName('sched');
    const topic = `${instance}.target`;
    await createTopics(topic);
    const file = everySecond(topic);
    const [a, b] = await leaderAndFollower(await start(instance, file), await start(instance, file));
    await sleep(2000);

    // A stops with a firing under way; it wakes up while B is taking over, its timers overdue.
    const stopWatching = await inTheMiddleOfATransaction(kafka, topic, () => a.child.kill('SIGSTOP'));
    await stopWatching();
    await until('B leads', async () => (await role(b)) === 'leader');
    a.child.kill('SIGCONT');
    await sleep(6000);
    await stopScheduler(a);
    await stopScheduler(b);
    const stoppedAt = Date.now();

    const ticks = await readTicks(topic, 1);
    const context = outputOf(a, b);
    expectEverySecondOnce(ticks, context);
    expect(Date.parse(ticks.at(-1)?.tick.scheduledTime ?? ''), `it fired up to the stop\n${context}`).toBeGreaterThan(stoppedAt - 4000);
  }, 120_000);
});
