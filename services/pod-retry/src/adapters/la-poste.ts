// La Poste's Suivi v2 API (Colissimo parcels): `GET /suivi/v2/idships/{idShip}?lang=fr_FR`
// with the `X-Okapi-Key` header. The API has no POD document: a shipment is proven delivered
// by `isFinal` and a delivery event (`DI1` delivered, `DI2` delivered to a pick-up point), so
// the proof kept is that evidence as a JSON document (idShip, delivery date, the event, the
// pick-up point, La Poste's tracking page). 400 is an invalid number (persistent); 404 with
// returnCode 104 is "not yet available" (temporary), another 404 an unknown number.
import { fetchFailure } from '../domain/fetch-outcome.ts';
import { type CarrierAnswer, type CarrierClient, carrierCall, commonFailure, jsonOf, malformed, quote } from './carrier-client.ts';

export interface LaPosteOptions {
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  now?: () => Date;
}

interface SuiviReply {
  returnCode?: number;
  returnMessage?: string;
  shipment?: {
    idShip?: string;
    isFinal?: boolean;
    deliveryDate?: string;
    event?: { code?: string; label?: string; date?: string }[];
    contextData?: { removalPoint?: unknown };
    url?: string;
  };
}

const DELIVERED = new Set(['DI1', 'DI2']);

export class LaPosteClient implements CarrierClient {
  readonly carrier = 'colissimo';

  constructor(private readonly options: LaPosteOptions) {}

  async fetchPod(trackingNumber: string, signal?: AbortSignal): Promise<CarrierAnswer> {
    const { baseUrl, apiKey, timeoutMs } = this.options;
    const url = `${baseUrl.replace(/\/+$/, '')}/suivi/v2/idships/${encodeURIComponent(trackingNumber)}?lang=fr_FR`;
    const reply = await carrierCall(url, { headers: { 'X-Okapi-Key': apiKey, accept: 'application/json' }, timeoutMs, signal });
    if ('code' in reply) return { kind: 'failure', failure: reply };
    const common = commonFailure(reply, this.options.now?.() ?? new Date());
    if (common) return { kind: 'failure', failure: common };
    const body = jsonOf(reply) as SuiviReply | undefined;
    const said = typeof body?.returnMessage === 'string' ? body.returnMessage : quote(reply.body);
    if (reply.status === 400) return { kind: 'failure', failure: fetchFailure('invalid-tracking-number', said) };
    if (reply.status === 401 || reply.status === 403) {
      return { kind: 'failure', failure: fetchFailure('bad-credentials', `La Poste refused the API key (${reply.status})`) };
    }
    if (reply.status === 404) {
      const code = body?.returnCode === 104 ? 'not-yet-available' : 'unknown-shipment';
      return { kind: 'failure', failure: fetchFailure(code, `${body?.returnCode ?? 404}: ${said}`) };
    }
    const shipment = body?.shipment;
    if (reply.status !== 200 || shipment === undefined) return { kind: 'failure', failure: malformed(reply, 'not a Suivi v2 reply') };
    const delivery = shipment.event?.find((e) => e.code !== undefined && DELIVERED.has(e.code));
    if (!shipment.isFinal || delivery === undefined) {
      return {
        kind: 'failure',
        failure: fetchFailure('not-yet-available', `not delivered yet (${shipment.event?.[0]?.label ?? 'no event'})`),
      };
    }
    const evidence = {
      carrier: 'colissimo',
      idShip: shipment.idShip ?? trackingNumber,
      deliveredAt: shipment.deliveryDate ?? delivery.date ?? null,
      event: delivery,
      removalPoint: shipment.contextData?.removalPoint ?? null,
      trackingUrl: shipment.url ?? null,
    };
    return { kind: 'pod', document: { content: Buffer.from(JSON.stringify(evidence, null, 2)), contentType: 'application/json' } };
  }
}
