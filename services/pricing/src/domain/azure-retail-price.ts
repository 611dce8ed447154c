// An item of the Azure Retail Prices API (`Items[]`, one price of one meter) as catalogue rows.
// Azure has no products beside its prices: each item names the VM size (`armSkuName`) and is
// one way to pay for it, so the product is made from the item (size and operating system) and
// the term from its type: on-demand, Spot and Low Priority consumption, Dev/Test, a reservation
// (whose price is for the whole term, spread here over its hours) and the savings plans an
// on-demand item lists. Pure: one item in, rows out.
import { Decimal, DecimalError } from '@tickflow/runtime';
import { type InstanceProduct, isoTime, type TermRate } from './ec2-offer.ts';

export type AzureItemReading =
  | { kind: 'rows'; product: InstanceProduct; rates: TermRate[] }
  /** Not a virtual machine price one can run (a meter of another service, a non-hourly unit): left out. */
  | { kind: 'other' }
  /** Not an item the API's format allows: named in the sync's report. */
  | { kind: 'malformed'; problem: string };

/** Decimals of an effective hourly rate, as for AWS. */
const RATE_SCALE = 10;
const HOURS_PER_YEAR = 8760n;

/** `1 Year`, `3 Years`, `5 Years`… → years; anything else → undefined. */
function yearsOf(term: unknown): number | undefined {
  const match = typeof term === 'string' ? /^(\d+) Years?$/.exec(term) : null;
  const years = match ? Number(match[1]) : 0;
  return years > 0 ? years : undefined;
}

/** What the item at `Items[i]` is for the catalogue of `region`. */
export function readAzureItem(region: string, value: unknown): AzureItemReading {
  if (!isObject(value)) return { kind: 'malformed', problem: 'an item is not an object' };
  const text = (name: string): string | null => (typeof value[name] === 'string' && value[name] !== '' ? (value[name] as string) : null);
  const meter = text('meterId') ?? text('skuId') ?? '(no meterId)';
  const productName = text('productName') ?? '';
  // Classic Cloud Services roles and Dedicated Hosts share the sizes' names but are not VMs one runs.
  if (text('serviceName') !== 'Virtual Machines' || / Cloud Services$|Dedicated Host/.test(productName)) return { kind: 'other' };
  const size = text('armSkuName');
  if (size === null) return { kind: 'malformed', problem: `item ${meter} (${text('skuName') ?? 'no skuName'}) has no armSkuName` };
  if (text('armRegionName') !== region) {
    return { kind: 'malformed', problem: `item ${meter} is for region ${text('armRegionName') ?? '(none)'}, not ${region}` };
  }
  const hoursPerUnit = hoursOf(text('unitOfMeasure'));
  if (hoursPerUnit === null) return { kind: 'other' };
  const currency = text('currencyCode') ?? 'USD';
  let price: Decimal;
  try {
    price = decimal(value.retailPrice, 'retailPrice');
  } catch (error) {
    return { kind: 'malformed', problem: `item ${meter}: ${(error as Error).message}` };
  }

  const skuName = text('skuName') ?? '';
  // Reservations cover the compute only and are listed under the size's Linux product.
  const operatingSystem = / Windows$/.test(productName) ? 'Windows' : 'Linux';
  const product: InstanceProduct = {
    sku: `${size}/${operatingSystem}`,
    instanceType: size,
    instanceFamily: familyOfAzureSize(size),
    operatingSystem,
    tenancy: 'Shared',
    licenseModel: operatingSystem === 'Windows' ? 'License Included' : 'No License required',
    preInstalledSoftware: 'NA',
    capacityStatus: 'Used',
    // The Retail Prices API says nothing of cores, memory or disks.
    vcpu: null,
    memoryGiB: null,
    gpu: 0,
    storage: null,
    network: null,
  };
  const rate = (term: string, hourly: Decimal, extra: Partial<TermRate> = {}): TermRate => ({
    sku: product.sku,
    term,
    currency,
    hourly,
    upfront: Decimal.ZERO,
    leaseYears: null,
    purchaseOption: null,
    offeringClass: null,
    effectiveStart: isoTime(value.effectiveStartDate),
    ...extra,
  });
  const perHour = (p: Decimal) => (hoursPerUnit === 1 ? p : p.dividedBy(Decimal.parse(hoursPerUnit), RATE_SCALE));

  switch (text('type')) {
    case 'Reservation': {
      const years = yearsOf(value.reservationTerm);
      if (years === undefined) {
        return {
          kind: 'malformed',
          problem: `item ${meter}: reservationTerm ${JSON.stringify(value.reservationTerm)} is not a number of years`,
        };
      }
      // The price of the whole term, although unitOfMeasure says an hour: paid upfront or monthly, the same total.
      const hourly = price.dividedBy(Decimal.parse(HOURS_PER_YEAR * BigInt(years)), RATE_SCALE);
      return { kind: 'rows', product, rates: [rate(`reserved-${years}yr`, hourly, { upfront: price, leaseYears: years })] };
    }
    case 'Consumption':
    case 'DevTestConsumption': {
      const devTest = text('type') === 'DevTestConsumption';
      const evictable = / Spot$/.test(skuName) ? 'spot' : / Low Priority$/.test(skuName) ? 'low-priority' : null;
      if (devTest || evictable !== null) {
        const term = [devTest ? 'dev-test' : null, evictable].filter((part) => part !== null).join('-');
        return { kind: 'rows', product, rates: [rate(term, perHour(price))] };
      }
      const rates = [rate('on-demand', perHour(price))];
      const problems: string[] = [];
      for (const plan of Array.isArray(value.savingsPlan) ? value.savingsPlan : []) {
        // Savings plans price by the hour, unlike reservations.
        const years = isObject(plan) ? yearsOf(plan.term) : undefined;
        try {
          if (years === undefined)
            throw new Error(`savingsPlan term ${JSON.stringify(isObject(plan) ? plan.term : plan)} is not a number of years`);
          const hourly = perHour(decimal((plan as Record<string, unknown>).retailPrice, 'savingsPlan retailPrice'));
          rates.push(rate(`savings-plan-${years}yr`, hourly, { leaseYears: years }));
        } catch (error) {
          problems.push(`item ${meter}: ${(error as Error).message}`);
        }
      }
      if (problems.length > 0) return { kind: 'malformed', problem: problems.join('; ') };
      return { kind: 'rows', product, rates };
    }
    default:
      return {
        kind: 'malformed',
        problem: `item ${meter}: type ${JSON.stringify(value.type)} is not Consumption, DevTestConsumption or Reservation`,
      };
  }
}

