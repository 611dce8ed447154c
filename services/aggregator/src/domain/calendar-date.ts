// Usage is counted per calendar day in UTC, written YYYY-MM-DD everywhere: in Redis keys,
// in request payloads and in PostgreSQL's `date` column.

const DAY_MS = 86_400_000;
const shape = /^(\d{4})-(\d{2})-(\d{2})$/;
// Wide enough for any real usage, narrow enough that a typo such as 0202 is refused.
const FIRST_YEAR = 1970;
const LAST_YEAR = 9999;

/** Why `text` is not a calendar date we accept, or undefined when it is one. */
export function calendarDateProblem(text: unknown): string | undefined {
  if (typeof text !== 'string') return 'must be a date, YYYY-MM-DD';
  const match = shape.exec(text);
  if (!match) return 'must be a date, YYYY-MM-DD';
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (year < FIRST_YEAR || year > LAST_YEAR) return `must be a date from ${FIRST_YEAR}-01-01 to ${LAST_YEAR}-12-31`;
  const date = new Date(Date.UTC(year, month - 1, day));
  // Date.UTC rolls 2026-02-30 over into March; a real date survives the round trip.
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return `is not a calendar date (${text})`;
  return undefined;
}

export function isCalendarDate(text: unknown): text is string {
  return calendarDateProblem(text) === undefined;
}

export function utcDateOf(instant: Date): string {
  return instant.toISOString().slice(0, 10);
}

/** Days from `from` to `to`; negative when `to` comes first. Both must be calendar dates. */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}

export function addDays(date: string, days: number): string {
  return utcDateOf(new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS));
}
