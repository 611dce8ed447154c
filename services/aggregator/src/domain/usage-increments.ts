// What `POST /v1/usage` accepts: one increment or an array of them. A batch is all or
// nothing: the first bad field refuses the whole request, naming the field.
import { calendarDateProblem, utcDateOf } from './calendar-date.ts';
import { merchantIdProblem, type UsageCounterId, usageKey } from './usage-key.ts';

export interface UsageIncrement extends UsageCounterId {
  amount: number;
  key: string;
}

// Far above any real single increment, far below what a counter can hold (2^63), so a
// typo never poisons a counter and a few thousand increments never overflow one.
export const MAX_AMOUNT = 1_000_000_000_000;
export const MAX_INCREMENTS_PER_REQUEST = 10_000;

export class UsageValidationError extends Error {
  override name = 'UsageValidationError';
  constructor(
    /** Where the problem is: `metricType`, or `[3].amount` in a batch. */
    readonly field: string,
    problem: string,
  ) {
    super(`${field} ${problem}`);
  }
}

/**
 * The dates `POST /v1/usage` takes, around `now`. The hourly tick moves only today and
 * yesterday, so usage of an older date would be accepted and then expire unmoved: it is
 * refused instead (the README weighs the default).
 */
export interface UsageDateWindow {
  /** How long after its day ends (midnight UTC) a date still takes usage. */
  maxAgeMs: number;
  /** How far ahead of our clock a client's may be: a date starting within this is taken. */
  maxFutureMs: number;
}

export interface IncrementRules {
  metricTypes: ReadonlySet<string>;
  /** Today, for increments that give no date, and the point the window is measured from. */
  now: Date;
  window: UsageDateWindow;
}

const DAY_MS = 86_400_000;
// Within the calendar dates accepted at all, so that a very wide window still yields YYYY-MM-DD.
const FIRST_DAY_MS = Date.UTC(1970, 0, 1);
const LAST_DAY_MS = Date.UTC(9999, 11, 31);

/** The first and last dates (YYYY-MM-DD) a window takes. */
export interface AcceptedDates {
  from: string;
  to: string;
}

/** The dates the window takes at `now`. */
export function acceptedDates(now: Date, window: UsageDateWindow): AcceptedDates {
  // The first day that ended no longer than maxAge ago, and the last that has begun by our clock plus the skew.
  const earliestStartMs = Math.ceil((now.getTime() - window.maxAgeMs - DAY_MS) / DAY_MS) * DAY_MS;
  const latestStartMs = Math.floor((now.getTime() + window.maxFutureMs) / DAY_MS) * DAY_MS;
  const clamp = (ms: number) => Math.min(Math.max(ms, FIRST_DAY_MS), LAST_DAY_MS);
  return { from: utcDateOf(new Date(clamp(earliestStartMs))), to: utcDateOf(new Date(clamp(latestStartMs))) };
}

export function parseIncrements(body: unknown, rules: IncrementRules): UsageIncrement[] {
  const dates = acceptedDates(rules.now, rules.window);
  if (Array.isArray(body)) {
    if (body.length === 0) throw new UsageValidationError('body', 'must hold at least one increment');
    if (body.length > MAX_INCREMENTS_PER_REQUEST) {
      throw new UsageValidationError('body', `must hold at most ${MAX_INCREMENTS_PER_REQUEST} increments`);
    }
    return body.map((item, index) => parseIncrement(item, rules, dates, `[${index}].`));
  }
  return [parseIncrement(body, rules, dates, '')];
}

const knownFields = new Set(['merchantId', 'metricType', 'amount', 'date']);

function parseIncrement(item: unknown, rules: IncrementRules, dates: AcceptedDates, at: string): UsageIncrement {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    throw new UsageValidationError(at ? at.slice(0, -1) : 'body', 'must be an object {merchantId, metricType, amount?, date?}');
  }
  const fields = item as Record<string, unknown>;
  // A misspelt optional field (`ammount`) would otherwise count 1 silently.
  const unknown = Object.keys(fields).find((name) => !knownFields.has(name));
  if (unknown !== undefined) throw new UsageValidationError(`${at}${unknown}`, 'is not a field of a usage increment');

  const merchantProblem = merchantIdProblem(fields.merchantId);
  if (merchantProblem) throw new UsageValidationError(`${at}merchantId`, merchantProblem);
  const merchantId = fields.merchantId as string;

  const metricType = fields.metricType;
  if (typeof metricType !== 'string' || !rules.metricTypes.has(metricType)) {
    throw new UsageValidationError(`${at}metricType`, `must be one of ${[...rules.metricTypes].join(', ')}`);
  }

  const amount = fields.amount ?? 1;
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount < 0 || amount > MAX_AMOUNT) {
    throw new UsageValidationError(`${at}amount`, `must be a whole number from 0 to ${MAX_AMOUNT}`);
  }

  const date = fields.date ?? utcDateOf(rules.now);
  const dateProblem = calendarDateProblem(date);
  if (dateProblem) throw new UsageValidationError(`${at}date`, dateProblem);
  // YYYY-MM-DD strings order as the dates do.
  if ((date as string) < dates.from || (date as string) > dates.to) {
    throw new UsageValidationError(
      `${at}date`,
      `must be from ${dates.from} to ${dates.to} (UTC): older dates are no longer aggregated, later ones have not begun`,
    );
  }

  const id = { merchantId, date: date as string, metricType };
  return { ...id, amount, key: usageKey(id) };
}
