// Carrier quotas on the real Redis: never exceeded by concurrent takers (two "replicas" with
// their own connections), counted per carrier day in the carrier's zone, and back at its reset.
import { stack, uniqueName } from '@tickflow/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { CarrierQuota } from '../src/adapters/carrier-quota.ts';

let clock = new Date('2026-12-04T10:00:00Z');
const keyPrefix = uniqueName('pod-retry');
const limits = { chronopost: { perDay: 100, timeZone: 'Europe/Paris' }, dhl: { perDay: 3, timeZone: 'UTC' } };
const replicas = [0, 1].map(() => new CarrierQuota({ redisUrl: stack.redisUrl, keyPrefix, limits, now: () => clock }));
afterAll(async () => {
  for (const quota of replicas) await quota.close();
});

describe('carrier quotas', () => {
  it('never lets concurrent fetches past a carrier’s daily limit, and other carriers go on', async () => {
    const takes = await Promise.all(Array.from({ length: 250 }, (_, i) => (replicas[i % 2] as CarrierQuota).take('chronopost')));
    const taken = takes.filter((t) => t.taken);
    expect(taken).toHaveLength(100);
    expect(new Set(taken.map((t) => (t.taken ? t.used : 0))).size).toBe(100);
    const refused = takes.find((t) => !t.taken);
    // Paris midnight, in winter 23:00 UTC.
    expect(refused).toEqual({ taken: false, resetsAt: new Date('2026-12-04T23:00:00Z') });
    expect(await replicas[0]?.take('dhl')).toEqual({ taken: true, used: 1, remaining: 2 });
    expect(await replicas[1]?.take('colissimo')).toMatchObject({ taken: true });
    expect(await replicas[1]?.remaining()).toEqual({ chronopost: 0, dhl: 2 });
  });

  it('starts again at the carrier’s own midnight, not UTC’s', async () => {
    clock = new Date('2026-12-04T22:59:59Z');
    expect((await replicas[0]?.take('chronopost'))?.taken).toBe(false);
    clock = new Date('2026-12-04T23:00:00Z');
    expect(await replicas[0]?.take('chronopost')).toEqual({ taken: true, used: 1, remaining: 99 });
    // DHL counts in UTC, where it is still the 4th: one of its three calls used, two left.
    expect(await replicas[1]?.take('dhl')).toEqual({ taken: true, used: 2, remaining: 1 });
    expect(await replicas[1]?.take('dhl')).toEqual({ taken: true, used: 3, remaining: 0 });
    expect(await replicas[1]?.take('dhl')).toEqual({ taken: false, resetsAt: new Date('2026-12-05T00:00:00Z') });
  });
});
