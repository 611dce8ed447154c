import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/cli-errors.ts';
import { formatOffsetReset, type PartitionPosition, planReset, resetStrategyFrom } from '../src/offset-reset.ts';

// Partition 0 holds 10..49 (older records deleted), partition 1 holds 0..19, partition 2 is empty.
const positions: PartitionPosition[] = [
  { partition: 0, low: 10, high: 50, committed: 45 },
  { partition: 1, low: 0, high: 20, committed: null },
  { partition: 2, low: 0, high: 0, committed: 0 },
];

describe('offset reset', () => {
  it('takes exactly one strategy', () => {
    expect(resetStrategyFrom({ toEarliest: true })).toEqual({ kind: 'to-earliest' });
    expect(resetStrategyFrom({ shiftBy: 0 })).toEqual({ kind: 'shift-by', by: 0 });
    expect(resetStrategyFrom({ toOffset: 0 })).toEqual({ kind: 'to-offset', offset: 0 });
    expect(() => resetStrategyFrom({})).toThrow(UsageError);
    expect(() => resetStrategyFrom({ toEarliest: true, toOffset: 3 })).toThrow('(got --to-offset and --to-earliest)');
  });

  it('to-earliest goes to the first record each partition still holds', () => {
    expect(planReset({ kind: 'to-earliest' }, positions)).toEqual([
      { partition: 0, from: 45, to: 10 },
      { partition: 1, from: null, to: 0 },
      { partition: 2, from: 0, to: 0 },
    ]);
  });

  it('shift-by moves from the committed offset, or from the start where none is, and stays within each partition', () => {
    expect(planReset({ kind: 'shift-by', by: -5 }, positions).map((m) => m.to)).toEqual([40, 0, 0]);
    expect(planReset({ kind: 'shift-by', by: -100 }, positions).map((m) => m.to)).toEqual([10, 0, 0]);
    expect(planReset({ kind: 'shift-by', by: 3 }, positions).map((m) => m.to)).toEqual([48, 3, 0]);
    expect(planReset({ kind: 'shift-by', by: 100 }, positions).map((m) => m.to)).toEqual([50, 20, 0]);
  });

  it('to-offset is clamped like kafka-consumer-groups', () => {
    expect(planReset({ kind: 'to-offset', offset: 15 }, positions).map((m) => m.to)).toEqual([15, 15, 0]);
    expect(planReset({ kind: 'to-offset', offset: 2 }, positions).map((m) => m.to)).toEqual([10, 2, 0]);
  });

  it('to-datetime takes the offsets found for the time, and the end where none was found', () => {
    const at = new Date('2026-11-22T00:00:00Z');
    expect(planReset({ kind: 'to-datetime', at }, positions, new Map([[0, 30]])).map((m) => m.to)).toEqual([30, 20, 0]);
  });

  it('prints old and new offset per partition', () => {
    const text = formatOffsetReset({ group: 'g', topic: 't', dryRun: true, moves: planReset({ kind: 'shift-by', by: -5 }, positions) });
    expect(text.split('\n')).toEqual([
      'PARTITION  OLD OFFSET  NEW OFFSET  CHANGE',
      '        0          45          40      -5',
      '        1           -           0       -',
      '        2           0           0       0',
      'dry run: offsets of group g on t not changed',
    ]);
  });
});
