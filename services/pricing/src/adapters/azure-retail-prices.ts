// The public Azure Retail Prices API over HTTP, no credentials: one region's virtual machine
// prices are the pages of one filtered query, each page naming the next (`NextPageLink`, an
// absolute URL with `$skip`). A page is small (1,000 items at most) and read whole; failures
// are classified as for the AWS price list: 5xx, 429, timeouts, network errors and a body cut
// short pass (retried on the tiers, from the page that failed); other 4xx do not.
import { inSpan } from '@tickflow/runtime';
import { readAzurePricePage } from '../domain/azure-price-page.ts';
import type { PageSource, PriceRowsPage } from '../paged-staging.ts';
import { PriceListRefusedError, PriceListUnavailableError } from './aws-price-list.ts';

/** The version with savings plans; its filter values are case-sensitive (`eastus`, `Virtual Machines`). */
export const AZURE_API_VERSION = '2023-01-01-preview';

export interface AzureRetailPricesOptions {
  baseUrl: string;
  /** Longest wait for a page, whole. */
  timeoutMs: number;
  onCall?(call: { route: 'azure-page'; status: number | 'error'; seconds: number }): void;
  onBytes?(bytes: number): void;
}

export class AzureRetailPrices implements PageSource {
  readonly name = 'Azure Retail Prices';
  private readonly baseUrl: string;

  constructor(private readonly options: AzureRetailPricesOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  /** The first page of a region's virtual machine prices: its URL. */
  firstPage(region: string): string {
    const url = new URL('/api/retail/prices', `${this.baseUrl}/`);
    url.searchParams.set('api-version', AZURE_API_VERSION);
    url.searchParams.set('$filter', `serviceName eq 'Virtual Machines' and armRegionName eq '${region}'`);
    return url.toString();
  }

  /** The page at `url` as catalogue rows; the next page's cursor is its URL. */
  async read(region: string, url: string, signal?: AbortSignal): Promise<PriceRowsPage> {
    const text = await this.page(url, signal);
    const page = await readAzurePricePage(
      (async function* () {
        yield text;
      })(),
      url,
      region,
    );
    return { ...page, bytes: Buffer.byteLength(text), next: page.nextPageLink };
  }

  /** One page's body, whole. */
  private async page(url: string, signal?: AbortSignal): Promise<string> {
    const controller = new AbortController();
    const stop = () => controller.abort();
    signal?.addEventListener('abort', stop, { once: true });
    const started = performance.now();
    const timeout = setTimeout(() => controller.abort(), this.options.timeoutMs);
    const call = (status: number | 'error') =>
      this.options.onCall?.({ route: 'azure-page', status, seconds: (performance.now() - started) / 1000 });
    try {
      return await inSpan('azure-retail-prices GET page', { 'http.request.method': 'GET', 'url.full': url }, async () => {
        let response: Response;
        let text: string;
        try {
          response = await fetch(url, { headers: { accept: 'application/json' }, signal: controller.signal });
          text = await response.text();
        } catch (error) {
          call('error');
          if (controller.signal.aborted) throw new PriceListUnavailableError(`${url} did not answer within ${this.options.timeoutMs} ms`);
          throw new PriceListUnavailableError(`${url} unreachable or cut off: ${describe(error)}`);
        }
        call(response.status);
        this.options.onBytes?.(Buffer.byteLength(text));
        if (response.ok) return text;
        const said = errorMessage(text);
        const message = `${url} answered ${response.status}${said ? `: ${said}` : ''}`;
        if (response.status === 429 || response.status >= 500) throw new PriceListUnavailableError(message);
        throw new PriceListRefusedError(message);
      });
    } finally {
      clearTimeout(timeout);
      signal?.removeEventListener('abort', stop);
    }
  }
}

/** Azure's `{"Error":{"Code","Message"}}`, or the start of whatever else came. */
function errorMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { Error?: { Code?: unknown; Message?: unknown } };
    if (body.Error !== undefined) return `${String(body.Error.Code)}: ${String(body.Error.Message)}`;
  } catch {
    // not JSON: said as it came
  }
  return text.replace(/\s+/g, ' ').slice(0, 200);
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
