import { describe, expect, it } from 'vitest';
import { readProduct, readTerms } from '../src/domain/ec2-offer.ts';

const product = (attributes: Record<string, string>, productFamily = 'Compute Instance') => ({
  sku: 'SKU1',
  productFamily,
  attributes,
});

const c4Large = {
  instanceType: 'c4.large',
  instanceFamily: 'Compute optimized',
  vcpu: '2',
  memory: '3.75 GiB',
  storage: 'EBS only',
  networkPerformance: 'Moderate',
  tenancy: 'Shared',
  operatingSystem: 'Linux',
  licenseModel: 'No License required',
  preInstalledSw: 'NA',
  capacitystatus: 'Used',
};

const dimension = (unit: string, usd: string, beginRange?: string) => ({
  unit,
  pricePerUnit: { USD: usd },
  ...(beginRange === undefined ? {} : { beginRange }),
});

describe('an EC2 offer file, one value at a time', () => {
  it('reads an instance product with exact memory, counting what is missing', () => {
    const read = readProduct('SKU1', product(c4Large));
    expect(read).toMatchObject({ kind: 'instance', missing: [] });
    if (read.kind !== 'instance') throw new Error('not an instance');
    expect(read.product).toMatchObject({ instanceType: 'c4.large', vcpu: 2, gpu: 0, operatingSystem: 'Linux', preInstalledSoftware: 'NA' });
    expect(read.product.memoryGiB?.toString()).toBe('3.75');

    const big = readProduct(
      'SKU2',
      product({ ...c4Large, instanceType: 'u-24tb1.metal', memory: '24,576 GiB', gpu: '8' }, 'Compute Instance (bare metal)'),
    );
    expect(big.kind === 'instance' && [big.product.memoryGiB?.toString(), big.product.gpu]).toEqual(['24576', 8]);

    const { vcpu: _, memory: __, ...partial } = c4Large;
    expect(readProduct('SKU3', product({ ...partial, memory: 'NA' }))).toMatchObject({ kind: 'instance', missing: ['vcpu', 'memory'] });
  });

  it('leaves other families out and names a product it cannot read', () => {
    expect(readProduct('S', product({ volumeType: 'gp3' }, 'Storage'))).toEqual({ kind: 'other' });
    expect(readProduct('S', 'oops')).toEqual({ kind: 'malformed', problem: 'product S is not an object' });
    expect(readProduct('S', product({ vcpu: '2' }))).toEqual({
      kind: 'malformed',
      problem: 'product S (Compute Instance) has no instanceType',
    });
  });

  it('reads the on-demand hourly rate exactly', () => {
    const { rates, problems } = readTerms('OnDemand', 'SKU1', {
      'SKU1.JRTCKXETXF': { priceDimensions: { 'SKU1.JRTCKXETXF.6YS6EN2CT7': dimension('Hrs', '0.1000000000', '0') } },
    });
    expect(problems).toEqual([]);
    expect(rates.map((r) => [r.term, r.hourly.toString(), r.currency])).toEqual([['on-demand', '0.1', 'USD']]);
  });

  it('spreads a reservation’s upfront fee over its hours, rounded to 10 decimals', () => {
    const reserved = (length: string, option: string, offeringClass: string, ...dims: object[]) => ({
      termAttributes: { LeaseContractLength: length, PurchaseOption: option, OfferingClass: offeringClass },
      priceDimensions: Object.fromEntries(dims.map((d, i) => [`d${i}`, d])),
    });
    const { rates, problems } = readTerms('Reserved', 'SKU1', {
      a: reserved('1yr', 'Partial Upfront', 'standard', dimension('Hrs', '0.0300000000'), dimension('Quantity', '263')),
      b: reserved('3yr', 'All Upfront', 'convertible', dimension('Quantity', '710'), dimension('Hrs', '0.0000000000')),
      c: reserved('1yr', 'No Upfront', 'standard', dimension('Hrs', '0.0630000000')),
      d: reserved('2yr', 'No Upfront', 'standard', dimension('Hrs', '0.05')),
      e: reserved('1yr', 'No Upfront', 'standard', dimension('Hrs', 'free')),
    });
    expect(rates.map((r) => [r.term, r.hourly.toString(), r.upfront.toString()])).toEqual([
      // 0.03 + 263 / 8760
      ['reserved-1yr-partial-upfront-standard', '0.0600228311', '263'],
      // 710 / 26280 = 0.027016742770…
      ['reserved-3yr-all-upfront-convertible', '0.0270167428', '710'],
      ['reserved-1yr-no-upfront-standard', '0.063', '0'],
    ]);
    expect(problems).toEqual([
      'terms.Reserved.SKU1.d: LeaseContractLength "2yr" is neither 1yr nor 3yr',
      'terms.Reserved.SKU1.e: price "free" is not a decimal',
    ]);
  });
});
