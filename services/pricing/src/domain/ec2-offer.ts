// The pieces of an AWS EC2 offer file the catalogue is made of, read one value at a time as
// the stream hands them over (see adapters): a product (`products.<sku>`) says what an
// instance is; its terms (`terms.OnDemand.<sku>`, `terms.Reserved.<sku>`) say what it costs.
// Both are pure functions of one value, so the file is never held: products are written to a
// staging table as they come, terms beside them, and the two are joined by sku in SQL.
import { Decimal, DecimalError } from '@tickflow/runtime';

/** Product families that are instances one can run; the rest of the file (storage, data transfer, IPs…) is not catalogued. */
const INSTANCE_FAMILIES = new Set(['Compute Instance', 'Compute Instance (bare metal)']);

/** Attributes every catalogued instance should have; one missing is counted and reported, not fatal. */
export const REQUIRED_ATTRIBUTES = ['instanceType', 'operatingSystem', 'tenancy', 'vcpu', 'memory'] as const;

export interface InstanceProduct {
  sku: string;
  instanceType: string;
  instanceFamily: string | null;
  operatingSystem: string;
  tenancy: string;
  licenseModel: string;
  preInstalledSoftware: string;
  capacityStatus: string;
  vcpu: number | null;
  memoryGiB: Decimal | null;
  gpu: number;
  storage: string | null;
  network: string | null;
}

export type ProductReading =
  | { kind: 'instance'; product: InstanceProduct; missing: string[] }
  /** Another family (storage, data transfer…): not an instance. */
  | { kind: 'other' }
  /** Not a product the file format allows: named in the sync's report. */
  | { kind: 'malformed'; problem: string };

/** What a value at `products.<sku>` is for the catalogue. */
export function readProduct(sku: string, value: unknown): ProductReading {
  if (!isObject(value)) return { kind: 'malformed', problem: `product ${sku} is not an object` };
  if (!INSTANCE_FAMILIES.has(String(value.productFamily))) return { kind: 'other' };
  const attributes = isObject(value.attributes) ? value.attributes : {};
  const text = (name: string): string | null => {
    const v = attributes[name];
    return typeof v === 'string' && v !== '' && v !== 'NA' ? v : null;
  };
  const missing = REQUIRED_ATTRIBUTES.filter((name) => text(name) === null);
  const instanceType = text('instanceType');
  if (instanceType === null) return { kind: 'malformed', problem: `product ${sku} (${String(value.productFamily)}) has no instanceType` };
  return {
    kind: 'instance',
    missing,
    product: {
      sku,
      instanceType,
      instanceFamily: text('instanceFamily'),
      operatingSystem: text('operatingSystem') ?? 'unknown',
      tenancy: text('tenancy') ?? 'unknown',
      licenseModel: text('licenseModel') ?? 'unknown',
      preInstalledSoftware: text('preInstalledSw') ?? 'NA',
      // Files before 2018 have no capacitystatus: every row was a running instance.
      capacityStatus: text('capacitystatus') ?? 'Used',
      vcpu: count(text('vcpu')),
      memoryGiB: gibibytes(text('memory')),
      gpu: count(text('gpu')) ?? 0,
      storage: text('storage'),
      network: text('networkPerformance'),
    },
  };
}

export type TermKind = 'OnDemand' | 'Reserved';

/** One way to pay for an instance, as an hourly rate: on-demand, or a reservation with its upfront fee spread over its hours. */
export interface TermRate {
  sku: string;
  /** `on-demand`, or `reserved-<1yr|3yr>-<no|partial|all>-upfront-<standard|convertible>`. */
  term: string;
  currency: string;
  /** What an hour costs, the upfront fee included: exact to 10 decimals, as AWS prices are. */
  hourly: Decimal;
  upfront: Decimal;
  leaseYears: number | null;
  purchaseOption: string | null;
  offeringClass: string | null;
  /** Since when the price holds, ISO 8601; null when the source does not say. */
  effectiveStart: string | null;
}

/** Decimals of an effective hourly rate: the precision of AWS's own prices. */
const RATE_SCALE = 10;
const HOURS_PER_YEAR = 8760n;

/** The rates of the terms at `terms.<kind>.<sku>`; a term that is not understood is named in `problems`, the others kept. */
export function readTerms(kind: TermKind, sku: string, value: unknown): { rates: TermRate[]; problems: string[] } {
  const rates: TermRate[] = [];
  const problems: string[] = [];
  if (!isObject(value)) return { rates, problems: [`terms.${kind}.${sku} is not an object`] };
  for (const [code, offer] of Object.entries(value)) {
    try {
      const rate = kind === 'OnDemand' ? onDemandRate(sku, offer) : reservedRate(sku, offer);
      if (rate !== null) rates.push(rate);
    } catch (error) {
      problems.push(`terms.${kind}.${sku}.${code}: ${(error as Error).message}`);
    }
  }
  return { rates, problems };
}

