import { Decimal } from '@tickflow/runtime';
import { describe, expect, it } from 'vitest';
import { billContract } from '../src/domain/contract-bill.ts';
import { customDimensionsFrom, FORMULA_VARIABLES } from '../src/domain/dimensions.ts';
import { FormulaError, Fraction, parseFormula } from '../src/domain/formula.ts';
import { addMonths, monthsToProcess, monthWindow } from '../src/domain/month.ts';
import { exportPrefix, parsePlan } from '../src/domain/plan.ts';
import { UsageTotals } from '../src/domain/usage-totals.ts';

const record = (externalPayerId: string, dimension: string, value: string, pricePerUnit = '0') => ({
  externalPayerId,
  dimension,
  value,
  pricePerUnit,
  timestamp: '2026-10-01T00:00:00Z',
});

function dimensions(env: Record<string, string>) {
  const { dimensions, problems } = customDimensionsFrom(env);
  expect(problems).toEqual([]);
  return dimensions;
}

describe('usage totals', () => {
  it('sums first and truncates the total: 740 records of 0.5 core-hours bill 370, where truncating each bills 0', () => {
    const summed = new UsageTotals({ truncateEachRecord: false });
    const original = new UsageTotals({ truncateEachRecord: true });
    for (let i = 0; i < 740; i += 1) {
      summed.add(record('c1', 'cpu_core_hours', '0.5', '0.04'));
      original.add(record('c1', 'cpu_core_hours', '0.5', '0.04'));
    }
    const passThrough = dimensions({ DIMENSION_cpu_core_hours: 'cpu_core_hours' });
    expect(billContract(summed.totalsOf('c1'), passThrough)).toEqual({ lines: [{ dimension: 'cpu_core_hours', quantity: '370' }] });
    expect(billContract(original.totalsOf('c1'), passThrough)).toEqual({ lines: [{ dimension: 'cpu_core_hours', quantity: '0' }] });
    expect(summed.totalsOf('c1').get('cpu_core_hours')?.totalPrice.toString()).toBe('14.8');
  });

  it('is exact where float sums under-bill: ten records of 0.1 are 1, not 0.9999999999999999', () => {
    let float = 0;
    const totals = new UsageTotals({ truncateEachRecord: false });
    for (let i = 0; i < 10; i += 1) {
      float += 0.1;
      totals.add(record('c1', 'replica_hours', '0.1'));
    }
    expect(Math.trunc(float)).toBe(0);
    expect(billContract(totals.totalsOf('c1'), dimensions({ DIMENSION_replica_hours: 'replica_hours' }))).toEqual({
      lines: [{ dimension: 'replica_hours', quantity: '1' }],
    });
  });

  it('skips and counts records without a payer or a dimension, or with values that are not numbers', () => {
    const totals = new UsageTotals({ truncateEachRecord: false });
    totals.add({ dimension: 'cpu_core_hours', value: '1' });
    totals.add({ externalPayerId: 'c1', value: '1' });
    totals.add(record('c1', 'gpu_hours', '1'));
    totals.add(record('c1', 'cpu_core_hours', 'abc'));
    totals.add('not a record');
    totals.add(record('c1', 'cpu_core_hours', '2'));
    expect(totals.recordsRead).toBe(6);
    expect(totals.recordsSkipped).toBe(5);
    expect(Object.fromEntries(totals.skippedByReason)).toEqual({
      'no externalPayerId': 1,
      'no dimension': 1,
      'unknown dimension': 1,
      'value not a number': 1,
      'not an object': 1,
    });
    expect(totals.contractIds()).toEqual(['c1']);
  });
});

