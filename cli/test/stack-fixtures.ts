// What the CLI tests share: the CLI run as a real process, and raw access to the real
// Kafka to set up topics and check what the CLI wrote, independently of the CLI's own code.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Headers } from '@tickflow/messaging';
import { stack, uniqueName } from '@tickflow/testing';
import { Kafka, logLevel } from 'kafkajs';

const exec = promisify(execFile);
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const mainScript = fileURLToPath(new URL('../src/main.ts', import.meta.url));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `tickflow args…` as its own process from the repository root. */
export async function tickflow(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', mainScript, ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** The parsed `--json` output of a run that must succeed. */
export async function tickflowJson<T>(args: string[], env: Record<string, string> = {}): Promise<T> {
  const run = await tickflow([...args, '--json'], env);
  if (run.code !== 0) throw new Error(`tickflow ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

/** A stack trace in the CLI's output: never wanted for a failure the CLI expects. */
export const STACK_TRACE = /^\s+at .+[:(]/m;

export const kafka = new Kafka({ clientId: 'cli-test', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });

export async function createTopic(topic: string, partitions = 2): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions }] });
  } finally {
    await admin.disconnect();
  }
}

export interface ReadRecord {
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  value: Buffer | null;
  headers: Headers;
}

/** Reads `count` records of a topic from its beginning, or fails after `timeoutMs`. */
export async function readRecords(topic: string, count: number, timeoutMs = 20_000): Promise<ReadRecord[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('cli-test-reader'), maxWaitTimeInMs: 100 });
  const records: ReadRecord[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`read ${records.length} of ${count} records from ${topic} in ${timeoutMs} ms`)),
        timeoutMs,
      );
      void consumer.run({
        // Commits nothing, so that tests can check that nothing else commits either.
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          const headers: Headers = {};
          for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = String(v);
          records.push({
            partition,
            offset: Number(message.offset),
            timestamp: Number(message.timestamp),
            key: message.key?.toString() ?? null,
            value: message.value,
            headers,
          });
          if (records.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}

export async function endOffsets(topic: string): Promise<number[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition).map((p) => Number(p.high));
  } finally {
    await admin.disconnect();
  }
}
