import { RETRY } from '@tickflow/messaging';
import { describe, expect, it } from 'vitest';
import { CommandError, UsageError } from '../src/cli-errors.ts';
import {
  deadLetterTopicOf,
  describeDeadLetter,
  isSelected,
  listingRanges,
  oldestDeadLetters,
  REPLAYED_AT,
  REPLAYED_FROM,
  replayOf,
  replayRanges,
  replaySelectorFrom,
} from '../src/dead-letters.ts';
import type { KafkaRecord } from '../src/kafka-cluster.ts';

const deadLetter: KafkaRecord = {
  topic: 'metering.requests.dlq',
  partition: 1,
  offset: 17,
  timestamp: Date.parse('2026-11-22T08:00:05Z'),
  key: Buffer.from('contract-9'),
  value: Buffer.from([0, 0, 0, 0, 7, 2, 97]),
  headers: {
    ce_specversion: '1.0',
    ce_id: 'tick:metering-monthly:2026-11-01T00:00:00.000Z',
    ce_source: 'tickflow/scheduler',
    ce_type: 'tickflow.scheduler.tick',
    ce_time: '2026-11-01T00:00:00.000Z',
    'content-type': 'application/vnd.apache.avro+binary; schema-registry=confluent',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    custom: 'kept',
    [RETRY.attempt]: '5',
    [RETRY.notBefore]: '1795680000000',
    [RETRY.originalTopic]: 'metering.requests',
    [RETRY.originalPartition]: '2',
    [RETRY.originalOffset]: '40',
    [RETRY.firstFailedAt]: '2026-11-22T08:00:00.000Z',
    [RETRY.dlqReason]: 'exhausted',
    [RETRY.errorClass]: 'RetryableError',
    [RETRY.errorMessage]: 'Clazar answered 503',
    [RETRY.errorStack]: 'RetryableError: Clazar answered 503\n    at …',
  },
};

const partitions = [
  { partition: 0, low: 0, high: 0 },
  { partition: 1, low: 10, high: 30 },
  { partition: 2, low: 0, high: 3 },
];

