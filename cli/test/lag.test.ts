// `tickflow lag` on a group whose committed offsets the test set itself.
import { uniqueName } from '@tickflow/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import type { GroupLag } from '../src/consumer-lag.ts';
import { createTopic, kafka, STACK_TRACE, tickflow, tickflowJson } from './stack-fixtures.ts';

const topic = uniqueName('cli-lag');
const group = uniqueName('cli-lag-group');
// A second group of the test's own, so "every group" never depends on what other tests left.
const otherGroup = uniqueName('cli-lag-other');

beforeAll(async () => {
  await createTopic(topic, 2);
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic,
    acks: -1,
    messages: [
      ...['a', 'b', 'c', 'd', 'e'].map((value) => ({ partition: 0, value })),
      ...['f', 'g', 'h'].map((value) => ({ partition: 1, value })),
    ],
  });
  await producer.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  // Read two of partition 0; nothing of partition 1 yet.
  await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '2' }] });
  await admin.setOffsets({ groupId: otherGroup, topic, partitions: [{ partition: 1, offset: '3' }] });
  await admin.disconnect();
});

describe('tickflow lag', () => {
  it('per partition: committed, end and lag; the whole partition where nothing is committed; a total per group', async () => {
    const [lag] = await tickflowJson<GroupLag[]>(['lag', '--group', group]);
    expect(lag).toEqual({
      group,
      partitions: [
        { topic, partition: 0, committed: 2, end: 5, lag: 3 },
        { topic, partition: 1, committed: null, end: 3, lag: 3 },
      ],
      total: 6,
    });
    const text = await tickflow(['lag', '--group', group]);
    expect(text.stdout.split('\n')[0]).toBe(`group ${group}: total lag 6`);
  });

  it('without --group, reports every group', async () => {
    const all = await tickflowJson<GroupLag[]>(['lag']);
    expect(all.find((g) => g.group === group)?.total).toBe(6);
    expect(all.find((g) => g.group === otherGroup)?.total).toBe(5);
  });

  it('names a group that does not exist', async () => {
    const run = await tickflow(['lag', '--group', `${group}-nope`]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`error: consumer group '${group}-nope' does not exist\n`);
    expect(run.stderr).not.toMatch(STACK_TRACE);
  });
});
