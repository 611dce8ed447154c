// The Kafka transport provisions topics with their replication: the declaration's, else the
// transport's defaults, else what the cluster can hold (on the local single broker, 1 and 1).
import { stack, uniqueName } from '@tickflow/testing';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { KafkaJsTransport } from '../src/kafkajs-transport.ts';
import type { TopicSpec } from '../src/transport.ts';

const kafka = new Kafka({ clientId: 'topics-test', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });
const admin = kafka.admin();
const transport = new KafkaJsTransport({ clientId: 'topics-test', brokers: stack.kafkaBrokers });

afterAll(async () => {
  await admin.disconnect();
  await transport.close();
});

const spec = (overrides: Partial<TopicSpec> = {}): TopicSpec => ({
  name: uniqueName('topics'),
  partitions: 2,
  retentionMs: 3_600_000,
  cleanupPolicy: 'delete',
  ...overrides,
});

/** The topic's replicas per partition, and min.insync.replicas as set on the topic itself (null: the broker's default). */
async function replication(topic: string): Promise<{ replicas: number[]; minInsyncReplicas: string | null }> {
  await admin.connect();
  const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['min.insync.replicas'] }],
  });
  const entry = resources[0]?.configEntries.find((e) => e.configName === 'min.insync.replicas');
  return {
    replicas: (topics[0]?.partitions ?? []).map((p) => p.replicas.length),
    minInsyncReplicas: entry && !entry.isDefault ? entry.configValue : null,
  };
}

describe('KafkaJsTransport.ensureTopics', () => {
  it('creates a topic with its declared replication factor and min.insync.replicas, set on the topic', async () => {
    const declared = spec({ replicationFactor: 1, minInsyncReplicas: 1 });
    await transport.ensureTopics([declared]);
    expect(await replication(declared.name)).toEqual({ replicas: [1, 1], minInsyncReplicas: '1' });
  });

  it('fills in what a declaration leaves out: the transport’s defaults, else what the cluster holds', async () => {
    const fromCluster = spec();
    expect(await transport.withReplication([fromCluster])).toEqual([{ ...fromCluster, replicationFactor: 1, minInsyncReplicas: 1 }]);
    await transport.ensureTopics([fromCluster]);
    // One broker: a factor of 1, and min.insync.replicas 1 written on the topic, not left to the broker.
    expect(await replication(fromCluster.name)).toEqual({ replicas: [1, 1], minInsyncReplicas: '1' });

    const configured = new KafkaJsTransport({ clientId: 'topics-test', brokers: stack.kafkaBrokers, replication: { factor: 3 } });
    try {
      const [withDefaults] = await configured.withReplication([spec({ name: 'x' })]);
      expect([withDefaults?.replicationFactor, withDefaults?.minInsyncReplicas]).toEqual([3, 2]);
    } finally {
      await configured.close();
    }
  });

  it('refuses, naming the topic, a replication the cluster cannot hold, and creates none of the batch', async () => {
    await admin.connect();
    const tooMany = spec({ replicationFactor: 3 });
    const fine = spec();
    await expect(transport.ensureTopics([fine, tooMany])).rejects.toThrow(
      `cannot create ${tooMany.name}: a replication factor of 3 needs as many brokers; the cluster has 1`,
    );
    const impossible = spec({ replicationFactor: 1, minInsyncReplicas: 2 });
    await expect(transport.ensureTopics([impossible])).rejects.toThrow(
      `cannot create ${impossible.name}: min.insync.replicas 2 is more than its 1 replicas, so no acks=all write could succeed`,
    );
    const names = await admin.listTopics();
    expect([fine.name, tooMany.name, impossible.name].filter((name) => names.includes(name))).toEqual([]);
  });
});
