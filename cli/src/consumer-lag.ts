// How far each consumer group trails the end of the partitions it has committed on.
import type { PartitionRange } from './kafka-cluster.ts';
import { renderTable } from './text-table.ts';

export interface PartitionLag {
  topic: string;
  partition: number;
  /** null: the group has committed nothing on this partition yet. */
  committed: number | null;
  end: number;
  lag: number;
}

export interface GroupLag {
  group: string;
  partitions: PartitionLag[];
  total: number;
}

export interface CommittedOffsets {
  topic: string;
  partitions: { partition: number; offset: number | null }[];
}

/**
 * Lag on every partition of each topic the group has committed on. With nothing committed
 * on a partition the group would read it from its start, so all it holds counts as lag.
 */
export function groupLag(group: string, committed: CommittedOffsets[], ranges: Map<string, PartitionRange[]>): GroupLag {
  const partitions: PartitionLag[] = [];
  for (const { topic, partitions: offsets } of [...committed].sort((a, b) => a.topic.localeCompare(b.topic))) {
    for (const range of ranges.get(topic) ?? []) {
      const at = offsets.find((o) => o.partition === range.partition)?.offset ?? null;
      const from = at === null ? range.low : Math.max(at, range.low);
      partitions.push({ topic, partition: range.partition, committed: at, end: range.high, lag: Math.max(0, range.high - from) });
    }
  }
  return { group, partitions, total: partitions.reduce((sum, p) => sum + p.lag, 0) };
}

export function formatLag(groups: GroupLag[]): string {
  if (groups.length === 0) return 'no consumer groups';
  return groups
    .map((g) => {
      if (g.partitions.length === 0) return `group ${g.group}: no committed offsets`;
      const rows = g.partitions.map((p) => [p.topic, p.partition, p.committed, p.end, p.lag]);
      return `group ${g.group}: total lag ${g.total}\n${renderTable(['TOPIC', 'PARTITION', 'COMMITTED', 'END', 'LAG'], rows)}`;
    })
    .join('\n\n');
}
