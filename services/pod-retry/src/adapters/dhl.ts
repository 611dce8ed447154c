// DHL's Shipment Tracking – Unified API: `GET /track/shipments?trackingNumber=` with the
// `DHL-API-Key` header; a delivered shipment's `details.proofOfDelivery.documentUrl` is the
// POD, fetched with the same key. Errors are problem+json (`{title, status, detail}`): 404 "No
// shipment with given tracking number found" and 400 are the number's fault (persistent), 401
// and 403 the key's (persistent, the key never quoted), 429 and 5xx pass.
import { fetchFailure } from '../domain/fetch-outcome.ts';
import { type CarrierAnswer, type CarrierClient, carrierCall, commonFailure, jsonOf, malformed, quote } from './carrier-client.ts';

export interface DhlOptions {
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  now?: () => Date;
}

interface DhlShipments {
  shipments?: {
    status?: { statusCode?: string };
    details?: { proofOfDelivery?: { documentUrl?: string } };
  }[];
}

export class DhlClient implements CarrierClient {
  readonly carrier = 'dhl';

  constructor(private readonly options: DhlOptions) {}

  async fetchPod(trackingNumber: string, signal?: AbortSignal): Promise<CarrierAnswer> {
    const { baseUrl, apiKey, timeoutMs } = this.options;
    const headers = { 'DHL-API-Key': apiKey, accept: 'application/json' };
    const url = `${baseUrl.replace(/\/+$/, '')}/track/shipments?trackingNumber=${encodeURIComponent(trackingNumber)}`;
    const reply = await carrierCall(url, { headers, timeoutMs, signal });
    if ('code' in reply) return { kind: 'failure', failure: reply };
    const now = this.options.now?.() ?? new Date();
    const common = commonFailure(reply, now);
    if (common) return { kind: 'failure', failure: common };
    const body = jsonOf(reply);
    const detail = (body as { detail?: unknown } | undefined)?.detail;
    const said = typeof detail === 'string' ? detail : quote(reply.body);
    if (reply.status === 404) return { kind: 'failure', failure: fetchFailure('unknown-shipment', said) };
    if (reply.status === 400) return { kind: 'failure', failure: fetchFailure('invalid-tracking-number', said) };
    if (reply.status === 401 || reply.status === 403) {
      return { kind: 'failure', failure: fetchFailure('bad-credentials', `DHL refused the API key (${reply.status}): ${said}`) };
    }
    if (reply.status !== 200 || body === undefined) return { kind: 'failure', failure: malformed(reply, 'not a DHL tracking reply') };
    const shipment = (body as DhlShipments).shipments?.[0];
    if (shipment === undefined) return { kind: 'failure', failure: malformed(reply, 'a DHL reply without shipments') };
    const documentUrl = shipment.details?.proofOfDelivery?.documentUrl;
    if (documentUrl === undefined) {
      // Returned to sender or lost: DHL will not deliver it, so there will be no POD.
      if (shipment.status?.statusCode === 'failure')
        return { kind: 'failure', failure: fetchFailure('no-pod', 'DHL reports the delivery failed') };
      return {
        kind: 'failure',
        failure: fetchFailure('not-yet-available', `no proof of delivery yet (status ${shipment.status?.statusCode ?? 'unknown'})`),
      };
    }
    const document = await carrierCall(new URL(documentUrl, baseUrl).toString(), { headers: { 'DHL-API-Key': apiKey }, timeoutMs, signal });
    if ('code' in document) return { kind: 'failure', failure: document };
    const documentFailure = commonFailure(document, now);
    if (documentFailure) return { kind: 'failure', failure: documentFailure };
    if (document.status !== 200 || document.body.length === 0) return { kind: 'failure', failure: malformed(document, 'the POD document') };
    return { kind: 'pod', document: { content: document.body, contentType: document.headers.get('content-type') ?? 'application/pdf' } };
  }
}
