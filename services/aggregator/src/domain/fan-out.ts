// A tick or a backfill becomes one aggregation request per date, so that one date's failure
// never holds back another's and each date retries on its own.
import type { BackfillRequested } from '@tickflow/contracts';
import { addDays, calendarDateProblem, daysBetween } from './calendar-date.ts';
import { merchantIdProblem } from './usage-key.ts';

export interface AggregationTarget {
  date: string;
  merchantId: string | null;
}

/** A request that cannot be planned: retrying would not help. */
export class FanOutError extends Error {
  override name = 'FanOutError';
}

/** The Kafka key of a target's request and outcome events: the date, or `merchant:date`. */
export function targetKey(target: AggregationTarget): string {
  return target.merchantId === null ? target.date : `${target.merchantId}:${target.date}`;
}

/** Why `target` cannot be aggregated, or undefined when it can. */
export function targetProblem(target: AggregationTarget): string | undefined {
  const dateProblem = calendarDateProblem(target.date);
  if (dateProblem) return `date ${dateProblem}`;
  if (target.merchantId !== null) {
    const merchantProblem = merchantIdProblem(target.merchantId);
    if (merchantProblem) return `merchantId ${merchantProblem}`;
  }
  return undefined;
}

/**
 * The scheduler's hourly tick names `date` (today) and `previousDate` (yesterday): late
 * increments to yesterday's counters keep arriving after midnight. Yesterday goes first.
 */
export function planTick(payload: Record<string, string>): AggregationTarget[] {
  const names = ['previousDate', 'date'].filter((name) => payload[name] !== undefined);
  if (!names.includes('date')) throw new FanOutError('tick payload has no date');
  const dates: string[] = [];
  for (const name of names) {
    const date = payload[name] as string;
    const problem = calendarDateProblem(date);
    if (problem) throw new FanOutError(`tick payload ${name} ${problem}`);
    if (!dates.includes(date)) dates.push(date);
  }
  return dates.map((date) => ({ date, merchantId: null }));
}

export function planBackfill(request: BackfillRequested, maxDays: number): AggregationTarget[] {
  for (const name of ['from', 'to'] as const) {
    const problem = calendarDateProblem(request[name]);
    if (problem) throw new FanOutError(`backfill ${name} ${problem}`);
  }
  if (request.merchantId !== null) {
    const problem = merchantIdProblem(request.merchantId);
    if (problem) throw new FanOutError(`backfill merchantId ${problem}`);
  }
  const span = daysBetween(request.from, request.to) + 1;
  if (span < 1) throw new FanOutError(`backfill from ${request.from} is after to ${request.to}`);
  if (span > maxDays) {
    throw new FanOutError(`backfill from ${request.from} to ${request.to} covers ${span} days; at most ${maxDays} at once`);
  }
  return Array.from({ length: span }, (_, i) => ({ date: addDays(request.from, i), merchantId: request.merchantId }));
}
