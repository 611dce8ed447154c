// A region's Azure prices staged page by page. Each page's rows and the link to the next page
// are written in one transaction (CatalogueRepository.stagePage), so whatever stops the sync —
// a 503 on page N, a crash, a redelivery — the next attempt of the same version resumes at
// page N, with pages 1..N-1 staged already, instead of reading the region again from page 1.
import { FatalError } from '@tickflow/messaging';
import type { AzureRetailPrices } from './adapters/azure-retail-prices.ts';
import type { CatalogueRepository, PagedStaging, RegionState, SyncFindings } from './adapters/catalogue-repository.ts';
import { readAzurePricePage } from './domain/azure-price-page.ts';
import { PriceDataError } from './domain/offer-file.ts';

/** Problems kept word for word, as for offer files; the rest are counted. */
const KEPT_PROBLEMS = 50;

export interface AzureStagingOptions {
  region: string;
  /** The version this sync makes: the tick's time, the same on every attempt of the sync. */
  version: string;
  firstPage: string;
  signal?: AbortSignal;
  onRows?(kind: 'product' | 'rate', count: number): void;
  onResume?(staging: PagedStaging): void;
}

export async function stageAzureRegion(
  prices: AzureRetailPrices,
  repository: CatalogueRepository,
  state: RegionState | null,
  options: AzureStagingOptions,
): Promise<Omit<SyncFindings, 'durationMs'>> {
  const { region, version } = options;
  const target = { cloud: 'azure', region, version };
  let staging: PagedStaging;
  if (state?.staging?.version === version) {
    staging = state.staging;
    options.onResume?.(staging);
  } else {
    await repository.beginStaging(target, { version, firstPage: options.firstPage });
    staging = { version, nextPage: options.firstPage, pages: 0, items: 0, problems: [], problemCount: 0, bytes: 0 };
  }
  while (staging.nextPage !== null) {
    const url = staging.nextPage;
    const text = await prices.page(url, options.signal);
    const page = await readAzurePricePage(
      (async function* () {
        yield text;
      })(),
      url,
      region,
    );
    if (page.nextPageLink === url) throw new PriceDataError(`${url}: the page names itself as the next page`);
    const moved = await repository.stagePage(target, { ...page, bytes: Buffer.byteLength(text) }, page.nextPageLink, KEPT_PROBLEMS);
    if (moved === null)
      throw new FatalError(`azure/${region}: a newer sync of the region began staging while ${version} was on page ${staging.pages + 1}`);
    options.onRows?.('product', page.products.length);
    options.onRows?.('rate', page.rates.length);
    staging = moved;
  }
  // An empty answer is a region Azure does not know (names are case-sensitive: `eastus`), not a catalogue to empty.
  if (staging.items === 0)
    throw new PriceDataError(`azure/${region}: Azure Retail Prices lists no virtual machine prices for region '${region}'`);
  return {
    publicationDate: null,
    etag: null,
    problems: staging.problems,
    problemCount: staging.problemCount,
    missingAttributes: {},
    bytes: staging.bytes,
  };
}
