// Configuration comes from the environment, validated once at start against a schema.
// A bad value stops the start with a message naming the variable, never its value:
// some variables are secrets, and a URL may carry a password.
import { z } from 'zod';

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
