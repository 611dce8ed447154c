// npm run bench -w services/scheduler
//
// The delay from a firing's scheduled time to its tick being readable on the topic
// (read_committed), over a minute of per-second firings, for the scheduler (transaction
// per firing: tick + state) beside a baseline in the same run: a bare timer that sends a
// plain record at each second. Goal: scheduler p99 under 250 ms.
import { uniqueName } from '@tickflow/testing';
import { createTopics, kafka, schedulesFile, startScheduler, stopScheduler } from '../test/scheduler-process.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);

async function watch(topic: string, scheduledTimeOf: (headers: Record<string, string>) => number) {
  const delays: number[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName('bench-watch'), maxWaitTimeInMs: 20 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      delays.push(Date.now() - scheduledTimeOf(headers));
    },
  });
  return { delays, stop: () => consumer.disconnect() };
}

function summary(label: string, delays: number[]): string {
  const sorted = [...delays].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  return `  ${label.padEnd(34)} firings ${String(sorted.length).padStart(3)}   p50 ${String(pct(50)).padStart(4)} ms   p99 ${String(pct(99)).padStart(4)} ms   max ${sorted.at(-1)} ms`;
}

async function schedulerRun(): Promise<number[]> {
  const instance = uniqueName('bench-sched');
  const topic = `${instance}.target`;
  await createTopics(topic);
  const watcher = await watch(topic, (h) => Date.parse(h.ce_time ?? ''));
  const scheduler = await startScheduler(
    instance,
    schedulesFile(`schedules:\n  - { name: every-second, cron: "* * * * * *", topic: ${topic}, catchUp: { policy: none } }\n`),
  );
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000 + 500));
  await stopScheduler(scheduler);
  await new Promise((resolve) => setTimeout(resolve, 500));
  await watcher.stop();
  return watcher.delays;
}

async function baselineRun(): Promise<number[]> {
  const topic = uniqueName('bench-baseline');
  await createTopics(topic);
  const watcher = await watch(topic, (h) => Number(h.scheduled));
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const end = Date.now() + SECONDS * 1000;
  while (Date.now() < end) {
    const due = Math.ceil((Date.now() + 1) / 1000) * 1000;
    await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
    await producer.send({ topic, acks: -1, messages: [{ value: 'tick', headers: { scheduled: String(due) } }] });
  }
  await producer.disconnect();
  await new Promise((resolve) => setTimeout(resolve, 500));
  await watcher.stop();
  return watcher.delays;
}

console.log(`per-second firings for ${SECONDS} s; delay from scheduled time to the tick read on the topic`);
const scheduler = await schedulerRun();
const baseline = await baselineRun();
console.log(summary('scheduler (transaction + state)', scheduler));
console.log(summary('baseline (timer + plain send)', baseline));
process.exit(0);
