import type { CliContext } from '../cli-context.ts';
import {
  type DeadLetter,
  deadLetterTopicOf,
  describeDeadLetter,
  formatDeadLetters,
  formatReplays,
  isSelected,
  listingRanges,
  oldestDeadLetters,
  type ReplaySelector,
  replayOf,
  replayRanges,
  replaySelectorFrom,
  type SentReplay,
} from '../dead-letters.ts';
import type { KafkaCluster } from '../kafka-cluster.ts';
import type { Output } from '../output.ts';

export interface DeadLetterListing {
  topic: string;
  deadLetters: DeadLetter[];
}

export async function listDeadLetters(kafka: KafkaCluster, topic: string, limit: number): Promise<DeadLetterListing> {
  const dlqTopic = deadLetterTopicOf(topic);
  await kafka.requireTopic(dlqTopic);
  const records = await kafka.read(dlqTopic, listingRanges(await kafka.partitionRanges(dlqTopic), limit));
  return { topic: dlqTopic, deadLetters: oldestDeadLetters(records.map(describeDeadLetter), limit) };
}

export interface ReplayReport {
  topic: string;
  dryRun: boolean;
  replays: SentReplay[];
}

export async function replayDeadLetters(
  kafka: KafkaCluster,
  topic: string,
  selector: ReplaySelector,
  dryRun: boolean,
  now: Date = new Date(),
): Promise<ReplayReport> {
  const dlqTopic = deadLetterTopicOf(topic);
  await kafka.requireTopic(dlqTopic);
  const partitions = await kafka.partitionRanges(dlqTopic);
  const offsetsSince = selector.kind === 'since' ? await kafka.offsetsAt(dlqTopic, selector.since) : undefined;
  const records = (await kafka.read(dlqTopic, replayRanges(dlqTopic, selector, partitions, offsetsSince))).filter((r) =>
    isSelected(selector, r),
  );
  const replays = records.map((record) => replayOf(record, now));
  for (const destination of new Set(replays.map((r) => r.record.topic))) await kafka.requireTopic(destination);
  const deliveries = dryRun ? [] : await kafka.send(replays.map((r) => r.record));
  return {
    topic: dlqTopic,
    dryRun,
    replays: replays.map((replay, i) => ({
      from: `${replay.from.topic}/${replay.from.partition}/${replay.from.offset}`,
      to: { topic: replay.record.topic, partition: deliveries[i]?.partition ?? null, offset: deliveries[i]?.offset ?? null },
      key: replay.record.key === null ? null : replay.record.key.toString(),
      eventType: replay.record.headers.ce_type ?? null,
      eventId: replay.record.headers.ce_id ?? null,
    })),
  };
}

export async function dlqListCommand(context: CliContext, output: Output, topic: string, options: { limit: number }): Promise<void> {
  const listing = await listDeadLetters(context.kafka(), topic, options.limit);
  output.result(listing, (l) => formatDeadLetters(l.topic, l.deadLetters));
}

export async function dlqReplayCommand(
  context: CliContext,
  output: Output,
  topic: string,
  options: { offset?: number; partition?: number; since?: Date; all?: boolean; dryRun?: boolean },
): Promise<void> {
  const selector = replaySelectorFrom(options);
  const report = await replayDeadLetters(context.kafka(), topic, selector, options.dryRun === true);
  output.result(report, (r) => formatReplays(r.topic, r.replays, r.dryRun));
}
