import { afterEach, describe, expect, it } from 'vitest';
import { instanceTypesOf, linuxOnDemand } from '../src/aws-offer-file.ts';
import { type AwsPriceListStandIn, OFFER_ROUTE, startAwsPriceListStandIn } from '../src/aws-price-list-stand-in.ts';

let standIn: AwsPriceListStandIn | undefined;
afterEach(async () => {
  await standIn?.close();
  standIn = undefined;
});

interface OfferFile {
  formatVersion: string;
  version: string;
  publicationDate: string;
  products: Record<string, { sku: string; productFamily: string; attributes: Record<string, string> }>;
  terms: {
    OnDemand: Record<string, Record<string, { priceDimensions: Record<string, { unit: string; pricePerUnit: { USD: string } }> }>>;
    Reserved: Record<string, Record<string, { termAttributes: Record<string, string> }>>;
  };
}

describe('the AWS price list stand-in', () => {
  it('leads from the service index to each region’s offer file, as the Bulk API does', async () => {
    standIn = await startAwsPriceListStandIn({
      regions: { 'us-east-1': { version: '20261201000000' }, 'eu-west-1': { version: '20261130000000', instanceTypes: ['m5.large'] } },
    });
    const index = (await (await fetch(`${standIn.url}/offers/v1.0/aws/index.json`)).json()) as {
      offers: Record<string, { currentRegionIndexUrl: string }>;
    };
    const regionIndexUrl = index.offers.AmazonEC2?.currentRegionIndexUrl;
    expect(regionIndexUrl).toBe('/offers/v1.0/aws/AmazonEC2/current/region_index.json');
    const regionIndex = (await (await fetch(`${standIn.url}${regionIndexUrl}`)).json()) as {
      regions: Record<string, { regionCode: string; currentVersionUrl: string }>;
    };
    expect(regionIndex.regions['eu-west-1']).toEqual({
      regionCode: 'eu-west-1',
      currentVersionUrl: '/offers/v1.0/aws/AmazonEC2/20261130000000/eu-west-1/index.json',
    });
    const response = await fetch(`${standIn.url}${regionIndex.regions['eu-west-1']?.currentVersionUrl}`);
    expect(response.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);
    expect(response.headers.get('last-modified')).toBe('Mon, 30 Nov 2026 00:00:00 GMT');
    const file = (await response.json()) as OfferFile;
    expect(file).toMatchObject({ formatVersion: 'v1.0', version: '20261130000000', publicationDate: '2026-11-30T00:00:00Z' });

    // 54 variants of m5.large and one storage product; on-demand terms for each instance, twelve reservations for the twelve running shared or dedicated ones.
    const products = Object.values(file.products);
    expect(products).toHaveLength(55);
    expect(products.filter((p) => p.productFamily === 'Storage')).toHaveLength(1);
    expect(Object.keys(file.terms.OnDemand)).toHaveLength(54);
    expect(Object.keys(file.terms.Reserved)).toHaveLength(12);
    expect(Object.values(file.terms.Reserved).every((terms) => Object.keys(terms).length === 12)).toBe(true);
    const linux = products.find(
      (p) =>
        p.attributes.operatingSystem === 'Linux' &&
        p.attributes.tenancy === 'Shared' &&
        p.attributes.capacitystatus === 'Used' &&
        p.attributes.preInstalledSw === 'NA',
    );
    const onDemand = Object.values(file.terms.OnDemand[linux?.sku ?? ''] ?? {})[0];
    expect(Object.values(onDemand?.priceDimensions ?? {})[0]?.pricePerUnit.USD).toBe(
      linuxOnDemand(standIn.current('eu-west-1'), 'm5.large'),
    );
  });

  it('answers a conditional GET with 304, serves a replaced version still, and refuses an unknown one as S3 does', async () => {
    standIn = await startAwsPriceListStandIn({ regions: { 'us-east-1': { version: '20261201000000', instanceTypes: ['t3.micro'] } } });
    const url = `${standIn.url}/offers/v1.0/aws/AmazonEC2/20261201000000/us-east-1/index.json`;
    const first = await fetch(url);
    const etag = first.headers.get('etag') ?? '';
    await first.arrayBuffer();
    const again = await fetch(url, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect((await fetch(url, { headers: { 'if-modified-since': 'Tue, 01 Dec 2026 00:00:00 GMT' } })).status).toBe(304);
    expect(standIn.downloads('us-east-1')).toBe(1);

    standIn.publish('us-east-1', { version: '20261202000000', instanceTypes: ['t3.micro'], prices: { 't3.micro': '0.0110000000' } });
    const old = await fetch(url, { headers: { 'if-none-match': etag } });
    expect(old.status).toBe(304);
    const next = await fetch(`${standIn.url}/offers/v1.0/aws/AmazonEC2/20261202000000/us-east-1/index.json`, {
      headers: { 'if-none-match': etag },
    });
    expect(next.status).toBe(200);
    expect(next.headers.get('etag')).not.toBe(etag);
    expect(((await next.json()) as OfferFile).version).toBe('20261202000000');

    const missing = await fetch(`${standIn.url}/offers/v1.0/aws/AmazonEC2/20200101000000/us-east-1/index.json`);
    expect(missing.status).toBe(403);
    expect(await missing.text()).toContain('<Code>AccessDenied</Code>');
  });

  it('streams a file of the size asked for, and cuts one mid-body on demand', async () => {
    const bytes = 4 * 1024 * 1024;
    standIn = await startAwsPriceListStandIn({ regions: { 'us-east-1': { version: '20261201000000', bytes } } });
    const url = `${standIn.url}/offers/v1.0/aws/AmazonEC2/20261201000000/us-east-1/index.json`;
    const whole = await (await fetch(url)).text();
    expect(whole.length).toBeGreaterThanOrEqual(bytes);
    expect(whole.length).toBeLessThan(bytes + 400_000);
    const file = JSON.parse(whole) as OfferFile;
    const types = new Set(
      Object.values(file.products)
        .filter((p) => p.productFamily === 'Compute Instance')
        .map((p) => p.attributes.instanceType),
    );
    expect(types).toEqual(new Set([...instanceTypesOf(standIn.current('us-east-1'))]));

    standIn.http.injectFault(OFFER_ROUTE, { kind: 'cut', afterBytes: 1_000_000 });
    const cut = await fetch(url);
    expect(cut.status).toBe(200);
    let received = 0;
    const reading = (async () => {
      for await (const chunk of cut.body as AsyncIterable<Uint8Array>) received += chunk.length;
    })();
    await expect(reading).rejects.toThrow();
    expect(received).toBe(1_000_000);
  });
});
