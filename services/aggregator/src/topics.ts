// The aggregator's topics, for `tickflow topics provision`. The service provisions the same
// list itself at start, from its routes (libs/messaging's router); a test keeps the two equal.
import { deadLetterTopic, parseTiers, retryTopic, type TopicSpec } from '@tickflow/messaging';
import { aggregatorConfig } from './config.ts';

const DAY_MS = 86_400_000;
const PARTITIONS = 3;

/** Every name derives from the instance name, `aggregator` unless configured. */
export function aggregatorTopics(instance: string) {
  return {
    /** Ticks, backfills and aggregation requests, the aggregator's own fan-out included. */
    requests: `${instance}.requests`,
    /** aggregation-completed, aggregation-failed, job.failed. */
    events: `${instance}.events`,
  };
}

export function topicSpecs(
  instance: string = aggregatorConfig.shape.AGGREGATOR_INSTANCE.parse(process.env.AGGREGATOR_INSTANCE),
  retry: string[] = aggregatorConfig.shape.AGGREGATOR_RETRY_TIERS.parse(process.env.AGGREGATOR_RETRY_TIERS),
): TopicSpec[] {
  const names = aggregatorTopics(instance);
  const tiers = parseTiers(retry);
  return [
    { name: names.events, partitions: PARTITIONS, retentionMs: 30 * DAY_MS, cleanupPolicy: 'delete' },
    { name: names.requests, partitions: PARTITIONS, retentionMs: 7 * DAY_MS, cleanupPolicy: 'delete' },
    ...tiers.map((tier) => ({
      name: retryTopic(names.requests, tier),
      partitions: PARTITIONS,
      retentionMs: tier.delayMs + 7 * DAY_MS,
      cleanupPolicy: 'delete' as const,
    })),
    { name: deadLetterTopic(names.requests), partitions: PARTITIONS, retentionMs: -1, cleanupPolicy: 'delete' },
  ];
}
