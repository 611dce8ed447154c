// The AWS Price List Query API (`GetProducts`, the seed's `--boto3` mode) through the real
// @aws-sdk/client-pricing, credentials from the standard AWS chain (AWS_ACCESS_KEY_ID…, a
// profile, a role). A region's EC2 instances are the pages of one filtered query, 100 products
// a page, each page naming the next by an opaque `NextToken`; each product arrives as a JSON
// document with its own terms, so no join is needed. Throttling, AWS's 5xx and network errors
// pass (retried on the tiers, from the page that failed); a token AWS no longer takes restarts
// the region from page 1; refusals (credentials, parameters) do not pass.
import {
  ExpiredNextTokenException,
  GetAttributeValuesCommand,
  GetProductsCommand,
  InvalidNextTokenException,
  PricingClient,
  PricingServiceException,
} from '@aws-sdk/client-pricing';
import { inSpan } from '@tickflow/runtime';
import { readProduct, readTerms } from '../domain/ec2-offer.ts';
import type { ExpiredCursor, PageSource, PriceRowsPage } from '../paged-staging.ts';
import { PriceListRefusedError, PriceListUnavailableError } from './aws-price-list.ts';

export interface AwsPricingApiOptions {
  /** The API's endpoint when not AWS's own (`https://api.pricing.<region>.amazonaws.com`), e.g. a stand-in. */
  endpoint: string | undefined;
  /** Where the API is called: us-east-1, eu-central-1 or ap-south-1. */
  apiRegion: string;
  timeoutMs: number;
  onCall?(call: { route: 'query-api'; status: number | 'error'; seconds: number }): void;
  /** Told of the bytes of each page's products: for the bytes-read metric. */
  onBytes?(bytes: number): void;
}

/** The token of a page AWS no longer takes: the region is read again from its first page. */
export class PageCursorExpiredError extends PriceListUnavailableError implements ExpiredCursor {
  override name = 'PageCursorExpiredError';
  readonly cursorExpired = true;
}

const FIRST_PAGE = '';
const PAGE_SIZE = 100;
const INSTANCE_FAMILIES = 'Compute Instance,Compute Instance (bare metal)';

export class AwsPricingApi implements PageSource {
  readonly name = 'the AWS Price List Query API';
  private readonly client: PricingClient;

  constructor(private readonly options: AwsPricingApiOptions) {
    this.client = new PricingClient({
      region: options.apiRegion,
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      requestHandler: { requestTimeout: options.timeoutMs, connectionTimeout: options.timeoutMs },
    });
  }

  firstPage(): string {
    return FIRST_PAGE;
  }

  /** Every region code EC2's prices name. */
  async regionCodes(signal?: AbortSignal): Promise<string[]> {
    const codes: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.call('GetAttributeValues', () =>
        this.client.send(
          new GetAttributeValuesCommand({ ServiceCode: 'AmazonEC2', AttributeName: 'regionCode', NextToken: token, MaxResults: 100 }),
          { abortSignal: signal },
        ),
      );
      for (const value of page.AttributeValues ?? []) if (value.Value) codes.push(value.Value);
      token = page.NextToken;
    } while (token);
    return codes;
  }

  async read(region: string, cursor: string, signal?: AbortSignal): Promise<PriceRowsPage> {
    const page = await this.call('GetProducts', () =>
      this.client.send(
        new GetProductsCommand({
          ServiceCode: 'AmazonEC2',
          FormatVersion: 'aws_v1',
          Filters: [
            { Type: 'TERM_MATCH', Field: 'regionCode', Value: region },
            { Type: 'ANY_OF', Field: 'productFamily', Value: INSTANCE_FAMILIES },
          ],
          MaxResults: PAGE_SIZE,
          NextToken: cursor === FIRST_PAGE ? undefined : cursor,
        }),
        { abortSignal: signal },
      ),
    );
    const rows: PriceRowsPage = { products: [], rates: [], problems: [], items: 0, bytes: 0, next: page.NextToken || null };
    for (const entry of page.PriceList ?? []) {
      const text = String(entry);
      rows.items += 1;
      rows.bytes += Buffer.byteLength(text);
      let document: { product?: { sku?: unknown }; terms?: Record<string, unknown> };
      try {
        document = JSON.parse(text);
      } catch {
        rows.problems.push(`a GetProducts entry is not JSON: ${text.slice(0, 80)}`);
        continue;
      }
      const sku = String(document.product?.sku ?? '');
      const read = readProduct(sku, document.product);
      if (read.kind === 'malformed') rows.problems.push(read.problem);
      if (read.kind !== 'instance') continue;
      rows.products.push(read.product);
      // Keyed `<sku>.<offerTermCode>` at once: what the offer file holds under `terms.<kind>.<sku>`.
      for (const kind of ['OnDemand', 'Reserved'] as const) {
        const terms = document.terms?.[kind];
        if (terms === undefined) continue;
        const { rates, problems } = readTerms(kind, sku, terms);
        rows.rates.push(...rates);
        rows.problems.push(...problems);
      }
    }
    this.options.onBytes?.(rows.bytes);
    return rows;
  }

  private async call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    return inSpan(
      `aws-pricing ${operation}`,
      { 'rpc.system': 'aws-api', 'rpc.service': 'AWSPriceListService', 'rpc.method': operation },
      async () => {
        const started = performance.now();
        const seconds = () => (performance.now() - started) / 1000;
        try {
          const result = await send();
          this.options.onCall?.({ route: 'query-api', status: 200, seconds: seconds() });
          return result;
        } catch (error) {
          const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
          this.options.onCall?.({ route: 'query-api', status: status ?? 'error', seconds: seconds() });
          throw classified(operation, error, status);
        }
      },
    );
  }
}

function classified(operation: string, error: unknown, status: number | undefined): Error {
  const said = `${operation}: ${(error as Error).name}: ${(error as Error).message}`;
  if (error instanceof ExpiredNextTokenException || error instanceof InvalidNextTokenException) return new PageCursorExpiredError(said);
  if (error instanceof PricingServiceException) {
    const passes = error.$retryable !== undefined || error.$fault === 'server' || status === 429 || (status ?? 0) >= 500;
    return passes ? new PriceListUnavailableError(said) : new PriceListRefusedError(said);
  }
  // No answer at all: a timeout, a connection refused or reset.
  return new PriceListUnavailableError(`${operation} did not answer: ${(error as Error).name}: ${(error as Error).message}`);
}
