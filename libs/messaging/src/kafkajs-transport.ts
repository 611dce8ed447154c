import type { KafkaSecurity } from '@tickflow/runtime';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { RecordTooLargeError } from './errors.ts';
import { kafkaClientConfig } from './kafka-client-config.ts';
import { KafkaJsSubscription } from './kafkajs-subscription.ts';
import type { OutgoingRecord, SubscribeOptions, Subscription, TopicSpec, Transport } from './transport.ts';

export interface KafkaJsTransportOptions {
  clientId: string;
  brokers: string[];
  /** Where consumer errors that do not stop it are reported (a failed commit, say). */
  log?: TransportLog;
  /**
   * Replication of the topics whose spec leaves it out. Unset, it follows the cluster: a
   * replication factor of 3, or the number of brokers where there are fewer, and
   * min.insync.replicas one less than the factor (at least 1): 3 and 2 on a production
   * cluster, so an acks=all write survives the loss of a broker; 1 and 1 on the local
   * single broker. Set it where a provisioning run with a broker down must fail rather than
   * create a topic with fewer copies.
   */
  replication?: { factor?: number; minInsyncReplicas?: number };
  /** SASL and TLS, from KAFKA_SASL_* and KAFKA_TLS_* (see kafkaClientConfig). */
  security?: KafkaSecurity;
}

export interface TransportLog {
  warn(msg: string, fields?: Record<string, unknown>): void;
}

/** A produce call waiting for its turn: its records go out with the others that waited beside it. */
interface PendingWrite {
  records: OutgoingRecord[];
  bytes: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** A write gathers waiting calls up to this many bytes of records: well under a broker's default message.max.bytes (1 MiB). */
const WRITE_MAX_BYTES = 512 * 1024;

export class KafkaJsTransport implements Transport {
  private readonly kafka: Kafka;
  private producer: Promise<Producer> | undefined;
  /**
   * Produce calls waiting while a write is out. The idempotent producer has one request in
   * flight per broker, so calls made at once would otherwise wait for each other's round trip
   * one by one (measured: 1,000 contracts of metering emitting at once spent most of their
   * time there). Each write takes all that waited, in the order they came.
   */
  private readonly waiting: PendingWrite[] = [];
  private writing = false;
  private readonly subscriptions = new Set<KafkaJsSubscription>();
  private readonly log: TransportLog;
  private readonly replication: { factor?: number; minInsyncReplicas?: number };

  constructor(options: KafkaJsTransportOptions) {
    this.kafka = new Kafka({ ...kafkaClientConfig(options.clientId, options.brokers, options.security), logLevel: logLevel.ERROR });
    this.log = options.log ?? { warn: (msg, fields) => console.warn(msg, fields) };
    this.replication = options.replication ?? {};
  }

  /** The kafkajs client itself, for what this transport does not offer (transactions, a leadership group). */
  get client(): Kafka {
    return this.kafka;
  }

