// An offer file staged into the catalogue as it streams: products and rates are gathered into
// batches and written with one set-based statement each, two statements in flight at most, so
// PostgreSQL writes one batch while the next is parsed and memory stays a few batches deep
// whatever the file's size. What the file gets wrong is counted, not fatal.
import type { CatalogueRepository, SyncFindings } from './adapters/catalogue-repository.ts';
import type { InstanceProduct, TermRate } from './domain/ec2-offer.ts';
import { type OfferHeader, type OfferItem, PriceDataError } from './domain/offer-file.ts';

/** Problems kept word for word; the rest are counted. */
const KEPT_PROBLEMS = 50;
const IN_FLIGHT = 2;

export interface StagedOffer {
  version: string;
  header: OfferHeader;
  findings: Omit<SyncFindings, 'etag' | 'bytes' | 'durationMs'>;
}

export interface StagingOptions {
  cloud: string;
  region: string;
  /** The version the region index named, used until (or unless) the file's header says. */
  expectedVersion: string | null;
  batchRows: number;
  onRows?(kind: 'product' | 'rate', count: number): void;
}

export async function stageOffer(
  items: AsyncIterable<OfferItem[]>,
  repository: CatalogueRepository,
  options: StagingOptions,
): Promise<StagedOffer> {
  const { cloud, region, batchRows } = options;
  const header: OfferHeader = {};
  let version: string | null = null;
  let products: InstanceProduct[] = [];
  let rates: TermRate[] = [];
  const problems: string[] = [];
  let problemCount = 0;
  const missingAttributes: Record<string, number> = {};
  const inFlight: Promise<void>[] = [];

  // The version rows are staged under: the header's, which AWS writes before the products.
  const stagingVersion = async (): Promise<string> => {
    if (version !== null) return version;
    version = header.version ?? options.expectedVersion;
    if (version === null) throw new PriceDataError(`${region}: the offer file names no version before its products`);
    await repository.beginStaging({ cloud, region });
    return version;
  };
  const write = async (kind: 'product' | 'rate') => {
    const target = { cloud, region, version: await stagingVersion() };
    const batch = kind === 'product' ? products : rates;
    if (kind === 'product') products = [];
    else rates = [];
    if (inFlight.length >= IN_FLIGHT) await inFlight.shift();
    const writing =
      kind === 'product'
        ? repository.stageProducts(target, batch as InstanceProduct[])
        : repository.stageTerms(target, batch as TermRate[]);
    // Awaited in turn below; a failure is also seen at once by the next write's await.
    writing.catch(() => undefined);
    inFlight.push(writing.then(() => options.onRows?.(kind, batch.length)));
  };

  try {
    for await (const batch of items) {
      for (const item of batch) {
        switch (item.kind) {
          case 'header':
            header[item.field] = item.value;
            break;
          case 'product':
            products.push(item.product);
            for (const name of item.missing) missingAttributes[name] = (missingAttributes[name] ?? 0) + 1;
            if (products.length >= batchRows) await write('product');
            break;
          case 'terms':
            rates.push(...item.rates);
            if (rates.length >= batchRows) await write('rate');
            break;
          case 'problem':
            problemCount += 1;
            if (problems.length < KEPT_PROBLEMS) problems.push(item.problem);
            break;
        }
      }
    }
    if (products.length > 0) await write('product');
    if (rates.length > 0) await write('rate');
    while (inFlight.length > 0) await inFlight.shift();
  } finally {
    // Nothing written after a failure is left running against the pool.
    await Promise.allSettled(inFlight);
  }
  const staged = await stagingVersion();
  if (header.version !== undefined && header.version !== staged) {
    throw new PriceDataError(`${region}: the offer file says version ${header.version} after its products were staged as ${staged}`);
  }
  return {
    version: staged,
    header,
    findings: { publicationDate: header.publicationDate ?? null, problems, problemCount, missingAttributes },
  };
}
