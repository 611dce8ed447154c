// The scheduler's own topics; `tickflow topics provision` creates them too.
import type { TopicSpec } from '@tickflow/messaging';

/**
 * Every name the scheduler uses derives from its instance name, `tickflow.scheduler` unless
 * configured: tests run instances side by side without touching each other.
 */
export function schedulerTopics(instance = 'tickflow.scheduler') {
  return {
    /** What has fired, one record per schedule (compacted: the latest per key is kept). */
    state: `${instance}.state`,
    /** One partition: the replica the group assigns it to is the one that fires. */
    leader: `${instance}.leader`,
    /** The leadership group, and the transactional id that fences a deposed leader. */
    group: instance,
  };
}

/** The request topics of tickflow's services: what a schedule may target. */
export const SERVICE_REQUEST_TOPICS = ['metering', 'aggregator', 'pricing', 'pod-retry', 'reporting'].map((s) => `${s}.requests`);

export function topicSpecs(instance?: string): TopicSpec[] {
  const names = schedulerTopics(instance);
  return [
    { name: names.state, partitions: 1, retentionMs: -1, cleanupPolicy: 'compact' },
    { name: names.leader, partitions: 1, retentionMs: 86_400_000, cleanupPolicy: 'delete' },
  ];
}
