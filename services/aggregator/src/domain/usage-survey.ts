// What a pass over every usage key in Redis finds, summarised per date and in total. One pass
// answers the status of every date at once, so asking about many dates costs Redis no more
// than asking about one (see usage-surveyor.ts for how often a pass runs).
import { COUNTER_VALUE, type SkippedKey } from './batch-plan.ts';
import { isCalendarDate } from './calendar-date.ts';
import { USAGE_KEY_PREFIX, UsageKeyParser } from './usage-key.ts';

export interface SurveyedCounter {
  key: string;
  /** null: not a string value. */
  value: string | null;
  /** Milliseconds until it expires; -1: never. */
  ttlMs: number;
}

export interface DateSurvey {
  /** Well-formed counters for the date, not moved yet, and the usage they hold. */
  keysWaiting: number;
  unitsWaiting: bigint;
  keysWithoutTtl: number;
  /** Waiting counters that expire within `nearTtlMs`. */
  keysNearTtl: number;
  /** The first `listLimit` of them, soonest to expire first. */
  nearTtl: { key: string; ttlMs: number }[];
  /** Keys that name the date but that no run will move: malformed key or value. */
  malformedCount: number;
  malformed: SkippedKey[];
}

export interface SurveyTotals {
  /** Every usage key, well-formed or not. */
  keys: number;
  nearTtl: number;
  withoutTtl: number;
}

export interface SurveyTallyOptions {
  metricTypes: ReadonlySet<string>;
  nearTtlMs: number;
  /** How many near-TTL and malformed keys are listed per date (all are counted). */
  listLimit: number;
}

export function emptyDateSurvey(): DateSurvey {
  return { keysWaiting: 0, unitsWaiting: 0n, keysWithoutTtl: 0, keysNearTtl: 0, nearTtl: [], malformedCount: 0, malformed: [] };
}

/** Adds up counters page by page; `result()` once every page is in. */
export class UsageSurveyTally {
  readonly totals: SurveyTotals = { keys: 0, nearTtl: 0, withoutTtl: 0 };
  private readonly dates = new Map<string, DateSurvey>();
  private readonly parser: UsageKeyParser;

  constructor(private readonly options: SurveyTallyOptions) {
    this.parser = new UsageKeyParser(options.metricTypes);
  }

  add(counters: Iterable<SurveyedCounter>): void {
    const { nearTtlMs, listLimit } = this.options;
    for (const { key, value, ttlMs } of counters) {
      this.totals.keys += 1;
      if (ttlMs === -1) this.totals.withoutTtl += 1;
      else if (ttlMs < nearTtlMs) this.totals.nearTtl += 1;

      const parsed = this.parser.parse(key);
      if (!parsed.ok) {
        for (const date of datesNamedBy(key)) this.malformed(date, key, parsed.reason);
      } else if (value === null || !COUNTER_VALUE.test(value)) {
        this.malformed(parsed.id.date, key, 'value is not a non-negative integer below 10^18');
      } else {
        const date = this.date(parsed.id.date);
        date.keysWaiting += 1;
        date.unitsWaiting += BigInt(value);
        if (ttlMs === -1) date.keysWithoutTtl += 1;
        else if (ttlMs < nearTtlMs) {
          date.keysNearTtl += 1;
          date.nearTtl.push({ key, ttlMs });
          // Kept short as it grows: sorting 2×limit entries now and then, not a million at the end.
          if (date.nearTtl.length >= 2 * listLimit) keepSoonest(date, listLimit);
        }
      }
    }
  }

  result(): { totals: SurveyTotals; dates: Map<string, DateSurvey> } {
    for (const date of this.dates.values()) keepSoonest(date, this.options.listLimit);
    return { totals: { ...this.totals }, dates: this.dates };
  }

  private malformed(date: string, key: string, reason: string): void {
    const survey = this.date(date);
    survey.malformedCount += 1;
    if (survey.malformed.length < this.options.listLimit) survey.malformed.push({ key, reason });
  }

  private date(date: string): DateSurvey {
    let survey = this.dates.get(date);
    if (!survey) {
      survey = emptyDateSurvey();
      this.dates.set(date, survey);
    }
    return survey;
  }
}

function keepSoonest(date: DateSurvey, limit: number): void {
  date.nearTtl.sort((a, b) => a.ttlMs - b.ttlMs);
  date.nearTtl.length = Math.min(date.nearTtl.length, limit);
}

/**
 * The dates a malformed key names: every field between two colons after the merchant's place
 * that is a calendar date — the keys an operator's `SCAN usage:*:{date}:*` would show.
 */
export function datesNamedBy(key: string): Set<string> {
  const fields = key.slice(USAGE_KEY_PREFIX.length + 1).split(':');
  const dates = new Set<string>();
  for (const field of fields.slice(1, -1)) if (isCalendarDate(field)) dates.add(field);
  return dates;
}
