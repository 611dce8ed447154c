// The Kafka client behind an interface of our own: the router speaks only this, so the
// client library (kafkajs today) can be swapped without touching routing or retries.
import type { Headers } from './envelope.ts';

export interface ReceivedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Headers;
}

export interface OutgoingRecord {
  topic: string;
  key: string | Buffer | null;
  value: Buffer | null;
  headers: Headers;
}

export interface TopicSpec {
  name: string;
  partitions: number;
  /** -1 keeps records forever. */
  retentionMs: number;
  cleanupPolicy: 'delete' | 'compact';
  /** Copies of each partition; left out, the transport's default (see `KafkaJsTransportOptions.replication`). */
  replicationFactor?: number;
  /** Replicas that must have a record before an acks=all write succeeds; left out, the transport's default. */
  minInsyncReplicas?: number;
}

/** One fetched batch of one partition, in offset order. */
export interface Batch {
  topic: string;
  partition: number;
  records: ReceivedRecord[];
  /**
   * Marks everything up to `record` as done: call once its outcome is durable. The
   * group's position is committed soon after (on an interval) and on stop.
   */
  commit(record: ReceivedRecord): Promise<void>;
  /** Stops fetching this partition until `resumeAt` (epoch ms), then fetches again from `record`. */
  pauseUntil(record: ReceivedRecord, resumeAt: number): void;
  heartbeat(): Promise<void>;
  /**
   * False once the subscription is stopping or the group is rebalancing: finish the record
   * in hand, commit it, and return. The rest of the batch is read again, by this member or
   * by the partition's next owner.
   */
  isRunning(): boolean;
}

export interface Subscription {
  /** Lets in-flight batches finish (their outcomes committed), then leaves the group. */
  stop(): Promise<void>;
  /**
   * True once the group has assigned this member its partitions and it knows where to read
   * each from: a record produced after that is read. False while the group rebalances.
   */
  isAssigned(): boolean;
}

export interface SubscribeOptions {
  groupId: string;
  topics: string[];
  /** Partitions handled at once; records within one partition are always in order. */
  concurrency: number;
  /**
   * Where the group starts reading a partition it has never committed an offset for:
   * 'latest' (the default) its end, as of when the group first gets it; 'earliest' its
   * first retained record. The start is committed before anything is read, so it is
   * chosen once. A partition added to a topic the group already reads starts at its
   * beginning either way: its records were written for the group.
   */
  startFrom?: 'earliest' | 'latest';
  onBatch(batch: Batch): Promise<void>;
}

export interface Transport {
  /** Resolves once every record is acknowledged by all in-sync replicas. */
  produce(records: OutgoingRecord[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** How far a consumer group trails the end of each partition of its topics. */
  consumerLag(groupId: string, topics: string[]): Promise<{ topic: string; partition: number; lag: number }[]>;
  /** The names of every topic on the cluster. */
  listTopics(): Promise<string[]>;
  /** Creates missing topics (with their replication); existing topics are left as they are. */
  ensureTopics(specs: TopicSpec[]): Promise<void>;
  close(): Promise<void>;
}