describe('custom dimensions', () => {
  it('computes the seed examples exactly, with base dimensions a contract lacks counted as 0', () => {
    const totals = new UsageTotals({ truncateEachRecord: false });
    totals.add(record('c1', 'cpu_core_hours', '9'));
    totals.add(record('c1', 'memory_byte_hours', String(3 * 1073741824 - 1)));
    const bill = billContract(
      totals.totalsOf('c1'),
      dimensions({
        DIMENSION_pod_hours: 'cpu_core_hours / 2',
        DIMENSION_memory_gb_hours: 'memory_byte_hours / 1073741824',
        DIMENSION_storage_tb_hours: 'storage_allocated_byte_hours / 1099511627776',
      }),
    );
    expect(bill).toEqual({
      lines: [
        { dimension: 'memory_gb_hours', quantity: '2' },
        { dimension: 'pod_hours', quantity: '4' },
        { dimension: 'storage_tb_hours', quantity: '0' },
      ],
    });
  });

  it('takes the original DIMENSIONn_NAME / DIMENSIONn_FORMULA pairs, and names the variable of each problem', () => {
    const ok = customDimensionsFrom({ DIMENSION1_NAME: 'vcpu', DIMENSION1_FORMULA: 'max(cpu_core_hours, 1) + round(replica_hours)' });
    expect(ok.problems).toEqual([]);
    expect(ok.dimensions.map((d) => d.name)).toEqual(['vcpu']);
    const bad = customDimensionsFrom({
      DIMENSION_a: 'cpu_core_hours /',
      DIMENSION_b: 'process + 1',
      DIMENSION2_NAME: 'x',
      DIMENSION3_FORMULA: '1',
      DIMENSION4_NAME: 'a',
      DIMENSION4_FORMULA: '2',
    });
    expect(bad.problems).toEqual([
      'DIMENSION2_NAME: has no DIMENSION2_FORMULA',
      'DIMENSION3_FORMULA: has no DIMENSION3_NAME',
      'DIMENSION_a: formula expected a number, a name or ( at its end',
      expect.stringMatching(/^DIMENSION_b: formula unknown name 'process'/),
      'DIMENSION4_FORMULA: dimension a is already defined by DIMENSION_a',
    ]);
  });

  it('refuses hostile formulas: other names, prototype keys, deep nesting, powers, huge numbers, long ones', () => {
    const hostile = [
      'constructor',
      '__proto__',
      'cpu_core_hours.constructor',
      'process',
      'toString()',
      'hasOwnProperty(1)',
      'globalThis',
      `${'('.repeat(100)}1${')'.repeat(100)}`,
      `${'-'.repeat(100)}1`,
      '2 ** 1000000',
      '1e999999',
      '9'.repeat(100),
      'cpu_core_hours; 1',
      '`1`',
      "'a'",
      'abs()',
      'min(1, 2',
      `1${' + 1'.repeat(400)}`,
      'x'.repeat(2000),
    ];
    for (const source of hostile) expect(() => parseFormula(source, FORMULA_VARIABLES), source).toThrow(FormulaError);
  });

  it('evaluates exactly, truncates, rounds halves to even, and skips a contract on division by zero or a negative result', () => {
    const value = (source: string, vars: Record<string, string> = {}) =>
      parseFormula(source, new Set(Object.keys(vars)))
        .evaluate(new Map(Object.entries(vars).map(([k, v]) => [k, Fraction.ofDecimal(Decimal.parse(v).units, Decimal.parse(v).scale)])))
        .toString();
    expect(value('1 / 3 * 3')).toBe('1');
    expect(value('round(2.5) + round(3.5) + round(-2.5)')).toBe('4');
    expect(value('int(-2.7) + abs(-1.5) + float(0.25)')).toBe('-1/4');
    expect(value('min(3, 1, 2) * max(-1, -2)')).toBe('-1');
    expect(value('a * (b - 1)', { a: '0.5', b: '3' })).toBe('1');

    const totals = new UsageTotals({ truncateEachRecord: false });
    totals.add(record('c1', 'cpu_core_hours', '5'));
    expect(billContract(totals.totalsOf('c1'), dimensions({ DIMENSION_x: 'cpu_core_hours / replica_hours' }))).toEqual({
      skipped: 'dimension x: division by zero',
    });
    expect(billContract(totals.totalsOf('c1'), dimensions({ DIMENSION_x: 'replica_hours - cpu_core_hours' }))).toEqual({
      skipped: expect.stringMatching(/^dimension x: negative result -5/),
    });
    expect(billContract(totals.totalsOf('c1'), dimensions({ DIMENSION_x: 'cpu_core_hours * 0.99' }))).toEqual({
      lines: [{ dimension: 'x', quantity: '4' }],
    });
  });
});

describe('months and plans', () => {
  it('gives the Clazar window of a month, leap years included', () => {
    expect(monthWindow('2024-02')).toEqual({ start: '2024-02-01T00:00:00Z', end: '2024-02-29T23:59:59Z' });
    expect(monthWindow('2026-12')).toEqual({ start: '2026-12-01T00:00:00Z', end: '2026-12-31T23:59:59Z' });
    expect(addMonths('2026-12', 1)).toBe('2027-01');
  });

  it('catches up complete months only, oldest first, never the current one, at most the limit', () => {
    const now = new Date('2026-12-02T00:10:00Z');
    const base = { lastProcessed: null, startMonth: null, now, maxMonths: 12 };
    // First run: two months back.
    expect(monthsToProcess({ ...base, completeThrough: new Date('2026-12-01T00:00:00Z') })).toEqual(['2026-10', '2026-11']);
    // The marker in the month's last day but before its last second: that month is not complete.
    expect(monthsToProcess({ ...base, completeThrough: new Date('2026-11-30T23:00:00Z') })).toEqual(['2026-10']);
    expect(monthsToProcess({ ...base, completeThrough: new Date('2026-11-30T23:59:59Z') })).toEqual(['2026-10', '2026-11']);
    // Never the current month, whatever the marker says.
    expect(monthsToProcess({ ...base, lastProcessed: '2026-11', completeThrough: new Date('2027-01-01T00:00:00Z') })).toEqual([]);
    expect(monthsToProcess({ ...base, startMonth: '2024-01', completeThrough: new Date('2026-12-01T00:00:00Z') })).toHaveLength(12);
    expect(monthsToProcess({ ...base, completeThrough: null })).toEqual([]);
  });

  it('names a plan service:environment:plan and keeps plan-10 out of plan-1', () => {
    const plan = parsePlan('svc:prod:plan-1');
    expect(exportPrefix(plan, '2026-10')).toBe('omnistrate-metering/svc/prod/plan-1/2026/10/');
    expect(exportPrefix(parsePlan('svc:prod:plan-10'), '2026-10').startsWith(exportPrefix(plan, '2026-10'))).toBe(false);
    for (const bad of ['svc:prod', 'a:b:c:d', 'svc::p', 'svc:prod:a/b', 'svc:..:p']) expect(() => parsePlan(bad), bad).toThrow(RangeError);
  });
});
