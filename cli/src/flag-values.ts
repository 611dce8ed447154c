// Parsers for flag and argument values, run by commander before any command starts: a bad
// value is reported with the flag's name and exit code 2, and nothing is touched.
import { InvalidArgumentError } from 'commander';

export function parseCount(text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new InvalidArgumentError('must be a whole number of at least 1');
  }
  return Number(text);
}

export function parseOffset(text: string): number {
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(Number(text))) {
    throw new InvalidArgumentError('must be a whole number of at least 0');
  }
  return Number(text);
}

/** A signed whole number, e.g. the `--shift-by` distance. */
export function parseSignedInteger(text: string): number {
  if (!/^[+-]?\d+$/.test(text.trim()) || !Number.isSafeInteger(Number(text))) {
    throw new InvalidArgumentError('must be a whole number, negative to move back');
  }
  return Number(text);
}

// Date.parse alone accepts "1" or "March 7", and reads a date-time without a zone in the
// machine's own zone; an operator moving offsets must say exactly when. A bare date is
// midnight UTC.
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

export function parseTimestamp(text: string): Date {
  const trimmed = text.trim();
  const at = new Date(trimmed);
  if (!ISO_8601.test(trimmed) || Number.isNaN(at.getTime())) {
    throw new InvalidArgumentError('must be an ISO 8601 date, or date-time with a zone, e.g. 2026-11-22T08:00:00Z');
  }
  return at;
}

export function parseJsonObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidArgumentError(`is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(
      `must be a JSON object, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`,
    );
  }
  return value as Record<string, unknown>;
}

/** A JSON object whose values are all strings: a schedule's payload is a string map. */
export function parseStringMap(text: string): Record<string, string> {
  const value = parseJsonObject(text);
  const notStrings = Object.entries(value)
    .filter(([, v]) => typeof v !== 'string')
    .map(([k]) => k);
  if (notStrings.length > 0) {
    throw new InvalidArgumentError(`must have string values only; not a string: ${notStrings.join(', ')}`);
  }
  return value as Record<string, string>;
}
