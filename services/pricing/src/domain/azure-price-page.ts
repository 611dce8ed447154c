// A page of the Azure Retail Prices API (`{BillingCurrency, Items[], NextPageLink, Count}`,
// a thousand items at most) read as catalogue rows. Read with the stream reader, as the AWS
// offer files are, for its one reason here: prices are JSON numbers, and JSON.parse would make
// them binary floats; the reader keeps each number's text, so `0.0804` stays 0.0804.
import { type JsonPath, JsonStreamError, streamJsonBatches } from '@tickflow/runtime';
import { readAzureItem } from './azure-retail-price.ts';
import type { InstanceProduct, TermRate } from './ec2-offer.ts';
import { PriceDataError } from './offer-file.ts';

export interface AzurePricePage {
  products: InstanceProduct[];
  rates: TermRate[];
  problems: string[];
  /** Items on the page, catalogued or not. */
  items: number;
  /** The next page's URL as Azure gives it (absolute); null on the last page. */
  nextPageLink: string | null;
}

const wanted = (path: JsonPath) =>
  (path.length === 2 && path[0] === 'Items') || (path.length === 1 && (path[0] === 'NextPageLink' || path[0] === 'Count'));

/** Fails with a PriceDataError naming the character where the page is malformed or ends too soon, or what it lacks. */
export async function readAzurePricePage(
  chunks: AsyncIterable<Uint8Array | string>,
  source: string,
  region: string,
): Promise<AzurePricePage> {
  const page: AzurePricePage = { products: [], rates: [], problems: [], items: 0, nextPageLink: null };
  const seen = new Set<string>();
  let counted = false;
  try {
    for await (const batch of streamJsonBatches(chunks, { select: wanted, root: 'object', source, maxValueChars: 1024 * 1024 })) {
      for (const { path, value } of batch) {
        if (path[0] === 'Count') {
          counted = true;
          continue;
        }
        if (path[0] === 'NextPageLink') {
          // An empty link has ended the paging too (Azure sent "" for a while in 2023).
          if (value === null || value === '') page.nextPageLink = null;
          else if (typeof value === 'string' && /^https?:\/\//.test(value) && URL.canParse(value)) page.nextPageLink = value;
          else throw new PriceDataError(`${source}: NextPageLink ${JSON.stringify(value)} is not an http(s) URL`);
          continue;
        }
        page.items += 1;
        const read = readAzureItem(region, value);
        if (read.kind === 'malformed') page.problems.push(read.problem);
        if (read.kind !== 'rows') continue;
        if (!seen.has(read.product.sku)) {
          seen.add(read.product.sku);
          page.products.push(read.product);
        }
        page.rates.push(...read.rates);
      }
    }
  } catch (error) {
    if (error instanceof JsonStreamError) throw new PriceDataError(error.message, { cause: error });
    throw error;
  }
  // Every page says how many items it holds; an error body, or another JSON, does not.
  if (!counted && page.items === 0) throw new PriceDataError(`${source}: not a Retail Prices page (no Items, no Count)`);
  return page;
}
