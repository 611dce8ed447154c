// Every Kafka call the CLI makes goes through here: one admin client, one producer and
// short-lived readers, connected on first use and closed when the command ends.
import { randomUUID } from 'node:crypto';
import type { Headers, TopicSpec } from '@tickflow/messaging';
import { KafkaJsTransport, type KafkaJsTransportOptions, kafkaClientConfig } from '@tickflow/messaging';
import type { KafkaSecurity } from '@tickflow/runtime';
import { type Admin, type IHeaders, Kafka, logLevel, type Producer } from 'kafkajs';
import { CommandError } from './cli-errors.ts';

export interface PartitionRange {
  partition: number;
  low: number;
  /** The high-water mark: one past the last record. */
  high: number;
}

/** Offsets `from` (inclusive) to `to` (exclusive) of one partition. */
export interface ReadRange {
  partition: number;
  from: number;
  to: number;
}

export interface KafkaRecord {
  topic: string;
  partition: number;
  offset: number;
  /** Epoch ms, as the broker stored it. */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Headers;
}

export interface OutgoingRecord {
  topic: string;
  key: Buffer | string | null;
  value: Buffer | null;
  headers: Headers;
}

export interface Delivery {
  topic: string;
  partition: number;
  offset: number;
}

const READ_TIMEOUT_MS = 30_000;

export class KafkaCluster {
  private readonly kafka: Kafka;
  private adminClient: Promise<Admin> | undefined;
  private producerClient: Promise<Producer> | undefined;

