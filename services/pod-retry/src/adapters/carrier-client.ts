// What every carrier adapter is: one call that fetches a tracking number's proof of delivery
// and answers either the document or a classified failure (fetch-outcome.ts), never a throw
// for what the carrier says. The HTTP underneath is shared: a timeout or a connection that
// fails is temporary; a reply that cannot be read is temporary too, with its first bytes in
// the message (never a crash); the statuses each carrier means are the adapter's to read.
import { type FetchFailure, fetchFailure, retryAfterOf } from '../domain/fetch-outcome.ts';

export interface PodDocument {
  content: Buffer;
  contentType: string;
}

export type CarrierAnswer = { kind: 'pod'; document: PodDocument } | { kind: 'failure'; failure: FetchFailure };

export interface CarrierClient {
  /** The carrier's name in claims: `dhl`, `colissimo`, `chronopost`. */
  readonly carrier: string;
  fetchPod(trackingNumber: string, signal?: AbortSignal): Promise<CarrierAnswer>;
}

export interface CarrierReply {
  status: number;
  headers: Headers;
  body: Buffer;
}

/** Bytes of a reply quoted in an error about it. */
const QUOTED_BYTES = 120;

/** One HTTP call with a deadline: the reply whatever its status, or the failure of not getting one. */
export async function carrierCall(
  url: string,
  init: RequestInit & { timeoutMs: number; signal?: AbortSignal },
): Promise<CarrierReply | FetchFailure> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  init.signal?.addEventListener('abort', stop, { once: true });
  const timer = setTimeout(stop, init.timeoutMs);
  try {
    const response = await fetch(url, { ...init, signal: controller.signal });
    const body = Buffer.from(await response.arrayBuffer());
    return { status: response.status, headers: response.headers, body };
  } catch (error) {
    if (controller.signal.aborted) return fetchFailure('timeout', `no answer within ${init.timeoutMs} ms`);
    const cause = (error as { cause?: { code?: string } }).cause;
    return fetchFailure('connection-failed', `the connection failed: ${cause?.code ?? (error as Error).message}`);
  } finally {
    clearTimeout(timer);
    init.signal?.removeEventListener('abort', stop);
  }
}

/** The failures every carrier means alike: 5xx and 429 (with its Retry-After). */
export function commonFailure(reply: CarrierReply, now: Date): FetchFailure | undefined {
  if (reply.status === 429) {
    return fetchFailure('rate-limited', `429 ${quote(reply.body)}`, retryAfterOf(reply.headers.get('retry-after'), now));
  }
  if (reply.status >= 500) return fetchFailure('server-error', `${reply.status} ${quote(reply.body)}`);
  return undefined;
}

/** A reply that is not what the carrier sends: temporary, quoting its first bytes. */
export function malformed(reply: CarrierReply, what: string): FetchFailure {
  return fetchFailure('malformed-reply', `${what} (status ${reply.status}): ${quote(reply.body)}`);
}

/** The first bytes of a body, on one line, for an error message. */
export function quote(body: Buffer): string {
  const text = body.subarray(0, QUOTED_BYTES).toString('utf8').replace(/\s+/g, ' ').trim();
  return body.length > QUOTED_BYTES ? `${text}…` : text;
}

/** A JSON body, or undefined when it is not JSON. */
export function jsonOf(reply: CarrierReply): unknown {
  try {
    return JSON.parse(reply.body.toString('utf8'));
  } catch {
    return undefined;
  }
}
