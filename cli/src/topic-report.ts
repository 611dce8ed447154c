// Topics as the CLI reports them, and the plan for provisioning the declared ones.
import type { TopicSpec } from '@tickflow/messaging';
import { z } from 'zod';
import { CommandError } from './cli-errors.ts';
import { formatDuration } from './duration-text.ts';
import { renderTable } from './text-table.ts';

export interface TopicDescription {
  name: string;
  partitions: number;
  cleanupPolicy: string | null;
  /** -1: kept forever. */
  retentionMs: number | null;
}

export function formatTopics(topics: TopicDescription[]): string {
  if (topics.length === 0) return 'no topics';
  const rows = topics.map((t) => [t.name, t.partitions, t.cleanupPolicy, t.retentionMs === null ? null : formatRetention(t.retentionMs)]);
  return renderTable(['TOPIC', 'PARTITIONS', 'CLEANUP', 'RETENTION'], rows);
}

export function formatRetention(ms: number): string {
  return ms < 0 ? 'forever' : formatDuration(ms);
}

const topicSpecSchema = z.object({
  name: z.string().min(1),
  partitions: z.number().int().min(1),
  retentionMs: z.number().int().min(-1),
  cleanupPolicy: z.enum(['delete', 'compact']),
});

/** One service's declaration, as its `src/topics.ts` returns it. */
export interface TopicDeclaration {
  service: string;
  specs: unknown;
}

export interface DeclaredTopic extends TopicSpec {
  services: string[];
}

/**
 * Every declared topic once. Two services may declare the same topic (one writes what the
 * other reads), but must agree on it: provisioning cannot honour two shapes of one topic.
 */
export function mergeDeclarations(declarations: TopicDeclaration[]): DeclaredTopic[] {
  const byName = new Map<string, DeclaredTopic>();
  for (const { service, specs } of declarations) {
    const parsed = z.array(topicSpecSchema).safeParse(specs);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new CommandError(
        `services/${service}/src/topics.ts: topicSpecs() returned ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'no list'}`,
      );
    }
    for (const spec of parsed.data) {
      const known = byName.get(spec.name);
      if (!known) {
        byName.set(spec.name, { ...spec, services: [service] });
        continue;
      }
      if (known.partitions !== spec.partitions || known.retentionMs !== spec.retentionMs || known.cleanupPolicy !== spec.cleanupPolicy) {
        throw new CommandError(`topic ${spec.name} is declared differently by ${known.services.join(', ')} and ${service}`);
      }
      if (!known.services.includes(service)) known.services.push(service);
    }
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export interface ProvisionedTopic {
  name: string;
  services: string[];
  partitions: number;
  status: 'created' | 'existing' | 'would create';
}

export function provisioningPlan(declared: DeclaredTopic[], existing: Set<string>, dryRun: boolean): ProvisionedTopic[] {
  return declared.map((t) => ({
    name: t.name,
    services: t.services,
    partitions: t.partitions,
    status: existing.has(t.name) ? 'existing' : dryRun ? 'would create' : 'created',
  }));
}

export function formatProvisioning(topics: ProvisionedTopic[]): string {
  if (topics.length === 0) return 'no service declares any topics';
  const count = (status: ProvisionedTopic['status']) => topics.filter((t) => t.status === status).length;
  const created = count('created');
  const planned = count('would create');
  const summary =
    planned > 0 ? `${planned} to create, ${count('existing')} existing (--dry-run)` : `${created} created, ${count('existing')} existing`;
  return `${renderTable(
    ['TOPIC', 'SERVICES', 'PARTITIONS', 'STATUS'],
    topics.map((t) => [t.name, t.services.join(','), t.partitions, t.status]),
  )}\n${summary}`;
}
