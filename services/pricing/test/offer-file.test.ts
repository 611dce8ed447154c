import { expectedRate, offerFileChunks } from '@tickflow/testing';
import { describe, expect, it } from 'vitest';
import type { InstanceProduct, TermRate } from '../src/domain/ec2-offer.ts';
import { type OfferItem, PriceDataError, readOfferFile } from '../src/domain/offer-file.ts';

const offer = {
  formatVersion: 'v1.0',
  disclaimer: 'This pricing list is for informational purposes only.',
  offerCode: 'AmazonEC2',
  version: '20261201000000',
  publicationDate: '2026-12-01T00:00:00Z',
  products: {
    SKU1: {
      sku: 'SKU1',
      productFamily: 'Compute Instance',
      attributes: { instanceType: 'm5.large', vcpu: '2', memory: '8 GiB', operatingSystem: 'Linux', tenancy: 'Shared' },
    },
    SKU2: { sku: 'SKU2', productFamily: 'Storage', attributes: { volumeType: 'gp3' } },
    SKU3: { sku: 'SKU3', productFamily: 'Compute Instance', attributes: { vcpu: '4' } },
  },
  terms: {
    OnDemand: {
      SKU1: { 'SKU1.A': { priceDimensions: { 'SKU1.A.B': { unit: 'Hrs', beginRange: '0', pricePerUnit: { USD: '0.0960000000' } } } } },
    },
    Reserved: {
      SKU1: {
        'SKU1.R': {
          termAttributes: { LeaseContractLength: '1yr', PurchaseOption: 'No Upfront', OfferingClass: 'standard' },
          priceDimensions: { 'SKU1.R.B': { unit: 'Hrs', pricePerUnit: { USD: '0.0600000000' } } },
        },
      },
    },
  },
};

async function* chunks(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function read(text: string, size = 37): Promise<OfferItem[]> {
  const items: OfferItem[] = [];
  for await (const batch of readOfferFile(chunks(text, size), 'us-east-1/index.json')) items.push(...batch);
  return items;
}

describe('an offer file read as a stream', () => {
  it('hands over the header, the instance products and their terms, and names what it could not read', async () => {
    const items = await read(JSON.stringify(offer, null, 2));
    const summary = items.map((item) =>
      item.kind === 'header'
        ? `${item.field}=${item.value}`
        : item.kind === 'product'
          ? `product ${item.product.instanceType} missing ${item.missing.join(',')}`
          : item.kind === 'terms'
            ? `terms ${item.rates.map((r) => `${r.term}@${r.hourly}`).join(',')}`
            : `problem ${item.problem}`,
    );
    expect(summary).toEqual([
      'formatVersion=v1.0',
      'offerCode=AmazonEC2',
      'version=20261201000000',
      'publicationDate=2026-12-01T00:00:00Z',
      'product m5.large missing ',
      'problem product SKU3 (Compute Instance) has no instanceType',
      'terms on-demand@0.096',
      'terms reserved-1yr-no-upfront-standard@0.06',
    ]);
  });

  it('refuses a format it does not know, and a file that is not an offer', async () => {
    await expect(read(JSON.stringify({ ...offer, formatVersion: 'v2.0' }))).rejects.toThrow(
      'us-east-1/index.json: formatVersion "v2.0" is not one this reader knows (v1.0)',
    );
    await expect(read(JSON.stringify({ hello: 'world' }))).rejects.toThrow(/no formatVersion: not an offer file/);
    await expect(read('[1, 2]')).rejects.toThrow(PriceDataError);
  });

  it('fails a file cut short or malformed, naming the character where it went wrong', async () => {
    const text = JSON.stringify(offer);
    const cut = text.slice(0, text.indexOf('"Reserved"') + 20);
    await expect(read(cut)).rejects.toThrow(/us-east-1\/index\.json: .*ends.* at byte \d+/);
    const broken = text.replace('"SKU2":', '"SKU2" ');
    await expect(read(broken)).rejects.toThrow(new RegExp(`expected ':' at byte ${text.indexOf('"SKU2":') + 7}`));
  });
});

describe('an offer file as the price list serves it', () => {
  it('reads every instance product and rate of a generated file, the rates exact', async () => {
    const spec = {
      region: 'eu-west-1',
      version: '20261201000000',
      instanceTypes: ['m5.large', 'p3.2xlarge'],
      prices: { 'm5.large': '0.1070000000' },
    };
    const products: InstanceProduct[] = [];
    const rates: TermRate[] = [];
    for await (const batch of readOfferFile(offerFileChunks(spec), 'eu-west-1/index.json')) {
      for (const item of batch) {
        if (item.kind === 'product') products.push(item.product);
        if (item.kind === 'terms') rates.push(...item.rates);
        expect(item.kind).not.toBe('problem');
      }
    }
    expect(products).toHaveLength(108);
    expect(rates).toHaveLength(108 + 2 * 12 * 12);
    const skuOf = (type: string, os: string, tenancy: string) =>
      products.find(
        (p) =>
          p.instanceType === type &&
          p.operatingSystem === os &&
          p.tenancy === tenancy &&
          p.capacityStatus === 'Used' &&
          p.preInstalledSoftware === 'NA',
      )?.sku;
    for (const [type, os, tenancy] of [
      ['m5.large', 'Linux', 'Shared'],
      ['p3.2xlarge', 'Windows', 'Dedicated'],
    ] as const) {
      const sku = skuOf(type, os, tenancy);
      const mine = rates.filter((r) => r.sku === sku);
      expect(mine).toHaveLength(13);
      for (const rate of mine)
        expect([rate.term, rate.hourly.toString()]).toEqual([
          rate.term,
          expectedRate(spec, { instanceType: type, os, tenancy }, rate.term),
        ]);
    }
    expect(rates.find((r) => r.sku === skuOf('m5.large', 'Linux', 'Shared') && r.term === 'on-demand')?.hourly.toString()).toBe('0.107');
    expect(products.find((p) => p.instanceType === 'p3.2xlarge')).toMatchObject({ vcpu: 8, gpu: 1 });
  });
});
