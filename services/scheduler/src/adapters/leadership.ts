// Leadership through Kafka itself: every replica joins one consumer group on a topic with
// a single partition; the member that partition is assigned to leads. When it dies, the
// group gives the partition to another member within the session timeout.
import type { Consumer, Kafka } from 'kafkajs';

export type LeadershipListener = (leading: boolean) => void;

export class KafkaLeadership {
  private consumer: Consumer | undefined;
  private leading = false;
  private joined = false;
  private memberId: string | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly groupId: string,
    private readonly topic: string,
  ) {}

  async start(onChange: LeadershipListener): Promise<void> {
    // The broker's minimum: a dead leader is replaced within about six seconds.
    const consumer = this.kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: 6_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 1_000,
    });
    this.consumer = consumer;
    const set = (leading: boolean) => {
      if (leading === this.leading) return;
      this.leading = leading;
      onChange(leading);
    };
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.joined = true;
      // A new member id: the group had dropped this replica (a pause or a partition longer
      // than the session timeout) and another may have led since, so a lead held before is
      // over even if the partition comes back. No REBALANCING event says so.
      if (payload.memberId !== this.memberId) set(false);
      this.memberId = payload.memberId;
      set((payload.memberAssignment[this.topic] ?? []).includes(0));
    });
    consumer.on(consumer.events.REBALANCING, () => set(false));
    consumer.on(consumer.events.STOP, () => set(false));
    // Out of the group until kafkajs has restarted the consumer and it has joined again.
    consumer.on(consumer.events.CRASH, () => {
      this.joined = false;
      set(false);
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic });
    await consumer.run({ eachMessage: async () => undefined });
  }

  isLeading(): boolean {
    return this.leading;
  }

  /** True while the group has this replica in, leader or not. */
  isJoined(): boolean {
    return this.joined;
  }

  /** Leaves the group at once, so another replica takes over without waiting for a timeout. */
  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = undefined;
  }
}
