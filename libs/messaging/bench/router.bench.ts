// npm run bench -w libs/messaging
//
// 1. Throughput: messages per second through the router (no-op handler, 1 KiB values),
//    beside Kafka's own consumer performance tool reading the same topic on the same
//    broker in the same run, as a ratio. Both read the topic several times, in turns, each
//    time as a new consumer group; the median of each is compared.
// 2. Redelivery lateness: 10,000 messages waiting in one delay tier; how long after its
//    `not_before` each one reaches the handler (p50, p99).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SERVICE_NODE_FLAGS, stackDir } from '@tickflow/local-stack';
import { stack, uniqueName } from '@tickflow/testing';
import { Kafka, logLevel } from 'kafkajs';
import { cloudEventHeaders, newCloudEvent, RETRY } from '../src/envelope.ts';
import { benchEvent, benchRouter, codec, PARTITIONS } from './bench-router.ts';

// Enough messages that both consumers run well past their warm-up.
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 300_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WAITING = Number(process.env.BENCH_WAITING ?? 10_000);

const kafka = new Kafka({ clientId: 'bench', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });
async function fill(topic: string, count: number, headersFor: (i: number) => Record<string, string>): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const body = 'x'.repeat(1024 - 16);
  const chunk = 2000;
  for (let start = 0; start < count; start += chunk) {
    const messages = await Promise.all(
      Array.from({ length: Math.min(chunk, count - start) }, async (_, j) => {
        const i = start + j;
        return { key: `k${i}`, value: await codec.encode(benchEvent, { id: String(i), body }), headers: headersFor(i) };
      }),
    );
    await producer.send({ topic, acks: -1, messages });
  }
  await producer.disconnect();
}

async function kafkaConsumerPerf(topic: string, count: number): Promise<number> {
  const { stdout } = await promisify(execFile)(
    'java',
    [
      '-Xmx512m',
      '-cp',
      join(stackDir, 'kafka', 'lib', '*'),
      'org.apache.kafka.tools.ConsumerPerformance',
      '--bootstrap-server',
      stack.kafkaBrokers.join(','),
      '--topic',
      topic,
      '--messages',
      String(count),
      '--group',
      uniqueName('bench-perf'),
      '--timeout',
      '60000',
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec,
  // rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const row =
    stdout
      .trim()
      .split('\n')
      .at(-1)
      ?.split(',')
      .map((c) => c.trim()) ?? [];
  const consumed = Number(row[4]);
  if (consumed < count) throw new Error(`kafka-consumer-perf-test read ${consumed} of ${count}`);
  // fetch.nMsg.sec leaves out the group join, as the router's figure does.
  return Number(row[9]);
}

/**
 * Messages per second through a router reading `topic` from the start as a new group. It
 * runs in a process of its own, started as services are, as Kafka's tool runs in its own JVM.
 */
async function routerRate(topic: string): Promise<number> {
  const program = fileURLToPath(new URL('./router-throughput.ts', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, [
    ...SERVICE_NODE_FLAGS,
    '--import',
    'tsx',
    program,
    topic,
    String(MESSAGES),
  ]);
  return Number(stdout.trim().split('\n').at(-1));
}

async function throughput(): Promise<void> {
  const topic = `${uniqueName('bench')}.requests`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: PARTITIONS }] });
  await admin.disconnect();
  await codec.register([benchEvent]);
  console.log(`filling ${topic} with ${MESSAGES} messages of 1 KiB…`);
  const headers = cloudEventHeaders(newCloudEvent('tickflow/bench', benchEvent.type));
  await fill(topic, MESSAGES, () => headers);

  console.log(`\nthroughput, no-op handler, 1 KiB values, ${MESSAGES} messages over ${PARTITIONS} partitions`);
  console.log('  round  kafka-consumer-perf-test  tickflow router  ratio');
  const kafkaRates: number[] = [];
  const routerRates: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const kafkaRate = await kafkaConsumerPerf(topic, MESSAGES);
    const rate = await routerRate(topic);
    kafkaRates.push(kafkaRate);
    routerRates.push(rate);
    console.log(
      `  ${String(round).padStart(5)}  ${msgPerSecond(kafkaRate).padStart(24)}  ${msgPerSecond(rate).padStart(15)}  ${(rate / kafkaRate).toFixed(2)}`,
    );
  }
  const kafkaMedian = median(kafkaRates);
  const routerMedian = median(routerRates);
  console.log(
    `  median ${msgPerSecond(kafkaMedian).padStart(23)}  ${msgPerSecond(routerMedian).padStart(15)}  ${(routerMedian / kafkaMedian).toFixed(2)}`,
  );
}

function msgPerSecond(rate: number): string {
  return `${rate.toFixed(0)} msg/s`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

async function lateness(): Promise<void> {
  const service = uniqueName('bench-late');
  const tier = '10s';
  const lateMs: number[] = [];
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const notBefore = new Map<string, number>();
  const { router, transport } = benchRouter(
    service,
    `${service}.requests`,
    (payload) => {
      lateMs.push(Date.now() - (notBefore.get(payload.id) ?? 0));
      if (lateMs.length === WAITING) done();
    },
    [tier],
  );
  await transport.ensureTopics(router.topicSpecs());
  await codec.register([benchEvent]);
  await router.start();
  const headers = cloudEventHeaders(newCloudEvent('tickflow/bench', benchEvent.type));
  // Due times spread over a few seconds after the fill, in order, as a tier's are.
  const base = Date.now() + 8000;
  console.log(`\nfilling ${service}.requests.retry.${tier} with ${WAITING} waiting messages…`);
  await fill(`${service}.requests.retry.${tier}`, WAITING, (i) => {
    const due = base + Math.floor(i / 2);
    notBefore.set(String(i), due);
    return { ...headers, [RETRY.attempt]: '1', [RETRY.notBefore]: String(due) };
  });
  await finished;
  await router.stop();
  await transport.close();
  const sorted = [...lateMs].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
  const early = sorted.filter((ms) => ms < 0).length;
  console.log(`redelivery lateness, ${WAITING} messages waiting in one tier`);
  console.log(`  p50 ${pct(50)} ms   p99 ${pct(99)} ms   max ${sorted.at(-1)} ms   delivered early: ${early}`);
}

await throughput();
await lateness();
process.exit(0);
