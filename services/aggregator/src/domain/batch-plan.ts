// How a run turns what it finds in Redis into one set-based upsert per batch. Pure: the
// adapters do the reading and writing.
import { type UsageCounterId, UsageKeyParser } from './usage-key.ts';

export interface SkippedKey {
  key: string;
  reason: string;
}

/** One batch's rows, column by column, ready for `unnest`: one statement however many rows. */
export interface UpsertRows {
  merchantIds: string[];
  dates: string[];
  metricTypes: string[];
  /** Decimal strings: a counter may exceed 2^53, PostgreSQL's bigint holds it exactly. */
  values: string[];
}

/**
 * A counter value the aggregator moves: a non-negative integer below 10^18, written the way
 * INCRBY writes it (no sign, no leading zero), so that PostgreSQL's bigint takes it as it is
 * and sums of a few stay below 2^63. The Lua script that moves counters applies the same rule.
 */
export const COUNTER_VALUE = /^(0|[1-9][0-9]{0,17})$/;

/** A counter found in Redis for the run's date (and merchant). */
export interface FoundCounter {
  key: string;
  id: UsageCounterId;
}

/** What a run does with the keys one SCAN page returned for its date (and merchant). */
export function sortScannedKeys(
  keys: readonly string[],
  parser: UsageKeyParser,
  target: { date: string; merchantId: string | null },
): { counters: FoundCounter[]; skipped: SkippedKey[] } {
  const counters: FoundCounter[] = [];
  const skipped: SkippedKey[] = [];
  for (const key of keys) {
    const parsed = parser.parse(key);
    if (!parsed.ok) skipped.push({ key, reason: parsed.reason });
    // A glob `*` also matches `:`, so a malformed key can match another date's pattern.
    else if (parsed.id.date === target.date && (target.merchantId === null || parsed.id.merchantId === target.merchantId)) {
      counters.push({ key, id: parsed.id });
    }
  }
  return { counters, skipped };
}

/**
 * Reads the move script's reply, one entry per counter sent: the value moved, '' when the key
 * was gone (moved by a concurrent run, or expired), or '!' and the reason it was left in place.
 */
export function readMoveReply(
  counters: readonly FoundCounter[],
  reply: readonly string[],
): { moved: [UsageCounterId, string][]; skipped: SkippedKey[] } {
  if (reply.length !== counters.length) throw new Error(`move script answered ${reply.length} entries for ${counters.length} keys`);
  const moved: [UsageCounterId, string][] = [];
  const skipped: SkippedKey[] = [];
  counters.forEach((counter, i) => {
    const entry = reply[i] as string;
    if (entry === '') return;
    if (entry.startsWith('!')) skipped.push({ key: counter.key, reason: entry.slice(1) });
    else moved.push([counter.id, entry]);
  });
  return { moved, skipped };
}

/** Reads a pending batch as stored in Redis: counter keys and the deltas moved out of them. */
export function readPendingBatch(entries: readonly (readonly [key: string, value: string])[]): {
  deltas: [UsageCounterId, string][];
  skipped: SkippedKey[];
} {
  // Keys were checked when they were moved; the configured metric types may have changed since.
  const parser = new UsageKeyParser(null);
  const deltas: [UsageCounterId, string][] = [];
  const skipped: SkippedKey[] = [];
  for (const [key, value] of entries) {
    const parsed = parser.parse(key);
    if (!parsed.ok) skipped.push({ key, reason: parsed.reason });
    else if (!COUNTER_VALUE.test(value)) skipped.push({ key, reason: 'value is not a non-negative integer below 10^18' });
    else deltas.push([parsed.id, value]);
  }
  return { deltas, skipped };
}

/**
 * The rows of one batch: deltas of the same counter summed (one statement cannot update a row
 * twice), sorted in the order of merchant_usage's unique index (date, merchant, metric) so
 * that inserts stay local and concurrent batches lock rows in one order, never deadlocking.
 */
export function planUpsert(deltas: readonly (readonly [UsageCounterId, string])[]): UpsertRows {
  const rows = deltas.map(([id, value]) => ({ order: `${id.date}\u0000${id.merchantId}\u0000${id.metricType}`, id, value }));
  rows.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
  const planned: UpsertRows = { merchantIds: [], dates: [], metricTypes: [], values: [] };
  let previous = '';
  for (const row of rows) {
    if (row.order === previous) {
      // BigInt only for the rare repeat: a few values below 10^18 sum below 2^63.
      const last = planned.values.length - 1;
      planned.values[last] = (BigInt(planned.values[last] as string) + BigInt(row.value)).toString();
      continue;
    }
    previous = row.order;
    planned.merchantIds.push(row.id.merchantId);
    planned.dates.push(row.id.date);
    planned.metricTypes.push(row.id.metricType);
    planned.values.push(row.value);
  }
  return planned;
}

/** Every skipped key is counted; the first few are kept for the outcome event and status. */
export class SkippedKeys {
  private readonly kept: SkippedKey[] = [];
  count = 0;

  constructor(private readonly limit: number) {}

  add(keys: readonly SkippedKey[]): void {
    this.count += keys.length;
    for (const key of keys) if (this.kept.length < this.limit) this.kept.push(key);
  }

  first(): SkippedKey[] {
    return [...this.kept];
  }
}