  /** `replication`: the defaults of topics whose declaration leaves replication out (see KafkaJsTransportOptions). */
  constructor(
    readonly brokers: string[],
    private readonly replication?: KafkaJsTransportOptions['replication'],
    private readonly security?: KafkaSecurity,
  ) {
    // An operator waiting at a prompt wants to hear quickly that Kafka is not there,
    // not after the minute of retries a service would spend.
    this.kafka = new Kafka({
      ...kafkaClientConfig('tickflow-cli', brokers, security),
      logLevel: logLevel.NOTHING,
      connectionTimeout: 3_000,
      retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2_000 },
    });
  }

  admin(): Promise<Admin> {
    // Asked for the cluster at once: a listener that wants SASL or TLS lets a client without
    // them connect (kafkajs asks only for API versions, which Kafka answers before anyone
    // authenticates) and hangs up on its first real request, which this explains.
    this.adminClient ??= this.connect(this.kafka.admin(), (admin) => admin.describeCluster());
    return this.adminClient;
  }

  async topicNames(): Promise<string[]> {
    return (await (await this.admin()).listTopics()).sort();
  }

  async requireTopic(topic: string): Promise<void> {
    const names = await this.topicNames();
    if (names.includes(topic)) return;
    const similar = names.filter((name) => name.includes(topic) || topic.includes(name)).slice(0, 5);
    throw new CommandError(`topic '${topic}' does not exist${similar.length > 0 ? ` (similar: ${similar.join(', ')})` : ''}`);
  }

  async partitionRanges(topic: string): Promise<PartitionRange[]> {
    const offsets = await (await this.admin()).fetchTopicOffsets(topic);
    return offsets
      .map((p) => ({ partition: p.partition, low: Number(p.low), high: Number(p.high) }))
      .sort((a, b) => a.partition - b.partition);
  }

  /** For each partition, the first offset whose record is at or after `at`; the high-water mark when none is. */
  async offsetsAt(topic: string, at: Date): Promise<Map<number, number>> {
    const offsets = await (await this.admin()).fetchTopicOffsetsByTimestamp(topic, at.getTime());
    return new Map(offsets.map((p) => [p.partition, Number(p.offset)]));
  }

  /**
   * Reads exactly the given ranges and stops. The reader's group is a throwaway that never
   * commits, so no real group's position moves, and it is deleted afterwards.
   */
  async read(topic: string, ranges: ReadRange[], timeoutMs = READ_TIMEOUT_MS): Promise<KafkaRecord[]> {
    const wanted = new Map(ranges.filter((r) => r.to > r.from).map((r) => [r.partition, r]));
    if (wanted.size === 0) return [];
    const admin = await this.admin();
    const groupId = `tickflow-cli-reader-${randomUUID()}`;
    const consumer = this.kafka.consumer({ groupId, maxWaitTimeInMs: 100, sessionTimeout: 10_000 });
    const records: KafkaRecord[] = [];
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          const left = [...wanted.values()].map((r) => `partition ${r.partition} up to offset ${r.to - 1}`).join(', ');
          reject(new CommandError(`reading ${topic} timed out after ${timeoutMs} ms; still to read: ${left}`));
        }, timeoutMs);
        consumer
          .run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              const range = wanted.get(batch.partition);
              if (!range) return;
              for (const message of batch.messages) {
                const offset = Number(message.offset);
                if (offset < range.from || offset >= range.to) continue;
                records.push({
                  topic,
                  partition: batch.partition,
                  offset,
                  timestamp: Number(message.timestamp),
                  key: message.key,
                  value: message.value,
                  headers: decodeHeaders(message.headers),
                });
              }
              // lastOffset counts records the fetch filtered out too (transaction markers),
              // so a range whose last offset is such a marker still ends.
              if (Number(batch.lastOffset()) + 1 >= range.to) {
                wanted.delete(batch.partition);
                consumer.pause([{ topic, partitions: [batch.partition] }]);
              }
              if (wanted.size === 0) {
                clearTimeout(timer);
                resolve();
              }
            },
          })
          .catch((error: unknown) => {
            clearTimeout(timer);
            reject(error);
          });
        for (const range of wanted.values()) consumer.seek({ topic, partition: range.partition, offset: String(range.from) });
      });
    } finally {
      await consumer.disconnect();
      // Best effort: a group with no offsets is removed by the broker anyway, so a failed
      // delete leaves nothing behind that matters.
      await admin.deleteGroups([groupId]).catch(() => undefined);
    }
    return records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  }

  /** Writes the records in order, each acknowledged by all in-sync replicas, and says where each landed. */
  async send(records: OutgoingRecord[]): Promise<Delivery[]> {
    this.producerClient ??= this.connect(this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 }));
    const producer = await this.producerClient;
    const deliveries: Delivery[] = [];
    for (const record of records) {
      const [metadata] = await producer.send({
        topic: record.topic,
        acks: -1,
        messages: [{ key: record.key, value: record.value, headers: record.headers }],
      });
      if (!metadata) throw new CommandError(`Kafka did not acknowledge the record sent to ${record.topic}`);
      deliveries.push({ topic: metadata.topicName, partition: metadata.partition, offset: Number(metadata.baseOffset) });
    }
    return deliveries;
  }

  /** Creates what is missing of `specs` through the same code the services provision with. */
  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    const transport = this.transport();
    try {
      await transport.ensureTopics(specs);
    } finally {
      await transport.close();
    }
  }

  /** `specs` with the replication the services' provisioning gives each: the declaration's own, else the defaults. */
  async withReplication<S extends TopicSpec>(specs: S[]): Promise<(S & Required<TopicSpec>)[]> {
    const transport = this.transport();
    try {
      const replicated = await transport.withReplication(specs);
      return specs.map((spec, i) => ({ ...spec, ...(replicated[i] as Required<TopicSpec>) }));
    } finally {
      await transport.close();
    }
  }

  private transport(): KafkaJsTransport {
    return new KafkaJsTransport({
      clientId: 'tickflow-cli',
      brokers: this.brokers,
      ...(this.replication ? { replication: this.replication } : {}),
      ...(this.security ? { security: this.security } : {}),
    });
  }

  async close(): Promise<void> {
    const clients = [this.adminClient, this.producerClient];
    this.adminClient = undefined;
    this.producerClient = undefined;
    await Promise.all(clients.map(async (client) => (await client?.catch(() => undefined))?.disconnect()));
  }

  private async connect<C extends { connect(): Promise<void>; disconnect(): Promise<void> }>(
    client: C,
    check?: (client: C) => Promise<unknown>,
  ): Promise<C> {
    try {
      await client.connect();
      await check?.(client);
    } catch (error) {
      await client.disconnect().catch(() => undefined);
      throw new CommandError(this.connectionProblem(error));
    }
    return client;
  }

  /** Why connecting failed, naming the variables to look at (never a password's value). */
  private connectionProblem(error: unknown): string {
    const brokers = this.brokers.join(',');
    const message = error instanceof Error ? error.message : String(error);
    const sasl = this.security?.sasl;
    if (sasl && causes(error).some((e) => e.name === 'KafkaJSSASLAuthenticationError')) {
      return `Kafka at ${brokers} refused SASL ${sasl.mechanism.toUpperCase()} authentication as '${sasl.username}': check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (${message})`;
    }
    // What a listener that wants SASL or TLS does to a client that speaks neither: hang up, unexplained.
    if (causes(error).some((e) => e.name === 'KafkaJSConnectionClosedError')) {
      const unset = [...(sasl ? [] : ['KAFKA_SASL_MECHANISM']), ...(this.security?.tls ? [] : ['KAFKA_TLS'])];
      const question = unset.length > 0 ? `: does this listener want ${unset.join(' or ')}?` : '';
      return `Kafka at ${brokers} (KAFKA_BROKERS) closed the connection${question} (${message})`;
    }
    return `cannot reach Kafka at ${brokers} (KAFKA_BROKERS): ${message}`;
  }
}

/** An error and its causes: kafkajs wraps what failed in its retry errors. */
function causes(error: unknown): Error[] {
  const chain: Error[] = [];
  for (let e = error; e instanceof Error && chain.length < 10; e = e.cause) chain.push(e);
  return chain;
}

function decodeHeaders(headers: IHeaders | undefined): Headers {
  const out: Headers = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? String(value[0]) : String(value);
  }
  return out;
}
