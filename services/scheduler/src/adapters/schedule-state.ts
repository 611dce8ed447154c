// What has fired, read from the compacted state topic. Records are written by TickPublisher
// inside the same transaction as the tick they record, and read read_committed, so an
// aborted firing is never taken for one that happened.
//
// One reader per replica tails the topic for as long as the replica runs: a new leader asks
// it to catch up with the topic's end, and a follower answers GET /schedules from it. No
// request opens a consumer group of its own, so no burst of requests loads the cluster.
import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';

export interface FiringRecord {
  /** The scheduled time of the schedule's last firing, ISO 8601. */
  lastFired: string;
}

const CATCH_UP_TIMEOUT_MS = 30_000;

interface CatchUp {
  /** The topic's end when asked: caught up once everything before it is read. */
  end: bigint;
  done(): void;
}

export class ScheduleStateView {
  private consumer: Consumer | undefined;
  // Its own group, never committed: each replica reads the whole topic from the start.
  private readonly groupId: string;
  private readonly lastFired = new Map<string, Date>();
  /** The offset of the last record or transaction marker read; -1n before any. */
  private position = -1n;
  private readonly catchUps = new Set<CatchUp>();
  private firstRead: Promise<void> | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
  ) {
    this.groupId = `${topic}.view.${randomUUID()}`;
  }

  async start(): Promise<void> {
    // The broker's shortest session: after a broker restart the group waits for this
    // reader's old membership to expire before it takes the reader in again, and a new
    // leader waits for the reader.
    const consumer = this.kafka.consumer({ groupId: this.groupId, sessionTimeout: 6_000, heartbeatInterval: 1_000, maxWaitTimeInMs: 500 });
    this.consumer = consumer;
    // Emitted for batches of transaction markers too, which eachBatch never sees: the
    // position then reaches the topic's end, which counts the markers.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const last = BigInt(payload.lastOffset);
      if (last > this.position) this.position = last;
      this.settleCatchUps();
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          // A consumer restarted after a fault reads from the start again; what it has
          // applied already must not roll the view back.
          if (BigInt(message.offset) <= this.position) continue;
          const schedule = message.key?.toString();
          if (!schedule) continue;
          if (message.value === null) this.lastFired.delete(schedule);
          else this.lastFired.set(schedule, new Date((JSON.parse(message.value.toString()) as FiringRecord).lastFired));
        }
      },
    });
  }

  /**
   * The last firing of every schedule, once everything before the topic's end at this call
   * is read. A transaction still open holds the end back (read_committed stops before it)
   * until it commits or is aborted; right after a claim on the transactional id none is.
   */
  async readAll(): Promise<Map<string, Date>> {
    if (!this.consumer) throw new Error('the schedule state view is not started');
    const { low, high } = await this.offsets();
    if (high > low) await this.caughtUpWith(high);
    return new Map(this.lastFired);
  }

  /**
   * The last firings as read so far, without waiting for the topic's end: what a follower
   * answers with. Only the first call waits, for the topic to be read once.
   */
  async current(): Promise<Map<string, Date>> {
    this.firstRead ??= this.readAll().then(
      () => undefined,
      (error: unknown) => {
        this.firstRead = undefined;
        throw error;
      },
    );
    await this.firstRead;
    return new Map(this.lastFired);
  }

  async stop(): Promise<void> {
    if (!this.consumer) return;
    await this.consumer.disconnect();
    this.consumer = undefined;
    // The group holds no offsets; removing it leaves nothing of this replica on the cluster.
    const admin = this.kafka.admin();
    await admin.connect();
    await admin.deleteGroups([this.groupId]).catch(() => undefined);
    await admin.disconnect();
  }

  /**
   * Where the partition starts and ends, transaction markers included. The topic has one
   * partition, and its last offset always exists: compaction never touches the active segment.
   */
  private async offsets(): Promise<{ low: bigint; high: bigint }> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const [partition] = await admin.fetchTopicOffsets(this.topic);
      return { low: BigInt(partition?.low ?? '0'), high: BigInt(partition?.high ?? '0') };
    } finally {
      await admin.disconnect();
    }
  }

  private caughtUpWith(end: bigint): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.catchUps.delete(catchUp);
        reject(new Error(`reading ${this.topic} up to offset ${end} took over ${CATCH_UP_TIMEOUT_MS / 1000} s`));
      }, CATCH_UP_TIMEOUT_MS);
      const catchUp: CatchUp = {
        end,
        done: () => {
          clearTimeout(timer);
          this.catchUps.delete(catchUp);
          resolve();
        },
      };
      this.catchUps.add(catchUp);
      this.settleCatchUps();
    });
  }

  private settleCatchUps(): void {
    for (const catchUp of this.catchUps) if (this.position + 1n >= catchUp.end) catchUp.done();
  }
}
