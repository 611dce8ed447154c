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
} from '../topic-report.ts';

export async function describeTopics(kafka: KafkaCluster, prefix = ''): Promise<TopicDescription[]> {
  // Kafka's own topics (__consumer_offsets) are not tickflow's to operate; shown only when asked for by prefix.
  const names = (await kafka.topicNames()).filter((name) => name.startsWith(prefix) && (prefix.startsWith('__') || !name.startsWith('__')));
  if (names.length === 0) return [];
  const admin = await kafka.admin();
  const { topics } = await admin.fetchTopicMetadata({ topics: names });
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: names.map((name) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name, configNames: ['cleanup.policy', 'retention.ms'] })),
  });
  return names.map((name) => {
    const configs = resources.find((r) => r.resourceName === name)?.configEntries ?? [];
    const value = (config: string) => configs.find((c) => c.configName === config)?.configValue ?? null;
    const retention = value('retention.ms');
    return {
      name,
      partitions: topics.find((t) => t.name === name)?.partitions.length ?? 0,
      cleanupPolicy: value('cleanup.policy'),
      retentionMs: retention === null ? null : Number(retention),
    };
  });
}

export async function provisionTopics(kafka: KafkaCluster, servicesDir: string, dryRun: boolean): Promise<ProvisionedTopic[]> {
  const declared = mergeDeclarations(await discoverTopicDeclarations(servicesDir));
  const existing = new Set(await kafka.topicNames());
  const plan = provisioningPlan(declared, existing, dryRun);
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
