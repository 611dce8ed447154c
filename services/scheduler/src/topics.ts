// The scheduler's topics, declared once: the host provisions them at start and
// `tickflow topics provision` creates the same list, both through the service definition.
import type { TopicDeclaration } from '@tickflow/messaging';

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

/** It consumes nothing and announces nothing: its topics are its own state and leadership. */
export function schedulerTopicDeclaration(instance: string): TopicDeclaration {
  const names = schedulerTopics(instance);
  return {
    service: instance,
    consumes: [],
    events: false,
    own: [
      { name: names.state, partitions: 1, retentionMs: -1, cleanupPolicy: 'compact' },
      { name: names.leader, partitions: 1, retentionMs: 86_400_000, cleanupPolicy: 'delete' },
    ],
  };
}
