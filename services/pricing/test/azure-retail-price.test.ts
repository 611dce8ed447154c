import { azureRetailItems } from '@tickflow/testing';
import { describe, expect, it } from 'vitest';
import { readAzurePricePage } from '../src/domain/azure-price-page.ts';
import { familyOfAzureSize, readAzureItem } from '../src/domain/azure-retail-price.ts';
import { PriceDataError } from '../src/domain/offer-file.ts';

// The shape of an item of the Retail Prices API (api-version 2023-01-01-preview), for one size.
const payAsYouGo = {
  currencyCode: 'USD',
  tierMinimumUnits: '0.0',
  retailPrice: '0.0804',
  unitPrice: '0.0804',
  armRegionName: 'eastus',
  location: 'US East',
  effectiveStartDate: '2025-11-01T00:00:00Z',
  meterId: 'meter-1',
  meterName: 'D2als v7',
  productId: 'DZH318Z0TBH5',
  skuId: 'DZH318Z0TBH5/003D',
  productName: 'Virtual Machines Dalsv7 Series',
  skuName: 'D2als v7',
  serviceName: 'Virtual Machines',
  serviceId: 'DZH313Z7MMC8',
  serviceFamily: 'Compute',
  unitOfMeasure: '1 Hour',
  type: 'Consumption',
  isPrimaryMeterRegion: true,
  armSkuName: 'Standard_D2als_v7',
  savingsPlan: [
    { unitPrice: '0.035376', retailPrice: '0.035376', term: '3 Years' },
    { unitPrice: '0.053868', retailPrice: '0.053868', term: '1 Year' },
  ],
};

const rowsOf = (item: unknown) => {
  const read = readAzureItem('eastus', item);
  if (read.kind !== 'rows') throw new Error(`not rows: ${JSON.stringify(read)}`);
  return { product: read.product, rates: read.rates.map((r) => `${r.term} ${r.hourly} upfront ${r.upfront}`) };
};

async function* chunksOf(text: string, size = 17): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

describe('an Azure Retail Prices item, as catalogue rows', () => {
  it('reads pay-as-you-go with its savings plans, exactly, under the size and operating system', () => {
    const { product, rates } = rowsOf(payAsYouGo);
    expect(product).toMatchObject({
      sku: 'Standard_D2als_v7/Linux',
      instanceType: 'Standard_D2als_v7',
      instanceFamily: 'dalsv7',
      operatingSystem: 'Linux',
      tenancy: 'Shared',
      capacityStatus: 'Used',
      preInstalledSoftware: 'NA',
      vcpu: null,
    });
    expect(rates).toEqual(['on-demand 0.0804 upfront 0', 'savings-plan-3yr 0.035376 upfront 0', 'savings-plan-1yr 0.053868 upfront 0']);
    const [rate] =
      readAzureItem('eastus', payAsYouGo).kind === 'rows'
        ? (readAzureItem('eastus', payAsYouGo) as { rates: { effectiveStart: string | null }[] }).rates
        : [];
    expect(rate?.effectiveStart).toBe('2025-11-01T00:00:00.000Z');
  });

  it('spreads a reservation, priced for its whole term, over the term’s hours', () => {
    const { product, rates } = rowsOf({
      ...payAsYouGo,
      type: 'Reservation',
      reservationTerm: '1 Year',
      retailPrice: '416.0',
      savingsPlan: undefined,
    });
    expect(product.sku).toBe('Standard_D2als_v7/Linux');
    // 416 / 8760, half to even at 10 decimals.
    expect(rates).toEqual(['reserved-1yr 0.0474885845 upfront 416']);
    expect(rowsOf({ ...payAsYouGo, type: 'Reservation', reservationTerm: '5 Years', retailPrice: '1752' }).rates).toEqual([
      'reserved-5yr 0.04 upfront 1752',
    ]);
  });

  it('tells Windows, Spot, Low Priority and Dev/Test apart by product and sku names', () => {
    const windowsSpot = rowsOf({
      ...payAsYouGo,
      productName: 'Virtual Machines Dalsv7 Series Windows',
      skuName: 'D2als v7 Spot',
      savingsPlan: undefined,
    });
    expect(windowsSpot.product).toMatchObject({
      sku: 'Standard_D2als_v7/Windows',
      operatingSystem: 'Windows',
      licenseModel: 'License Included',
    });
    expect(windowsSpot.rates).toEqual(['spot 0.0804 upfront 0']);
    expect(rowsOf({ ...payAsYouGo, skuName: 'D2als v7 Low Priority', savingsPlan: undefined }).rates).toEqual([
      'low-priority 0.0804 upfront 0',
    ]);
    // As in Microsoft's own sample: a Spot meter priced as Dev/Test.
    expect(rowsOf({ ...payAsYouGo, type: 'DevTestConsumption', skuName: 'F16s Spot' }).rates).toEqual(['dev-test-spot 0.0804 upfront 0']);
    expect(rowsOf({ ...payAsYouGo, type: 'DevTestConsumption' }).rates).toEqual(['dev-test 0.0804 upfront 0']);
    expect(rowsOf({ ...payAsYouGo, unitOfMeasure: '100 Hours', retailPrice: '8.04', savingsPlan: [] }).rates).toEqual([
      'on-demand 0.0804 upfront 0',
    ]);
  });

  it('leaves out what is not a VM one runs, and names what is malformed', () => {
    expect(readAzureItem('eastus', { ...payAsYouGo, productName: 'Virtual Machines Dalsv7 Series Cloud Services' })).toEqual({
      kind: 'other',
    });
    expect(readAzureItem('eastus', { ...payAsYouGo, productName: 'Virtual Machines Dalsv7 Series Dedicated Host' })).toEqual({
      kind: 'other',
    });
    expect(readAzureItem('eastus', { ...payAsYouGo, serviceName: 'Storage' })).toEqual({ kind: 'other' });
    expect(readAzureItem('eastus', { ...payAsYouGo, unitOfMeasure: '1 GB/Month' })).toEqual({ kind: 'other' });
    const problem = (item: unknown) => {
      const read = readAzureItem('eastus', item);
      return read.kind === 'malformed' ? read.problem : read.kind;
    };
    expect(problem({ ...payAsYouGo, armSkuName: '' })).toBe('item meter-1 (D2als v7) has no armSkuName');
    expect(problem({ ...payAsYouGo, armRegionName: 'westeurope' })).toBe('item meter-1 is for region westeurope, not eastus');
    expect(problem({ ...payAsYouGo, retailPrice: '-1' })).toBe('item meter-1: retailPrice "-1" is not a non-negative decimal');
    expect(problem({ ...payAsYouGo, retailPrice: 'free' })).toBe('item meter-1: retailPrice "free" is not a non-negative decimal');
    expect(problem({ ...payAsYouGo, type: 'Reservation', reservationTerm: 'forever' })).toBe(
      'item meter-1: reservationTerm "forever" is not a number of years',
    );
    expect(problem({ ...payAsYouGo, type: 'SavingsPlan' })).toBe(
      'item meter-1: type "SavingsPlan" is not Consumption, DevTestConsumption or Reservation',
    );
    expect(problem([1])).toBe('an item is not an object');
  });

  it('names a size’s family as Azure spells it, without its vCPU count', () => {
    expect(
      ['Standard_D2s_v3', 'Standard_E4-2ds_v4', 'Standard_NC24ads_A100_v4', 'Standard_B1ls', 'Basic_A1'].map(familyOfAzureSize),
    ).toEqual(['dsv3', 'edsv4', 'ncadsv4', 'bls', 'a']);
  });
});

