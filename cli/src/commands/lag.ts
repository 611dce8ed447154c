import type { CliContext } from '../cli-context.ts';
import { CommandError } from '../cli-errors.ts';
import { type CommittedOffsets, formatLag, type GroupLag, groupLag } from '../consumer-lag.ts';
import type { KafkaCluster, PartitionRange } from '../kafka-cluster.ts';
import type { Output } from '../output.ts';

export async function consumerLag(kafka: KafkaCluster, group?: string): Promise<GroupLag[]> {
  const admin = await kafka.admin();
  let groups: string[];
  if (group === undefined) {
    groups = (await admin.listGroups()).groups.map((g) => g.groupId).sort();
  } else {
    const [description] = (await admin.describeGroups([group])).groups;
    if (!description || description.state === 'Dead') throw new CommandError(`consumer group '${group}' does not exist`);
    groups = [group];
  }
  const topics = new Set(await kafka.topicNames());
  const committed = await Promise.all(
    groups.map(async (groupId) => {
      const offsets = await admin.fetchOffsets({ groupId });
      return {
        groupId,
        // A topic deleted since the group committed on it has no end to measure against.
        offsets: offsets
          .filter((t) => topics.has(t.topic))
          .map(
            (t): CommittedOffsets => ({
              topic: t.topic,
              partitions: t.partitions.map((p) => ({ partition: p.partition, offset: Number(p.offset) < 0 ? null : Number(p.offset) })),
            }),
          ),
      };
    }),
  );
  const ranges = new Map<string, PartitionRange[]>();
  for (const topic of new Set(committed.flatMap((c) => c.offsets.map((o) => o.topic))))
    ranges.set(topic, await kafka.partitionRanges(topic));
  return committed.map((c) => groupLag(c.groupId, c.offsets, ranges));
}

export async function lagCommand(context: CliContext, output: Output, options: { group?: string }): Promise<void> {
  output.result(await consumerLag(context.kafka(), options.group), formatLag);
}