function onDemandRate(sku: string, offer: unknown): TermRate | null {
  const dimensions = priceDimensions(offer);
  // Tiered on-demand prices (beginRange > 0) do not exist for instances; the first tier is the rate.
  const hourly = dimensions.find((d) => d.unit === 'Hrs' && (d.beginRange === '0' || d.beginRange === undefined));
  if (hourly === undefined) return null;
  return {
    sku,
    term: 'on-demand',
    currency: hourly.currency,
    hourly: hourly.price,
    upfront: Decimal.ZERO,
    leaseYears: null,
    purchaseOption: null,
    offeringClass: null,
    effectiveStart: effectiveDateOf(offer),
  };
}

function reservedRate(sku: string, offer: unknown): TermRate | null {
  const attributes = isObject(offer) && isObject(offer.termAttributes) ? offer.termAttributes : {};
  const length = attributes.LeaseContractLength;
  const option = attributes.PurchaseOption;
  const offeringClass = typeof attributes.OfferingClass === 'string' ? attributes.OfferingClass : 'standard';
  const years = length === '1yr' ? 1 : length === '3yr' ? 3 : null;
  if (years === null) throw new Error(`LeaseContractLength ${JSON.stringify(length)} is neither 1yr nor 3yr`);
  if (typeof option !== 'string' || !/^(No|Partial|All) Upfront$/.test(option)) {
    throw new Error(`PurchaseOption ${JSON.stringify(option)} is not No, Partial or All Upfront`);
  }
  const dimensions = priceDimensions(offer);
  const hourly = dimensions.find((d) => d.unit === 'Hrs');
  const fee = dimensions.find((d) => d.unit === 'Quantity');
  if (hourly === undefined && fee === undefined) return null;
  const currency = (hourly ?? fee)?.currency ?? 'USD';
  const upfront = fee?.price ?? Decimal.ZERO;
  const perHour = hourly?.price ?? Decimal.ZERO;
  const hours = Decimal.parse(HOURS_PER_YEAR * BigInt(years));
  return {
    sku,
    term: `reserved-${length}-${option.split(' ')[0]?.toLowerCase()}-upfront-${offeringClass}`,
    currency,
    hourly: perHour.add(upfront.dividedBy(hours, RATE_SCALE)),
    upfront,
    leaseYears: years,
    purchaseOption: option,
    offeringClass,
    effectiveStart: effectiveDateOf(offer),
  };
}

/** A term's `effectiveDate`, as an ISO time; null when missing or not a time. */
function effectiveDateOf(offer: unknown): string | null {
  const text = isObject(offer) ? offer.effectiveDate : undefined;
  return isoTime(text);
}

export function isoTime(text: unknown): string | null {
  const time = typeof text === 'string' ? Date.parse(text) : Number.NaN;
  return Number.isNaN(time) ? null : new Date(time).toISOString();
}

interface PriceDimension {
  unit: string;
  beginRange: string | undefined;
  currency: string;
  price: Decimal;
}

function priceDimensions(offer: unknown): PriceDimension[] {
  if (!isObject(offer) || !isObject(offer.priceDimensions)) throw new Error('no priceDimensions');
  return Object.values(offer.priceDimensions).map((dimension) => {
    if (!isObject(dimension) || !isObject(dimension.pricePerUnit)) throw new Error('a price dimension has no pricePerUnit');
    const prices = Object.entries(dimension.pricePerUnit);
    // USD where there is one; the China regions price in CNY only.
    const [currency, text] = prices.find(([c]) => c === 'USD') ?? prices[0] ?? [];
    if (currency === undefined) throw new Error('a price dimension has no price');
    let price: Decimal;
    try {
      price = Decimal.parse(String(text));
    } catch (error) {
      if (error instanceof DecimalError) throw new Error(`price ${JSON.stringify(text)} is not a decimal`);
      throw error;
    }
    return {
      unit: String(dimension.unit),
      beginRange: typeof dimension.beginRange === 'string' ? dimension.beginRange : undefined,
      currency,
      price,
    };
  });
}

function count(text: string | null): number | null {
  if (text === null) return null;
  const n = Number(text.replace(/,/g, ''));
  return Number.isInteger(n) && n >= 0 ? n : null;
}

/** `3.75 GiB`, `1,952 GiB` → GiB, exact. */
function gibibytes(text: string | null): Decimal | null {
  const match = text === null ? null : /^([\d,]+(?:\.\d+)?) GiB$/.exec(text);
  if (match === null) return null;
  return Decimal.parse((match[1] as string).replace(/,/g, ''));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
