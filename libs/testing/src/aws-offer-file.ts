// EC2 offer files as the AWS price list serves them (`/offers/v1.0/aws/AmazonEC2/<version>/<region>/index.json`),
// generated as a stream of any size: pretty-printed as AWS prints them, with the header, the
// products (instances in every OS, tenancy and capacity status, beside non-instance products
// a catalogue skips), then the terms (on-demand for every sku; twelve reservations for running
// shared and dedicated instances). Deterministic: the same spec gives the same bytes, the same
// skus across versions, and prices a test can compute (`expectedRate`).
import { createHash } from 'node:crypto';

export interface OfferFileSpec {
  region: string;
  /** As in the price list: `20261201000000`. */
  version: string;
  /** ISO time; derived from the version unless given. */
  publicationDate?: string;
  /** `v1.0` unless given (another value is what a reader must refuse). */
  formatVersion?: string;
  /** The instance types, each in 54 product variants; a default eight unless given. */
  instanceTypes?: readonly string[];
  /** Adds generated instance types (`g<n>.xlarge`…) until the file is at least this many bytes. */
  bytes?: number;
  /** Linux on-demand hourly price (USD) per instance type; every other rate derives from it. Hash-derived unless given. */
  prices?: Readonly<Record<string, string>>;
  /** Products of these instance types leave out these attributes (a file AWS got wrong). */
  omitAttributes?: Readonly<Record<string, readonly string[]>>;
}

export const DEFAULT_INSTANCE_TYPES = ['t3.micro', 't3.large', 'm5.large', 'm5.xlarge', 'c5.large', 'c5.2xlarge', 'r5.large', 'p3.2xlarge'];

/** OS, licence model and pre-installed software of each product variant, with the on-demand price as a multiple of Linux's (numerator/100). */
const SOFTWARE = [
  { os: 'Linux', license: 'No License required', sw: 'NA', factor: 100n },
  { os: 'Windows', license: 'No License required', sw: 'NA', factor: 184n },
  { os: 'Windows', license: 'No License required', sw: 'SQL Std', factor: 412n },
  { os: 'RHEL', license: 'No License required', sw: 'NA', factor: 160n },
  { os: 'SUSE', license: 'No License required', sw: 'NA', factor: 130n },
  { os: 'Windows', license: 'Bring your own license', sw: 'NA', factor: 100n },
] as const;
const TENANCIES = [
  { tenancy: 'Shared', factor: 100n, usage: 'BoxUsage' },
  { tenancy: 'Dedicated', factor: 110n, usage: 'DedicatedUsage' },
  { tenancy: 'Host', factor: 0n, usage: 'HostBoxUsage' },
] as const;
const CAPACITY = ['Used', 'UnusedCapacityReservation', 'AllocatedCapacityReservation'] as const;

/** The reservations AWS offers per running instance: term code, length, option, class, and the share of on-demand paid hourly and upfront (of a year's worth, /1000). */
const RESERVATIONS = [
  { code: '4NA7Y494T4', length: '1yr', option: 'No Upfront', cls: 'standard', hourly: 620n, upfront: 0n },
  { code: 'HU7G6KETJZ', length: '1yr', option: 'Partial Upfront', cls: 'standard', hourly: 300n, upfront: 290n },
  { code: '6QCMYABX3D', length: '1yr', option: 'All Upfront', cls: 'standard', hourly: 0n, upfront: 580n },
  { code: 'BPH4J8HBKS', length: '3yr', option: 'No Upfront', cls: 'standard', hourly: 430n, upfront: 0n },
  { code: '38NPMPTW36', length: '3yr', option: 'Partial Upfront', cls: 'standard', hourly: 200n, upfront: 600n },
  { code: 'NQ3QZPMQV9', length: '3yr', option: 'All Upfront', cls: 'standard', hourly: 0n, upfront: 1150n },
  { code: '7NE97W5U4E', length: '1yr', option: 'No Upfront', cls: 'convertible', hourly: 710n, upfront: 0n },
  { code: 'CUZHX8X6JH', length: '1yr', option: 'Partial Upfront', cls: 'convertible', hourly: 345n, upfront: 330n },
  { code: 'VJWZNREJX2', length: '1yr', option: 'All Upfront', cls: 'convertible', hourly: 0n, upfront: 670n },
  { code: 'Z2E3P23VKM', length: '3yr', option: 'No Upfront', cls: 'convertible', hourly: 510n, upfront: 0n },
  { code: 'R5XV2EPZQZ', length: '3yr', option: 'Partial Upfront', cls: 'convertible', hourly: 245n, upfront: 700n },
  { code: 'MZU6U2429S', length: '3yr', option: 'All Upfront', cls: 'convertible', hourly: 0n, upfront: 1400n },
] as const;

