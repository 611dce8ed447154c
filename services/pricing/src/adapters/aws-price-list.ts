// The public AWS price list (Bulk API) over HTTP, no credentials: the service index names EC2's
// region index, which names each region's current offer file. Offer files are opened as a
// stream of bytes, never read whole, with a conditional GET (If-None-Match) so an unchanged
// file costs a 304. Failures are classified as the price list means them: 5xx, 429, timeouts,
// network errors and a body cut short pass (retried on the tiers); 4xx do not.
import { FatalError, inSpan, RetryableError } from '@tickflow/runtime';

export class PriceListUnavailableError extends RetryableError {
  override name = 'PriceListUnavailableError';
}

export class PriceListRefusedError extends FatalError {
  override name = 'PriceListRefusedError';
}

export interface RegionOffer {
  region: string;
  /** The offer version in the file's URL (`…/AmazonEC2/<version>/<region>/index.json`); null if the URL does not say. */
  version: string | null;
  /** As the region index gives it: a path on the base URL. */
  url: string;
}

export type OpenedOffer =
  | { status: 'not-modified' }
  | {
      status: 'ok';
      etag: string | null;
      /** The file's bytes as they arrive; throws PriceListUnavailableError when the connection drops or stalls. */
      chunks: AsyncIterable<Uint8Array>;
      /** Bytes of the body received so far. */
      bytesRead(): number;
    };

export interface AwsPriceListOptions {
  baseUrl: string;
  /** Longest wait for an answer, and then for each next piece of a file. */
  timeoutMs: number;
  /** Told of every request: for the latency and status metrics. */
  onCall?(call: { route: 'index' | 'region-index' | 'offer'; status: number | 'error'; seconds: number }): void;
  /** Told of each piece of a file received: for the bytes-read metric. */
  onBytes?(bytes: number): void;
}

const SERVICE_INDEX = '/offers/v1.0/aws/index.json';
const VERSION_IN_URL = /\/AmazonEC2\/([^/]+)\/[^/]+\/index\.json$/;

export class AwsPriceList {
  private readonly baseUrl: string;

  constructor(private readonly options: AwsPriceListOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  /** Every region EC2's current region index lists, with its offer file. */
  async regionIndex(signal?: AbortSignal): Promise<RegionOffer[]> {
    const index = await this.json<{ offers?: Record<string, { currentRegionIndexUrl?: unknown }> }>('index', SERVICE_INDEX, signal);
    const regionIndexUrl = index.offers?.AmazonEC2?.currentRegionIndexUrl;
    if (typeof regionIndexUrl !== 'string')
      throw new PriceListRefusedError(`${SERVICE_INDEX} names no offers.AmazonEC2.currentRegionIndexUrl`);
    const regionIndex = await this.json<{ regions?: Record<string, { regionCode?: unknown; currentVersionUrl?: unknown }> }>(
      'region-index',
      regionIndexUrl,
      signal,
    );
    if (typeof regionIndex.regions !== 'object' || regionIndex.regions === null) {
      throw new PriceListRefusedError(`${regionIndexUrl} has no regions`);
    }
    return Object.entries(regionIndex.regions).flatMap(([code, entry]) => {
      if (typeof entry?.currentVersionUrl !== 'string') return [];
      const region = typeof entry.regionCode === 'string' ? entry.regionCode : code;
      return [{ region, version: VERSION_IN_URL.exec(entry.currentVersionUrl)?.[1] ?? null, url: entry.currentVersionUrl }];
    });
  }

  /** Opens an offer file; with the ETag of the copy held, an unchanged file answers `not-modified` without a body. */
  async openOffer(url: string, held: { etag: string | null }, signal?: AbortSignal): Promise<OpenedOffer> {
    const controller = new AbortController();
    const stop = () => controller.abort();
    signal?.addEventListener('abort', stop, { once: true });
    const response = await this.request('offer', url, controller, held.etag === null ? {} : { 'if-none-match': held.etag });
    if (response.status === 304) {
      signal?.removeEventListener('abort', stop);
      return { status: 'not-modified' };
    }
    if (!response.ok || response.body === null) {
      signal?.removeEventListener('abort', stop);
      throw failure(url, response.status, await response.text().catch(() => ''));
    }
    let received = 0;
    const { timeoutMs, onBytes } = this.options;
    const body = response.body;
    async function* chunks(): AsyncGenerator<Uint8Array> {
      const reader = body.getReader();
      try {
        while (true) {
          let timer: NodeJS.Timeout | undefined;
          const stalled = new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new PriceListUnavailableError(`${url}: no bytes for ${timeoutMs} ms after byte ${received}`)),
              timeoutMs,
            );
          });
          let read: ReadableStreamReadResult<Uint8Array>;
          try {
            read = await Promise.race([reader.read(), stalled]);
          } catch (error) {
            if (error instanceof PriceListUnavailableError) throw error;
            if (signal?.aborted) throw new PriceListUnavailableError(`${url}: the download was stopped after byte ${received}`);
            throw new PriceListUnavailableError(`${url}: the connection dropped after byte ${received} (${describe(error)})`);
          } finally {
            clearTimeout(timer);
          }
          if (read.done) return;
          received += read.value.byteLength;
          onBytes?.(read.value.byteLength);
          yield read.value;
        }
      } finally {
        signal?.removeEventListener('abort', stop);
        controller.abort();
        reader.releaseLock();
      }
    }
    return { status: 'ok', etag: response.headers.get('etag'), chunks: chunks(), bytesRead: () => received };
  }

  private async json<T>(route: 'index' | 'region-index', path: string, signal?: AbortSignal): Promise<T> {
    const controller = new AbortController();
    const stop = () => controller.abort();
    signal?.addEventListener('abort', stop, { once: true });
    try {
      const response = await this.request(route, path, controller, {});
      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        throw new PriceListUnavailableError(`${path}: the reply was cut off (${describe(error)})`);
      }
      if (!response.ok) throw failure(path, response.status, text);
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new PriceListUnavailableError(`${path} answered ${response.status} with a body that is not JSON`);
      }
    } finally {
      signal?.removeEventListener('abort', stop);
    }
  }

  private request(route: 'index' | 'region-index' | 'offer', path: string, controller: AbortController, headers: Record<string, string>) {
    const url = new URL(path, `${this.baseUrl}/`).toString();
    return inSpan(`aws-pricing GET ${route}`, { 'http.request.method': 'GET', 'url.full': url }, async () => {
      const started = performance.now();
      const timeout = setTimeout(() => controller.abort(), this.options.timeoutMs);
      try {
        const response = await fetch(url, { headers: { accept: 'application/json', ...headers }, signal: controller.signal });
        this.options.onCall?.({ route, status: response.status, seconds: (performance.now() - started) / 1000 });
        return response;
      } catch (error) {
        this.options.onCall?.({ route, status: 'error', seconds: (performance.now() - started) / 1000 });
        if (controller.signal.aborted) throw new PriceListUnavailableError(`${path} did not answer within ${this.options.timeoutMs} ms`);
        throw new PriceListUnavailableError(`${path} unreachable: ${describe(error)}`);
      } finally {
        clearTimeout(timeout);
      }
    });
  }
}

function failure(path: string, status: number, text: string): Error {
  const said = text.replace(/\s+/g, ' ').slice(0, 200);
  const message = `${path} answered ${status}${said ? `: ${said}` : ''}`;
  return status === 429 || status >= 500 ? new PriceListUnavailableError(message) : new PriceListRefusedError(message);
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
