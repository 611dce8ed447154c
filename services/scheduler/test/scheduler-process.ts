// Runs the real scheduler as a child process, with its own instance name, schedules file
// and target topics, and reads back the ticks it sent.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventCodec, type SchedulerTick, schedulerTick } from '@tickflow/contracts';
import { eventually, stack, uniqueName } from '@tickflow/testing';
import { Kafka, logLevel } from 'kafkajs';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
export const kafka = new Kafka({ clientId: 'scheduler-test', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });
const codec = new EventCodec({ registryUrl: stack.schemaRegistryUrl });

export interface SchedulerProcess {
  child: ChildProcess;
  output: string[];
  url: string;
  exited: Promise<number | null>;
}

export const API_TOKEN = 'test-token-0123456789abcdef';

export function schedulesFile(yaml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'schedules-')), 'schedules.yaml');
  writeFileSync(file, yaml);
  return file;
}

export async function createTopics(...topics: string[]): Promise<void> {
  await createTopicsOn(kafka, topics);
}

/** On another broker than the stack's, such as a throwaway one. */
export async function createTopicsOn(client: Kafka, topics: string[]): Promise<void> {
  const admin = client.admin();
  await admin.connect();
  await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: 1 })), waitForLeaders: true });
  await admin.disconnect();
}

export function spawnScheduler(
  instance: string,
  file: string,
  env: Record<string, string> = {},
): { child: ChildProcess; output: string[]; exited: Promise<number | null> } {
  const output: string[] = [];
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    env: {
      ...process.env,
      TICKFLOW_ENV: 'local',
      SCHEDULER_INSTANCE: instance,
      SCHEDULES_FILE: file,
      PORT: '0',
      SCHEDULER_API_TOKEN: API_TOKEN,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output, exited };
}

export async function startScheduler(instance: string, file: string, env: Record<string, string> = {}): Promise<SchedulerProcess> {
  const running = spawnScheduler(instance, file, env);
  const url = await eventually(
    'the scheduler to start',
    async () => {
      const line = running.output
        .join('')
        .split('\n')
        .find((l) => l.includes('"msg":"started"'));
      return line ? (JSON.parse(line) as { url: string }).url : undefined;
    },
    30_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${running.output.join('')}`);
  });
  return { ...running, url };
}

export async function role(scheduler: SchedulerProcess): Promise<string | undefined> {
  const response = await fetch(`${scheduler.url}/readyz`).catch(() => undefined);
  if (!response) return undefined;
  const body = (await response.json()) as { info?: { role?: string } };
  return body.info?.role === 'leader' || body.info?.role === 'follower' ? body.info.role : undefined;
}

/** Waits until one of the two leads and the other follows: which is which is the group's choice. */
export async function leaderAndFollower(
  a: SchedulerProcess,
  b: SchedulerProcess,
  timeoutMs = 30_000,
): Promise<[SchedulerProcess, SchedulerProcess]> {
  return eventually(
    'one replica to lead and the other to follow',
    async () => {
      const roles = [await role(a), await role(b)];
      if (roles[0] === 'leader' && roles[1] === 'follower') return [a, b];
      if (roles[0] === 'follower' && roles[1] === 'leader') return [b, a];
      return undefined;
    },
    timeoutMs,
  );
}

export interface ReadTick {
  id: string;
  key: string;
  time: string;
  timestamp: number;
  tick: SchedulerTick;
}

/** Every committed tick on `topic` so far (read_committed), in order; from the stack's Kafka unless `client` says. */
export async function readTicks(topic: string, atLeast = 0, timeoutMs = 20_000, client = kafka): Promise<ReadTick[]> {
  const admin = client.admin();
  await admin.connect();
  const consumer = client.consumer({ groupId: uniqueName('tick-reader'), maxWaitTimeInMs: 100 });
  const ticks: ReadTick[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let lastActivity = Date.now();
  await consumer.run({
    eachMessage: async ({ message }) => {
      lastActivity = Date.now();
      ticks.push({
        id: String(message.headers?.ce_id),
        key: String(message.key),
        time: String(message.headers?.ce_time),
        timestamp: Number(message.timestamp),
        tick: (await codec.decodeAs(schedulerTick, message.value)).payload,
      });
    },
  });
  try {
    await eventually(
      `${atLeast} ticks on ${topic}`,
      async () => (ticks.length >= atLeast && Date.now() - lastActivity > 1500 ? true : undefined),
      timeoutMs,
    );
  } finally {
    await consumer.disconnect();
    await admin.disconnect();
  }
  return ticks;
}

export async function stopScheduler(
  scheduler: { child: ChildProcess; exited: Promise<number | null> },
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<number | null> {
  scheduler.child.kill(signal);
  return scheduler.exited;
}
