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
  replicationFactor: z.number().int().min(1).optional(),
  minInsyncReplicas: z.number().int().min(1).optional(),
});

/** One service's topics, as its definition (`src/service.ts`) declares them. */
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
        `services/${service}/src/service.ts: its topics are not a list of topic specs (${issue ? `${issue.path.join('.')}: ${issue.message}` : 'no list'})`,
      );
    }
    for (const spec of parsed.data) {
      const known = byName.get(spec.name);
      if (!known) {
        byName.set(spec.name, { ...spec, services: [service] });
        continue;
      }
      if (
        known.partitions !== spec.partitions ||
        known.retentionMs !== spec.retentionMs ||
        known.cleanupPolicy !== spec.cleanupPolicy ||
        known.replicationFactor !== spec.replicationFactor ||
        known.minInsyncReplicas !== spec.minInsyncReplicas
      ) {
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
  /** For an existing topic, where the broker's differs from the declaration. Provisioning changes none of it. */
  drift?: TopicDrift[];
}

/** An existing topic as the broker has it. */
export interface TopicState {
  partitions: number;
  /** The fewest replicas of any of its partitions. */
  replicationFactor: number;
  retentionMs: number | null;
  cleanupPolicy: string | null;
  minInsyncReplicas: number | null;
}

export interface TopicDrift {
  setting: 'partitions' | 'replication.factor' | 'min.insync.replicas' | 'retention.ms' | 'cleanup.policy';
  declared: number | string;
  actual: number | string | null;
  /** What it takes to bring the topic to its declaration, and what that costs. */
  remedy: string;
}

/**
 * `states` holds the existing topics as the broker has them: each gets its drift. The
 * declaration's replication is the one the topic would be created with (the transport's
 * defaults filled in).
 */
export function provisioningPlan(
  declared: DeclaredTopic[],
  existing: Set<string>,
  dryRun: boolean,
  states: Map<string, TopicState> = new Map(),
): ProvisionedTopic[] {
  return declared.map((t) => {
    const state = states.get(t.name);
    return {
      name: t.name,
      services: t.services,
      partitions: t.partitions,
      status: existing.has(t.name) ? 'existing' : dryRun ? 'would create' : 'created',
      ...(existing.has(t.name) && state ? { drift: topicDrift(t, state) } : {}),
    };
  });
}

/** Every difference between a declared topic and the broker's; none is fixed here, for most cannot be undone. */
export function topicDrift(declared: TopicSpec, state: TopicState): TopicDrift[] {
  const alter = (setting: string, value: string | number) =>
    `kafka-configs.sh --alter --entity-type topics --entity-name ${declared.name} --add-config ${setting}=${value}`;
  const drift: TopicDrift[] = [];
  if (state.partitions < declared.partitions) {
    drift.push({
      setting: 'partitions',
      declared: declared.partitions,
      actual: state.partitions,
      remedy: `can be increased: kafka-topics.sh --alter --topic ${declared.name} --partitions ${declared.partitions}; keys then map to other partitions, so records of one key are in order again only from then on`,
    });
  } else if (state.partitions > declared.partitions) {
    drift.push({
      setting: 'partitions',
      declared: declared.partitions,
      actual: state.partitions,
      remedy: `partitions cannot be removed: declare ${state.partitions}, or recreate the topic (its records are lost)`,
    });
  }
  if (declared.replicationFactor !== undefined && state.replicationFactor !== declared.replicationFactor) {
    drift.push({
      setting: 'replication.factor',
      declared: declared.replicationFactor,
      actual: state.replicationFactor,
      remedy: 'changed by reassigning its partitions (kafka-reassign-partitions.sh), not by provisioning',
    });
  }
  if (declared.minInsyncReplicas !== undefined && state.minInsyncReplicas !== declared.minInsyncReplicas) {
    drift.push({
      setting: 'min.insync.replicas',
      declared: declared.minInsyncReplicas,
      actual: state.minInsyncReplicas,
      remedy: `${alter('min.insync.replicas', declared.minInsyncReplicas)}; fewer than declared, an acks=all write can be lost with a broker`,
    });
  }
  if (state.retentionMs !== declared.retentionMs) {
    const shorter = declared.retentionMs !== -1 && (state.retentionMs === -1 || (state.retentionMs ?? 0) > declared.retentionMs);
    drift.push({
      setting: 'retention.ms',
      declared: declared.retentionMs,
      actual: state.retentionMs,
      remedy: `${alter('retention.ms', declared.retentionMs)}${shorter ? `; this deletes records older than ${formatRetention(declared.retentionMs)}` : ''}`,
    });
  }
  if (state.cleanupPolicy !== declared.cleanupPolicy) {
    drift.push({
      setting: 'cleanup.policy',
      declared: declared.cleanupPolicy,
      actual: state.cleanupPolicy,
      remedy: `${alter('cleanup.policy', declared.cleanupPolicy)}; ${
        declared.cleanupPolicy === 'compact'
          ? 'compaction keeps only the last record of each key'
          : 'records past retention are then deleted'
      }`,
    });
  }
  return drift;
}

export function formatProvisioning(topics: ProvisionedTopic[]): string {
  if (topics.length === 0) return 'no service declares any topics';
  const count = (status: ProvisionedTopic['status']) => topics.filter((t) => t.status === status).length;
  const created = count('created');
  const planned = count('would create');
  const drifted = topics.filter((t) => (t.drift ?? []).length > 0);
  const summary = `${
    planned > 0 ? `${planned} to create, ${count('existing')} existing (--dry-run)` : `${created} created, ${count('existing')} existing`
  }${drifted.length > 0 ? `, ${drifted.length} not as declared (left as they are)` : ''}`;
  const table = renderTable(
    ['TOPIC', 'SERVICES', 'PARTITIONS', 'STATUS'],
    topics.map((t) => [t.name, t.services.join(','), t.partitions, (t.drift ?? []).length > 0 ? `${t.status}, not as declared` : t.status]),
  );
  const drift = drifted.flatMap((t) =>
    (t.drift ?? []).map((d) => `  ${t.name}: ${d.setting} is ${d.actual ?? 'unknown'}, declared ${d.declared}: ${d.remedy}`),
  );
  return [table, ...(drift.length > 0 ? ['', 'not as declared:', ...drift, ''] : []), summary].join('\n');
}
