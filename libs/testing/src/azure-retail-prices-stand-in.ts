// A local Azure Retail Prices API (`GET /api/retail/prices`, public, no credentials), on the
// stand-in kit. As the real one: an OData `$filter` (`eq` comparisons joined by `and`, and
// `contains(field, 'text')`; values case-sensitive, as from api-version 2023-01-01-preview),
// pages of at most 1,000 items (`pageSize` makes them smaller) linked by an absolute
// `NextPageLink` with `$skip`, null on the last page, `Count` the items on the page, prices as
// JSON numbers, savings plans only with 2023-01-01-preview, and a 400
// `{"Error":{"Code":"BadRequest",…}}` for a filter it does not take. Each region's virtual
// machine prices are generated from its sizes (every kind of item the real API lists for a
// size); faults (5xx, 429, timeouts, a cut mid-body) come from the kit.
import { Decimal } from '@tickflow/runtime';
import { type HttpStandIn, type StandInReply, type StandInRequest, startHttpStandIn } from './http-stand-in.ts';

/** An item as the API sends it; prices are decimal strings here, written as JSON numbers. */
export interface AzureRetailItem {
  currencyCode: string;
  tierMinimumUnits: string;
  reservationTerm?: string;
  retailPrice: string;
  unitPrice: string;
  armRegionName: string;
  location: string;
  effectiveStartDate: string;
  meterId: string;
  meterName: string;
  productId: string;
  skuId: string;
  productName: string;
  skuName: string;
  serviceName: string;
  serviceId: string;
  serviceFamily: string;
  unitOfMeasure: string;
  type: 'Consumption' | 'DevTestConsumption' | 'Reservation';
  isPrimaryMeterRegion: boolean;
  armSkuName: string;
  savingsPlan?: { unitPrice: string; retailPrice: string; term: string }[];
}

export interface AzureRegionPrices {
  /** VM sizes listed (default DEFAULT_AZURE_SIZES), or how many to generate. */
  sizes?: readonly string[] | number;
  /** Every generated price times this (default 1): publish another factor for a price change. */
  priceFactor?: string;
  /** Items listed as well, as given (after the generated ones). */
  extraItems?: readonly AzureRetailItem[];
}

export interface AzureRetailPricesStandInOptions {
  regions: Readonly<Record<string, AzureRegionPrices>>;
  /** Items per page: 1,000 as Azure, fewer for tests of paging. */
  pageSize?: number;
  port?: number;
}

export const AZURE_PRICES_ROUTE = 'GET /api/retail/prices' as const;

export interface AzureRetailPricesStandIn {
  /** The base URL, as `PRICING_AZURE_BASE_URL` takes it. */
  readonly url: string;
  readonly http: HttpStandIn<typeof AZURE_PRICES_ROUTE>;
  /** Replaces a region's prices (or adds the region). */
  publish(region: string, prices: AzureRegionPrices): void;
  /** Every item a region lists. */
  items(region: string): AzureRetailItem[];
  /** The `$skip` of each page request so far, in order (0 for a first page). */
  skips(): number[];
  close(): Promise<void>;
}

export const DEFAULT_AZURE_SIZES = ['Standard_B1ls', 'Standard_D2s_v3', 'Standard_D4s_v3', 'Standard_E2s_v5', 'Standard_F4s_v2'];

const API_VERSIONS = new Set(['2021-10-01-preview', '2023-01-01-preview']);
const WITH_SAVINGS_PLANS = '2023-01-01-preview';
/** Filterable fields, by their lower-cased name (Azure takes field names in any case). */
const FIELDS: Record<string, (item: AzureRetailItem) => string | undefined> = {
  armregionname: (i) => i.armRegionName,
  location: (i) => i.location,
  meterid: (i) => i.meterId,
  metername: (i) => i.meterName,
  productid: (i) => i.productId,
  skuid: (i) => i.skuId,
  productname: (i) => i.productName,
  skuname: (i) => i.skuName,
  servicename: (i) => i.serviceName,
  serviceid: (i) => i.serviceId,
  servicefamily: (i) => i.serviceFamily,
  pricetype: (i) => i.type,
  armskuname: (i) => i.armSkuName,
  reservationterm: (i) => i.reservationTerm,
};
const LOCATIONS: Record<string, string> = { eastus: 'US East', westus2: 'US West 2', westeurope: 'EU West', northeurope: 'EU North' };