const ON_DEMAND_CODE = 'JRTCKXETXF';
const HOURLY_RATE_CODE = '6YS6EN2CT7';
const UPFRONT_RATE_CODE = '2TG2D8R56U';
/** Prices are printed with 10 decimals, as AWS prints them; held here as integers of 1e-10 USD. */
const SCALE = 10_000_000_000n;

interface Variant {
  sku: string;
  instanceType: string;
  software: (typeof SOFTWARE)[number];
  tenancy: (typeof TENANCIES)[number];
  capacity: (typeof CAPACITY)[number];
}

/** The file as chunks of text (about 64 KiB each), generated as they are read. */
export async function* offerFileChunks(spec: OfferFileSpec): AsyncGenerator<string> {
  let buffer = '';
  for (const piece of offerFilePieces(spec)) {
    buffer += piece;
    if (buffer.length >= 65_536) {
      yield buffer;
      buffer = '';
    }
  }
  if (buffer !== '') yield buffer;
}

/** The instance types a spec's file holds, generated ones included (computed without generating the file). */
export function instanceTypesOf(spec: OfferFileSpec): string[] {
  const types = [...(spec.instanceTypes ?? DEFAULT_INSTANCE_TYPES)];
  const target = spec.bytes ?? 0;
  if (target > 0) {
    const perType = bytesPerInstanceType();
    for (let n = 0; types.length * perType < target; n += 1) types.push(generatedType(n));
  }
  return types;
}

/** The Linux, shared, on-demand hourly price of an instance type in a spec, as AWS prints it. */
export function linuxOnDemand(spec: OfferFileSpec, instanceType: string): string {
  return printPrice(baseUnits(spec, instanceType));
}

function* offerFilePieces(spec: OfferFileSpec): Generator<string> {
  const publicationDate = spec.publicationDate ?? publicationDateOf(spec.version);
  yield `{\n  "formatVersion" : "${spec.formatVersion ?? 'v1.0'}",\n  "disclaimer" : "This pricing list is for informational purposes only. All prices are subject to the additional terms included in the pricing pages on http://aws.amazon.com. All Free Tier prices are also subject to the terms included at https://aws.amazon.com/free/",\n  "offerCode" : "AmazonEC2",\n  "version" : "${spec.version}",\n  "publicationDate" : "${publicationDate}",\n  "products" : {\n`;
  const types = instanceTypesOf(spec);
  let first = true;
  const comma = () => {
    const c = first ? '' : ',\n';
    first = false;
    return c;
  };
  // A non-instance product first, as the real file mixes them in: the reader must skip it.
  const storageSku = skuOf(spec.region, 'ebs', 'gp3');
  yield `${comma()}    "${storageSku}" : {\n      "sku" : "${storageSku}",\n      "productFamily" : "Storage",\n      "attributes" : {\n        "servicecode" : "AmazonEC2",\n        "location" : "${locationOf(spec.region)}",\n        "volumeApiName" : "gp3",\n        "regionCode" : "${spec.region}"\n      }\n    }`;
  for (const type of types) for (const v of variantsOf(spec.region, type)) yield comma() + productText(spec, v);
  yield '\n  },\n  "terms" : {\n    "OnDemand" : {\n';
  first = true;
  for (const type of types) for (const v of variantsOf(spec.region, type)) yield comma() + onDemandText(spec, v);
  yield '\n    },\n    "Reserved" : {\n';
  first = true;
  for (const type of types) {
    for (const v of variantsOf(spec.region, type)) {
      if (reservable(v)) yield comma() + reservedText(spec, v);
    }
  }
  yield '\n    }\n  }\n}\n';
}

/**
 * The same products as the Price List Query API's `GetProducts` gives them, one document per
 * product (the storage product first): `{product, serviceCode, terms: {OnDemand, Reserved},
 * version, publicationDate}`, the terms keyed by `<sku>.<offerTermCode>` at once, one level
 * less than in the offer file. Made from the file's own pieces, so both agree.
 */
