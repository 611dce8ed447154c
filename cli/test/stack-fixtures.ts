// What the CLI tests share: the CLI run as a real process, and raw access to the real
// Kafka to set up topics and check what the CLI wrote, independently of the CLI's own code.
import { fileURLToPath } from 'node:url';
import { readRecords as readTopic, stack, type ReadRecord as TestingRecord } from '@tickflow/testing';
import { Kafka, logLevel } from 'kafkajs';

export { type CliRun, repoRoot, tickflow, tickflowJson } from '@tickflow/testing';
export const mainScript = fileURLToPath(new URL('../src/main.ts', import.meta.url));

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

export interface ReadRecord extends Omit<TestingRecord, 'offset' | 'key'> {
  offset: number;
  key: string | null;
}

/** Reads `count` records of a topic from its beginning, or fails after `timeoutMs`. */
export async function readRecords(topic: string, count: number, timeoutMs = 20_000): Promise<ReadRecord[]> {
  return (await readTopic(topic, count, timeoutMs)).map((r) => ({ ...r, offset: Number(r.offset), key: r.key?.toString() ?? null }));
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
