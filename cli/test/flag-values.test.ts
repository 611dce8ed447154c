import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseCount, parseJsonObject, parseOffset, parseSignedInteger, parseStringMap, parseTimestamp } from '../src/flag-values.ts';

describe('flag values', () => {
  it('counts are whole numbers of at least 1', () => {
    expect(parseCount('25')).toBe(25);
    for (const bad of ['0', '-1', '1.5', 'ten', '', '1e3']) expect(() => parseCount(bad), bad).toThrow(InvalidArgumentError);
  });

  it('offsets are whole numbers of at least 0', () => {
    expect(parseOffset('0')).toBe(0);
    expect(parseOffset('9007199254740991')).toBe(9007199254740991);
    for (const bad of ['-1', '2.0', '0x10', '9007199254740993']) expect(() => parseOffset(bad), bad).toThrow(InvalidArgumentError);
  });

  it('a shift is a signed whole number', () => {
    expect(parseSignedInteger('-10')).toBe(-10);
    expect(parseSignedInteger('+3')).toBe(3);
    for (const bad of ['1.5', '--1', 'back']) expect(() => parseSignedInteger(bad), bad).toThrow(InvalidArgumentError);
  });

  it('timestamps are ISO 8601 dates, or date-times with a zone', () => {
    expect(parseTimestamp('2026-11-22T08:00:00Z').toISOString()).toBe('2026-11-22T08:00:00.000Z');
    expect(parseTimestamp('2026-11-22T09:30:00.250+01:00').toISOString()).toBe('2026-11-22T08:30:00.250Z');
    expect(parseTimestamp('2026-11-22').toISOString()).toBe('2026-11-22T00:00:00.000Z');
    for (const bad of ['yesterday', '1', '2026-11-22T08:00:00', '2026-13-01', 'March 7 2026']) {
      expect(() => parseTimestamp(bad), bad).toThrow(/ISO 8601/);
    }
  });

  it('a JSON payload must be an object, and the message says why not', () => {
    expect(parseJsonObject('{"a":1,"b":{"c":[true]}}')).toEqual({ a: 1, b: { c: [true] } });
    expect(() => parseJsonObject('{bad')).toThrow(/not valid JSON/);
    expect(() => parseJsonObject('[1]')).toThrow('must be a JSON object, got an array');
    expect(() => parseJsonObject('null')).toThrow('got null');
    expect(() => parseJsonObject('"text"')).toThrow('got string');
  });

  it('a schedule payload has string values only, and the message names the others', () => {
    expect(parseStringMap('{"merchantId":"m-7","date":"2026-11-22"}')).toEqual({ merchantId: 'm-7', date: '2026-11-22' });
    expect(() => parseStringMap('{"merchantId":"m-7","limit":5,"dry":true}')).toThrow('not a string: limit, dry');
  });
});
