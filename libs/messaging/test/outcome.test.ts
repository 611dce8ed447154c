import { describe, expect, it } from 'vitest';
import { DeferError, FatalError, RetryableError, UndecodableMessageError } from '../src/errors.ts';
import { decideFailure } from '../src/outcome.ts';
import { parseDelay, parseTiers, retryTopic, tierForWait } from '../src/retry-tiers.ts';

const tiers = parseTiers(['2s', '4s', '8s']);
const now = 1_000_000;

describe('retry tiers', () => {
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

  it('picks the shortest tier that covers a wait, the longest when none does', () => {
    expect(tierForWait(tiers, 3000)?.label).toBe('4s');
    expect(tierForWait(tiers, 60_000)?.label).toBe('8s');
  });
});

describe('decideFailure', () => {
  it('moves a retryable failure to the next tier and counts the attempt', () => {
    expect(decideFailure(new RetryableError('x'), { attempt: 0, tiers, now })).toEqual({
      kind: 'retry',
      tier: tiers[0],
      attempt: 1,
      notBefore: now + 2000,
    });
    expect(decideFailure(new Error('plain'), { attempt: 2, tiers, now })).toMatchObject({ kind: 'retry', tier: tiers[2], attempt: 3 });
  });

  it('dead-letters when every tier is spent', () => {
    expect(decideFailure(new RetryableError('x'), { attempt: 3, tiers, now })).toEqual({
      kind: 'dead-letter',
      reason: 'exhausted',
      attempt: 4,
    });
    expect(decideFailure(new Error('x'), { attempt: 0, tiers: [], now })).toEqual({ kind: 'dead-letter', reason: 'exhausted', attempt: 1 });
  });

  it('dead-letters fatal and undecodable at once', () => {
    expect(decideFailure(new FatalError('x'), { attempt: 0, tiers, now })).toMatchObject({ kind: 'dead-letter', reason: 'fatal' });
    expect(decideFailure(new UndecodableMessageError('x'), { attempt: 0, tiers, now })).toMatchObject({
      kind: 'dead-letter',
      reason: 'undecodable',
      attempt: 0,
    });
  });

  it('lets the route classifier call a plain error fatal, but not override a typed one', () => {
    const classify = (e: unknown) => ((e as Error).message === 'bad tracking number' ? ('fatal' as const) : undefined);
    expect(decideFailure(new Error('bad tracking number'), { attempt: 0, tiers, classify, now })).toMatchObject({ reason: 'fatal' });
    expect(decideFailure(new Error('timeout'), { attempt: 0, tiers, classify, now })).toMatchObject({ kind: 'retry' });
    expect(decideFailure(new RetryableError('bad tracking number'), { attempt: 0, tiers, classify, now })).toMatchObject({ kind: 'retry' });
  });

  it('defers without spending an attempt', () => {
    const until = new Date(now + 3000);
    expect(decideFailure(new DeferError(until), { attempt: 1, tiers, now })).toEqual({
      kind: 'defer',
      tier: tiers[1],
      attempt: 1,
      notBefore: now + 3000,
    });
  });
});
