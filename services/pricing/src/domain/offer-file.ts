// An EC2 offer file as a stream of what the catalogue needs, in file order, a batch at a time:
// the header (format, version, publication date), each instance product, each sku's terms.
// Nothing else of the file is kept: products and terms are separate top-level objects, joined
// later by sku (in PostgreSQL), so neither side waits in memory for the other.
import { type JsonPath, JsonStreamError, streamJsonBatches } from '@tickflow/runtime';
import { type InstanceProduct, readProduct, readTerms, type TermKind, type TermRate } from './ec2-offer.ts';

/** The offer file formats this reader knows. */
export const KNOWN_FORMAT_VERSIONS = new Set(['v1.0']);

/** An offer file, or a page of Azure's prices, that is not what it should be: fetching it again would not help. */
export class PriceDataError extends Error {
  override name = 'PriceDataError';
}

export interface OfferHeader {
  formatVersion?: string;
  offerCode?: string;
  version?: string;
  publicationDate?: string;
}

export type OfferItem =
  | { kind: 'header'; field: keyof OfferHeader; value: string }
  | { kind: 'product'; product: InstanceProduct; missing: string[] }
  | { kind: 'terms'; rates: TermRate[] }
  | { kind: 'problem'; problem: string };

const HEADER_FIELDS = new Set(['formatVersion', 'offerCode', 'version', 'publicationDate']);

function wanted(path: JsonPath): boolean {
  if (path.length === 1) return HEADER_FIELDS.has(String(path[0]));
  if (path.length === 2) return path[0] === 'products';
  return path.length === 3 && path[0] === 'terms' && (path[1] === 'OnDemand' || path[1] === 'Reserved');
}

/**
 * The items of the offer file read from `chunks`. Fails with a PriceDataError naming the
 * character where the file is malformed or ends too soon, or an unknown format version.
 */
export async function* readOfferFile(chunks: AsyncIterable<Uint8Array | string>, source: string): AsyncGenerator<OfferItem[]> {
  const batches = streamJsonBatches(chunks, { select: wanted, root: 'object', source, maxValueChars: 16 * 1024 * 1024 });
  let formatVersion: string | undefined;
  try {
    for await (const batch of batches) {
      const items: OfferItem[] = [];
      for (const { path, value } of batch) {
        if (path.length === 1) {
          const field = path[0] as keyof OfferHeader;
          if (typeof value !== 'string') throw new PriceDataError(`${source}: ${field} is not a string`);
          if (field === 'formatVersion') {
            if (!KNOWN_FORMAT_VERSIONS.has(value)) {
              throw new PriceDataError(
                `${source}: formatVersion ${JSON.stringify(value)} is not one this reader knows (${[...KNOWN_FORMAT_VERSIONS].join(', ')})`,
              );
            }
            formatVersion = value;
          }
          items.push({ kind: 'header', field, value });
        } else if (path[0] === 'products') {
          const read = readProduct(String(path[1]), value);
          if (read.kind === 'instance') items.push({ kind: 'product', product: read.product, missing: read.missing });
          else if (read.kind === 'malformed') items.push({ kind: 'problem', problem: read.problem });
        } else {
          const { rates, problems } = readTerms(path[1] as TermKind, String(path[2]), value);
          if (rates.length > 0) items.push({ kind: 'terms', rates });
          for (const problem of problems) items.push({ kind: 'problem', problem });
        }
      }
      if (items.length > 0) yield items;
    }
  } catch (error) {
    if (error instanceof JsonStreamError) throw new PriceDataError(error.message, { cause: error });
    throw error;
  }
  if (formatVersion === undefined) throw new PriceDataError(`${source}: no formatVersion: not an offer file`);
}
