import { describe, expect, it } from 'vitest';
import { DeferError, FatalError, RetryableError, UndecodableMessageError } from '../src/errors.ts';
import { decideFailure, type FailureContext } from '../src/outcome.ts';
import { DEFAULT_DEFER_LIMITS, exponentialBackoff, fixedDelays, waitAfter } from '../src/retry-policy.ts';
import { nextHop, parseDelay, parseLadder, parseTiers, retryTopic } from '../src/retry-tiers.ts';

const tiers = parseTiers(['2s', '4s', '8s']);
const now = 1_000_000;
const base: FailureContext = {
  attempt: 0,
  tiers,
  maxAttempts: 4,
  deferred: { count: 0, since: undefined },
  deferLimits: DEFAULT_DEFER_LIMITS,
  now,
};
const at = (overrides: Partial<FailureContext>): FailureContext => ({ ...base, ...overrides });

describe('retry tiers and the delay ladder', () => {
  it('parses delays and names tier topics after them', () => {
    expect(parseDelay('1h')).toEqual({ label: '1h', delayMs: 3_600_000 });
    expect(parseDelay('250ms').delayMs).toBe(250);
    expect(retryTopic('metering.requests', parseDelay('2s'))).toBe('metering.requests.retry.2s');
  });

  it('rejects a malformed or repeated delay, naming it', () => {
    expect(() => parseDelay('soon')).toThrow('retry delay "soon" is not a number followed by ms, s, m, h or d');
    expect(() => parseDelay('0s')).toThrow('must be positive');
    expect(() => parseTiers(['2s', '2s'])).toThrow('repeat a tier');
  });

  it('breaks a wait into hops, the longest step that fits first, ending on the wait itself', () => {
    const ladder = parseLadder(['1m', '1s', '10s']);
    const hops: string[] = [];
    let clock = now;
    const end = now + 90_500;
    while (clock < end) {
      const hop = nextHop(ladder, end - clock, clock);
      hops.push(hop.step.label);
      expect(hop.wakeAt).toBeLessThanOrEqual(end);
      clock = hop.wakeAt;
    }
    expect(clock).toBe(end);
    expect(hops).toEqual(['1m', '10s', '10s', '10s', '1s']);
  });
});