describe('a page of the Retail Prices API', () => {
  const page = (items: unknown[], next: string | null | '' = null) =>
    `{"BillingCurrency":"USD","CustomerEntityId":"Default","CustomerEntityType":"Retail","Items":${JSON.stringify(items)},"NextPageLink":${JSON.stringify(next)},"Count":${items.length}}`;

  it('keeps every digit of a price written as a JSON number, which JSON.parse would round', async () => {
    const text = page([{ ...payAsYouGo, savingsPlan: [] }]).replace('"retailPrice":"0.0804"', '"retailPrice":1234.56789012345678901');
    expect(JSON.parse(text).Items[0].retailPrice).toBe(1234.567890123457);
    const read = await readAzurePricePage(chunksOf(text), 'page 1', 'eastus');
    expect(read.rates.map((r) => r.hourly.toString())).toEqual(['1234.56789012345678901']);
    expect(read).toMatchObject({ items: 1, nextPageLink: null, problems: [] });
  });

  it('reads every kind of item the stand-in lists for a size, and the next page’s link', async () => {
    const items = azureRetailItems('eastus', { sizes: ['Standard_D2s_v3'] });
    const read = await readAzurePricePage(chunksOf(page(items, 'https://prices.example/api/retail/prices?$skip=10')), 'page 1', 'eastus');
    expect(read.items).toBe(items.length);
    expect(read.products.map((p) => p.sku)).toEqual(['Standard_D2s_v3/Linux', 'Standard_D2s_v3/Windows']);
    expect(read.rates.map((r) => `${r.sku} ${r.term}`).sort()).toEqual(
      [
        'Standard_D2s_v3/Linux on-demand',
        'Standard_D2s_v3/Linux savings-plan-1yr',
        'Standard_D2s_v3/Linux savings-plan-3yr',
        'Standard_D2s_v3/Windows on-demand',
        'Standard_D2s_v3/Linux spot',
        'Standard_D2s_v3/Windows spot',
        'Standard_D2s_v3/Linux low-priority',
        'Standard_D2s_v3/Windows dev-test',
        'Standard_D2s_v3/Linux reserved-1yr',
        'Standard_D2s_v3/Linux reserved-3yr',
      ].sort(),
    );
    expect(read.nextPageLink).toBe('https://prices.example/api/retail/prices?$skip=10');
    expect((await readAzurePricePage(chunksOf(page([], '')), 'last', 'eastus')).nextPageLink).toBeNull();
  });

  it('fails a page cut short, or one that is not a price page, naming it', async () => {
    const text = page([payAsYouGo]);
    await expect(readAzurePricePage(chunksOf(text.slice(0, 300)), 'page 3', 'eastus')).rejects.toThrow(PriceDataError);
    await expect(readAzurePricePage(chunksOf(text.slice(0, 300)), 'page 3', 'eastus')).rejects.toThrow(/page 3.*byte/);
    await expect(
      readAzurePricePage(chunksOf('{"Error":{"Code":"BadRequest","Message":"Invalid OData parameters supplied"}}'), 'page 1', 'eastus'),
    ).rejects.toThrow('page 1: not a Retail Prices page (no Items, no Count)');
    await expect(readAzurePricePage(chunksOf(page([], null).replace('null', '42')), 'page 2', 'eastus')).rejects.toThrow(
      'page 2: NextPageLink "42" is not an http(s) URL',
    );
  });
});