export function offerProductDocuments(spec: OfferFileSpec): Record<string, unknown>[] {
  const publicationDate = spec.publicationDate ?? publicationDateOf(spec.version);
  const entry = (text: string) => Object.values(JSON.parse(`{${text}}`) as Record<string, unknown>)[0];
  const storageSku = skuOf(spec.region, 'ebs', 'gp3');
  const documents: Record<string, unknown>[] = [
    {
      product: {
        sku: storageSku,
        productFamily: 'Storage',
        attributes: { servicecode: 'AmazonEC2', location: locationOf(spec.region), volumeApiName: 'gp3', regionCode: spec.region },
      },
      serviceCode: 'AmazonEC2',
      terms: {},
      version: spec.version,
      publicationDate,
    },
  ];
  for (const type of instanceTypesOf(spec)) {
    for (const v of variantsOf(spec.region, type)) {
      documents.push({
        product: entry(productText(spec, v)),
        serviceCode: 'AmazonEC2',
        terms: { OnDemand: entry(onDemandText(spec, v)), ...(reservable(v) ? { Reserved: entry(reservedText(spec, v)) } : {}) },
        version: spec.version,
        publicationDate,
      });
    }
  }
  return documents;
}

function variantsOf(region: string, instanceType: string): Variant[] {
  const variants: Variant[] = [];
  for (const software of SOFTWARE) {
    for (const tenancy of TENANCIES) {
      for (const capacity of CAPACITY) {
        const sku = skuOf(region, instanceType, `${software.os}/${software.license}/${software.sw}/${tenancy.tenancy}/${capacity}`);
        variants.push({ sku, instanceType, software, tenancy, capacity });
      }
    }
  }
  return variants;
}

const reservable = (v: Variant) => v.capacity === 'Used' && v.tenancy.tenancy !== 'Host';

function productText(spec: OfferFileSpec, v: Variant): string {
  const size = sizeOf(v.instanceType);
  const gpu = v.instanceType.startsWith('p') || v.instanceType.startsWith('g') ? String(Math.max(1, size.vcpu / 8)) : undefined;
  const attributes: [string, string][] = [
    ['servicecode', 'AmazonEC2'],
    ['location', locationOf(spec.region)],
    ['locationType', 'AWS Region'],
    ['instanceType', v.instanceType],
    ['currentGeneration', 'Yes'],
    ['instanceFamily', familyOf(v.instanceType)],
    ['vcpu', String(size.vcpu)],
    ['physicalProcessor', 'Intel Xeon Platinum 8175'],
    ['clockSpeed', '3.1 GHz'],
    ['memory', `${size.memory} GiB`],
    ['storage', 'EBS only'],
    ['networkPerformance', size.vcpu >= 8 ? 'Up to 10 Gigabit' : 'Moderate'],
    ['processorArchitecture', '64-bit'],
    ['tenancy', v.tenancy.tenancy],
    ['operatingSystem', v.software.os],
    ['licenseModel', v.software.license],
    ['usagetype', `${v.tenancy.usage}:${v.instanceType}`],
    ['operation', `RunInstances:${v.software.os === 'Linux' ? '0000' : '0002'}`],
    ['availabilityzone', 'NA'],
    ['capacitystatus', v.capacity],
    ['classicnetworkingsupport', 'false'],
    ['dedicatedEbsThroughput', 'Up to 2120 Mbps'],
    ['ecu', String(size.vcpu * 2)],
    ['enhancedNetworkingSupported', 'Yes'],
    ...(gpu === undefined ? [] : ([['gpu', gpu]] as [string, string][])),
    ['intelAvxAvailable', 'Yes'],
    ['intelAvx2Available', 'Yes'],
    ['intelTurboAvailable', 'Yes'],
    ['marketoption', 'OnDemand'],
    ['normalizationSizeFactor', String(size.vcpu / 2)],
    ['preInstalledSw', v.software.sw],
    ['processorFeatures', 'Intel AVX; Intel AVX2; Intel AVX512; Intel Turbo'],
    ['regionCode', spec.region],
    ['servicename', 'Amazon Elastic Compute Cloud'],
    ['vpcnetworkingsupport', 'true'],
  ];
  const omitted = new Set(spec.omitAttributes?.[v.instanceType] ?? []);
  const body = attributes
    .filter(([name]) => !omitted.has(name))
    .map(([name, value]) => `        "${name}" : "${value}"`)
    .join(',\n');
  const family = v.instanceType.endsWith('.metal') ? 'Compute Instance (bare metal)' : 'Compute Instance';
  return `    "${v.sku}" : {\n      "sku" : "${v.sku}",\n      "productFamily" : "${family}",\n      "attributes" : {\n${body}\n      }\n    }`;
}