describe('dead letters', () => {
  it('are named by the topic or by the dead-letter topic', () => {
    expect(deadLetterTopicOf('metering.requests')).toBe('metering.requests.dlq');
    expect(deadLetterTopicOf('metering.requests.dlq')).toBe('metering.requests.dlq');
  });

  it('show where they came from, why and when they failed', () => {
    expect(describeDeadLetter(deadLetter)).toEqual({
      partition: 1,
      offset: 17,
      key: 'contract-9',
      eventType: 'tickflow.scheduler.tick',
      eventId: 'tick:metering-monthly:2026-11-01T00:00:00.000Z',
      reason: 'exhausted',
      errorClass: 'RetryableError',
      errorMessage: 'Clazar answered 503',
      attempts: 5,
      firstFailedAt: '2026-11-22T08:00:00.000Z',
      deadLetteredAt: '2026-11-22T08:00:05.000Z',
      original: { topic: 'metering.requests', partition: 2, offset: 40 },
    });
  });

  it('listing reads at most `limit` from the start of each partition, then keeps the oldest', () => {
    expect(listingRanges(partitions, 5)).toEqual([
      { partition: 0, from: 0, to: 0 },
      { partition: 1, from: 10, to: 15 },
      { partition: 2, from: 0, to: 3 },
    ]);
    const letter = (partition: number, offset: number, at: string) => ({
      ...describeDeadLetter(deadLetter),
      partition,
      offset,
      deadLetteredAt: at,
    });
    const oldest = oldestDeadLetters(
      [letter(1, 10, '2026-11-22T09:00:00.000Z'), letter(2, 0, '2026-11-22T08:00:00.000Z'), letter(2, 1, '2026-11-22T10:00:00.000Z')],
      2,
    );
    expect(oldest.map((d) => `${d.partition}/${d.offset}`)).toEqual(['2/0', '1/10']);
  });

  it('replay takes exactly one selector; --partition only with --offset', () => {
    expect(replaySelectorFrom({ all: true })).toEqual({ kind: 'all' });
    expect(replaySelectorFrom({ offset: 3, partition: 1 })).toEqual({ kind: 'offset', offset: 3, partition: 1 });
    expect(() => replaySelectorFrom({})).toThrow(UsageError);
    expect(() => replaySelectorFrom({ all: true, since: new Date() })).toThrow('(got --since and --all)');
    expect(() => replaySelectorFrom({ all: true, partition: 1 })).toThrow('--partition goes with --offset');
  });

  it('replay reads one record for --offset, checked against what the partition holds', () => {
    const dlq = 'x.dlq';
    expect(replayRanges(dlq, { kind: 'offset', offset: 12, partition: 1 }, partitions)).toEqual([{ partition: 1, from: 12, to: 13 }]);
    expect(() => replayRanges(dlq, { kind: 'offset', offset: 12, partition: undefined }, partitions)).toThrow(
      new UsageError('x.dlq has 3 partitions; say which with --partition'),
    );
    expect(replayRanges(dlq, { kind: 'offset', offset: 4, partition: undefined }, [{ partition: 0, low: 0, high: 9 }])).toEqual([
      { partition: 0, from: 4, to: 5 },
    ]);
    expect(() => replayRanges(dlq, { kind: 'offset', offset: 30, partition: 1 }, partitions)).toThrow(
      new CommandError('x.dlq partition 1 holds offsets 10 to 29, not 30'),
    );
    expect(() => replayRanges(dlq, { kind: 'offset', offset: 0, partition: 0 }, partitions)).toThrow('partition 0 is empty');
    expect(() => replayRanges(dlq, { kind: 'offset', offset: 0, partition: 7 }, partitions)).toThrow('has no partition 7');
  });

  it('replay --since starts each partition at the offset found for the time and keeps later records only', () => {
    const since = new Date('2026-11-22T08:00:00Z');
    expect(replayRanges('x.dlq', { kind: 'since', since }, partitions, new Map([[1, 25]]))).toEqual([
      { partition: 0, from: 0, to: 0 },
      { partition: 1, from: 25, to: 30 },
      { partition: 2, from: 0, to: 3 },
    ]);
    expect(isSelected({ kind: 'since', since }, deadLetter)).toBe(true);
    expect(isSelected({ kind: 'since', since: new Date('2026-11-22T08:00:06Z') }, deadLetter)).toBe(false);
    expect(replayRanges('x.dlq', { kind: 'all' }, partitions)[1]).toEqual({ partition: 1, from: 10, to: 30 });
  });

  it('a replay goes to the original topic with key, value, CloudEvents and trace headers, and no retry history', () => {
    const replay = replayOf(deadLetter, new Date('2026-11-22T09:00:00Z'));
    expect(replay.record.topic).toBe('metering.requests');
    expect(replay.record.key).toBe(deadLetter.key);
    expect(replay.record.value).toBe(deadLetter.value);
    expect(replay.record.headers).toEqual({
      ce_specversion: '1.0',
      ce_id: 'tick:metering-monthly:2026-11-01T00:00:00.000Z',
      ce_source: 'tickflow/scheduler',
      ce_type: 'tickflow.scheduler.tick',
      ce_time: '2026-11-01T00:00:00.000Z',
      'content-type': 'application/vnd.apache.avro+binary; schema-registry=confluent',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      custom: 'kept',
      [REPLAYED_FROM]: 'metering.requests.dlq/1/17',
      [REPLAYED_AT]: '2026-11-22T09:00:00.000Z',
    });
  });

  it('a dead letter without an original topic goes back to the topic its DLQ belongs to', () => {
    const headers = { ...deadLetter.headers };
    delete headers[RETRY.originalTopic];
    expect(replayOf({ ...deadLetter, headers }, new Date()).record.topic).toBe('metering.requests');
  });
});
