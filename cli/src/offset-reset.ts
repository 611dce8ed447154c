// Where a consumer group's offsets go on `replay`, computed like kafka-consumer-groups
// --reset-offsets: every target lands within what the partition still holds.
import { UsageError } from './cli-errors.ts';
import type { PartitionRange } from './kafka-cluster.ts';
import { renderTable } from './text-table.ts';

export type ResetStrategy =
  | { kind: 'to-datetime'; at: Date }
  | { kind: 'to-offset'; offset: number }
  | { kind: 'to-earliest' }
  | { kind: 'shift-by'; by: number };

export function resetStrategyFrom(options: {
  toDatetime?: Date;
  toOffset?: number;
  toEarliest?: boolean;
  shiftBy?: number;
}): ResetStrategy {
  const strategies: ResetStrategy[] = [];
  if (options.toDatetime !== undefined) strategies.push({ kind: 'to-datetime', at: options.toDatetime });
  if (options.toOffset !== undefined) strategies.push({ kind: 'to-offset', offset: options.toOffset });
  if (options.toEarliest === true) strategies.push({ kind: 'to-earliest' });
  if (options.shiftBy !== undefined) strategies.push({ kind: 'shift-by', by: options.shiftBy });
  if (strategies.length !== 1) {
    const given = strategies.length > 1 ? ` (got ${strategies.map((s) => `--${s.kind}`).join(' and ')})` : '';
    throw new UsageError(`give exactly one of --to-datetime, --to-offset, --to-earliest or --shift-by${given}`);
  }
  return strategies[0] as ResetStrategy;
}

export interface PartitionPosition extends PartitionRange {
  /** The group's committed offset, or null when it has none for this partition. */
  committed: number | null;
}

export interface OffsetMove {
  partition: number;
  from: number | null;
  to: number;
}

/**
 * The new offset of each partition. `offsetsAt` is, for `to-datetime`, each partition's
 * first offset at or after the time (the high-water mark when there is none).
 */
export function planReset(strategy: ResetStrategy, positions: PartitionPosition[], offsetsAt?: Map<number, number>): OffsetMove[] {
  return positions.map((p) => ({ partition: p.partition, from: p.committed, to: clamp(target(strategy, p, offsetsAt), p) }));
}

function target(strategy: ResetStrategy, p: PartitionPosition, offsetsAt: Map<number, number> | undefined): number {
  switch (strategy.kind) {
    case 'to-earliest':
      return p.low;
    case 'to-offset':
      return strategy.offset;
    case 'to-datetime':
      return offsetsAt?.get(p.partition) ?? p.high;
    case 'shift-by':
      // A group that never committed here starts from the beginning (the routers read
      // from the earliest offset), so that is what a shift moves from.
      return (p.committed ?? p.low) + strategy.by;
  }
}

function clamp(offset: number, p: PartitionRange): number {
  return Math.min(Math.max(offset, p.low), p.high);
}

export interface OffsetReset {
  group: string;
  topic: string;
  dryRun: boolean;
  moves: OffsetMove[];
}

export function formatOffsetReset(reset: OffsetReset): string {
  const rows = reset.moves.map((m) => [m.partition, m.from, m.to, m.from === null ? null : m.to - m.from]);
  const summary = reset.dryRun
    ? `dry run: offsets of group ${reset.group} on ${reset.topic} not changed`
    : `moved offsets of group ${reset.group} on ${reset.topic}`;
  return `${renderTable(['PARTITION', 'OLD OFFSET', 'NEW OFFSET', 'CHANGE'], rows)}\n${summary}`;
}
