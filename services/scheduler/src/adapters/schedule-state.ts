// What has fired, read back from the compacted state topic. Records are written by
// TickPublisher inside the same transaction as the tick they record.
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';

export interface FiringRecord {
  /** The scheduled time of the schedule's last firing, ISO 8601. */
  lastFired: string;
}

export class ScheduleStateStore {
  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
  ) {}

  /** The last firing of every schedule, as committed (read_committed) up to now. */
  async readAll(): Promise<Map<string, Date>> {
    const admin = this.kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(this.topic);
    const state = new Map<string, Date>();
    const pending = new Set(ends.filter((e) => BigInt(e.high) > BigInt(e.low)).map((e) => e.partition));
    if (pending.size === 0) {
      await admin.disconnect();
      return state;
    }
    const groupId = `${this.topic}.reader.${randomUUID()}`;
    const consumer = this.kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning: true });
    try {
      await new Promise<void>((resolve, reject) => {
        const timeout = setTimeout(() => reject(new Error(`reading ${this.topic} took over 30 s`)), 30_000);
        let lastActivity = Date.now();
        let batches = 0;
        // The high-water mark counts transaction markers, which are never delivered, so a
        // partition may end short of it. Once records have come, a quiet second is the end;
        // before any have, wait longer (a slow first fetch must not pass for an empty
        // state, or missed firings would go unmade), but not forever: a partition may hold
        // nothing but aborted records.
        const quiet = setInterval(() => {
          if (Date.now() - lastActivity > (batches > 0 ? 1_000 : 10_000)) finish();
        }, 200);
        const finish = () => {
          clearTimeout(timeout);
          clearInterval(quiet);
          resolve();
        };
        consumer.on(consumer.events.GROUP_JOIN, () => {
          lastActivity = Date.now();
        });
        void consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            lastActivity = Date.now();
            batches += 1;
            for (const message of batch.messages) {
              const schedule = message.key?.toString();
              if (!schedule) continue;
              if (message.value === null) state.delete(schedule);
              else state.set(schedule, new Date((JSON.parse(message.value.toString()) as FiringRecord).lastFired));
            }
            if (BigInt(batch.lastOffset()) >= BigInt(batch.highWatermark) - 1n) pending.delete(batch.partition);
            if (pending.size === 0) finish();
          },
        });
      });
    } finally {
      await consumer.disconnect();
      await admin.deleteGroups([groupId]).catch(() => undefined);
      await admin.disconnect();
    }
    return state;
  }
}
