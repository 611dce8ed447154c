// Usage counters in Redis, and the pending batches the aggregator moves them into. The move
// is one Lua script per batch: each counter's value is read, deleted and added to the batch's
// pending hash in the same atomic step, so an increment lands either in the counter (moved
// by a later run) or in exactly one batch, never in both and never in neither.
import { Redis } from 'ioredis';
import type { UsageIncrement } from '../domain/usage-increments.ts';

export interface CounterState {
  key: string;
  /** null: gone, or not a string (another writer put a hash or list under a usage key). */
  value: string | null;
  /** Milliseconds until it expires; -1: never. */
  ttlMs: number;
}

export interface UsageCounterStore {
  /** INCRBY every counter and reset its TTL, all or nothing. */
  increment(increments: readonly UsageIncrement[], ttlSeconds: number): Promise<void>;
  /** The keys matching `pattern`, one SCAN page at a time (a key may come twice). */
  scanKeys(pattern: string, count: number): AsyncIterable<string[]>;
  /**
   * Moves the counters into the pending batch `batchId`, atomically. One entry per key: the
   * value moved, '' when the key was gone, or '!' and the reason the key was left in place.
   */
  moveToPendingBatch(batchId: string, keys: readonly string[]): Promise<string[]>;
  pendingBatchIds(): Promise<string[]>;
  /** A pending batch's counters and the deltas moved into it; empty once finished. */
  readPendingBatch(batchId: string): Promise<[string, string][]>;
  /** Forgets a batch once PostgreSQL holds it. */
  finishPendingBatch(batchId: string): Promise<void>;
  /** The counters matching `pattern` with their values and TTLs, one SCAN page at a time. */
  inspectCounters(pattern: string, count: number): AsyncIterable<CounterState[]>;
  close(): Promise<void>;
}

/** A counter holds something INCRBY cannot add to: the request touched nothing. */
export class CounterNotIntegerError extends Error {
  override name = 'CounterNotIntegerError';
  constructor(readonly key: string) {
    super(`counter ${key} does not hold an integer`);
  }
}

/** Redis could not be reached or did not answer in time. */
export class UsageStoreUnavailableError extends Error {
  override name = 'UsageStoreUnavailableError';
}

// Every counter is checked before any is touched, because a script that fails halfway keeps
// what it already wrote: a batch of increments must be all or nothing.
const INCREMENT_SCRIPT = `
for i = 1, #KEYS do
  local value = redis.pcall('GET', KEYS[i])
  if type(value) == 'table' or (value and not string.match(value, '^%-?%d+$')) then
    return redis.error_reply('COUNTER_NOT_INTEGER ' .. KEYS[i])
  end
end
for i = 1, #KEYS do
  redis.call('INCRBY', KEYS[i], ARGV[i + 1])
  redis.call('EXPIRE', KEYS[i], ARGV[1])
end
return #KEYS
`;

// KEYS[1] the pending hash, KEYS[2] the set of pending batch ids; ARGV[1] the batch id,
// ARGV[2] the counters' keys, one per line (no part of a usage key may hold whitespace).
// Keys travel as one argument and the reply as one string, one line per key: a million
// separate arguments and replies cost the client and Redis more than the move itself.
// A value is moved only if PostgreSQL's bigint takes it as it is (the rule of COUNTER_VALUE
// in the domain); any other is left in place and reported, as is a key of another type
// (MGET reads it as nil; EXISTS tells it from a key that is gone). Reads come in MGETs, and
// writes in a few HSETs and DELs of up to a thousand keys each, well within Lua's stack.
// The batch id enters the pending set first, so that once anything is written the batch is
// found again; and Redis lets a script that has written go on to its end, so the move is
// whole or not at all. The counters are not declared as KEYS, so this script is for a
// single Redis, not a cluster.
const MOVE_SCRIPT = `
redis.call('SADD', KEYS[2], ARGV[1])
local keys, count = {}, 0
for key in string.gmatch(ARGV[2], '[^\\n]+') do
  count = count + 1
  keys[count] = key
end
local replies, pending, moved, movedCount = {}, {}, {}, 0
for first = 1, count, 1000 do
  local last = math.min(first + 999, count)
  local values = redis.call('MGET', unpack(keys, first, last))
  for i = first, last do
    local key, value = keys[i], values[i - first + 1]
    if not value then
      if redis.call('EXISTS', key) == 1 then
        replies[i] = '!not a string counter'
      else
        replies[i] = ''
      end
    elseif #value <= 18 and (value == '0' or string.find(value, '^[1-9]%d*$')) then
      movedCount = movedCount + 1
      moved[movedCount] = key
      pending[2 * movedCount - 1] = key
      pending[2 * movedCount] = value
      replies[i] = value
    else
      replies[i] = '!value is not a non-negative integer below 10^18'
    end
  end
end
if movedCount > 0 then
  for first = 1, 2 * movedCount, 2000 do
    redis.call('HSET', KEYS[1], unpack(pending, first, math.min(first + 1999, 2 * movedCount)))
  end
  for first = 1, movedCount, 1000 do
    redis.call('DEL', unpack(moved, first, math.min(first + 999, movedCount)))
  end
else
  redis.call('SREM', KEYS[2], ARGV[1])
end
return table.concat(replies, '\\n')
`;