function onDemandText(spec: OfferFileSpec, v: Variant): string {
  const code = `${v.sku}.${ON_DEMAND_CODE}`;
  const price = printPrice(onDemandUnits(spec, v));
  const description = `$${price} per On Demand ${v.software.os} ${v.instanceType} Instance Hour`;
  return `      "${v.sku}" : {\n        "${code}" : {\n          "offerTermCode" : "${ON_DEMAND_CODE}",\n          "sku" : "${v.sku}",\n          "effectiveDate" : "${effectiveDateOf(spec.version)}",\n          "priceDimensions" : {\n${dimensionText(`${code}.${HOURLY_RATE_CODE}`, description, 'Hrs', price, true)}\n          },\n          "termAttributes" : { }\n        }\n      }`;
}

function reservedText(spec: OfferFileSpec, v: Variant): string {
  const base = onDemandUnits(spec, v);
  const terms = RESERVATIONS.map((r) => {
    const code = `${v.sku}.${r.code}`;
    const { hourly, upfront } = reservationUnits(base, r);
    const dimensions = [
      dimensionText(`${code}.${HOURLY_RATE_CODE}`, `${v.software.os} ${v.instanceType} reserved hourly`, 'Hrs', printPrice(hourly), true),
    ];
    if (r.upfront > 0n)
      dimensions.push(dimensionText(`${code}.${UPFRONT_RATE_CODE}`, 'Upfront Fee', 'Quantity', printUpfront(upfront), false));
    return `        "${code}" : {\n          "offerTermCode" : "${r.code}",\n          "sku" : "${v.sku}",\n          "effectiveDate" : "${effectiveDateOf(spec.version)}",\n          "priceDimensions" : {\n${dimensions.join(',\n')}\n          },\n          "termAttributes" : {\n            "LeaseContractLength" : "${r.length}",\n            "OfferingClass" : "${r.cls}",\n            "PurchaseOption" : "${r.option}"\n          }\n        }`;
  });
  return `      "${v.sku}" : {\n${terms.join(',\n')}\n      }`;
}

function dimensionText(rateCode: string, description: string, unit: string, price: string, ranged: boolean): string {
  const range = ranged ? `              "beginRange" : "0",\n              "endRange" : "Inf",\n` : '';
  return `            "${rateCode}" : {\n              "rateCode" : "${rateCode}",\n              "description" : "${description}",\n${range}              "unit" : "${unit}",\n              "pricePerUnit" : {\n                "USD" : "${price}"\n              },\n              "appliesTo" : [ ]\n            }`;
}

/** An instance type's Linux on-demand price in 1e-10 USD: given, or derived from its name and size. */
function baseUnits(spec: OfferFileSpec, instanceType: string): bigint {
  const given = spec.prices?.[instanceType];
  if (given !== undefined) return parseUnits(given);
  const digest = createHash('sha1').update(instanceType).digest();
  // 0.0040 to 0.0140 USD per vCPU-hour, in steps of 0.0001.
  const perVcpu = 40n + BigInt(digest.readUInt16BE(0) % 101);
  return (perVcpu * BigInt(sizeOf(instanceType).vcpu) * SCALE) / 10_000n;
}

function onDemandUnits(spec: OfferFileSpec, v: Variant): bigint {
  const base = baseUnits(spec, v.instanceType);
  // A dedicated host is paid per host, not per instance: its instances cost nothing per hour.
  // Capacity reservations, unused or allocated, are billed at the on-demand rate as well.
  return (base * v.software.factor * v.tenancy.factor) / 10_000n;
}

function reservationUnits(onDemand: bigint, r: (typeof RESERVATIONS)[number]): { hourly: bigint; upfront: bigint } {
  const hourly = (onDemand * r.hourly) / 1000n;
  // A whole number of dollars, as AWS's upfront fees are.
  const dollars = (onDemand * 8760n * r.upfront) / 1000n / SCALE;
  return { hourly, upfront: dollars * SCALE };
}

/**
 * The effective hourly rate (upfront spread over the term's hours, 10 decimals, half to even)
 * the catalogue should hold for a product of the spec, as a decimal string without trailing zeros.
 */
