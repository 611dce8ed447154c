// `tickflow replay` moves a real consumer group's committed offsets; a consumer of that
// group then reads from where the CLI put it.
import { uniqueName } from '@tickflow/testing';
import type { Consumer } from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { OffsetReset } from '../src/offset-reset.ts';
import { createTopic, kafka, STACK_TRACE, tickflow, tickflowJson } from './stack-fixtures.ts';

const topic = uniqueName('cli-replay');
const group = uniqueName('cli-replay-group');
/** Between the first six records (three per partition) and the last two (partition 0). */
let between: Date;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function produce(partition: number, values: string[]): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: values.map((value) => ({ partition, value })) });
  } finally {
    await producer.disconnect();
  }
}

/** Runs a consumer of `group` until it has read `count` records, committing as it goes. */
async function consume(count: number): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: group, maxWaitTimeInMs: 100 });
  const seen: string[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`consumed ${seen.length} of ${count}: ${seen.join(', ')}`)), 20_000);
      void consumer.run({
        autoCommitThreshold: 1,
        eachMessage: async ({ message }) => {
          seen.push(String(message.value));
          if (seen.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return seen.sort();
}

async function committed(): Promise<number[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return (offsets?.partitions ?? []).sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset));
  } finally {
    await admin.disconnect();
  }
}

const replay = (...flags: string[]) => ['replay', '--group', group, '--topic', topic, ...flags];

beforeAll(async () => {
  await createTopic(topic, 2);
  await produce(0, ['a0', 'a1', 'a2']);
  await produce(1, ['b0', 'b1', 'b2']);
  await pause(50);
  between = new Date();
  await pause(50);
  await produce(0, ['a3', 'a4']);
  expect(await consume(8)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'b0', 'b1', 'b2']);
  expect(await committed()).toEqual([5, 3]);
});

describe('tickflow replay', () => {
  it('--dry-run prints old and new offsets and changes nothing', async () => {
    const reset = await tickflowJson<OffsetReset>(replay('--shift-by', '-2', '--dry-run'));
    expect(reset).toEqual({
      group,
      topic,
      dryRun: true,
      moves: [
        { partition: 0, from: 5, to: 3 },
        { partition: 1, from: 3, to: 1 },
      ],
    });
    const text = await tickflow(replay('--shift-by', '-2', '--dry-run'));
    expect(text.stdout.split('\n').slice(0, 3)).toEqual([
      'PARTITION  OLD OFFSET  NEW OFFSET  CHANGE',
      '        0           5           3      -2',
      '        1           3           1      -2',
    ]);
    expect(await committed()).toEqual([5, 3]);
  });

  it('--to-datetime moves to the first record at or after the time; the consumer reads from there', async () => {
    const reset = await tickflowJson<OffsetReset>(replay('--to-datetime', between.toISOString()));
    expect(reset.moves).toEqual([
      { partition: 0, from: 5, to: 3 },
      { partition: 1, from: 3, to: 3 },
    ]);
    expect(await committed()).toEqual([3, 3]);
    expect(await consume(2)).toEqual(['a3', 'a4']);
  });

  it('--to-earliest moves the group back: a consumer sees every message again', async () => {
    const reset = await tickflowJson<OffsetReset>(replay('--to-earliest'));
    expect(reset.moves.map((m) => m.to)).toEqual([0, 0]);
    expect(await consume(8)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'b0', 'b1', 'b2']);
  });

  it('--to-offset and --shift-by stay within what each partition holds', async () => {
    const [far, back] = await Promise.all([
      tickflowJson<OffsetReset>(replay('--to-offset', '100', '--dry-run')),
      tickflowJson<OffsetReset>(replay('--shift-by', '-100', '--dry-run')),
    ]);
    expect(far.moves.map((m) => m.to)).toEqual([5, 3]);
    expect(back.moves.map((m) => m.to)).toEqual([0, 0]);
    const middle = await tickflowJson<OffsetReset>(replay('--to-offset', '4'));
    expect(middle.moves.map((m) => m.to)).toEqual([4, 3]);
    expect(await committed()).toEqual([4, 3]);
  });

  it('refuses while the group has live members, and changes nothing', async () => {
    const consumer: Consumer = kafka.consumer({ groupId: group, maxWaitTimeInMs: 100 });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ autoCommit: false, eachMessage: async () => undefined });
    try {
      await joined;
      const [moving, dry] = await Promise.all([tickflow(replay('--to-earliest')), tickflow(replay('--to-earliest', '--dry-run'))]);
      for (const run of [moving, dry]) {
        expect(run.code).toBe(1);
        expect(run.stderr).toBe(`error: group ${group} has 1 live members; stop its consumers first\n`);
        expect(run.stdout).toBe('');
      }
    } finally {
      await consumer.disconnect();
    }
    expect(await committed()).toEqual([4, 3]);
  });

  it('names a group or topic that does not exist, and refuses bad flags with exit 2', async () => {
    const [noGroup, noTopic, noStrategy, two, badTime] = await Promise.all([
      tickflow(['replay', '--group', `${group}-nope`, '--topic', topic, '--to-earliest']),
      tickflow(['replay', '--group', group, '--topic', `${topic}-nope`, '--to-earliest']),
      tickflow(replay()),
      tickflow(replay('--to-earliest', '--shift-by', '1')),
      tickflow(replay('--to-datetime', 'yesterday')),
    ]);
    expect(noGroup.code).toBe(1);
    expect(noGroup.stderr).toBe(`error: consumer group '${group}-nope' does not exist\n`);
    expect(noTopic.code).toBe(1);
    expect(noTopic.stderr).toMatch(new RegExp(`^error: topic '${topic}-nope' does not exist`));
    expect(noStrategy.code).toBe(2);
    expect(noStrategy.stderr).toBe('error: give exactly one of --to-datetime, --to-offset, --to-earliest or --shift-by\n');
    expect(two.code).toBe(2);
    expect(badTime.code).toBe(2);
    expect(badTime.stderr).toContain("option '--to-datetime <iso>' argument 'yesterday' is invalid");
    for (const run of [noGroup, noTopic, noStrategy, two, badTime]) expect(run.stderr).not.toMatch(STACK_TRACE);
  });
});
