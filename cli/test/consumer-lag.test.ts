import { describe, expect, it } from 'vitest';
import { formatLag, groupLag } from '../src/consumer-lag.ts';

describe('consumer lag', () => {
  const ranges = new Map([
    [
      'a',
      [
        { partition: 0, low: 0, high: 10 },
        { partition: 1, low: 5, high: 8 },
      ],
    ],
    ['b', [{ partition: 0, low: 100, high: 120 }]],
  ]);

  it('is end minus committed per partition; with nothing committed, everything still held counts', () => {
    const lag = groupLag(
      'g',
      [
        { topic: 'b', partitions: [{ partition: 0, offset: 50 }] },
        { topic: 'a', partitions: [{ partition: 0, offset: 7 }] },
      ],
      ranges,
    );
    expect(lag.partitions).toEqual([
      { topic: 'a', partition: 0, committed: 7, end: 10, lag: 3 },
      { topic: 'a', partition: 1, committed: null, end: 8, lag: 3 },
      // Committed before retention deleted records: only what is still held can be read.
      { topic: 'b', partition: 0, committed: 50, end: 120, lag: 20 },
    ]);
    expect(lag.total).toBe(26);
  });

  it('prints a table and a total per group', () => {
    const text = formatLag([
      groupLag('g', [{ topic: 'a', partitions: [{ partition: 0, offset: 7 }] }], ranges),
      groupLag('idle', [], ranges),
    ]);
    expect(text).toBe(
      [
        'group g: total lag 6',
        'TOPIC  PARTITION  COMMITTED  END  LAG',
        'a              0          7   10    3',
        'a              1          -    8    3',
        '',
        'group idle: no committed offsets',
      ].join('\n'),
    );
  });
});
