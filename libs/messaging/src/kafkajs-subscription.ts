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
//
// Rebalances. kafkajs has no revoke callback, and it rejoins as soon as its fetchers stop,
// which, with batches handed to lanes, is long before those batches are done. So the
// handover is made between the members instead: every JoinGroup carries, in the assignor's
// user data, the partitions this member still has a batch in hand of or a position not yet
// committed, under a fresh token. A member given such a partition pauses it and waits until
// the committed offset carries that token (the previous owner's final commit, made once its
// record in hand is done), at most a session timeout, then reads from the committed offset.
// A member commits only partitions it owns; a revoked lane's one late commit is that release,
// and it is dropped once its next owner has stopped waiting. Every partition newly assigned
// is seeked to its committed offset (or its start), so no seek or pause of an earlier
// ownership survives.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Admin,
  type Assigner,
  AssignerProtocol,
  type Consumer,
  type ConsumerConfig,
  type EachBatchPayload,
  type IHeaders,
  type Kafka,
  type PartitionAssigner,
  PartitionAssigners,
} from 'kafkajs';
import type { Headers } from './envelope.ts';
import type { Batch, ReceivedRecord, SubscribeOptions, Subscription } from './transport.ts';

const COMMIT_INTERVAL_MS = 1000;
const WORKERS = 64;
/** How often a member given a partition still held elsewhere looks for its release. */
const RELEASE_POLL_MS = 100;
/** A release later than this before its next owner stops waiting is dropped: they may have read by the time it lands. */
const RELEASE_MARGIN_MS = 1000;
/** The metadata of a start position committed for a partition the group had never committed. */
const START_MARK = 'tickflow:start';
/** What a member's JoinGroup user data says: partitions it has not let go of yet, and the token it will release them under. */
interface HandoffClaim {
  token: string;
  partitions: [string, number][];
}
interface TopicPartition {
  topic: string;
  partition: number;
}
type KafkaMessages = EachBatchPayload['batch']['messages'];

