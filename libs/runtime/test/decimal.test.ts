import { describe, expect, it } from 'vitest';
import { Decimal, DecimalError, DecimalSum } from '../src/decimal.ts';

describe('Decimal', () => {
  it('reads JSON number text exactly, exponents included, and prints it plainly', () => {
    expect(Decimal.parse('0.1').toString()).toBe('0.1');
    expect(Decimal.parse('-12.50').toString()).toBe('-12.5');
    expect(Decimal.parse('1.5e-7').toString()).toBe('0.00000015');
    expect(Decimal.parse('2E3').toString()).toBe('2000');
    expect(Decimal.parse('.5').toString()).toBe('0.5');
    expect(Decimal.parse('123456789012345678901234567890.123456789').toString()).toBe('123456789012345678901234567890.123456789');
    expect(Decimal.parse(42).toString()).toBe('42');
    // Around the 15 digits read without a bigint from text: the same values either side.
    expect(Decimal.parse('999999999999999').toString()).toBe('999999999999999');
    expect(Decimal.parse('9999999999999999').toString()).toBe('9999999999999999');
    expect(Decimal.parse('-0.00000000000001').toString()).toBe('-0.00000000000001');
    expect(Decimal.parse('10737418240.7500').toString()).toBe('10737418240.75');
    expect(Decimal.parse('-0.0').toString()).toBe('0');
    expect(Decimal.parse('007.50').toString()).toBe('7.5');
    expect(Decimal.parse(10n ** 30n).toString()).toBe(`1${'0'.repeat(30)}`);
  });

  it('refuses what is not a decimal, naming it, and exponents that would make huge numbers', () => {
    for (const bad of ['', 'abc', 'NaN', 'Infinity', '0x10', '1,5', '1.', '--1', '1e', '-', '1.2.3', ' 1', '1 ', '-.']) {
      expect(() => Decimal.parse(bad), bad).toThrow(DecimalError);
    }
    expect(() => Decimal.parse('1e999999999')).toThrow(/exponent/);
    expect(() => Decimal.parse(0.1)).toThrow(/not a safe integer/);
  });

  it('adds and multiplies exactly where binary floats do not', () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(Decimal.parse('0.1').add(Decimal.parse('0.2')).toString()).toBe('0.3');
    expect(Decimal.parse('0.07').mul(Decimal.parse('3.3')).toString()).toBe('0.231');
    expect(Decimal.parse('5').sub(Decimal.parse('7.25')).toString()).toBe('-2.25');
    expect(Decimal.parse('1.10').compare(Decimal.parse('1.1'))).toBe(0);
    expect(Decimal.parse('-0.001').sign()).toBe(-1);
  });

  it('divides to a given scale, rounding half to even', () => {
    expect(Decimal.parse('263').dividedBy(Decimal.parse('8760'), 10).toString()).toBe('0.0300228311');
    expect(Decimal.parse('1').dividedBy(Decimal.parse('3'), 4).toString()).toBe('0.3333');
    expect(Decimal.parse('2').dividedBy(Decimal.parse('3'), 4).toString()).toBe('0.6667');
    expect(Decimal.parse('0.125').dividedBy(Decimal.parse('1'), 2).toString()).toBe('0.12');
    expect(Decimal.parse('0.135').dividedBy(Decimal.parse('1'), 2).toString()).toBe('0.14');
    expect(Decimal.parse('-0.135').dividedBy(Decimal.parse('1'), 2).toString()).toBe('-0.14');
    expect(Decimal.parse('1').dividedBy(Decimal.parse('-0.008'), 0).toString()).toBe('-125');
    expect(Decimal.parse('12.5').dividedBy(Decimal.parse('0.5'), 3).toString()).toBe('25');
    expect(() => Decimal.parse('1').dividedBy(Decimal.ZERO, 2)).toThrow(/division by zero/);
  });

  it('truncates toward zero', () => {
    expect(Decimal.parse('2.999').truncated()).toBe(2n);
    expect(Decimal.parse('-2.999').truncated()).toBe(-2n);
    expect(Decimal.parse('370').truncated()).toBe(370n);
  });

  it('sums millions of terms in any order to the same exact total', () => {
    const terms = Array.from({ length: 10_000 }, (_, i) => `${i % 7}.${String(i).padStart(5, '0')}`);
    const forward = new DecimalSum();
    const backward = new DecimalSum();
    for (const t of terms) forward.add(Decimal.parse(t));
    for (const t of [...terms].reverse()) backward.add(Decimal.parse(t));
    let expected = 0n;
    for (const t of terms) expected += BigInt(t.replace('.', ''));
    expect(forward.value().toString()).toBe(Decimal.of(expected, 5).toString());
    expect(backward.value().toString()).toBe(forward.value().toString());
  });
});
