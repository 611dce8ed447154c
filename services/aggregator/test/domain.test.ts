// The aggregator's pure logic: keys, dates, request validation, fan-out and batch planning.
import { describe, expect, it } from 'vitest';
import { planUpsert, readMoveReply, readPendingBatch, SkippedKeys, sortScannedKeys } from '../src/domain/batch-plan.ts';
import { addDays, calendarDateProblem, daysBetween } from '../src/domain/calendar-date.ts';
import { FanOutError, planBackfill, planTick, targetKey } from '../src/domain/fan-out.ts';
import { acceptedDates, MAX_AMOUNT, parseIncrements, UsageValidationError } from '../src/domain/usage-increments.ts';
import { merchantIdProblem, parseUsageKey, UsageKeyParser, usageKey, usageKeyPattern } from '../src/domain/usage-key.ts';

const metricTypes = new Set(['queries', 'documents', 'api_calls', 'storage_gb']);
const now = new Date('2026-11-22T13:45:00Z');
const window = { maxAgeMs: 12 * 3_600_000, maxFutureMs: 5 * 60_000 };

function fieldOf(body: unknown): string {
  try {
    parseIncrements(body, { metricTypes, now, window });
  } catch (error) {
    if (error instanceof UsageValidationError) return error.field;
    throw error;
  }
  throw new Error('accepted');
}

describe('calendar dates', () => {
  it('accepts real dates and refuses impossible ones', () => {
    expect(calendarDateProblem('2026-02-28')).toBeUndefined();
    expect(calendarDateProblem('2028-02-29')).toBeUndefined();
    expect(calendarDateProblem('2026-02-30')).toMatch(/not a calendar date/);
    expect(calendarDateProblem('2026-02-29')).toMatch(/not a calendar date/);
    expect(calendarDateProblem('2026-13-01')).toMatch(/not a calendar date/);
    expect(calendarDateProblem('2026-1-01')).toMatch(/YYYY-MM-DD/);
    expect(calendarDateProblem('0202-01-01')).toMatch(/from 1970/);
    expect(calendarDateProblem(20260101)).toMatch(/YYYY-MM-DD/);
  });

  it('counts and adds days across months and leap years', () => {
    expect(daysBetween('2028-02-28', '2028-03-01')).toBe(2);
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(daysBetween('2026-01-02', '2026-01-01')).toBe(-1);
  });
});

describe('usage keys', () => {
  it('round-trips the key layout', () => {
    const key = usageKey({ merchantId: 'm-1', date: '2026-11-22', metricType: 'queries' });
    expect(key).toBe('usage:m-1:2026-11-22:queries');
    expect(parseUsageKey(key, metricTypes)).toEqual({ ok: true, id: { merchantId: 'm-1', date: '2026-11-22', metricType: 'queries' } });
  });

  it('refuses keys that do not follow the layout, naming why', () => {
    const reason = (key: string) => {
      const parsed = parseUsageKey(key, metricTypes);
      return parsed.ok ? 'ok' : parsed.reason;
    };
    expect(reason('usage:m1:2026-11-22:queries:extra')).toMatch(/not usage:/);
    expect(reason('usage:m1:2026-11-22')).toMatch(/not usage:/);
    expect(reason('usage::2026-11-22:queries')).toMatch(/merchant id must not be empty/);
    expect(reason('usage:m 1:2026-11-22:queries')).toMatch(/merchant id must not contain/);
    expect(reason('usage:m1:2026-02-30:queries')).toMatch(/date is not a calendar date/);
    expect(reason('usage:m1:2026-11-22:tokens')).toMatch(/unknown metric type tokens/);
    expect(parseUsageKey('usage:m1:2026-11-22:tokens', null).ok).toBe(true);
  });

  it('refuses merchant ids with : * whitespace or control characters, empty or too long', () => {
    for (const id of ['a:b', 'a*', 'a b', 'a\tb', 'a\nb', '\u0000', '', 'x'.repeat(129)]) expect(merchantIdProblem(id), id).toBeDefined();
    for (const id of ['merchant_42', 'ACME-co.uk', 'a?b[c]', 'x'.repeat(128), 'ünïcode']) expect(merchantIdProblem(id), id).toBeUndefined();
  });

  it('escapes glob characters of a merchant id in the SCAN pattern', () => {
    expect(usageKeyPattern('2026-11-22')).toBe('usage:*:2026-11-22:*');
    expect(usageKeyPattern('2026-11-22', 'a?b[c]\\')).toBe('usage:a\\?b\\[c\\]\\\\:2026-11-22:*');
  });
});