export async function startAzureRetailPricesStandIn(options: AzureRetailPricesStandInOptions): Promise<AzureRetailPricesStandIn> {
  const pageSize = options.pageSize ?? 1000;
  if (!(Number.isInteger(pageSize) && pageSize >= 1 && pageSize <= 1000)) throw new Error(`pageSize must be 1 to 1000, got ${pageSize}`);
  const listed = new Map<string, AzureRetailItem[]>();
  const skips: number[] = [];
  const publish = (region: string, prices: AzureRegionPrices) => listed.set(region, azureRetailItems(region, prices));
  for (const [region, prices] of Object.entries(options.regions)) publish(region, prices);

  function prices(request: StandInRequest): StandInReply {
    const apiVersion = request.query['api-version'];
    if (apiVersion !== undefined && !API_VERSIONS.has(apiVersion)) return badRequest(`Unsupported API version ${apiVersion}`);
    const skip = Number(request.query.$skip ?? '0');
    if (!(Number.isInteger(skip) && skip >= 0)) return badRequest('Invalid OData parameters supplied');
    const filter = request.query.$filter;
    const matches = filter === undefined ? () => true : compileFilter(filter);
    if (matches === null) return badRequest('Invalid OData parameters supplied');
    skips.push(skip);
    const all = [...listed.values()].flat().filter(matches);
    const page = all.slice(skip, skip + pageSize);
    const next = new URL('/api/retail/prices', http.url);
    if (apiVersion !== undefined) next.searchParams.set('api-version', apiVersion);
    if (filter !== undefined) next.searchParams.set('$filter', filter);
    next.searchParams.set('$skip', String(skip + pageSize));
    const items = apiVersion === WITH_SAVINGS_PLANS ? page : page.map(({ savingsPlan: _, ...item }) => item);
    const body = {
      BillingCurrency: 'USD',
      CustomerEntityId: 'Default',
      CustomerEntityType: 'Retail',
      Items: items,
      NextPageLink: skip + pageSize < all.length ? next.toString() : null,
      Count: page.length,
    };
    // Prices as JSON numbers with the digits given, as Azure writes them (JSON.stringify would write strings).
    const text = JSON.stringify(body).replace(/"(retailPrice|unitPrice|tierMinimumUnits)":"(-?\d+(?:\.\d+)?)"/g, '"$1":$2');
    return { headers: { 'content-type': 'application/json; charset=utf-8' }, body: text };
  }

  const http = await startHttpStandIn({ routes: { [AZURE_PRICES_ROUTE]: prices }, port: options.port });
  return {
    url: http.url,
    http,
    publish,
    items: (region) => [...(listed.get(region) ?? [])],
    skips: () => [...skips],
    close: () => http.close(),
  };
}

function badRequest(message: string): StandInReply {
  return { status: 400, body: { Error: { Code: 'BadRequest', Message: message } } };
}

/** `a eq 'x' and contains(b, 'y')`; null for anything else (Azure answers 400). */
function compileFilter(filter: string): ((item: AzureRetailItem) => boolean) | null {
  const tests: ((item: AzureRetailItem) => boolean)[] = [];
  for (const clause of filter.split(/\s+and\s+/i)) {
    const eq = /^\s*(\w+)\s+eq\s+'((?:[^']|'')*)'\s*$/i.exec(clause);
    const contains = /^\s*contains\(\s*(\w+)\s*,\s*'((?:[^']|'')*)'\s*\)\s*$/i.exec(clause);
    const [, name = '', quoted = ''] = eq ?? contains ?? [];
    const field = FIELDS[name.toLowerCase()];
    if (field === undefined) return null;
    const value = quoted.replaceAll("''", "'");
    tests.push(eq ? (item) => field(item) === value : (item) => field(item)?.includes(value) === true);
  }
  return (item) => tests.every((test) => test(item));
}

/**
 * A region's virtual machine prices: per size, Linux and Windows pay-as-you-go (Linux with its
 * savings plans), Spot and Low Priority, Dev/Test, and 1- and 3-year reservations (priced for
 * the whole term, under the Linux product); then a Cloud Services role and a Dedicated Host,
 * which share the names of sizes but are not VMs one runs.
 */