export function expectedRate(
  spec: OfferFileSpec,
  product: { instanceType: string; os?: string; license?: string; sw?: string; tenancy?: string },
  term: string,
): string {
  const software = SOFTWARE.find(
    (s) => s.os === (product.os ?? 'Linux') && s.license === (product.license ?? 'No License required') && s.sw === (product.sw ?? 'NA'),
  );
  const tenancy = TENANCIES.find((t) => t.tenancy === (product.tenancy ?? 'Shared'));
  if (software === undefined || tenancy === undefined) throw new Error(`no such product variant: ${JSON.stringify(product)}`);
  const onDemand = onDemandUnits(spec, { sku: '', instanceType: product.instanceType, software, tenancy, capacity: 'Used' });
  if (term === 'on-demand') return trimmed(onDemand);
  const r = RESERVATIONS.find((x) => `reserved-${x.length}-${x.option.split(' ')[0]?.toLowerCase()}-upfront-${x.cls}` === term);
  if (r === undefined) throw new Error(`no such term: ${term}`);
  const { hourly, upfront } = reservationUnits(onDemand, r);
  const hours = r.length === '1yr' ? 8760n : 26280n;
  // upfront / hours in 1e-10 units, rounded half to even.
  const quotient = upfront / hours;
  const remainder = upfront % hours;
  const twice = remainder * 2n;
  const spread = twice > hours || (twice === hours && quotient % 2n === 1n) ? quotient + 1n : quotient;
  return trimmed(hourly + spread);
}

function parseUnits(price: string): bigint {
  const match = /^(\d+)(?:\.(\d{1,10}))?$/.exec(price);
  if (match === null) throw new Error(`a stand-in price is a decimal with at most 10 places, got ${price}`);
  return BigInt(match[1] as string) * SCALE + BigInt((match[2] ?? '').padEnd(10, '0'));
}

function printPrice(units: bigint): string {
  return `${units / SCALE}.${(units % SCALE).toString().padStart(10, '0')}`;
}

const printUpfront = (units: bigint) => String(units / SCALE);

function trimmed(units: bigint): string {
  const text = printPrice(units).replace(/0+$/, '');
  return text.endsWith('.') ? text.slice(0, -1) : text;
}

const SIZES: Record<string, { vcpu: number; memory: number }> = {
  micro: { vcpu: 2, memory: 1 },
  small: { vcpu: 2, memory: 2 },
  medium: { vcpu: 2, memory: 4 },
  large: { vcpu: 2, memory: 8 },
  xlarge: { vcpu: 4, memory: 16 },
  '2xlarge': { vcpu: 8, memory: 32 },
  '4xlarge': { vcpu: 16, memory: 64 },
  '8xlarge': { vcpu: 32, memory: 128 },
  metal: { vcpu: 96, memory: 384 },
};

function sizeOf(instanceType: string): { vcpu: number; memory: number } {
  const size = instanceType.split('.')[1] ?? 'large';
  return SIZES[size] ?? { vcpu: 2, memory: 8 };
}

function familyOf(instanceType: string): string {
  const letter = instanceType[0];
  if (letter === 'c') return 'Compute optimized';
  if (letter === 'r' || letter === 'x') return 'Memory optimized';
  if (letter === 'p' || letter === 'g') return 'GPU instance';
  return 'General purpose';
}

const GENERATED_SIZES = ['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge'];
function generatedType(n: number): string {
  return `z${Math.floor(n / GENERATED_SIZES.length) + 1}.${GENERATED_SIZES[n % GENERATED_SIZES.length]}`;
}

/** About what one instance type adds to a file (a region's name changes it by a few bytes): measured once. */
let cachedBytesPerType: number | undefined;
function bytesPerInstanceType(): number {
  if (cachedBytesPerType === undefined) {
    let bytes = 0;
    const spec: OfferFileSpec = { region: 'us-east-1', version: '20260101000000', instanceTypes: ['z1.xlarge'] };
    for (const piece of offerFilePieces(spec)) bytes += Buffer.byteLength(piece);
    cachedBytesPerType = bytes;
  }
  return cachedBytesPerType;
}

function skuOf(region: string, instanceType: string, variant: string): string {
  const digest = createHash('sha1').update(`${region}/${instanceType}/${variant}`).digest();
  const alphabet = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
  let sku = '';
  for (let i = 0; i < 16; i += 1) sku += alphabet[(digest[i] as number) % alphabet.length];
  return sku;
}

/** `20261201000000` → `2026-12-01T00:00:00Z`. */
export function publicationDateOf(version: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(version);
  if (m === null) return '2026-01-01T00:00:00Z';
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`;
}

function effectiveDateOf(version: string): string {
  return `${publicationDateOf(version).slice(0, 10)}T00:00:00Z`;
}

const LOCATIONS: Record<string, string> = {
  'us-east-1': 'US East (N. Virginia)',
  'us-east-2': 'US East (Ohio)',
  'us-west-2': 'US West (Oregon)',
  'eu-west-1': 'EU (Ireland)',
  'eu-central-1': 'EU (Frankfurt)',
  'ap-southeast-2': 'Asia Pacific (Sydney)',
};
const locationOf = (region: string) => LOCATIONS[region] ?? region;
