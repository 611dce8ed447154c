// Months as the export and Clazar see them: `YYYY-MM`, in UTC.

export type Month = string;

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

export function isMonth(text: string): boolean {
  return MONTH.test(text);
}

function parts(month: Month): { year: number; index: number } {
  const match = MONTH.exec(month);
  if (!match) throw new RangeError(`'${month}' is not a month (YYYY-MM)`);
  return { year: Number(match[1]), index: Number(match[2]) - 1 };
}

function format(year: number, index: number): Month {
  const date = new Date(Date.UTC(year, index, 1));
  return `${String(date.getUTCFullYear()).padStart(4, '0')}-${String(date.getUTCMonth() + 1).padStart(2, '0')}`;
}

export function monthOf(instant: Date): Month {
  return format(instant.getUTCFullYear(), instant.getUTCMonth());
}

export function addMonths(month: Month, count: number): Month {
  const { year, index } = parts(month);
  return format(year, index + count);
}

/** The month's first instant and its last second, as Clazar's usage window has them. */
export function monthWindow(month: Month): { start: string; end: string } {
  const { year, index } = parts(month);
  const lastDay = new Date(Date.UTC(year, index + 1, 0)).getUTCDate();
  return { start: `${month}-01T00:00:00Z`, end: `${month}-${String(lastDay).padStart(2, '0')}T23:59:59Z` };
}

/** Epoch ms of the month's last second: an export complete through it holds the whole month. */
export function monthLastSecond(month: Month): number {
  return Date.parse(monthWindow(month).end);
}

export interface CatchUp {
  /** The last month of the plan handed over already; none on a first run. */
  lastProcessed: Month | null;
  /** Where a first run begins; two months before `now` unless given. */
  startMonth: Month | null;
  /** How far the export is complete (the marker's `last_processed_to`); none: nothing is. */
  completeThrough: Date | null;
  now: Date;
  maxMonths: number;
}

/**
 * The months a run processes, oldest first: each after the last one processed, complete in the
 * export through its last second, and before the current month; at most `maxMonths`.
 */
export function monthsToProcess({ lastProcessed, startMonth, completeThrough, now, maxMonths }: CatchUp): Month[] {
  if (completeThrough === null) return [];
  const current = monthOf(now);
  let month = lastProcessed ? addMonths(lastProcessed, 1) : (startMonth ?? addMonths(current, -2));
  const months: Month[] = [];
  while (months.length < maxMonths && month < current && monthLastSecond(month) <= completeThrough.getTime()) {
    months.push(month);
    month = addMonths(month, 1);
  }
  return months;
}
