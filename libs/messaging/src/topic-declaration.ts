// A service's topics, declared once: what it consumes (each request topic with its retry
// tiers and delay ladder), its events topic, and any topic of its own. Pure, so the service
// (provisioning at start), the CLI (`tickflow topics provision`) and the tests all derive
// the same list from the same declaration.
import { DEFAULT_DELAY_LADDER, deadLetterTopic, delayTopic, parseLadder, parseTiers, retryTopic } from './retry-tiers.ts';
import type { TopicSpec } from './transport.ts';

const DAY_MS = 86_400_000;
export const DEFAULT_PARTITIONS = 3;

export interface ConsumedTopic {
  name: string;
  /** Retry tiers in order, e.g. ['2s', '4s', '8s']; none: a failure goes straight to the DLQ. */
  retry?: string[];
  /** Steps of the delay ladder that carries defers and a classifier's own policies. */
  delayLadder?: string[];
}

export interface TopicDeclaration {
  /** The instance name: consumer groups and the events topic derive from it. */
  service: string;
  consumes: ConsumedTopic[];
  /** Topics the service uses beyond these, such as the scheduler's state. */
  own?: TopicSpec[];
  /** Whether the service has an events topic; true unless it says (the scheduler announces nothing). */
  events?: boolean;
  partitions?: number;
}

export function eventsTopicOf(service: string): string {
  return `${service}.events`;
}

/** A service's request topic, as its declaration makes it; the scheduler creates it the same way when it starts first. */
export function requestTopicSpec(topic: string, partitions = DEFAULT_PARTITIONS): TopicSpec {
  return { name: topic, partitions, retentionMs: 7 * DAY_MS, cleanupPolicy: 'delete' };
}

/** Every topic a declaration makes, in a stable order: events, then per request topic its tiers, ladder and DLQ, then its own. */
export function topicSpecs(declaration: TopicDeclaration): TopicSpec[] {
  const partitions = declaration.partitions ?? DEFAULT_PARTITIONS;
  const specs: TopicSpec[] =
    declaration.events === false
      ? []
      : [{ name: eventsTopicOf(declaration.service), partitions, retentionMs: 30 * DAY_MS, cleanupPolicy: 'delete' }];
  for (const consumed of declaration.consumes) {
    specs.push(requestTopicSpec(consumed.name, partitions));
    // A record must outlive its wait: keep a week beyond the topic's delay.
    const delayed = (name: string, delayMs: number): TopicSpec => ({
      name,
      partitions,
      retentionMs: delayMs + 7 * DAY_MS,
      cleanupPolicy: 'delete',
    });
    for (const tier of parseTiers(consumed.retry ?? [])) specs.push(delayed(retryTopic(consumed.name, tier), tier.delayMs));
    for (const step of parseLadder(consumed.delayLadder ?? DEFAULT_DELAY_LADDER))
      specs.push(delayed(delayTopic(consumed.name, step), step.delayMs));
    specs.push({ name: deadLetterTopic(consumed.name), partitions, retentionMs: -1, cleanupPolicy: 'delete' });
  }
  return [...specs, ...(declaration.own ?? [])];
}
