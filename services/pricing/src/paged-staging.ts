// A region's prices staged page by page, for the sources that page (Azure Retail Prices, the
// AWS Price List Query API). Each page's rows and the cursor of the next page are written in
// one transaction (CatalogueRepository.stagePage), so whatever stops the sync — a 503 on page
// N, a crash, a redelivery — the next attempt of the same version resumes at page N, with
// pages 1..N-1 staged already, instead of reading the region again from page 1.
import { FatalError } from '@tickflow/messaging';
import type { CatalogueRepository, PagedStaging, RegionState, SyncFindings } from './adapters/catalogue-repository.ts';
import type { InstanceProduct, TermRate } from './domain/ec2-offer.ts';
import { PriceDataError } from './domain/offer-file.ts';

/** A page cursor the source no longer takes (an AWS NextToken expires): the region is read again from its first page. */
export interface ExpiredCursor {
  readonly cursorExpired: true;
}
const isExpiredCursor = (error: unknown) => (error as Partial<ExpiredCursor> | null)?.cursorExpired === true;

/** Problems kept word for word, as for offer files; the rest are counted. */
const KEPT_PROBLEMS = 50;

export interface PriceRowsPage {
  products: InstanceProduct[];
  rates: TermRate[];
  problems: string[];
  /** Items (prices or products) on the page, catalogued or not. */
  items: number;
  bytes: number;
  /** The next page's cursor; null on the last page. */
  next: string | null;
}

/** Where a region's pages come from. */
export interface PageSource {
  /** Named in errors: `Azure Retail Prices`. */
  name: string;
  /** The cursor of a region's first page. */
  firstPage(region: string): string;
  read(region: string, cursor: string, signal?: AbortSignal): Promise<PriceRowsPage>;
}

export interface PagedStagingOptions {
  cloud: string;
  region: string;
  /** The version this sync makes: the tick's time, the same on every attempt of the sync. */
  version: string;
  signal?: AbortSignal;
  onRows?(kind: 'product' | 'rate', count: number): void;
  onResume?(staging: PagedStaging): void;
}

export async function stagePagedRegion(
  source: PageSource,
  repository: CatalogueRepository,
  state: RegionState | null,
  options: PagedStagingOptions,
): Promise<Omit<SyncFindings, 'durationMs'>> {
  const { cloud, region, version } = options;
  const target = { cloud, region, version };
  const begin = async (): Promise<PagedStaging> => {
    const firstPage = source.firstPage(region);
    await repository.beginStaging(target, { version, firstPage });
    return { version, nextPage: firstPage, pages: 0, items: 0, problems: [], problemCount: 0, bytes: 0 };
  };
  let staging: PagedStaging;
  if (state?.staging?.version === version) {
    staging = state.staging;
    options.onResume?.(staging);
  } else {
    staging = await begin();
  }
  let restarted = false;
  while (staging.nextPage !== null) {
    const cursor = staging.nextPage;
    let page: PriceRowsPage;
    try {
      page = await source.read(region, cursor, options.signal);
    } catch (error) {
      // Once per attempt: a cursor that expires again is retried on the tiers like any failure.
      if (!isExpiredCursor(error) || restarted || staging.pages === 0) throw error;
      restarted = true;
      staging = await begin();
      continue;
    }
    if (page.next === cursor)
      throw new PriceDataError(`${cloud}/${region}: ${source.name} names page ${staging.pages + 1} as its own next page`);
    const moved = await repository.stagePage(target, page, page.next, KEPT_PROBLEMS);
    if (moved === null) {
      throw new FatalError(
        `${cloud}/${region}: a newer sync of the region began staging while ${version} was on page ${staging.pages + 1}`,
      );
    }
    options.onRows?.('product', page.products.length);
    options.onRows?.('rate', page.rates.length);
    staging = moved;
  }
  // An empty answer is a region the source does not know (Azure's names are case-sensitive: `eastus`), not a catalogue to empty.
  if (staging.items === 0)
    throw new PriceDataError(`${cloud}/${region}: ${source.name} lists no virtual machine prices for region '${region}'`);
  return {
    publicationDate: null,
    etag: null,
    problems: staging.problems,
    problemCount: staging.problemCount,
    missingAttributes: {},
    bytes: staging.bytes,
  };
}
