// Configuration comes from the environment, validated once at start against a schema.
// A bad value stops the start with a message naming the variable, never its value:
// some variables are secrets, and a URL may carry a password.
import { z } from 'zod';
import { registerSecret } from './redaction.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export type Env = Record<string, string | undefined>;

/** Parses `env` with a zod object schema (or an intersection of them) whose keys are the variable names. */
export function loadConfig<S extends z.ZodType<Record<string, unknown>>>(schema: S, env: Env = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`);
  throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
}

/** A URL whose scheme is one of `protocols`; empty values fall back to the default. */
export function urlVar(protocols: string[], fallback: string) {
  return z
    .string()
    .trim()
    .default(fallback)
    .transform((value) => (value === '' ? fallback : value))
    .refine(
      (value) => {
        try {
          return protocols.includes(new URL(value).protocol.replace(/:$/, ''));
        } catch {
          return false;
        }
      },
      `must be a ${protocols.join(' or ')} URL`,
    );
}

export function stringVar(fallback: string) {
  return z
    .string()
    .trim()
    .default(fallback)
    .transform((value) => (value === '' ? fallback : value));
}

/** A TCP port, 0 (any free port) to 65535; empty values fall back to the default. */
export function portVar(fallback: number) {
  return stringVar(String(fallback))
    .refine((value) => /^\d{1,5}$/.test(value) && Number(value) <= 65535, 'must be an integer port from 0 to 65535')
    .transform(Number);
}

/** One of `values` (given in lower case), in any letter case; empty values fall back to the default. */
export function enumVar<const V extends readonly [string, ...string[]]>(values: V, fallback: V[number]) {
  return stringVar(fallback)
    .transform((value) => value.toLowerCase())
    .pipe(z.enum(values, { error: `must be one of ${values.join(', ')}` }));
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The one duration parser: `250ms`, `30s`, `2m`, `24h`, `7d`, in milliseconds; throws naming the text. */
export function parseDuration(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) throw new Error(`duration "${text}" is not a number followed by ms, s, m, h or d`);
  const ms = Number(match[1]) * (DURATION_UNITS[match[2] as string] as number);
  if (!(ms > 0) || !Number.isSafeInteger(ms)) throw new Error(`duration "${text}" must be positive`);
  return ms;
}

/**
 * A duration such as `7d`, `90m`, `30s`, or a bare number of seconds; in milliseconds. With
 * `allowZero`, `0` (in any unit) is taken too, for settings where it means "never wait".
 */
export function durationVar(fallback: string, options: { allowZero?: boolean } = {}) {
  const zero = /^0+(ms|s|m|h|d)?$/;
  return stringVar(fallback)
    .transform((value) => (/^\d+$/.test(value) ? `${value}s` : value))
    .refine(
      (value) => {
        if (options.allowZero && zero.test(value)) return true;
        try {
          parseDuration(value);
          return true;
        } catch {
          return false;
        }
      },
      `must be a duration such as ${options.allowZero ? '0, ' : ''}30s, 2m, 24h or 7d`,
    )
    .transform((value) => (options.allowZero && zero.test(value) ? 0 : parseDuration(value)));
}

/** A whole number from `min` to `max`; empty values fall back to the default. */
export function intVar(fallback: number, min: number, max: number) {
  return stringVar(String(fallback))
    .refine((value) => /^\d+$/.test(value) && Number(value) >= min && Number(value) <= max, `must be a whole number from ${min} to ${max}`)
    .transform(Number);
}

/** A comma-separated list, items trimmed, empty items dropped. */
export function listVar(fallback: string) {
  return stringVar(fallback).transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== ''),
  );
}

/** A list of delays such as `5s,30s,2m`, distinct, in order: retry tiers. */
export function delayListVar(fallback: string) {
  return listVar(fallback).refine((delays) => {
    try {
      delays.forEach(parseDuration);
      return new Set(delays).size === delays.length;
    } catch {
      return false;
    }
  }, 'must be a comma-separated list of distinct delays such as 5s,30s,2m');
}

/**
 * A secret (an API token, a password): optional, at least `minLength` characters when set.
 * Its value is registered with the redaction, so it is cut from every log line, dead letter
 * and event it might reach.
 */
export function secretVar({ minLength = 16 }: { minLength?: number } = {}) {
  return z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()))
    .refine((v) => v === undefined || v.length >= minLength, `must be at least ${minLength} characters`)
    .transform((v) => {
      registerSecret(v);
      return v;
    });
}

/** `true`/`false` (also `1`/`0`, `yes`/`no`, any letter case); empty values fall back to the default. */
export function booleanVar(fallback: boolean) {
  return stringVar(String(fallback))
    .transform((value) => value.toLowerCase())
    .refine((value) => ['true', 'false', '1', '0', 'yes', 'no'].includes(value), 'must be true or false')
    .transform((value) => value === 'true' || value === '1' || value === 'yes');
}
