// Pricing's topics, declared once: the service provisions them at start and `tickflow topics
// provision` creates the same list (both through the service definition).
import type { TopicDeclaration } from '@tickflow/messaging';

/** Ticks and each region's sync (the tick's fan-out) share one topic. */
export const requestsTopic = (instance: string) => `${instance}.requests`;

export function pricingTopics(instance: string, retryTiers: string[], partitions: number): TopicDeclaration {
  return { service: instance, consumes: [{ name: requestsTopic(instance), retry: retryTiers }], partitions };
}
