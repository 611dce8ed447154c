// A default import: Node finds only the first few of CommonJS kafkajs' exports by name.
import kafkajs from 'kafkajs';
import type { CliContext } from '../cli-context.ts';
import type { KafkaCluster } from '../kafka-cluster.ts';
import type { Output } from '../output.ts';
import { discoverTopicDeclarations } from '../topic-declarations.ts';
import {
  formatProvisioning,
  formatTopics,
  mergeDeclarations,
  type ProvisionedTopic,
  provisioningPlan,
  type TopicDescription,
  type TopicState,
} from '../topic-report.ts';

export async function describeTopics(kafka: KafkaCluster, prefix = ''): Promise<TopicDescription[]> {
  // Kafka's own topics (__consumer_offsets) are not tickflow's to operate; shown only when asked for by prefix.
  const names = (await kafka.topicNames()).filter((name) => name.startsWith(prefix) && (prefix.startsWith('__') || !name.startsWith('__')));
  const states = await topicStates(kafka, names);
  return names.map((name) => {
    const state = states.get(name);
    return {
      name,
      partitions: state?.partitions ?? 0,
      cleanupPolicy: state?.cleanupPolicy ?? null,
      retentionMs: state?.retentionMs ?? null,
    };
  });
}

/** Each topic as the broker has it: its partitions and replicas, and the settings a declaration makes. */
async function topicStates(kafka: KafkaCluster, names: string[]): Promise<Map<string, TopicState>> {
  if (names.length === 0) return new Map();
  const admin = await kafka.admin();
  const { topics } = await admin.fetchTopicMetadata({ topics: names });
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: names.map((name) => ({
      type: kafkajs.ConfigResourceTypes.TOPIC,
      name,
      configNames: ['cleanup.policy', 'retention.ms', 'min.insync.replicas'],
    })),
  });
  return new Map(
    names.map((name) => {
      const configs = resources.find((r) => r.resourceName === name)?.configEntries ?? [];
      const value = (config: string) => configs.find((c) => c.configName === config)?.configValue ?? null;
      const number = (config: string) => {
        const text = value(config);
        return text === null ? null : Number(text);
      };
      const partitions = topics.find((t) => t.name === name)?.partitions ?? [];
      return [
        name,
        {
          partitions: partitions.length,
          replicationFactor: Math.min(...partitions.map((p) => p.replicas.length)),
          retentionMs: number('retention.ms'),
          cleanupPolicy: value('cleanup.policy'),
          minInsyncReplicas: number('min.insync.replicas'),
        },
      ];
    }),
  );
}

/**
 * Creates the declared topics that are missing and reports, for those that exist, where
 * the broker's differ from their declaration: provisioning changes nothing on an existing
 * topic, for most of it cannot be undone (fewer partitions, a shorter retention, compaction).
 */
export async function provisionTopics(kafka: KafkaCluster, servicesDir: string, dryRun: boolean): Promise<ProvisionedTopic[]> {
  // With the replication they would be created with: what an existing topic is compared with.
  const declared = await kafka.withReplication(mergeDeclarations(await discoverTopicDeclarations(servicesDir)));
  const existing = new Set(await kafka.topicNames());
  const states = await topicStates(
    kafka,
    declared.filter((t) => existing.has(t.name)).map((t) => t.name),
  );
  const plan = provisioningPlan(declared, existing, dryRun, states);
  if (!dryRun && plan.some((t) => t.status === 'created')) {
    await kafka.ensureTopics(declared.map(({ services: _, ...spec }) => spec));
  }
  return plan;
}

export async function topicsListCommand(context: CliContext, output: Output, options: { prefix?: string }): Promise<void> {
  output.result(await describeTopics(context.kafka(), options.prefix), formatTopics);
}

export async function topicsProvisionCommand(
  context: CliContext,
  output: Output,
  options: { services: string; dryRun?: boolean },
): Promise<void> {
  output.result(await provisionTopics(context.kafka(), options.services, options.dryRun === true), formatProvisioning);
}
