// The aggregator's topics, declared once: the service provisions them at start and
// `tickflow topics provision` creates the same list (both through the service definition).
import type { TopicDeclaration } from '@tickflow/messaging';

/** Ticks, backfills and aggregation requests (the aggregator's own fan-out) share one topic. */
export const requestsTopic = (instance: string) => `${instance}.requests`;

export function aggregatorTopics(instance: string, retryTiers: string[]): TopicDeclaration {
  return { service: instance, consumes: [{ name: requestsTopic(instance), retry: retryTiers }] };
}
