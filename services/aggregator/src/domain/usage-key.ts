// The Redis key of a usage counter is a contract shared with every application that counts
// usage: `usage:{merchantId}:{date}:{metricType}`, an integer incremented with INCRBY. Other
// writers may INCRBY these keys directly, so the aggregator parses what it finds rather than
// trusting it.
import { calendarDateProblem } from './calendar-date.ts';

export interface UsageCounterId {
  merchantId: string;
  /** YYYY-MM-DD (UTC). */
  date: string;
  metricType: string;
}

export const USAGE_KEY_PREFIX = 'usage';
export const MERCHANT_ID_MAX_LENGTH = 128;
export const ALL_USAGE_KEYS = `${USAGE_KEY_PREFIX}:*`;

// `:` would shift the key's fields, `*` would widen a SCAN pattern, whitespace and control
// characters make keys that no operator can type back.
const forbiddenInMerchantId = /[:*\s\p{Cc}]/u;

export function usageKey(id: UsageCounterId): string {
  return `${USAGE_KEY_PREFIX}:${id.merchantId}:${id.date}:${id.metricType}`;
}

/** Why `id` cannot be a merchant id, or undefined when it can. */
export function merchantIdProblem(id: unknown): string | undefined {
  if (typeof id !== 'string') return 'must be a string';
  if (id.length === 0) return 'must not be empty';
  if (id.length > MERCHANT_ID_MAX_LENGTH) return `must be at most ${MERCHANT_ID_MAX_LENGTH} characters`;
  if (forbiddenInMerchantId.test(id)) return "must not contain ':', '*', whitespace or control characters";
  return undefined;
}

export type ParsedUsageKey = { ok: true; id: UsageCounterId } | { ok: false; reason: string };

/**
 * Reads usage keys. `metricTypes` are the types this service counts; null accepts any, for
 * keys already checked when they were moved (the configured types may change in between).
 * A run reads a million keys of one date: each date is checked once, not once per key.
 */
export class UsageKeyParser {
  private readonly dateProblems = new Map<string, string | undefined>();

  constructor(private readonly metricTypes: ReadonlySet<string> | null) {}

  parse(key: string): ParsedUsageKey {
    const parts = key.split(':');
    if (parts.length !== 4 || parts[0] !== USAGE_KEY_PREFIX) {
      return { ok: false, reason: 'not usage:{merchantId}:{date}:{metricType}' };
    }
    const [, merchantId, date, metricType] = parts as [string, string, string, string];
    const merchantProblem = merchantIdProblem(merchantId);
    if (merchantProblem) return { ok: false, reason: `merchant id ${merchantProblem}` };
    const dateProblem = this.dateProblem(date);
    if (dateProblem) return { ok: false, reason: `date ${dateProblem}` };
    if (metricType === '' || (this.metricTypes !== null && !this.metricTypes.has(metricType))) {
      return { ok: false, reason: `unknown metric type ${metricType}` };
    }
    return { ok: true, id: { merchantId, date, metricType } };
  }

  private dateProblem(date: string): string | undefined {
    if (this.dateProblems.has(date)) return this.dateProblems.get(date);
    const problem = calendarDateProblem(date);
    // Malformed keys could each bring a new "date": the memo stays small.
    if (this.dateProblems.size > 10_000) this.dateProblems.clear();
    this.dateProblems.set(date, problem);
    return problem;
  }
}

export function parseUsageKey(key: string, metricTypes: ReadonlySet<string> | null): ParsedUsageKey {
  return new UsageKeyParser(metricTypes).parse(key);
}

/**
 * The SCAN pattern for one date's counters, or one merchant's on that date. Merchant ids may
 * hold glob characters other than `*` (`?`, `[`, `\`); they are escaped to match themselves.
 */
export function usageKeyPattern(date: string, merchantId: string | null = null): string {
  const merchant = merchantId === null ? '*' : merchantId.replace(/[?[\]\\]/g, '\\$&');
  return `${USAGE_KEY_PREFIX}:${merchant}:${date}:*`;
}
