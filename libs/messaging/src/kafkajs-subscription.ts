// One consumer group membership over kafkajs, with the next fetch read ahead.
//
// kafkajs fetches, waits until every batch of that fetch is handled, then fetches again,
// so a consumer sits idle for each round trip to the broker (measured: a fifth of the
// router's time). Here a batch is handed to its partition's lane and eachBatch returns at
// once: kafkajs fetches the next batches while this one is handled, and each waits in
// eachBatch until the batch before it on its partition is done.
//
// The fetch position and the committed position are kept apart for that: resolveOffset
// moves only where kafkajs fetches from (autoCommit is off), and the offsets committed are
// those of records whose outcome is durable, on an interval and at stop. A crash replays
// at most the last interval's records; a commit is never ahead of a durable outcome.
import type { Consumer, EachBatchPayload, IHeaders } from 'kafkajs';
import type { Headers } from './envelope.ts';
import type { Batch, ReceivedRecord, SubscribeOptions, Subscription } from './transport.ts';

const COMMIT_INTERVAL_MS = 1000;
const WORKERS = 64;

/** One partition's batches, handled one after another. */
class Lane {
  /** The batch being handled; the next one waits for it. */
  handling: Promise<void> = Promise.resolve();
  /** The next offset to read, everything before it handled; unset until a record is. */
  position: string | undefined;
  /** The position last committed. */
  committed: string | undefined;

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  get uncommitted(): boolean {
    return this.position !== this.committed;
  }
}

/** At most `size` lanes handle a batch at once: the route's concurrency. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(size: number) {
    this.free = Math.max(1, size);
  }

  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free += 1;
  }
}

export class KafkaJsSubscription implements Subscription {
  private readonly lanes = new Map<string, Lane>();
  private readonly slots: Slots;
  private readonly resumeTimers = new Set<NodeJS.Timeout>();
  private commitTimer: NodeJS.Timeout | undefined;
  private committing: Promise<void> = Promise.resolve();
  private assigned = false;
  private stopping = false;
  private stopped: Promise<void> | undefined;
  /** Bumped by every rebalance: batches fetched before it are no longer ours to handle. */
  private generation = 0;

  constructor(
    private readonly consumer: Consumer,
    private readonly options: SubscribeOptions,
    private readonly warn: (message: string, error: unknown) => void,
  ) {
    this.slots = new Slots(options.concurrency);
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.assigned = true;
      // Handled positions of partitions now someone else's are theirs to commit: ours could
      // only move their committed offset backwards.
      for (const lane of this.lanes.values()) {
        if (!payload.memberAssignment[lane.topic]?.includes(lane.partition)) lane.committed = lane.position;
      }
    });
    consumer.on(consumer.events.REBALANCING, () => {
      this.assigned = false;
      this.generation += 1;
    });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.options.topics, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // A batch waits in eachBatch for its lane (and a slot): enough workers for one per
      // partition this member could be given, so no partition waits on another's worker.
      partitionsConsumedConcurrently: WORKERS,
      eachBatch: (payload) => this.eachBatch(payload),
    });
    this.commitTimer = setInterval(() => void this.commit(), COMMIT_INTERVAL_MS).unref();
  }

  isAssigned(): boolean {
    return this.assigned;
  }

  /** Lets the batches in hand finish, commits what they handled, then leaves the group. Once. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping = true;
      clearInterval(this.commitTimer);
      for (const timer of this.resumeTimers) clearTimeout(timer);
      await Promise.all([...this.lanes.values()].map((lane) => lane.handling));
      await this.commit();
      await this.consumer.disconnect();
    })();
    return this.stopped;
  }

  private async eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    const generation = this.generation;
    const key = `${topic}|${partition}`;
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = new Lane(topic, partition);
      this.lanes.set(key, lane);
    }
    await lane.handling;
    await this.slots.acquire();
    // Stopping, rebalanced, or seeked back (a delay topic's head not yet due, or a failed
    // batch): this batch is fetched again from the partition's position.
    const last = batch.messages.at(-1);
    if (!last || this.stopping || !isRunning() || isStale() || generation !== this.generation) {
      this.slots.release();
      return;
    }
    resolveOffset(last.offset);
    lane.handling = this.handle(lane, toRecords(topic, partition, batch.messages), generation, heartbeat, isRunning).finally(() =>
      this.slots.release(),
    );
  }

  private async handle(
    lane: Lane,
    records: ReceivedRecord[],
    generation: number,
    heartbeat: () => Promise<void>,
    isRunning: () => boolean,
  ) {
    const { topic, partition } = lane;
    let seeked = false;
    const seek = (offset: string, resumeAt: number) => {
      this.consumer.pause([{ topic, partitions: [partition] }]);
      this.consumer.seek({ topic, partition, offset });
      seeked = true;
      const timer = setTimeout(
        () => {
          this.resumeTimers.delete(timer);
          this.consumer.resume([{ topic, partitions: [partition] }]);
        },
        Math.max(0, resumeAt - Date.now()),
      );
      this.resumeTimers.add(timer);
    };
    const view: Batch = {
      topic,
      partition,
      records,
      commit: async (record) => {
        lane.position = String(BigInt(record.offset) + 1n);
      },
      pauseUntil: (record, resumeAt) => seek(record.offset, resumeAt),
      heartbeat,
      isRunning: () => !seeked && !this.stopping && generation === this.generation && isRunning(),
    };
    try {
      await this.options.onBatch(view);
    } catch (error) {
      // The outcome of a record could not be made durable (the broker unreachable, say).
      // Its offset is not committed; read the partition again from the first record not
      // yet handled, after a pause, as kafkajs does when eachBatch throws.
      this.warn(`handling a batch of ${topic}[${partition}] failed; reading it again`, error);
      if (!seeked && !this.stopping && generation === this.generation) {
        const first = records[0]?.offset ?? '0';
        const handledHere = lane.position !== undefined && BigInt(lane.position) > BigInt(first);
        seek(handledHere ? (lane.position as string) : first, Date.now() + COMMIT_INTERVAL_MS);
      }
    }
  }

  /** Commits every lane's handled position; one commit at a time. */
  private commit(): Promise<void> {
    this.committing = this.committing.then(async () => {
      const pending = [...this.lanes.values()].filter((lane) => lane.uncommitted);
      if (pending.length === 0) return;
      const offsets = pending.map((lane) => ({ topic: lane.topic, partition: lane.partition, offset: lane.position as string }));
      try {
        await this.consumer.commitOffsets(offsets);
        for (const [i, lane] of pending.entries()) lane.committed = offsets[i]?.offset;
      } catch (error) {
        // Tried again on the next interval. A rebalance refuses it; the partitions' next
        // owner reads from the last committed offset, so records repeat, none is lost.
        this.warn('committing offsets failed; trying again', error);
      }
    });
    return this.committing;
  }
}

// Every record of every batch goes through here: plain loops, no intermediate arrays.
function toRecords(topic: string, partition: number, messages: EachBatchPayload['batch']['messages']): ReceivedRecord[] {
  const records: ReceivedRecord[] = new Array(messages.length);
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as EachBatchPayload['batch']['messages'][number];
    records[i] = { topic, partition, offset: m.offset, key: m.key, value: m.value, headers: decodeHeaders(m.headers) };
  }
  return records;
}

function decodeHeaders(headers: IHeaders | undefined): Headers {
  const out: Headers = {};
  if (!headers) return out;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? String(value[0]) : value.toString();
  }
  return out;
}
