// Pricing when the price list fails it: a download cut mid-file, a file malformed or of a
// format it does not know, a 5xx, a process killed mid-sync. Each time the region's previous
// catalogue stays whole and readable, and the region switches only once a file was read whole.
import { eventually, OFFER_ROUTE } from '@tickflow/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { db, PricingBed } from './pricing-bed.ts';

const V1 = '20261101000000';
const V2 = '20261201000000';
const ROWS_PER_TYPE = 54 + 12 * 12;

let bed: PricingBed;
afterEach(async () => {
  await bed?.stop();
});

const allOf = (rows: string[], version: string) => rows.length > 0 && rows.every((r) => r.endsWith(`@${version}`));

describe('pricing, when things fail', () => {
  it('keeps the previous catalogue through a download cut mid-file, retries, and then switches; a missing attribute is counted', async () => {
    bed = new PricingBed();
    await bed.startPriceList({
      'us-east-1': { version: V1, instanceTypes: ['m5.large', 'c5.large'], omitAttributes: { 'c5.large': ['vcpu'] } },
    });
    await bed.start({ PRICING_RETRY_TIERS: '2s,3s,4s,5s,6s' });
    await bed.tick();
    const [first] = await bed.completed(1);
    expect(first?.payload).toMatchObject({ result: 'synced', rows: 2 * ROWS_PER_TYPE, missingAttributes: { vcpu: 54 } });
    const before = await bed.catalogue('us-east-1');

    bed.priceList.publish('us-east-1', {
      version: V2,
      instanceTypes: ['m5.large', 'c5.large'],
      prices: { 'm5.large': '0.2' },
      omitAttributes: { 'c5.large': ['vcpu'] },
    });
    bed.priceList.http.injectFault(OFFER_ROUTE, { kind: 'cut', afterBytes: 150_000 }, { times: 'always' });
    await bed.tick();
    const failed = await bed.eventuallyRegion('us-east-1', (r) => r.last_result === 'failed');
    expect(failed.last_error).toMatch(/index\.json: the connection dropped after byte \d+/);
    expect(failed.current_version).toBe(V1);
    expect(await bed.catalogue('us-east-1')).toEqual(before);

    bed.priceList.http.clearFaults();
    const [, second] = await bed.completed(2);
    expect(second?.payload).toMatchObject({ result: 'synced', version: V2, previousVersion: V1, missingAttributes: { vcpu: 54 } });
    const after = await bed.catalogue('us-east-1');
    expect(after).toHaveLength(before.length);
    expect(allOf(after, V2)).toBe(true);
    // Nothing of the attempts cut short is left staged.
    const versions = await db.query(`SELECT DISTINCT version FROM "${bed.schema}".terms`);
    expect(versions.rows.map((r) => r.version)).toEqual([V2]);
  });

  it('dead-letters a malformed file naming the byte, and a format it does not know, and keeps the previous catalogue', async () => {
    bed = new PricingBed();
    await bed.startPriceList({
      'us-east-1': { version: V1, instanceTypes: ['m5.large'] },
      'eu-west-1': { version: V1, instanceTypes: ['m5.large'] },
    });
    await bed.start();
    const dead = await bed.tap.read(`${bed.instance}.requests.dlq`);
    // The region index answers 503 once: the tick is retried on the tiers, then fans out.
    bed.priceList.http.injectFault('GET /offers/v1.0/aws/AmazonEC2/current/region_index.json', { kind: 'status', status: 503 });
    await bed.tick();
    await bed.completed(2);
    expect(
      bed.priceList.http.requests('GET /offers/v1.0/aws/AmazonEC2/current/region_index.json').map((r) => r.fault?.kind ?? 'ok'),
    ).toEqual(['status', 'ok']);
    const before = await bed.catalogue('us-east-1');

    bed.priceList.publish('us-east-1', { version: V2, instanceTypes: ['m5.large'] });
    bed.priceList.publish('eu-west-1', { version: V2, instanceTypes: ['m5.large'], formatVersion: 'v2.0' });
    // A whole reply, but the file in it ends early: what a proxy that gave up mid-file may send.
    const broken = `{\n  "formatVersion" : "v1.0",\n  "version" : "${V2}",\n  "products" : {\n    "SKU1" : {`;
    bed.priceList.http.injectFault(OFFER_ROUTE, { kind: 'malformed', body: broken }, { when: (r) => r.params.region === 'us-east-1' });
    await bed.tick();
    const letters = await bed.eventuallyEvents(dead, 2);
    const byRegion = Object.fromEntries(letters.map((l) => [l.key, l.headers]));
    expect(byRegion['aws/us-east-1']?.tickflow_dlq_reason).toBe('fatal');
    expect(byRegion['aws/us-east-1']?.tickflow_error_message).toBe(
      `/offers/v1.0/aws/AmazonEC2/${V2}/us-east-1/index.json: the document ends inside a value at byte ${broken.length}`,
    );
    expect(byRegion['aws/eu-west-1']?.tickflow_error_message).toContain('formatVersion "v2.0" is not one this reader knows (v1.0)');
    expect(await bed.catalogue('us-east-1')).toEqual(before);
    expect(allOf(await bed.catalogue('eu-west-1'), V1)).toBe(true);
    expect(await bed.region('us-east-1')).toMatchObject({ last_result: 'failed', current_version: V1 });
  });

  it(
    'leaves the previous catalogue whole when killed mid-sync; the next process syncs the region from the start',
    { timeout: 180_000 },
    async () => {
      bed = new PricingBed();
      await bed.startPriceList({ 'us-east-1': { version: V1, instanceTypes: ['m5.large'] } });
      const first = await bed.start();
      await bed.tick();
      await bed.completed(1);
      const before = await bed.catalogue('us-east-1');

      bed.priceList.publish('us-east-1', { version: V2, bytes: 60 * 1024 * 1024 });
      await bed.tick();
      await bed.eventuallyStaged(V2);
      first.child.kill('SIGKILL');
      expect(await bed.catalogue('us-east-1')).toEqual(before);

      await bed.start();
      // The new process may first get V1's request again (its offset not yet committed when the
      // first was killed): that is `unchanged`, and V2's sync follows.
      const synced = await eventually(
        'the sync of V2',
        async () => bed.events.find((e) => e.type === 'tickflow.pricing.sync.completed' && e.payload.version === V2),
        120_000,
      );
      expect(synced.payload).toMatchObject({ result: 'synced', version: V2, previousVersion: V1 });
      const others = bed.events.filter((e) => e.type === 'tickflow.pricing.sync.completed' && e !== synced).map((e) => e.payload);
      expect(others.every((p) => p.version === V1 && (p.result === 'synced' || p.result === 'unchanged'))).toBe(true);
      expect(Number(synced.payload.bytes)).toBeGreaterThanOrEqual(60 * 1024 * 1024);
      expect(allOf(await bed.catalogue('us-east-1'), V2)).toBe(true);
      // V1, the download killed, and the one (or, when the group rebalances mid-file, two) after it.
      expect(bed.priceList.downloads('us-east-1')).toBeGreaterThanOrEqual(3);
    },
  );
});
