// Webhooks end to end: registered through the API, delivered signed once per region's new
// version with the changes their filters pass, retried on a 5xx, dead-lettered on a refusal.
import { createHmac } from 'node:crypto';
import { eventually, type HttpStandIn, startHttpStandIn } from '@tickflow/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { PRICING_TOKEN, PricingBed } from './pricing-bed.ts';

const V1 = '20261101000000';
const V2 = '20261201000000';
const TYPES = ['m5.large', 'c5.large', 'r5.large'];

let bed: PricingBed;
let receiver: HttpStandIn<'POST /hook' | 'POST /other' | 'POST /gone'> | undefined;
afterEach(async () => {
  await bed?.stop();
  await receiver?.close();
});

const auth = { authorization: `Bearer ${PRICING_TOKEN}`, 'content-type': 'application/json' };

describe('pricing webhooks', () => {
  it('posts each subscriber the changes it asked for, signed, once; retries a 5xx and dead-letters a refusal', async () => {
    receiver = await startHttpStandIn({
      routes: {
        'POST /hook': () => ({ body: { ok: true } }),
        'POST /other': () => ({ body: { ok: true } }),
        'POST /gone': () => ({ status: 410 }),
      },
    });
    bed = new PricingBed();
    await bed.startPriceList({
      'us-east-1': { version: V1, instanceTypes: TYPES, prices: { 'm5.large': '0.0960000000', 'c5.large': '0.0850000000' } },
      'eu-west-1': { version: V1, instanceTypes: ['m5.large'] },
    });
    const service = await bed.start({ PRICING_WEBHOOK_ALLOW_PRIVATE: 'true' });
    const dead = await bed.tap.read(`${bed.instance}.requests.dlq`);
    const register = async (body: unknown, headers: Record<string, string> = auth) =>
      fetch(`${service.url}/v1/webhooks`, { method: 'POST', headers, body: JSON.stringify(body) });

    expect((await register({ url: `${receiver.url}/hook` }, { 'content-type': 'application/json' })).status).toBe(401);
    const bad = await register({ url: `${receiver.url}/hook`, minPercent: 'a lot' });
    expect([bad.status, await bad.json()]).toEqual([400, { field: 'minPercent', error: 'minPercent must be a number from 0 to 10000' }]);
    const created = await register({ url: `${receiver.url}/hook`, regions: ['us-east-1'], instanceFamilies: ['m5'], minPercent: 3 });
    expect(created.status).toBe(201);
    const hook = (await created.json()) as { id: string; secret: string };
    expect(hook.secret).toMatch(/^whsec_/);
    await register({ url: `${receiver.url}/other`, regions: ['eu-west-1'] });
    const gone = (await (await register({ url: `${receiver.url}/gone`, regions: ['us-east-1'] })).json()) as { id: string };
    const listed = (await (await fetch(`${service.url}/v1/webhooks`, { headers: auth })).json()) as { webhooks: Record<string, unknown>[] };
    expect(listed.webhooks).toHaveLength(3);
    expect(JSON.stringify(listed)).not.toContain(hook.secret);

    await bed.tick();
    await bed.completed(2);
    // A region's first version is no change: nothing is posted.
    expect(receiver.requests()).toEqual([]);

    bed.priceList.publish('us-east-1', {
      version: V2,
      instanceTypes: TYPES,
      prices: { 'm5.large': '0.1000000000', 'c5.large': '0.0800000000' },
    });
    receiver.injectFault('POST /hook', { kind: 'status', status: 503 });
    await bed.tick();
    const delivered = await eventually(
      'the delivery to /hook after its retry',
      async () => receiver?.requests('POST /hook').find((r) => r.fault === undefined),
      30_000,
    );
    const letter = await eventually('the refused delivery in the DLQ', async () => dead.find((l) => l.key === gone.id), 30_000);
    expect(letter.headers.tickflow_dlq_reason).toBe('fatal');
    expect(letter.headers.tickflow_error_message).toContain('refused the delivery with 410');

    // Signed: HMAC-SHA256 of "<timestamp>.<body>" with the webhook's secret.
    const timestamp = delivered.headers['x-tickflow-timestamp'] ?? '';
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(120);
    const expected = createHmac('sha256', hook.secret).update(`${timestamp}.${delivered.rawBody.toString()}`).digest('hex');
    expect(delivered.headers['x-tickflow-signature']).toBe(`sha256=${expected}`);
    const body = delivered.body as {
      deliveryId: string;
      version: string;
      total: number;
      truncated: boolean;
      changes: { instanceType: string; percent: string | null }[];
    };
    expect(delivered.headers['x-tickflow-delivery']).toBe(body.deliveryId);
    // What the filters pass: m5 only (not c5, down 5.88%), moves of 3% or more, every one of them.
    const wanted = bed
      .changes()
      .filter((e) => String(e.key).startsWith('m5.') && (e.payload.percent === null || Math.abs(Number(e.payload.percent)) >= 3));
    expect(body).toMatchObject({ version: V2, total: wanted.length, truncated: false });
    expect(body.changes).toHaveLength(wanted.length);
    expect(new Set(body.changes.map((c) => c.instanceType))).toEqual(new Set(['m5.large']));

    // Once: the 503, then one delivery; eu-west-1 did not change, so /other got nothing.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(receiver.requests('POST /hook').map((r) => r.fault?.kind ?? 'ok')).toEqual(['status', 'ok']);
    expect(receiver.requests('POST /other')).toEqual([]);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/^tickflow_pricing_webhook_deliveries_total\{status="200"\} 1$/m);

    // Deleted, a webhook gets nothing more.
    expect(
      (await fetch(`${service.url}/v1/webhooks/${hook.id}`, { method: 'DELETE', headers: { authorization: auth.authorization } })).status,
    ).toBe(204);
    expect(
      (await fetch(`${service.url}/v1/webhooks/${hook.id}`, { method: 'DELETE', headers: { authorization: auth.authorization } })).status,
    ).toBe(404);
  });
});