describe('POST /v1/usage bodies', () => {
  it('fills in amount 1 and today (UTC), and builds the key', () => {
    expect(parseIncrements({ merchantId: 'm1', metricType: 'queries' }, { metricTypes, now, window })).toEqual([
      { merchantId: 'm1', metricType: 'queries', date: '2026-11-22', amount: 1, key: 'usage:m1:2026-11-22:queries' },
    ]);
  });

  it('names the bad field', () => {
    expect(fieldOf({ merchantId: 'a:b', metricType: 'queries' })).toBe('merchantId');
    expect(fieldOf({ merchantId: 'a*', metricType: 'queries' })).toBe('merchantId');
    expect(fieldOf({ merchantId: ' ', metricType: 'queries' })).toBe('merchantId');
    expect(fieldOf({ metricType: 'queries' })).toBe('merchantId');
    expect(fieldOf({ merchantId: 'm1', metricType: 'tokens' })).toBe('metricType');
    expect(fieldOf({ merchantId: 'm1', metricType: 'queries', amount: -1 })).toBe('amount');
    expect(fieldOf({ merchantId: 'm1', metricType: 'queries', amount: 1.5 })).toBe('amount');
    expect(fieldOf({ merchantId: 'm1', metricType: 'queries', amount: MAX_AMOUNT + 1 })).toBe('amount');
    expect(fieldOf({ merchantId: 'm1', metricType: 'queries', amount: 2 ** 60 })).toBe('amount');
    expect(fieldOf({ merchantId: 'm1', metricType: 'queries', amount: '5' })).toBe('amount');
    expect(fieldOf({ merchantId: 'm1', metricType: 'queries', date: '2026-02-30' })).toBe('date');
    expect(fieldOf({ merchantId: 'm1', metricType: 'queries', ammount: 5 })).toBe('ammount');
    expect(fieldOf('m1')).toBe('body');
    expect(fieldOf([])).toBe('body');
  });

  it('takes a date until maxAge after its day ended, and one that begins within the clock skew', () => {
    const at = (instant: string) => acceptedDates(new Date(instant), window);
    expect(at('2026-11-22T11:59:59Z')).toEqual({ from: '2026-11-21', to: '2026-11-22' });
    expect(at('2026-11-22T12:00:00Z')).toEqual({ from: '2026-11-21', to: '2026-11-22' });
    expect(at('2026-11-22T12:00:01Z')).toEqual({ from: '2026-11-22', to: '2026-11-22' });
    expect(at('2026-11-22T23:54:59Z')).toEqual({ from: '2026-11-22', to: '2026-11-22' });
    expect(at('2026-11-22T23:55:00Z')).toEqual({ from: '2026-11-22', to: '2026-11-23' });
    expect(at('2026-11-23T00:00:00Z')).toEqual({ from: '2026-11-22', to: '2026-11-23' });
    // A window wider than the calendar still reads as dates.
    expect(acceptedDates(now, { maxAgeMs: 1e15, maxFutureMs: 1e15 })).toEqual({ from: '1970-01-01', to: '9999-12-31' });
  });

  it('refuses a date outside the window with 400 naming the field and the dates it takes', () => {
    const item = (date: string) => ({ merchantId: 'm1', metricType: 'queries', date });
    expect(parseIncrements(item('2026-11-21'), { metricTypes, now: new Date('2026-11-22T11:00:00Z'), window })).toHaveLength(1);
    expect(fieldOf(item('2026-11-21'))).toBe('date');
    expect(fieldOf(item('2026-11-23'))).toBe('date');
    expect(fieldOf(item('2025-11-22'))).toBe('date');
    expect(fieldOf([item('2026-11-22'), item('2026-11-20')])).toBe('[1].date');
    expect(() => parseIncrements(item('2026-11-20'), { metricTypes, now, window })).toThrow(
      'date must be from 2026-11-22 to 2026-11-22 (UTC): older dates are no longer aggregated, later ones have not begun',
    );
  });

  it('refuses a whole batch for one bad item, naming its index', () => {
    expect(
      fieldOf([
        { merchantId: 'm1', metricType: 'queries' },
        { merchantId: 'm2', metricType: 'queries', amount: -5 },
      ]),
    ).toBe('[1].amount');
    expect(fieldOf([{ merchantId: 'm1', metricType: 'queries' }, null])).toBe('[1]');
  });
});

