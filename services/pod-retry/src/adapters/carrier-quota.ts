// Carriers' daily call limits, counted in Redis so every replica shares them: one counter per
// carrier and carrier day (carrier-day.ts), taken with one Lua script — increment, and give
// back at once if that went over the limit — so concurrent fetches never exceed it, however
// many there are. A call is counted before it is made: a process that dies after taking
// its place and before calling spends one call it did not make, which keeps the count at or
// above what the carrier saw, never below.
import { Redis } from 'ioredis';
import { carrierDay, nextCarrierDay } from '../domain/carrier-day.ts';

export interface CarrierLimit {
  /** Calls a day; the carrier refuses more (Chronopost: 100). */
  perDay: number;
  /** Where the carrier counts its days. */
  timeZone: string;
}

export type QuotaTake = { taken: true; used: number; remaining: number } | { taken: false; resetsAt: Date };

// KEYS[1] the day's counter; ARGV[1] the limit, ARGV[2] when the key may go (ms since the epoch).
const TAKE = `
local used = redis.call('INCR', KEYS[1])
if used == 1 then redis.call('PEXPIREAT', KEYS[1], ARGV[2]) end
if used > tonumber(ARGV[1]) then
  redis.call('DECR', KEYS[1])
  return -1
end
return used`;

/** Counters outlive their day by this much, to be read after it. */
const KEPT_AFTER_DAY_MS = 2 * 24 * 3_600_000;

export class CarrierQuota {
  private readonly redis: Redis;

  constructor(
    private readonly options: { redisUrl: string; keyPrefix: string; limits: Readonly<Record<string, CarrierLimit>>; now?: () => Date },
  ) {
    this.redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 3, connectTimeout: 5_000 });
  }

  /** Takes one call of `carrier`'s day, or says when its next day begins. A carrier with no limit always has one. */
  async take(carrier: string): Promise<QuotaTake> {
    const limit = this.options.limits[carrier];
    if (limit === undefined) return { taken: true, used: 0, remaining: Number.POSITIVE_INFINITY };
    const now = this.now();
    const resetsAt = nextCarrierDay(now, limit.timeZone);
    const key = this.key(carrier, carrierDay(now, limit.timeZone));
    const used = Number(await this.redis.eval(TAKE, 1, key, limit.perDay, resetsAt.getTime() + KEPT_AFTER_DAY_MS));
    if (used < 0) return { taken: false, resetsAt };
    return { taken: true, used, remaining: limit.perDay - used };
  }

  /** Calls left today per limited carrier: for the remaining-quota metric. */
  async remaining(): Promise<Record<string, number>> {
    const now = this.now();
    const left: Record<string, number> = {};
    for (const [carrier, limit] of Object.entries(this.options.limits)) {
      const used = Number((await this.redis.get(this.key(carrier, carrierDay(now, limit.timeZone)))) ?? 0);
      left[carrier] = Math.max(0, limit.perDay - used);
    }
    return left;
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private key(carrier: string, day: string): string {
    return `${this.options.keyPrefix}:quota:${carrier}:${day}`;
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }
}