/** One partition's batches, handled one after another, and what this member knows of its offsets. */
class Lane {
  /** The batch being handled; the next one waits for it. */
  handling: Promise<void> = Promise.resolve();
  busy = false;
  /** The next offset to read, everything before it handled; unset until a record is. */
  position: string | undefined;
  /** The position last committed. */
  committed: string | undefined;
  /** The first offset handed to this lane: where its release points if it handled nothing. */
  floor: string | undefined;
  /** In this member's assignment. A revoked lane goes on with its record in hand, then releases the partition. */
  owned = true;
  /** Bumped when the partition comes back after being revoked: a batch of an earlier ownership no longer moves the position. */
  ownership = 0;
  /** For a revoked lane its next owner waits for: the token to commit under, and until when that commit is still awaited. */
  release: { token: string; by: number } | undefined;
  resumeTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly key: string,
    readonly topic: string,
    readonly partition: number,
  ) {}

  get uncommitted(): boolean {
    return this.position !== undefined && this.position !== this.committed;
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
  private readonly consumer: Consumer;
  private readonly admin: Admin;
  private readonly lanes = new Map<string, Lane>();
  private readonly slots: Slots;
  /** How long a member given a partition still held elsewhere waits for its release: the session timeout. */
  private readonly handoffMs: number;
  private commitTimer: NodeJS.Timeout | undefined;
  private committing: Promise<void> = Promise.resolve();
  private stopping = false;
  private stopped: Promise<void> | undefined;
  /** Bumped by every join: batches fetched before it are no longer ours to handle. */
  private generation = 0;
  /** The generation whose newly assigned partitions all know where to start. */
  private startedGeneration = -1;
  private starting: Promise<void> = Promise.resolve();
  /** Partitions paused at a join until it is known where to read them from. */
  private readonly waitingToStart = new Map<string, TopicPartition>();
  private assignment = new Map<string, TopicPartition>();
  private memberId: string | undefined;
  /** Set when this member learns the group is rebalancing, until it has joined again. */
  private rebalancing = false;
  private rebalances = 0;
  /** The token and partitions of this member's last JoinGroup. */
  private token = '';
  private claimed = new Set<string>();
  private heartbeat: (() => Promise<void>) | undefined;

  constructor(
    kafka: Kafka,
    config: ConsumerConfig,
    private readonly options: SubscribeOptions,
    private readonly warn: (message: string, error: unknown) => void,
  ) {
    this.consumer = kafka.consumer({ ...config, partitionAssigners: [(c) => this.assigner(c)] });
    this.admin = kafka.admin();
    this.slots = new Slots(options.concurrency);
    this.handoffMs = config.sessionTimeout ?? 30_000;
    const { GROUP_JOIN, REBALANCING, HEARTBEAT } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, ({ payload }) => this.joined(payload.memberId, payload.memberAssignment));
    this.consumer.on(REBALANCING, () => this.rebalanceSeen());
    // A heartbeat answered means the group is stable: a rebalance seen is over (or was a false alarm).
    this.consumer.on(HEARTBEAT, () => {
      this.rebalancing = false;
    });
  }

  async start(): Promise<void> {
    await this.admin.connect();
    await this.consumer.connect();
    // Where a new group starts is decided at each join (startReading); kafkajs' own default
    // is left only for a committed offset fallen out of retention, where the earliest record
    // still kept loses less than the end.
    await this.consumer.subscribe({ topics: this.options.topics, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // A batch waits in eachBatch for its lane (and a slot): enough workers for one per
      // partition this member could be given, so no partition waits on another's worker.
      partitionsConsumedConcurrently: WORKERS,
      eachBatch: (payload) => this.eachBatch(payload),
    });
    this.commitTimer = setInterval(() => this.tick(), COMMIT_INTERVAL_MS).unref();
    // Resolves once every partition knows where it starts, so a record produced after it is read.
    for (let starting = this.starting; ; starting = this.starting) {
      await starting;
      if (starting === this.starting) break;
    }
  }

  isAssigned(): boolean {
    return this.startedGeneration === this.generation && this.generation > 0 && !this.rebalancing;
  }

  /** Lets the batches in hand finish, commits what they handled, then leaves the group. Once. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping = true;
      for (const lane of this.lanes.values()) clearTimeout(lane.resumeTimer);
      // The interval goes on committing meanwhile, and each lane's position is committed as
      // soon as it is done: a drain cut short by the host's deadline loses only what was in hand.
      await Promise.all([...this.lanes.values()].map((lane) => lane.handling.then(() => this.commit())));
      await this.commit();
      clearInterval(this.commitTimer);
      await this.consumer.disconnect();
      await this.admin.disconnect();
    })();
    return this.stopped;
  }

  private async eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (this.stopping) return;
    this.heartbeat = heartbeat;
    const { topic, partition, messages } = batch;
    const generation = this.generation;
    const key = `${topic}|${partition}`;
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = new Lane(key, topic, partition);
      this.lanes.set(key, lane);
    }
    await lane.handling;
    await this.slots.acquire();
    // Stopping, rebalancing or rebalanced, or seeked back (a delay topic's head not yet due,
    // or a failed batch): this batch is fetched again from the partition's position.
    const last = messages.at(-1);
    if (!last || this.stopping || this.rebalancing || !lane.owned || generation !== this.generation || !isRunning() || isStale()) {
      this.slots.release();
      return;
    }
    resolveOffset(last.offset);
    // After a rebalance kafkajs reads a partition it kept from the committed offset again;
    // what this lane handled since is not handled twice.
    const from = firstUnhandled(messages, lane.position);
    if (from === messages.length) {
      this.slots.release();
      return;
    }
    lane.floor ??= messages[from]?.offset;
    lane.busy = true;
    const handed = lane;
    lane.handling = this.handle(lane, toRecords(topic, partition, messages, from), heartbeat, isRunning).finally(() => {
      handed.busy = false;
      this.slots.release();
      this.laneDone(handed);
    });
  }

  private async handle(lane: Lane, records: ReceivedRecord[], heartbeat: () => Promise<void>, kafkaRunning: () => boolean) {
    const { topic, partition, ownership } = lane;
    const rebalances = this.rebalances;
    const ours = () => lane.owned && lane.ownership === ownership;
    let seeked = false;
    const view: Batch = {
      topic,
      partition,
      records,
      commit: async (record) => {
        // A revoked lane still counts what it finishes: its release commits it.
        if (lane.ownership === ownership) lane.position = String(BigInt(record.offset) + 1n);
      },
      pauseUntil: (record, resumeAt) => {
        seeked = true;
        if (ours()) this.seek(lane, record.offset, resumeAt);
      },
      heartbeat: () => heartbeat().catch((error: unknown) => this.rethrowNoticing(error)),
      isRunning: () => !seeked && !this.stopping && !this.rebalancing && ours() && kafkaRunning(),
    };
    try {
      await this.options.onBatch(view);
    } catch (error) {
      // The outcome of a record could not be made durable (the broker unreachable, say).
      // Its offset is not committed; read the partition again from the first record not
      // yet handled, after a pause, as kafkajs does when eachBatch throws.
      this.warn(`handling a batch of ${topic}[${partition}] failed; reading it again`, error);
      if (!seeked && ours() && !this.stopping) this.seek(lane, unhandledFrom(lane, records), Date.now() + COMMIT_INTERVAL_MS);
      return;
    }
    // Cut short by a rebalance that left the partition here (or a false alarm): kafkajs
    // already fetches past this batch, so its rest is read again from the first record left.
    const end = records.at(-1)?.offset;
    if (!seeked && ours() && !this.stopping && this.rebalances !== rebalances && end !== undefined) {
      const from = unhandledFrom(lane, records);
      if (BigInt(from) <= BigInt(end)) this.seek(lane, from, Date.now());
    }
  }

  /** Stops fetching the partition, sets where it is read from next, and fetches again from there at `resumeAt`. */
  private seek(lane: Lane, offset: string, resumeAt: number): void {
    const partitions = [{ topic: lane.topic, partitions: [lane.partition] }];
    this.consumer.pause(partitions);
    this.consumer.seek({ topic: lane.topic, partition: lane.partition, offset });
    clearTimeout(lane.resumeTimer);
    lane.resumeTimer = setTimeout(
      () => {
        lane.resumeTimer = undefined;
        if (lane.owned && !this.stopping) this.consumer.resume(partitions);
      },
      Math.max(0, resumeAt - Date.now()),
    );
  }

  private laneDone(lane: Lane): void {
    if (!lane.owned) this.releaseOrForget(lane);
    // Finished while the group rebalances or the subscription stops: committed at once, for
    // the partition may be someone else's a moment later.
    else if (this.rebalancing || this.stopping) void this.commit();
  }

  private tick(): void {
    void this.commit();
    // kafkajs learns of a rebalance between fetches, and a batch waiting in eachBatch for its
    // lane holds its fetches up: asking here lets the lanes stop after their record in hand.
    const heartbeat = this.heartbeat;
    if (heartbeat && [...this.lanes.values()].some((lane) => lane.busy)) {
      heartbeat().catch((error: unknown) => this.noticeRebalance(error));
    }
  }

  private rethrowNoticing(error: unknown): never {
    this.noticeRebalance(error);
    throw error;
  }

  private noticeRebalance(error: unknown): void {
    if (isRebalanceError(error)) this.rebalanceSeen();
  }

  private rebalanceSeen(): void {
    if (this.rebalancing) return;
    this.rebalancing = true;
    this.rebalances += 1;
    // Until the group completes its join, commits of the current generation are still taken:
    // what is committed now no next owner reads again.
    void this.commit();
  }

  /** The assignment of a join: revoked lanes release their partitions, new ones wait to know where to start. */
  private joined(memberId: string, memberAssignment: Record<string, number[]>): void {
    try {
      this.generation += 1;
      this.rebalancing = false;
      // A new member id: this member had been dropped from the group (its session expired)
      // and others may have handled what it held, so nothing it held is its to commit.
      const dropped = this.memberId !== undefined && memberId !== this.memberId;
      this.memberId = memberId;
      const assigned = new Map<string, TopicPartition>();
      for (const [topic, partitions] of Object.entries(memberAssignment)) {
        for (const partition of partitions) assigned.set(`${topic}|${partition}`, { topic, partition });
      }
      for (const [key, tp] of this.waitingToStart) {
        if (assigned.has(key)) continue;
        this.waitingToStart.delete(key);
        this.consumer.resume([{ topic: tp.topic, partitions: [tp.partition] }]);
      }
      const gained = [...assigned].filter(([key]) => dropped || !this.assignment.has(key) || this.waitingToStart.has(key));
      this.assignment = assigned;
      for (const lane of [...this.lanes.values()]) {
        if (dropped || !assigned.has(lane.key)) this.revoke(lane, !dropped && this.claimed.has(lane.key));
      }
      for (const [key, tp] of gained) {
        const lane = this.lanes.get(key);
        if (lane) regain(lane);
        this.waitingToStart.set(key, tp);
      }
      if (gained.length > 0) this.consumer.pause(gained.map(([, tp]) => ({ topic: tp.topic, partitions: [tp.partition] })));
      this.starting = this.startReading(this.generation, new Map(gained));
    } catch (error) {
      this.warn('taking the assignment of a rebalance failed', error);
    }
  }

  private revoke(lane: Lane, claimed: boolean): void {
    if (lane.owned) {
      lane.owned = false;
      clearTimeout(lane.resumeTimer);
      lane.resumeTimer = undefined;
      // A pause of this ownership must not outlive it: kafkajs keeps pauses across assignments.
      this.consumer.resume([{ topic: lane.topic, partitions: [lane.partition] }]);
    }
    lane.release = claimed ? { token: this.token, by: Date.now() + this.handoffMs - RELEASE_MARGIN_MS } : undefined;
    if (!lane.busy) this.releaseOrForget(lane);
  }

  /** A revoked lane with nothing in hand: commits its final position under its release token if its next owner waits for it. */
  private releaseOrForget(lane: Lane): void {
    if (lane.owned) return;
    this.lanes.delete(lane.key);
    const offset = lane.position ?? lane.floor;
    const { release } = lane;
    if (!release || offset === undefined || Date.now() > release.by) return;
    const { topic, partition } = lane;
    void this.enqueue(async () => {
      try {
        await this.consumer.commitOffsets([{ topic, partition, offset, metadata: release.token }]);
      } catch (error) {
        // Its next owner reads from the last commit once it stops waiting: records repeat.
        if (!isRebalanceError(error)) this.warn(`releasing ${topic}[${partition}] failed`, error);
      }
    });
  }

  /**
   * Seeks each newly assigned partition to where it is to be read from, then resumes it:
   * its committed offset once its previous owner has released it (or stopped being
   * awaited), or, for a partition the group never committed, its start, committed first.
   */
  private async startReading(generation: number, pending: Map<string, TopicPartition>): Promise<void> {
    const superseded = () => generation !== this.generation || this.stopping;
    while (pending.size > 0) {
      try {
        const releasing = await this.releasingElsewhere();
        const deadline = Date.now() + this.handoffMs;
        while (pending.size > 0) {
          const committed = await this.committedOffsets([...pending.values()]);
          if (superseded()) return;
          const ready = [...pending].filter(([key]) => {
            const token = releasing.get(key);
            return token === undefined || committed.get(key)?.metadata === token || Date.now() >= deadline;
          });
          if (ready.length > 0) await this.startAt(generation, ready, committed);
          if (superseded()) return;
          for (const [key] of ready) pending.delete(key);
          if (pending.size > 0) await sleep(RELEASE_POLL_MS);
        }
      } catch (error) {
        if (superseded()) return;
        this.warn('finding where to read newly assigned partitions failed; trying again', error);
        await sleep(COMMIT_INTERVAL_MS);
      }
    }
    if (!superseded()) this.startedGeneration = generation;
  }

  private async startAt(generation: number, ready: [string, TopicPartition][], committed: Map<string, CommittedOffset>): Promise<void> {
    const starts = new Map<string, string>();
    const fresh: [string, TopicPartition][] = [];
    for (const [key, tp] of ready) {
      const offset = committed.get(key)?.offset ?? '-1';
      if (offset === '-1') fresh.push([key, tp]);
      else starts.set(key, offset);
    }
    const atEnd: [string, TopicPartition][] = [];
    if (fresh.length > 0) {
      const ranges = await this.partitionRanges([...new Set(fresh.map(([, tp]) => tp.topic))]);
      for (const [key, tp] of fresh) {
        const range = ranges.get(key);
        if (!range) throw new Error(`no offsets for ${tp.topic}[${tp.partition}]`);
        // A topic the group already reads (a real commit on another partition): this partition
        // was added since, and its records were written for the group.
        const established = [...committed.values()].some((c) => c.topic === tp.topic && c.offset !== '-1' && c.metadata !== START_MARK);
        if (this.options.startFrom === 'earliest' || established) {
          starts.set(key, range.low);
        } else {
          starts.set(key, range.high);
          atEnd.push([key, tp]);
        }
      }
    }
    if (generation !== this.generation) return;
    if (atEnd.length > 0) {
      // Committed before anything is read: a crash, or the partition's next owner, starts
      // here too, not at a later end that would skip what was written meanwhile.
      await this.consumer.commitOffsets(atEnd.map(([key, tp]) => ({ ...tp, offset: starts.get(key) as string, metadata: START_MARK })));
      if (generation !== this.generation) return;
    }
    for (const [key, tp] of ready) {
      this.consumer.seek({ ...tp, offset: starts.get(key) as string });
      this.waitingToStart.delete(key);
    }
    this.consumer.resume(ready.map(([, tp]) => ({ topic: tp.topic, partitions: [tp.partition] })));
  }

  /** Partitions other members have claimed in this generation's JoinGroup, with the token each will release them under. */
  private async releasingElsewhere(): Promise<Map<string, string>> {
    const releasing = new Map<string, string>();
    const group = await this.consumer.describeGroup();
    for (const member of group.members) {
      if (member.memberId === this.memberId) continue;
      const claim = readClaim(member.memberMetadata);
      for (const [topic, partition] of claim?.partitions ?? []) releasing.set(`${topic}|${partition}`, claim?.token ?? '');
    }
    return releasing;
  }

  private async committedOffsets(partitions: TopicPartition[]): Promise<Map<string, CommittedOffset>> {
    const topics = [...new Set(partitions.map((p) => p.topic))];
    const committed = new Map<string, CommittedOffset>();
    for (const { topic, partitions: offsets } of await this.admin.fetchOffsets({ groupId: this.options.groupId, topics })) {
      for (const { partition, offset, metadata } of offsets) committed.set(`${topic}|${partition}`, { topic, offset, metadata });
    }
    return committed;
  }

  private async partitionRanges(topics: string[]): Promise<Map<string, { low: string; high: string }>> {
    const ranges = new Map<string, { low: string; high: string }>();
    for (const topic of topics) {
      for (const { partition, low, high } of await this.admin.fetchTopicOffsets(topic)) ranges.set(`${topic}|${partition}`, { low, high });
    }
    return ranges;
  }

  /** Round robin, as kafkajs assigns by default (so members of older versions agree), with this member's claim in its user data. */
  private assigner(config: Parameters<PartitionAssigner>[0]): Assigner {
    const roundRobin = PartitionAssigners.roundRobin(config);
    return {
      name: roundRobin.name,
      version: roundRobin.version,
      assign: (group) => roundRobin.assign(group),
      protocol: ({ topics }) => ({
        name: roundRobin.name,
        metadata: AssignerProtocol.MemberMetadata.encode({ version: roundRobin.version, topics, userData: this.claim() }),
      }),
    };
  }

  /**
   * Made for every JoinGroup: the partitions this member has not let go of yet (a batch in
   * hand, or a position not yet committed), under a fresh token. Nothing claimed, nothing
   * sent, so a member's metadata does not change (and rebalance the group) for no reason.
   */
  private claim(): Buffer {
    const now = Date.now();
    const held = [...this.lanes.values()].filter(
      (lane) => (lane.owned || (lane.release !== undefined && now <= lane.release.by)) && (lane.busy || lane.uncommitted),
    );
    this.claimed = new Set(held.map((lane) => lane.key));
    if (held.length === 0) return Buffer.alloc(0);
    this.token = randomUUID();
    const claim: HandoffClaim = { token: this.token, partitions: held.map((lane) => [lane.topic, lane.partition]) };
    return Buffer.from(JSON.stringify(claim));
  }

  /** Commits every owned lane's handled position; one commit at a time. */
  private commit(): Promise<void> {
    return this.enqueue(async () => {
      const pending = [...this.lanes.values()].filter((lane) => lane.owned && lane.uncommitted);
      if (pending.length === 0) return;
      const offsets = pending.map((lane) => ({ topic: lane.topic, partition: lane.partition, offset: lane.position as string }));
      try {
        await this.consumer.commitOffsets(offsets);
        for (const [i, lane] of pending.entries()) lane.committed = offsets[i]?.offset;
      } catch (error) {
        // Tried again on the next interval. Refused while the group rebalances: then the
        // partition is read by its next owner from the last commit or this member's release.
        this.noticeRebalance(error);
        if (!this.rebalancing) this.warn('committing offsets failed; trying again', error);
      }
    });
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    this.committing = this.committing.then(work);
    return this.committing;
  }
}

