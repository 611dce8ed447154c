// The claims registry on the real PostgreSQL, through the HTTP API as a client calls it.
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClaimRepository } from '../src/adapters/claim-repository.ts';
import { podRetryApi } from '../src/http-api.ts';
import { testDatabase } from './test-database.ts';

const TOKEN = 'pod-retry-test-token-0123456789';
const { db, drop } = testDatabase();
const app = Fastify();
app.register(podRetryApi({ claims: new ClaimRepository(db), carriers: ['dhl', 'colissimo', 'chronopost'], apiToken: TOKEN }));

beforeAll(() => app.ready());
afterAll(async () => {
  await app.close();
  await drop();
});

const call = (method: 'GET' | 'POST', url: string, payload?: unknown, token = TOKEN) =>
  app.inject({ method, url, payload: payload as object, headers: { authorization: `Bearer ${token}` } });
const claim = (id: string, carrier = 'chronopost') => ({
  claimId: id,
  clientId: 'client-7',
  carrier,
  trackingNumber: `XY${id.replace(/\D/g, '').padStart(9, '0')}FR`,
});

describe('the claims API', () => {
  it('registers one claim or a batch once, however often it is sent, and shows each', async () => {
    const first = await call('POST', '/v1/claims', claim('CLM-2024-001'));
    expect(first.statusCode).toBe(201);
    expect(first.json()).toEqual({ created: 1, existing: 0, claims: [{ claimId: 'CLM-2024-001', result: 'created' }] });

    const batch = { claims: [claim('CLM-2024-001'), claim('CLM-2024-002', 'dhl'), claim('CLM-2024-003', 'colissimo')] };
    const second = await call('POST', '/v1/claims', batch);
    expect(second.statusCode).toBe(201);
    expect(second.json()).toMatchObject({ created: 2, existing: 1 });
    const again = await call('POST', '/v1/claims', batch);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ created: 0, existing: 3 });
    const count = await db.pool.query(`SELECT count(*)::int AS n FROM ${db.table('claims')}`);
    expect(count.rows[0].n).toBe(3);

    const shown = await call('GET', '/v1/claims/CLM-2024-002');
    expect(shown.statusCode).toBe(200);
    expect(shown.json()).toMatchObject({
      claimId: 'CLM-2024-002',
      clientId: 'client-7',
      carrier: 'dhl',
      trackingNumber: 'XY002024002FR',
      podStatus: 'pending',
      attempts: 0,
      lastError: null,
      history: [],
    });
    expect((await call('GET', '/v1/claims/CLM-nope')).statusCode).toBe(404);

    const page = await call('GET', '/v1/claims?status=pending&limit=2');
    expect(page.json().claims.map((c: { claimId: string }) => c.claimId)).toEqual(['CLM-2024-001', 'CLM-2024-002']);
    expect(page.json().next).toBe('CLM-2024-002');
    const rest = await call('GET', '/v1/claims?status=pending&limit=2&after=CLM-2024-002');
    expect(rest.json()).toMatchObject({ claims: [{ claimId: 'CLM-2024-003' }], next: null });
  });

  it('refuses a bad claim naming the field, a claim id taken with other values, and a call without the token', async () => {
    const bad = await call('POST', '/v1/claims', { claims: [claim('CLM-9001'), { ...claim('CLM-9002'), carrier: 'ups' }] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ field: 'claims[1].carrier', error: "carrier must be one of dhl, colissimo, chronopost, got 'ups'" });
    // Nothing of a refused batch is registered.
    expect((await call('GET', '/v1/claims/CLM-9001')).statusCode).toBe(404);

    await call('POST', '/v1/claims', claim('CLM-5000'));
    const conflict = await call('POST', '/v1/claims', { claims: [claim('CLM-5001'), { ...claim('CLM-5000'), clientId: 'client-8' }] });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json()).toMatchObject({ field: 'claimId', claimId: 'CLM-5000' });
    expect(conflict.json().error).toContain('already registered for client client-7, carrier chronopost');
    expect((await call('GET', '/v1/claims/CLM-5001')).statusCode).toBe(404);

    expect((await call('GET', '/v1/claims?status=lost')).json()).toMatchObject({ field: 'status' });
    expect((await call('GET', '/v1/claims?limit=0')).json()).toMatchObject({ field: 'limit' });
    const anonymous = await call('GET', '/v1/claims/CLM-5000', undefined, 'wrong-token-wrong-token');
    expect(anonymous.statusCode).toBe(401);
  });
});