export function azureRetailItems(region: string, prices: AzureRegionPrices = {}): AzureRetailItem[] {
  const sizes = typeof prices.sizes === 'number' ? generatedSizes(prices.sizes) : (prices.sizes ?? DEFAULT_AZURE_SIZES);
  const factor = Decimal.parse(prices.priceFactor ?? '1');
  // Rounded as a price list is, to `scale` decimals.
  const price = (value: Decimal, scale: number) => value.mul(factor).dividedBy(Decimal.parse('1'), scale).toString();
  const items: AzureRetailItem[] = [];
  sizes.forEach((size, n) => {
    const { series, meter, vcpus } = describeSize(size);
    const linux = Decimal.parse('0.048').mul(Decimal.parse(vcpus));
    const windows = linux.add(Decimal.parse('0.046').mul(Decimal.parse(vcpus)));
    const productId = `DZH318Z0${(n + 1000).toString(36).toUpperCase()}`;
    const item = (
      fields: Partial<AzureRetailItem> & Pick<AzureRetailItem, 'retailPrice' | 'type'>,
      suffix: string,
      windowsProduct: boolean,
    ) => {
      const skuName = `${meter}${suffix}`;
      const entry: AzureRetailItem = {
        currencyCode: 'USD',
        tierMinimumUnits: '0.0',
        unitPrice: fields.retailPrice,
        armRegionName: region,
        location: LOCATIONS[region] ?? region,
        effectiveStartDate: '2026-11-01T00:00:00Z',
        meterId: `${region}-${size}-${windowsProduct ? 'w' : 'l'}${suffix.trim().replace(/\s+/g, '-').toLowerCase()}-${fields.type}`,
        meterName: skuName,
        productId: `${productId}${windowsProduct ? 'W' : 'L'}`,
        skuId: `${productId}/${skuName.replace(/\W/g, '').slice(-4)}`,
        productName: `Virtual Machines ${series} Series${windowsProduct ? ' Windows' : ''}`,
        skuName,
        serviceName: 'Virtual Machines',
        serviceId: 'DZH313Z7MMC8',
        serviceFamily: 'Compute',
        unitOfMeasure: '1 Hour',
        isPrimaryMeterRegion: true,
        armSkuName: size,
        ...fields,
      };
      items.push(entry);
    };
    item(
      {
        type: 'Consumption',
        retailPrice: price(linux, 4),
        savingsPlan: [
          {
            unitPrice: price(linux.mul(Decimal.parse('0.44')), 6),
            retailPrice: price(linux.mul(Decimal.parse('0.44')), 6),
            term: '3 Years',
          },
          {
            unitPrice: price(linux.mul(Decimal.parse('0.67')), 6),
            retailPrice: price(linux.mul(Decimal.parse('0.67')), 6),
            term: '1 Year',
          },
        ],
      },
      '',
      false,
    );
    item({ type: 'Consumption', retailPrice: price(windows, 4) }, '', true);
    item({ type: 'Consumption', retailPrice: price(linux.mul(Decimal.parse('0.2')), 6) }, ' Spot', false);
    item({ type: 'Consumption', retailPrice: price(windows.mul(Decimal.parse('0.2')), 6) }, ' Spot', true);
    item({ type: 'Consumption', retailPrice: price(linux.mul(Decimal.parse('0.2')), 6) }, ' Low Priority', false);
    item({ type: 'DevTestConsumption', retailPrice: price(linux, 4) }, '', true);
    item({ type: 'Reservation', reservationTerm: '1 Year', retailPrice: price(linux.mul(Decimal.parse('5256')), 0) }, '', false);
    item({ type: 'Reservation', reservationTerm: '3 Years', retailPrice: price(linux.mul(Decimal.parse('10512')), 0) }, '', false);
  });
  const first = sizes[0];
  if (first !== undefined) {
    const { series, meter } = describeSize(first);
    // From the Windows pay-as-you-go item of the first size: no savings plans to drop.
    const other = (productName: string, skuName: string): AzureRetailItem => ({
      ...(items[1] as AzureRetailItem),
      meterId: `${region}-${productName}`,
      productName,
      skuName,
      meterName: skuName,
      retailPrice: '1.5',
      unitPrice: '1.5',
    });
    items.push(
      other(`Virtual Machines ${series} Series Cloud Services`, meter),
      other(`Virtual Machines ${series} Series Dedicated Host`, `${series} Type1`),
    );
  }
  return [...items, ...(prices.extraItems ?? [])];
}

/** `Standard_D4s_v3` → series `Dsv3`, meter `D4s v3`, 4 vCPUs. */
function describeSize(size: string): { series: string; meter: string; vcpus: string } {
  const [first = '', ...rest] = size.replace(/^(Standard|Basic)_/, '').split('_');
  const vcpus = /\d+/.exec(first)?.[0] ?? '1';
  const version = rest.join(' ');
  return {
    series: `${first.replace(/\d+(-\d+)?/g, '')}${rest.find((r) => /^v\d+$/.test(r)) ?? ''}`,
    meter: version === '' ? first : `${first} ${version}`,
    vcpus: vcpus === '0' ? '1' : vcpus,
  };
}

function generatedSizes(count: number): string[] {
  const families = ['D', 'E', 'F', 'L', 'M'];
  return Array.from({ length: count }, (_, n) => {
    const family = families[n % families.length] as string;
    const vcpus = 2 ** ((Math.floor(n / families.length) % 7) + 1);
    const version = Math.floor(n / (families.length * 7)) + 2;
    return `Standard_${family}${vcpus}s_v${version}`;
  });
}