interface AggregatorScripts {
  aggregatorIncrement(numKeys: number, ...args: (string | number)[]): Promise<number>;
  aggregatorMove(numKeys: number, ...args: string[]): Promise<string>;
}

export interface RedisUsageCounterStoreOptions {
  url: string;
  /** Prefix of the aggregator's own keys (pending batches); the counters' layout is fixed. */
  namespace: string;
  /** Told when Redis goes away and comes back; ioredis reconnects on its own. */
  onConnectionChange?: (up: boolean, error?: unknown) => void;
}

export class RedisUsageCounterStore implements UsageCounterStore {
  private readonly redis: Redis & AggregatorScripts;
  private readonly pendingSet: string;
  private readonly namespace: string;

  constructor(options: RedisUsageCounterStoreOptions) {
    // A few quick retries, then fail: a caller waiting on a Redis that is down should hear so
    // (HTTP 503, a run retried later) rather than hang.
    const redis = new Redis(options.url, { maxRetriesPerRequest: 3, connectTimeout: 5_000, lazyConnect: false });
    redis.defineCommand('aggregatorIncrement', { lua: INCREMENT_SCRIPT });
    redis.defineCommand('aggregatorMove', { lua: MOVE_SCRIPT });
    let up = true;
    redis.on('error', (error: unknown) => {
      if (up) options.onConnectionChange?.(false, error);
      up = false;
    });
    redis.on('ready', () => {
      if (!up) options.onConnectionChange?.(true);
      up = true;
    });
    this.redis = redis as Redis & AggregatorScripts;
    this.namespace = options.namespace;
    this.pendingSet = `${options.namespace}:batches:pending`;
  }

  pendingBatchKey(batchId: string): string {
    return `${this.namespace}:batch:${batchId}`;
  }

  async increment(increments: readonly UsageIncrement[], ttlSeconds: number): Promise<void> {
    const keys = increments.map((i) => i.key);
    const amounts = increments.map((i) => i.amount);
    try {
      await this.redis.aggregatorIncrement(keys.length, ...keys, ttlSeconds, ...amounts);
    } catch (error) {
      const message = error instanceof Error ? error.message : '';
      if (message.startsWith('COUNTER_NOT_INTEGER ')) throw new CounterNotIntegerError(message.slice('COUNTER_NOT_INTEGER '.length));
      throw unavailable(error);
    }
  }

  async *scanKeys(pattern: string, count: number): AsyncIterable<string[]> {
    const scan = (cursor: string) =>
      this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', count).catch((error: unknown) => {
        throw unavailable(error);
      });
    let page = scan('0');
    for (;;) {
      const [next, keys] = await page;
      // The next page is on its way while the caller works on this one. Should the caller
      // stop early, nobody awaits it: its failure must not become an unhandled rejection.
      if (next !== '0') {
        page = scan(next);
        page.catch(() => undefined);
      }
      if (keys.length > 0) yield keys;
      if (next === '0') return;
    }
  }

  async moveToPendingBatch(batchId: string, keys: readonly string[]): Promise<string[]> {
    if (keys.length === 0) return [];
    try {
      const reply = await this.redis.aggregatorMove(2, this.pendingBatchKey(batchId), this.pendingSet, batchId, keys.join('\n'));
      return reply.split('\n');
    } catch (error) {
      throw unavailable(error);
    }
  }

  async pendingBatchIds(): Promise<string[]> {
    return this.redis.smembers(this.pendingSet).catch((error: unknown) => {
      throw unavailable(error);
    });
  }

  async readPendingBatch(batchId: string): Promise<[string, string][]> {
    const hash = await this.redis.hgetall(this.pendingBatchKey(batchId)).catch((error: unknown) => {
      throw unavailable(error);
    });
    return Object.entries(hash);
  }

  async finishPendingBatch(batchId: string): Promise<void> {
    await this.redis
      .multi()
      .unlink(this.pendingBatchKey(batchId))
      .srem(this.pendingSet, batchId)
      .exec()
      .catch((error: unknown) => {
        throw unavailable(error);
      });
  }

  async *inspectCounters(pattern: string, count: number): AsyncIterable<CounterState[]> {
    for await (const keys of this.scanKeys(pattern, count)) {
      const pipeline = this.redis.pipeline();
      for (const key of keys) pipeline.get(key).pttl(key);
      const replies = (await pipeline.exec().catch((error: unknown) => {
        throw unavailable(error);
      })) as [Error | null, unknown][];
      const states: CounterState[] = [];
      keys.forEach((key, i) => {
        const [getError, value] = replies[2 * i] ?? [null, null];
        const ttlMs = Number(replies[2 * i + 1]?.[1] ?? -2);
        // -2: expired or moved between SCAN and GET; it is no longer waiting.
        if (ttlMs !== -2) states.push({ key, value: getError ? null : ((value as string | null) ?? null), ttlMs });
      });
      yield states;
    }
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

function unavailable(error: unknown): Error {
  // Redis's own refusals (a script error, WRONGTYPE) are bugs to see as they are; everything
  // else is Redis being out of reach.
  if (error instanceof Error && error.name === 'ReplyError') return error;
  return new UsageStoreUnavailableError(`Redis unavailable: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}