describe('fan-out', () => {
  it('turns a tick into yesterday and today', () => {
    expect(planTick({ date: '2026-11-22', previousDate: '2026-11-21' })).toEqual([
      { date: '2026-11-21', merchantId: null },
      { date: '2026-11-22', merchantId: null },
    ]);
    expect(planTick({ date: '2026-11-22' })).toEqual([{ date: '2026-11-22', merchantId: null }]);
    expect(() => planTick({ month: '2026-11' })).toThrow(FanOutError);
    expect(() => planTick({ date: '2026-11-31' })).toThrow(/date is not a calendar date/);
  });

  it('turns a backfill into one target per date, both ends included, within the bound', () => {
    const targets = planBackfill({ from: '2028-02-27', to: '2028-03-01', merchantId: null }, 366);
    expect(targets.map((t) => t.date)).toEqual(['2028-02-27', '2028-02-28', '2028-02-29', '2028-03-01']);
    expect(planBackfill({ from: '2026-01-01', to: '2026-01-01', merchantId: 'm1' }, 366)).toEqual([
      { date: '2026-01-01', merchantId: 'm1' },
    ]);
    expect(planBackfill({ from: '2026-01-01', to: '2026-12-31', merchantId: null }, 366)).toHaveLength(365);
    expect(() => planBackfill({ from: '2026-01-01', to: '2027-01-02', merchantId: null }, 366)).toThrow(/covers 367 days; at most 366/);
    expect(() => planBackfill({ from: '2026-01-02', to: '2026-01-01', merchantId: null }, 366)).toThrow(/is after/);
    expect(() => planBackfill({ from: '2026-01-01', to: '2026-02-30', merchantId: null }, 366)).toThrow(/to is not a calendar date/);
    expect(() => planBackfill({ from: '2026-01-01', to: '2026-01-02', merchantId: 'a:b' }, 366)).toThrow(/merchantId/);
  });

  it('keys a target by date, or merchant and date', () => {
    expect(targetKey({ date: '2026-11-22', merchantId: null })).toBe('2026-11-22');
    expect(targetKey({ date: '2026-11-22', merchantId: 'm1' })).toBe('m1:2026-11-22');
  });
});

describe('batch planning', () => {
  const parser = new UsageKeyParser(metricTypes);
  const id = (merchantId: string, metricType = 'queries', date = '2026-11-22') => ({ merchantId, date, metricType });

  it('keeps the counters of the date (and merchant), and skips malformed keys with a reason', () => {
    const keys = [
      'usage:m1:2026-11-22:queries',
      'usage:m1:x:2026-11-22:queries',
      'usage:m2:2026-11-22:tokens',
      'usage:m2:2026-11-22:documents',
    ];
    const all = sortScannedKeys(keys, parser, { date: '2026-11-22', merchantId: null });
    expect(all.counters).toEqual([
      { key: 'usage:m1:2026-11-22:queries', id: id('m1') },
      { key: 'usage:m2:2026-11-22:documents', id: id('m2', 'documents') },
    ]);
    expect(all.skipped.map((s) => s.key)).toEqual(['usage:m1:x:2026-11-22:queries', 'usage:m2:2026-11-22:tokens']);
    expect(sortScannedKeys(keys, parser, { date: '2026-11-22', merchantId: 'm2' }).counters.map((c) => c.key)).toEqual([
      'usage:m2:2026-11-22:documents',
    ]);
  });

  it('reads the move reply: moved, gone, or left in place with the reason', () => {
    const counters = ['a', 'b', 'c'].map((m) => ({ key: usageKey(id(m)), id: id(m) }));
    const reply = readMoveReply(counters, ['12', '', '!value is not a non-negative integer below 10^18']);
    expect(reply.moved).toEqual([[id('a'), '12']]);
    expect(reply.skipped).toEqual([{ key: 'usage:c:2026-11-22:queries', reason: 'value is not a non-negative integer below 10^18' }]);
    expect(() => readMoveReply(counters, [])).toThrow(/answered 0 entries for 3 keys/);
  });

  it('sums deltas of the same counter, sorts rows as the unique index does, and keeps values beyond 2^53 exact', () => {
    const rows = planUpsert([
      [id('m2'), '1'],
      [id('m1'), '999999999999999999'],
      [id('m2'), '2'],
      [id('m1', 'documents'), '0'],
      [id('m0', 'queries', '2026-11-23'), '5'],
      [id('m1'), '999999999999999999'],
    ]);
    expect(rows).toEqual({
      merchantIds: ['m1', 'm1', 'm2', 'm0'],
      dates: ['2026-11-22', '2026-11-22', '2026-11-22', '2026-11-23'],
      metricTypes: ['documents', 'queries', 'queries', 'queries'],
      values: ['0', '1999999999999999998', '3', '5'],
    });
  });

  it('reads a pending batch whatever metric types are configured now, skipping what is not a counter', () => {
    const { deltas, skipped } = readPendingBatch([
      ['usage:m1:2026-11-22:retired_metric', '4'],
      ['usage:m1:2026-11-22:queries', '007'],
      ['usage:m1:2026-11-22', '1'],
    ]);
    expect(deltas).toEqual([[id('m1', 'retired_metric'), '4']]);
    expect(skipped.map((s) => s.reason)).toEqual([
      'value is not a non-negative integer below 10^18',
      'not usage:{merchantId}:{date}:{metricType}',
    ]);
  });

  it('counts every skipped key and keeps the first few', () => {
    const skipped = new SkippedKeys(2);
    skipped.add([
      { key: 'a', reason: 'x' },
      { key: 'b', reason: 'x' },
      { key: 'c', reason: 'x' },
    ]);
    expect(skipped.count).toBe(3);
    expect(skipped.first().map((s) => s.key)).toEqual(['a', 'b']);
  });
});