interface CommittedOffset {
  topic: string;
  offset: string;
  metadata: string | null;
}

/** A revoked lane's partition come back: a fresh start, for someone else may have handled it meanwhile. */
function regain(lane: Lane): void {
  lane.owned = true;
  lane.ownership += 1;
  lane.release = undefined;
  lane.position = undefined;
  lane.committed = undefined;
  lane.floor = undefined;
}

function readClaim(metadata: Buffer): HandoffClaim | undefined {
  try {
    const { userData } = AssignerProtocol.MemberMetadata.decode(metadata) ?? {};
    if (!userData || userData.length === 0) return undefined;
    const claim = JSON.parse(userData.toString()) as HandoffClaim;
    return typeof claim.token === 'string' && Array.isArray(claim.partitions) ? claim : undefined;
  } catch {
    // A member of another client, or of a version before claims: it claims nothing.
    return undefined;
  }
}

const REBALANCE_ERRORS = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'NOT_COORDINATOR_FOR_GROUP']);

/** kafkajs wraps the broker's error in its retry errors; look down the causes. */
function isRebalanceError(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 5) return false;
  if (REBALANCE_ERRORS.has(String((error as { type?: unknown }).type))) return true;
  return isRebalanceError((error as { cause?: unknown }).cause, depth + 1);
}