/**
 * The family of an Azure VM size as its name spells it, lower-cased: family letters and
 * features with the vCPU count left out, then the version. `Standard_D2s_v3` → `dsv3`,
 * `Standard_E4-2ds_v4` → `edsv4`, `Standard_NC24ads_A100_v4` → `ncadsv4`, `Standard_B1ls` → `bls`.
 */
export function familyOfAzureSize(size: string): string {
  const [first = '', ...rest] = size.replace(/^(Standard|Basic)_/, '').split('_');
  const letters = first.replace(/\d+(-\d+)?/g, '');
  const version = rest.find((part) => /^v\d+$/.test(part)) ?? '';
  return `${letters}${version}`.toLowerCase();
}

/** `1 Hour` → 1, `100 Hours` → 100; anything else is not a rate per hour. */
function hoursOf(unit: string | null): number | null {
  const match = unit === null ? null : /^(\d+) Hours?$/.exec(unit);
  const hours = match ? Number(match[1]) : 0;
  return hours > 0 ? hours : null;
}

/** A price as the stream gives it: the number's source text, kept exact. */
function decimal(value: unknown, field: string): Decimal {
  try {
    if (typeof value !== 'string' && typeof value !== 'number') throw new DecimalError('not a number');
    const parsed = Decimal.parse(value);
    if (parsed.sign() < 0) throw new DecimalError('negative');
    return parsed;
  } catch (error) {
    if (error instanceof DecimalError) throw new Error(`${field} ${JSON.stringify(value)} is not a non-negative decimal`);
    throw error;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
