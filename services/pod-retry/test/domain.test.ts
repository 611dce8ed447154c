import { describe, expect, it } from 'vitest';
import { carrierDay, checkTimeZone, nextCarrierDay } from '../src/domain/carrier-day.ts';
import { readClaims } from '../src/domain/claim.ts';
import { afterFailure, fetchFailure, nextAttemptAt, retryAfterOf } from '../src/domain/fetch-outcome.ts';

const CARRIERS = ['dhl', 'colissimo', 'chronopost'];
const claim = { claimId: 'CLM-2024-001', clientId: 'client-7', carrier: 'chronopost', trackingNumber: 'xy 1234 5678 9fr' };

describe('claims as the API takes them', () => {
  it('reads one claim or a batch, tidying the tracking number, and takes a claim repeated in a batch once', () => {
    expect(readClaims(claim, CARRIERS)).toEqual({ claims: [{ ...claim, trackingNumber: 'XY123456789FR' }] });
    const batch = readClaims(
      { claims: [claim, { ...claim, carrier: 'Chronopost' }, { ...claim, claimId: 'CLM-2024-002', carrier: 'dhl' }] },
      CARRIERS,
    );
    expect('claims' in batch && batch.claims.map((c) => `${c.claimId} ${c.carrier}`)).toEqual([
      'CLM-2024-001 chronopost',
      'CLM-2024-002 dhl',
    ]);
  });

  it('names the first field that is wrong', () => {
    const error = (body: unknown) => {
      const read = readClaims(body, CARRIERS);
      return 'field' in read ? `${read.field}: ${read.error}` : 'ok';
    };
    expect(error({ ...claim, carrier: 'ups' })).toBe("carrier: carrier must be one of dhl, colissimo, chronopost, got 'ups'");
    expect(error({ ...claim, claimId: '' })).toMatch(/^claimId: claimId must be 1 to 64/);
    expect(error({ claims: [claim, { ...claim, claimId: 'CLM-2', trackingNumber: '12' }] })).toBe(
      'claims[1].trackingNumber: trackingNumber must be 8 to 40 letters and digits',
    );
    expect(error({ claims: [claim, { ...claim, clientId: 'other' }] })).toBe(
      'claims[1].claimId: claim CLM-2024-001 is in this batch twice with different values',
    );
    expect(error({ claims: [] })).toBe('claims: claims must be a non-empty list of claims');
    expect(error({ claims: Array.from({ length: 1001 }, (_, i) => ({ ...claim, claimId: `C${i}` })) })).toBe(
      'claims: claims holds 1001 claims; at most 1000 at once',
    );
    expect(error([claim])).toBe('body: a claim must be an object');
  });
});

describe('after a failed fetch', () => {
  const now = new Date('2026-12-04T10:00:00Z');
  it('gives up at once on a persistent error, telling the client; retries a temporary one until the attempts run out', () => {
    expect(afterFailure(fetchFailure('invalid-tracking-number', 'no such shipment'), 1, 4, now)).toEqual({
      kind: 'give-up',
      notifyClient: true,
      reason: 'persistent',
    });
    expect(afterFailure(fetchFailure('timeout', 'no answer in 10 s'), 3, 4, now)).toEqual({ kind: 'retry' });
    expect(afterFailure(fetchFailure('server-error', '503'), 4, 4, now)).toEqual({
      kind: 'give-up',
      notifyClient: false,
      reason: 'attempts-exhausted',
    });
  });

  it('defers a 429 that says when, without spending an attempt; one that does not is a temporary error', () => {
    const later = new Date('2026-12-04T10:05:00Z');
    expect(afterFailure(fetchFailure('rate-limited', '429', later), 4, 4, now)).toEqual({ kind: 'defer', until: later });
    expect(afterFailure(fetchFailure('rate-limited', '429'), 2, 4, now)).toEqual({ kind: 'retry' });
    expect(retryAfterOf('120', now)).toEqual(new Date('2026-12-04T10:02:00Z'));
    expect(retryAfterOf('Fri, 04 Dec 2026 11:00:00 GMT', now)).toEqual(new Date('2026-12-04T11:00:00Z'));
    expect(retryAfterOf('soon', now)).toBeUndefined();
  });

  it('waits the seed’s 1 h, 6 h, 24 h, 72 h after the first, second, third and later failures', () => {
    const tiers = [1, 6, 24, 72].map((h) => h * 3_600_000);
    const failedAt = new Date('2026-12-04T10:00:00Z');
    expect([1, 2, 3, 4, 5].map((n) => nextAttemptAt(failedAt, n, tiers).toISOString())).toEqual([
      '2026-12-04T11:00:00.000Z',
      '2026-12-04T16:00:00.000Z',
      '2026-12-05T10:00:00.000Z',
      '2026-12-07T10:00:00.000Z',
      '2026-12-07T10:00:00.000Z',
    ]);
  });
});

describe('a carrier’s day', () => {
  it('is the calendar day where the carrier is, and ends at its local midnight, daylight saving included', () => {
    // 23:30 UTC on 28 March is already the 29th in Paris, the night clocks go forward.
    const late = new Date('2026-03-28T23:30:00Z');
    expect(carrierDay(late, 'Europe/Paris')).toBe('2026-03-29');
    expect(carrierDay(late, 'UTC')).toBe('2026-03-28');
    expect(nextCarrierDay(late, 'Europe/Paris').toISOString()).toBe('2026-03-29T22:00:00.000Z');
    expect(nextCarrierDay(new Date('2026-03-28T12:00:00Z'), 'Europe/Paris').toISOString()).toBe('2026-03-28T23:00:00.000Z');
    expect(nextCarrierDay(new Date('2026-10-24T12:00:00Z'), 'Europe/Paris').toISOString()).toBe('2026-10-24T22:00:00.000Z');
    expect(nextCarrierDay(new Date('2026-10-25T12:00:00Z'), 'Europe/Paris').toISOString()).toBe('2026-10-25T23:00:00.000Z');
    expect(nextCarrierDay(new Date('2026-12-04T10:00:00Z'), 'America/New_York').toISOString()).toBe('2026-12-05T05:00:00.000Z');
    expect(() => checkTimeZone('Mars/Olympus')).toThrow("'Mars/Olympus' is not an IANA time zone such as Europe/Paris");
  });
});
