import type { CliContext } from '../cli-context.ts';
import { CommandError } from '../cli-errors.ts';
import type { KafkaCluster } from '../kafka-cluster.ts';
import { formatOffsetReset, type OffsetReset, planReset, type ResetStrategy, resetStrategyFrom } from '../offset-reset.ts';
import type { Output } from '../output.ts';

export interface OffsetResetRequest {
  group: string;
  topic: string;
  strategy: ResetStrategy;
  dryRun: boolean;
}

export async function resetGroupOffsets(kafka: KafkaCluster, request: OffsetResetRequest): Promise<OffsetReset> {
  const { group, topic, strategy, dryRun } = request;
  await kafka.requireTopic(topic);
  const admin = await kafka.admin();
  await requireIdleGroup(kafka, group);
  const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  const ranges = await kafka.partitionRanges(topic);
  const positions = ranges.map((range) => {
    const offset = committed?.partitions.find((p) => p.partition === range.partition)?.offset;
    return { ...range, committed: offset === undefined || Number(offset) < 0 ? null : Number(offset) };
  });
  const offsetsAt = strategy.kind === 'to-datetime' ? await kafka.offsetsAt(topic, strategy.at) : undefined;
  const moves = planReset(strategy, positions, offsetsAt);
  if (!dryRun) {
    try {
      await admin.setOffsets({ groupId: group, topic, partitions: moves.map((m) => ({ partition: m.partition, offset: String(m.to) })) });
    } catch (error) {
      // A consumer may have joined since the check; kafkajs refuses then, and so do we.
      if (error instanceof Error && /no running instances/.test(error.message)) await requireIdleGroup(kafka, group);
      throw error;
    }
  }
  return { group, topic, dryRun, moves };
}

/** Offsets committed under a live consumer would be overwritten by its next commit, so refuse. */
async function requireIdleGroup(kafka: KafkaCluster, group: string): Promise<void> {
  const admin = await kafka.admin();
  const { groups } = await admin.describeGroups([group]);
  const description = groups[0];
  if (!description || description.state === 'Dead') throw new CommandError(`consumer group '${group}' does not exist`);
  if (description.members.length > 0) {
    throw new CommandError(`group ${group} has ${description.members.length} live members; stop its consumers first`);
  }
}

export async function replayCommand(
  context: CliContext,
  output: Output,
  options: { group: string; topic: string; toDatetime?: Date; toOffset?: number; toEarliest?: boolean; shiftBy?: number; dryRun?: boolean },
): Promise<void> {
  const strategy = resetStrategyFrom(options);
  const reset = await resetGroupOffsets(context.kafka(), {
    group: options.group,
    topic: options.topic,
    strategy,
    dryRun: options.dryRun === true,
  });
  output.result(reset, formatOffsetReset);
}
