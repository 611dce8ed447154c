// A webhook delivery over HTTP: the URL's host resolved and every address it resolves to
// checked first (none may be loopback, private or link-local unless
// PRICING_WEBHOOK_ALLOW_PRIVATE says so), then one signed POST. 5xx, 408, 429, timeouts and
// network errors pass (retried on the tiers); other 4xx do not (the dead letters at once).
// The secret signs the body; it is never part of an error or a log line.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { FatalError, inSpan, RetryableError } from '@tickflow/runtime';
import { forbiddenAddress, signature } from '../domain/webhooks.ts';

export class WebhookUnavailableError extends RetryableError {
  override name = 'WebhookUnavailableError';
}

export class WebhookRefusedError extends FatalError {
  override name = 'WebhookRefusedError';
}

export interface WebhookSenderOptions {
  timeoutMs: number;
  allowPrivate: boolean;
  /** Told of every delivery attempt: for the deliveries metric. */
  onDelivery?(outcome: { status: number | 'error' }): void;
}

export class WebhookSender {
  constructor(private readonly options: WebhookSenderOptions) {}

  /** The reason `url` must not be reached, or null: checked at registration and again before each delivery. */
  async forbidden(url: string): Promise<string | null> {
    if (this.options.allowPrivate) return null;
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    let addresses: string[];
    try {
      addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
    } catch (error) {
      return `its host ${host} does not resolve (${(error as { code?: string }).code ?? 'lookup failed'})`;
    }
    for (const address of addresses) {
      const why = forbiddenAddress(address);
      if (why !== null) return `its host ${host} resolves to ${address}, ${why} (PRICING_WEBHOOK_ALLOW_PRIVATE=true allows it)`;
    }
    return null;
  }

  /** POSTs `body` to `url`, signed with `secret`; resolves with the status of a 2xx. */
  async deliver(url: string, secret: string, deliveryId: string, body: string, signal?: AbortSignal): Promise<{ status: number }> {
    const forbidden = await this.forbidden(url);
    if (forbidden !== null) throw new WebhookRefusedError(`webhook ${url} is not reached: ${forbidden}`);
    return inSpan('webhook POST', { 'http.request.method': 'POST', 'url.full': url }, async () => {
      const timestamp = String(Math.floor(Date.now() / 1000));
      const timeout = AbortSignal.timeout(this.options.timeoutMs);
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'tickflow-pricing',
            'x-tickflow-delivery': deliveryId,
            'x-tickflow-timestamp': timestamp,
            'x-tickflow-signature': signature(secret, timestamp, body),
          },
          body,
          redirect: 'manual',
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
        await response.arrayBuffer().catch(() => undefined);
      } catch (error) {
        this.options.onDelivery?.({ status: 'error' });
        if (timeout.aborted) throw new WebhookUnavailableError(`webhook ${url} did not answer within ${this.options.timeoutMs} ms`);
        const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
        throw new WebhookUnavailableError(`webhook ${url} unreachable: ${cause}`);
      }
      this.options.onDelivery?.({ status: response.status });
      if (response.status >= 200 && response.status < 300) return { status: response.status };
      if (response.status >= 500 || response.status === 408 || response.status === 429) {
        throw new WebhookUnavailableError(`webhook ${url} answered ${response.status}`);
      }
      throw new WebhookRefusedError(`webhook ${url} refused the delivery with ${response.status}`);
    });
  }
}