  /** Resolves once the broker has every record (acks=all), or fails with why they were not written. */
  produce(records: OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const bytes = records.reduce((sum, r) => sum + recordBytes(r), 0);
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ records, bytes, resolve, reject });
      if (!this.writing) void this.writeWaiting();
    });
  }

  private async writeWaiting(): Promise<void> {
    this.writing = true;
    while (this.waiting.length > 0) {
      let count = 0;
      let bytes = 0;
      while (count < this.waiting.length && (count === 0 || bytes + (this.waiting[count] as PendingWrite).bytes <= WRITE_MAX_BYTES)) {
        bytes += (this.waiting[count] as PendingWrite).bytes;
        count += 1;
      }
      const writes = this.waiting.splice(0, count);
      try {
        await this.write(writes.flatMap((w) => w.records));
        for (const w of writes) w.resolve();
      } catch (error) {
        if (writes.length === 1) {
          (writes[0] as PendingWrite).reject(error);
          continue;
        }
        // Each call then has the outcome of its own records: one too large, or for a topic it
        // may not write, fails only its caller; a broker down fails them all about as fast as
        // one. What the failed write did get written may be written again (consumers drop
        // duplicates by id).
        await Promise.all(writes.map((w) => this.write(w.records).then(w.resolve, w.reject)));
      }
    }
    this.writing = false;
  }

  private async write(records: OutgoingRecord[]): Promise<void> {
    this.producer ??= (async () => {
      // Idempotent with acks=all: a retried send never writes a record twice.
      const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      return producer;
    })().catch((error: unknown) => {
      // Not kept: the next produce connects again (the broker back, the credentials fixed).
      this.producer = undefined;
      throw error;
    });
    const producer = await this.producer;
    const byTopic = new Map<string, OutgoingRecord[]>();
    for (const record of records) {
      const list = byTopic.get(record.topic);
      if (list) list.push(record);
      else byTopic.set(record.topic, [record]);
    }
    try {
      await producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, list]) => ({
          topic,
          messages: list.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
        })),
      });
    } catch (error) {
      if (isTooLarge(error))
        throw new RecordTooLargeError(`a record for ${[...byTopic.keys()].join(', ')} is larger than the broker accepts`, { cause: error });
      throw error;
    }
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const consumerConfig = {
      groupId: options.groupId,
      // Also how long a member given a partition waits for its previous owner to let go of it.
      sessionTimeout: 10_000,
      // How long a rebalance waits for every member to join again. A member killed with
      // SIGKILL never does, and with kafkajs' default (60 s) a replacement started after it
      // waited most of a minute for its first assignment. Members here join again as soon as
      // their fetchers stop (the handover of partitions in hand is made between members, see
      // kafkajs-subscription.ts), so 20 s is ample for a live one.
      rebalanceTimeout: 20_000,
      heartbeatInterval: 1_000,
      // Short fetch waits keep redelivery from a delay topic close to its due time.
      maxWaitTimeInMs: 100,
      // A fetch response is decoded whole and its records live until handled. Bounding it
      // at 3 MiB (1 MiB a partition) keeps them inside a young generation of 64 MiB (see
      // SERVICE_NODE_FLAGS), where collecting them is cheap: measured, 1 MiB / 3 MiB with
      // that flag ran 30% faster than 4 MiB / 10 MiB in the router benchmark.
      maxBytesPerPartition: 1024 * 1024,
      maxBytes: 3 * 1024 * 1024,
      retry: { retries: 10 },
    };
    const subscription = new KafkaJsSubscription(this.kafka, consumerConfig, options, (message, error) =>
      this.log.warn(message, { error }),
    );
    this.subscriptions.add(subscription);
    await subscription.start();
    return subscription;
  }

  async listTopics(): Promise<string[]> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      return await admin.listTopics();
    } finally {
      await admin.disconnect();
    }
  }

  async consumerLag(groupId: string, topics: string[]): Promise<{ topic: string; partition: number; lag: number }[]> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const committed = await admin.fetchOffsets({ groupId, topics });
      const lag: { topic: string; partition: number; lag: number }[] = [];
      for (const { topic, partitions } of committed) {
        const ends = await admin.fetchTopicOffsets(topic);
        for (const end of ends) {
          const at = partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
          // -1: nothing committed yet, so the whole partition is still to read.
          const from = at === '-1' ? BigInt(end.low) : BigInt(at);
          lag.push({ topic, partition: end.partition, lag: Number(BigInt(end.high) - from) });
        }
      }
      return lag;
    } finally {
      await admin.disconnect();
    }
  }

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const missing = specs.filter((s) => !existing.has(s.name));
      if (missing.length === 0) return;
      const brokers = (await admin.describeCluster()).brokers.length;
      const replicated = this.replicated(missing, brokers);
      for (const s of replicated) {
        // The broker's own refusal names neither the topic nor the setting.
        if (s.replicationFactor > brokers) {
          throw new Error(
            `cannot create ${s.name}: a replication factor of ${s.replicationFactor} needs as many brokers; the cluster has ${brokers}`,
          );
        }
        if (s.minInsyncReplicas > s.replicationFactor) {
          throw new Error(
            `cannot create ${s.name}: min.insync.replicas ${s.minInsyncReplicas} is more than its ${s.replicationFactor} replicas, so no acks=all write could succeed`,
          );
        }
      }
      await admin.createTopics({
        waitForLeaders: true,
        topics: replicated.map((s) => ({
          topic: s.name,
          numPartitions: s.partitions,
          replicationFactor: s.replicationFactor,
          configEntries: [
            { name: 'retention.ms', value: String(s.retentionMs) },
            { name: 'cleanup.policy', value: s.cleanupPolicy },
            // Set on the topic, so that a change to the broker's default does not weaken it unseen.
            { name: 'min.insync.replicas', value: String(s.minInsyncReplicas) },
          ],
        })),
      });
    } finally {
      await admin.disconnect();
    }
  }

  /** `specs` with the replication ensureTopics creates them with: what `tickflow topics provision` compares a topic with. */
  async withReplication(specs: TopicSpec[]): Promise<Required<TopicSpec>[]> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      return this.replicated(specs, (await admin.describeCluster()).brokers.length);
    } finally {
      await admin.disconnect();
    }
  }

  private replicated(specs: TopicSpec[], brokers: number): Required<TopicSpec>[] {
    return specs.map((s) => {
      const replicationFactor = s.replicationFactor ?? this.replication.factor ?? Math.max(1, Math.min(3, brokers));
      const minInsyncReplicas = s.minInsyncReplicas ?? this.replication.minInsyncReplicas ?? Math.max(1, replicationFactor - 1);
      return { ...s, replicationFactor, minInsyncReplicas };
    });
  }

  async close(): Promise<void> {
    // Stopping twice is harmless: a subscription already stopped returns at once.
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    this.subscriptions.clear();
    if (this.producer) await (await this.producer).disconnect();
    this.producer = undefined;
  }
}

/** About the bytes a record takes in a write: enough to keep writes well under the broker's limit. */
function recordBytes(record: OutgoingRecord): number {
  let bytes = (record.value?.length ?? 0) + (record.key?.length ?? 0);
  for (const [name, value] of Object.entries(record.headers)) bytes += name.length + value.length;
  return bytes;
}

/** kafkajs wraps the broker's MESSAGE_TOO_LARGE in its retry errors; look down the causes. */
function isTooLarge(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 5) return false;
  if ((error as { type?: unknown }).type === 'MESSAGE_TOO_LARGE') return true;
  return isTooLarge((error as { cause?: unknown }).cause, depth + 1);
}
