// A claim's attempts on the real PostgreSQL: one fetch at a time (a second message, or a second
// replica, finds it held), a fetcher killed mid-fetch loses the claim once its lease runs out,
// a deferral spends no attempt, and every outcome lands in the claim's history.
import { afterAll, describe, expect, it } from 'vitest';
import { ClaimRepository } from '../src/adapters/claim-repository.ts';
import { testDatabase } from './test-database.ts';

const { db, drop } = testDatabase();
const claims = new ClaimRepository(db);
afterAll(async () => {
  await drop();
});

const register = (claimId: string) =>
  claims.register([{ claimId, clientId: 'client-7', carrier: 'chronopost', trackingNumber: 'XY123456789FR' }]);
const timeout = { class: 'temporary', code: 'timeout', message: 'no answer within 10000 ms' };
const LEASE = 60_000;

describe('a claim’s attempts', () => {
  it('are one at a time, spend nothing when deferred, and keep the claim’s story', async () => {
    await register('CLM-1');
    const begun = await claims.beginAttempt('CLM-1', 'm1', LEASE);
    expect(begun).toMatchObject({ podStatus: 'fetching', attempts: 1 });
    // A second message for the same claim while the first is fetching: nothing to do.
    expect(await claims.beginAttempt('CLM-1', 'm2', LEASE)).toBeNull();
    expect(await claims.endAttempt('CLM-1', 'm2', { outcome: 'gave_up', error: timeout }, null)).toBe(false);

    const retryAt = new Date('2026-12-04T11:00:00Z');
    expect(await claims.endAttempt('CLM-1', 'm1', { outcome: 'failed', error: timeout, nextAttemptAt: retryAt }, 'trace-1')).toBe(true);
    expect(await claims.get('CLM-1')).toMatchObject({ podStatus: 'failed', attempts: 1, nextAttemptAt: retryAt, lastError: timeout });

    // The retry meets the carrier's quota: deferred, the attempt given back.
    await claims.beginAttempt('CLM-1', 'm1', LEASE);
    const resetsAt = new Date('2026-12-04T23:00:00Z');
    await claims.endAttempt('CLM-1', 'm1', { outcome: 'deferred', reason: 'chronopost quota used up', until: resetsAt }, 'trace-1');
    expect(await claims.get('CLM-1')).toMatchObject({ podStatus: 'failed', attempts: 1, nextAttemptAt: resetsAt });

    expect(await claims.beginAttempt('CLM-1', 'm1', LEASE)).toMatchObject({ attempts: 2 });
    const pod = { location: 's3://pods/pods/chronopost/CLM-1.pdf', contentType: 'application/pdf', sha256: 'ab'.repeat(32) };
    await claims.endAttempt('CLM-1', 'm1', { outcome: 'success', pod }, 'trace-1');
    // Done: a late duplicate finds nothing to fetch.
    expect(await claims.beginAttempt('CLM-1', 'm3', LEASE)).toBeNull();
    const done = await claims.get('CLM-1');
    expect(done).toMatchObject({
      podStatus: 'success',
      attempts: 2,
      podLocation: pod.location,
      podSha256: pod.sha256,
      nextAttemptAt: null,
    });
    expect(done?.history.map((h) => [h.attempt, h.outcome, h.errorCode, h.traceId])).toEqual([
      [1, 'failed', 'timeout', 'trace-1'],
      [1, 'deferred', 'deferred', 'trace-1'],
      [2, 'success', null, 'trace-1'],
    ]);
    expect(done?.history[1]?.errorMessage).toBe('chronopost quota used up; until 2026-12-04T23:00:00.000Z');
  });

  it('go to another fetcher once a killed one’s lease runs out, and the killed one’s late end is refused', async () => {
    await register('CLM-2');
    await claims.beginAttempt('CLM-2', 'killed', LEASE);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await claims.beginAttempt('CLM-2', 'survivor', 10)).toMatchObject({ podStatus: 'fetching', attempts: 2 });
    expect(await claims.endAttempt('CLM-2', 'killed', { outcome: 'gave_up', error: timeout }, null)).toBe(false);
    expect(
      await claims.endAttempt(
        'CLM-2',
        'survivor',
        { outcome: 'gave_up', error: { ...timeout, class: 'persistent', code: 'no-pod' } },
        null,
      ),
    ).toBe(true);
    expect(await claims.get('CLM-2')).toMatchObject({ podStatus: 'gave_up', attempts: 2, lastError: { code: 'no-pod' } });
  });
});
