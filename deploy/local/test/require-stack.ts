// Vitest's global setup: refuses to run any test while a component of the stack is down,
// and, once the run is over, removes the topics and consumer groups the run's tests made
// (their names carry the run's id, see libs/testing's uniqueName): left behind, thousands of
// them slow the one local broker down for everything after, benchmarks included.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { status } from '../src/stack.ts';

export default async function requireStack(): Promise<() => Promise<void>> {
  const down = (await status()).filter((s) => !s.up).map((s) => `${s.component.name} (${s.component.endpoint})`);
  if (down.length > 0) {
    throw new Error(
      `the local stack is not fully up; down: ${down.join(', ')}. \`npm test\` brings it up first; so does \`npm run stack:up\`.`,
    );
  }
  // One id for the whole run, set before the workers start so that they all inherit it.
  const runId = process.env.TEST_RUN_ID ?? randomUUID().slice(0, 8);
  process.env.TEST_RUN_ID = runId;
  return () => removeWhatTheRunMade(runId);
}

async function removeWhatTheRunMade(runId: string): Promise<void> {
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim());
  const admin = new Kafka({ clientId: 'test-teardown', brokers, logLevel: logLevel.NOTHING }).admin();
  const mark = `-${runId}-`;
  try {
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.includes(mark));
    for (let i = 0; i < topics.length; i += 100) await admin.deleteTopics({ topics: topics.slice(i, i + 100), timeout: 30_000 });
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.includes(mark));
    for (let i = 0; i < groups.length; i += 100) await admin.deleteGroups(groups.slice(i, i + 100)).catch(() => undefined);
  } catch (error) {
    // Housekeeping only: a run's result does not depend on it.
    console.warn(`could not remove the test run's topics: ${error instanceof Error ? error.message : error}`);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