describe('decideFailure', () => {
  it('moves a retryable failure to the next tier and counts the attempt', () => {
    expect(decideFailure(new RetryableError('x'), base)).toEqual({ kind: 'retry', tier: tiers[0], attempt: 1, notBefore: now + 2000 });
    expect(decideFailure(new Error('plain'), at({ attempt: 2 }))).toMatchObject({ kind: 'retry', tier: tiers[2], attempt: 3 });
  });

  it('dead-letters when the attempts are spent, and a route without tiers at the first failure', () => {
    expect(decideFailure(new RetryableError('x'), at({ attempt: 3 }))).toEqual({ kind: 'dead-letter', reason: 'exhausted', attempt: 4 });
    expect(decideFailure(new Error('x'), at({ tiers: [], maxAttempts: 1 }))).toEqual({
      kind: 'dead-letter',
      reason: 'exhausted',
      attempt: 1,
    });
  });

  it('takes max attempts apart from the tiers: fewer stop early, more repeat the last tier', () => {
    expect(decideFailure(new Error('x'), at({ attempt: 1, maxAttempts: 2 }))).toMatchObject({ kind: 'dead-letter', attempt: 2 });
    expect(decideFailure(new Error('x'), at({ attempt: 4, maxAttempts: 6 }))).toMatchObject({ kind: 'retry', tier: tiers[2], attempt: 5 });
  });

  it('dead-letters fatal and undecodable at once', () => {
    expect(decideFailure(new FatalError('x'), base)).toMatchObject({ kind: 'dead-letter', reason: 'fatal' });
    expect(decideFailure(new UndecodableMessageError('x'), base)).toMatchObject({ kind: 'dead-letter', reason: 'undecodable', attempt: 0 });
  });

  it('lets the route classifier call a plain error fatal, but not override a typed one', () => {
    const classify = (e: unknown) => ((e as Error).message === 'bad tracking number' ? ('fatal' as const) : undefined);
    expect(decideFailure(new Error('bad tracking number'), at({ classify }))).toMatchObject({ reason: 'fatal' });
    expect(decideFailure(new Error('timeout'), at({ classify }))).toMatchObject({ kind: 'retry' });
    expect(decideFailure(new RetryableError('bad tracking number'), at({ classify }))).toMatchObject({ kind: 'retry' });
  });

  it("follows a classifier's own policy: its delays go down the ladder, its attempt limit holds", () => {
    const throttled = exponentialBackoff({ initial: '1s', max: '8s', jitter: 'none', maxAttempts: 3 });
    const classify = () => throttled;
    expect(decideFailure(new Error('429'), at({ classify }))).toEqual({
      kind: 'retry',
      attempt: 1,
      notBefore: now + 1000,
      tier: undefined,
    });
    expect(decideFailure(new Error('429'), at({ classify, attempt: 1 }))).toMatchObject({ notBefore: now + 2000 });
    expect(decideFailure(new Error('429'), at({ classify, attempt: 2 }))).toMatchObject({ kind: 'dead-letter', reason: 'exhausted' });
  });

  it('defers without spending an attempt, to the time asked, on a route without tiers too', () => {
    const until = new Date(now + 600_000);
    expect(decideFailure(new DeferError(until), at({ attempt: 1, tiers: [], maxAttempts: 1 }))).toEqual({
      kind: 'defer',
      attempt: 1,
      notBefore: now + 600_000,
      defers: 1,
      firstDeferredAt: now,
    });
    expect(decideFailure(new Error('quota'), at({ classify: () => ({ deferUntil: until }) }))).toMatchObject({ kind: 'defer', attempt: 0 });
  });

  it('dead-letters a message deferred too often or for too long', () => {
    const limits = { maxDefers: 3, maxDeferredMs: 3_600_000 };
    const later = new DeferError(new Date(now + 1000));
    expect(decideFailure(later, at({ deferLimits: limits, deferred: { count: 3, since: now } }))).toMatchObject({
      kind: 'dead-letter',
      reason: 'deferred-too-long',
    });
    const farOff = new DeferError(new Date(now + 3_600_001));
    expect(decideFailure(farOff, at({ deferLimits: limits, deferred: { count: 1, since: now } }))).toMatchObject({
      reason: 'deferred-too-long',
    });
    expect(decideFailure(later, at({ deferLimits: limits, deferred: { count: 2, since: now } }))).toMatchObject({
      kind: 'defer',
      defers: 3,
    });
  });
});

describe('retry policies', () => {
  it('waits the fixed delays in turn, the last repeating, until max attempts', () => {
    const policy = fixedDelays(['1h', '6h'], { maxAttempts: 4 });
    expect([1, 2, 3, 4].map((n) => waitAfter(policy, n))).toEqual([3_600_000, 21_600_000, 21_600_000, undefined]);
  });

  it('backs off exponentially up to its ceiling, with jitter inside the bounds', () => {
    const full = exponentialBackoff({ initial: '1s', max: '10s', multiplier: 3, maxAttempts: 10 });
    const equal = exponentialBackoff({ initial: '1s', max: '10s', multiplier: 3, jitter: 'equal', maxAttempts: 10 });
    expect(waitAfter(full, 3, () => 1)).toBe(9000);
    expect(waitAfter(full, 5, () => 1)).toBe(10_000);
    expect(waitAfter(full, 3, () => 0)).toBe(0);
    expect(waitAfter(equal, 3, () => 0)).toBe(4500);
  });

  it('refuses a policy that cannot work, saying why', () => {
    expect(() => fixedDelays([], { maxAttempts: 3 })).toThrow('needs at least one delay');
    expect(() => exponentialBackoff({ initial: '10s', max: '1s', maxAttempts: 3 })).toThrow('shorter than the initial');
    expect(() => exponentialBackoff({ initial: '1s', max: '10s', maxAttempts: 0 })).toThrow('maxAttempts');
  });
});