/** The first offset of `records` not yet handled by this lane. */
function unhandledFrom(lane: Lane, records: ReceivedRecord[]): string {
  const first = records[0]?.offset ?? '0';
  return lane.position !== undefined && BigInt(lane.position) > BigInt(first) ? lane.position : first;
}

/** The index of the first message at or after `position`: one comparison unless the batch was fetched again. */
function firstUnhandled(messages: KafkaMessages, position: string | undefined): number {
  if (position === undefined) return 0;
  const next = BigInt(position);
  let i = 0;
  while (i < messages.length && BigInt((messages[i] as KafkaMessages[number]).offset) < next) i++;
  return i;
}

// Every record of every batch goes through here: plain loops, no intermediate arrays.
function toRecords(topic: string, partition: number, messages: KafkaMessages, from: number): ReceivedRecord[] {
  const records: ReceivedRecord[] = new Array(messages.length - from);
  for (let i = from; i < messages.length; i++) {
    const m = messages[i] as KafkaMessages[number];
    records[i - from] = { topic, partition, offset: m.offset, key: m.key, value: m.value, headers: decodeHeaders(m.headers) };
  }
  return records;
}

function decodeHeaders(headers: IHeaders | undefined): Headers {
  const out: Headers = {};
  if (!headers) return out;
  for (const name in headers) {
    // Strings already (the kafkajs patch decodes header values as text); a header sent
    // without a value (null) is an empty one, not a record that cannot be read.
    const value = headers[name];
    if (value === undefined) continue;
    const first = Array.isArray(value) ? value[0] : value;
    out[name] = typeof first === 'string' ? first : first == null ? '' : first.toString();
  }
  return out;
}
