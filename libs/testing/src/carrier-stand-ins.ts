// Local carriers, on the stand-in kit, each following its API as documented: DHL's Shipment
// Tracking – Unified (`GET /track/shipments`, `DHL-API-Key`, problem+json errors, the POD
// behind `details.proofOfDelivery.documentUrl`), La Poste's Suivi v2 (`GET
// /suivi/v2/idships/{id}`, `X-Okapi-Key`, `returnCode`s; no POD document, a delivery event),
// and Chronopost's TrackingServiceWS (SOAP `searchPOD`, the POD in base64). Each knows its
// shipments by tracking number and what state they are in; the kit injects timeouts, 5xx,
// 429 and malformed bodies. Calls are counted per carrier day, so a test can check a quota
// was never exceeded.
import { type HttpStandIn, type StandInReply, type StandInRequest, startHttpStandIn } from './http-stand-in.ts';

/** What the carrier knows of a tracking number. */
/** `registered`: the label exists, nothing is scanned yet (La Poste: 404 returnCode 104, "not yet available"). */
export type ShipmentState = 'registered' | 'in-transit' | 'delivered' | 'delivery-failed' | 'unknown' | 'invalid';

export interface CarrierStandInOptions {
  /** Tracking numbers and their state; any other number is `unknown`. */
  shipments?: Readonly<Record<string, ShipmentState>>;
  /** The credential a call must carry: DHL's and La Poste's API key, Chronopost's `account:password`. */
  credential: string;
  /** The carrier's time zone, for counting calls per day (Europe/Paris unless given). */
  timeZone?: string;
  /** Delay of every reply, as a real API's latency. */
  replyDelayMs?: number;
  port?: number;
}

export interface CarrierStandIn<Route extends string> {
  readonly url: string;
  readonly http: HttpStandIn<Route>;
  setShipment(trackingNumber: string, state: ShipmentState): void;
  /** The POD document the carrier holds for a delivered shipment (what the service must store, byte for byte). */
  podOf(trackingNumber: string): Buffer;
  /** Tracking calls answered, per carrier day (`2026-12-04`). */
  callsPerDay(): Record<string, number>;
  close(): Promise<void>;
}

export const DHL_ROUTES = { track: 'GET /track/shipments', document: 'GET /pod/:trackingNumber' } as const;
export const LA_POSTE_ROUTE = 'GET /suivi/v2/idships/:idShip' as const;
export const CHRONOPOST_ROUTE = 'POST /tracking-cxf/TrackingServiceWS' as const;

function carrierState(options: CarrierStandInOptions) {
  const shipments = new Map<string, ShipmentState>(Object.entries(options.shipments ?? {}));
  const calls = new Map<string, number>();
  const day = new Intl.DateTimeFormat('en-CA', {
    timeZone: options.timeZone ?? 'Europe/Paris',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  });
  return {
    stateOf: (trackingNumber: string): ShipmentState => shipments.get(trackingNumber) ?? 'unknown',
    setShipment: (trackingNumber: string, state: ShipmentState) => shipments.set(trackingNumber, state),
    count: () => {
      const today = day.format(new Date());
      calls.set(today, (calls.get(today) ?? 0) + 1);
    },
    callsPerDay: () => Object.fromEntries(calls),
    delay: async () => {
      if (options.replyDelayMs) await new Promise((resolve) => setTimeout(resolve, options.replyDelayMs));
    },
  };
}

/** A small PDF that names its shipment: what a carrier's POD looks like to the service. */
export function podDocument(carrier: string, trackingNumber: string): Buffer {
  return Buffer.from(
    `%PDF-1.4\n% ${carrier} proof of delivery for ${trackingNumber}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n`,
  );
}

export async function startDhlStandIn(
  options: CarrierStandInOptions,
): Promise<CarrierStandIn<(typeof DHL_ROUTES)[keyof typeof DHL_ROUTES]>> {
  const state = carrierState(options);
  const problem = (status: number, title: string, detail: string, instance: string): StandInReply => ({
    status,
    headers: { 'content-type': 'application/problem+json' },
    body: JSON.stringify({ title, status, detail, instance }),
  });
  let url = '';
  async function track(request: StandInRequest): Promise<StandInReply> {
    await state.delay();
    if (request.headers['dhl-api-key'] !== options.credential)
      return problem(401, 'Unauthorized', 'Unauthorized for given resource.', '/shipments');
    state.count();
    const trackingNumber = request.query.trackingNumber ?? '';
    const shipment = state.stateOf(trackingNumber);
    if (shipment === 'invalid') return problem(400, 'Invalid request', 'Invalid tracking number format.', `/shipment/${trackingNumber}`);
    if (shipment === 'unknown')
      return problem(404, 'No result found', 'No shipment with given tracking number found.', `/shipment/${trackingNumber}`);
    const statusCode =
      shipment === 'delivered'
        ? 'delivered'
        : shipment === 'delivery-failed'
          ? 'failure'
          : shipment === 'registered'
            ? 'pre-transit'
            : 'transit';
    const status = { timestamp: '2026-12-03T10:15:00Z', statusCode, status: statusCode.toUpperCase(), description: statusCode };
    return {
      body: {
        shipments: [
          {
            id: trackingNumber,
            service: 'express',
            status,
            details:
              shipment === 'delivered'
                ? {
                    proofOfDelivery: {
                      timestamp: status.timestamp,
                      documentUrl: `${url}/pod/${trackingNumber}`,
                      signed: { name: 'J. DUPONT' },
                    },
                  }
                : {},
            events: [status],
          },
        ],
      },
    };
  }
  function document(request: StandInRequest): StandInReply {
    if (request.headers['dhl-api-key'] !== options.credential)
      return problem(401, 'Unauthorized', 'Unauthorized for given resource.', request.path);
    const trackingNumber = request.params.trackingNumber as string;
    if (state.stateOf(trackingNumber) !== 'delivered') return problem(404, 'No result found', 'No proof of delivery.', request.path);
    return { headers: { 'content-type': 'application/pdf' }, body: podDocument('dhl', trackingNumber) };
  }
  const http = await startHttpStandIn({ routes: { [DHL_ROUTES.track]: track, [DHL_ROUTES.document]: document }, port: options.port });
  url = http.url;
  return {
    url,
    http,
    setShipment: state.setShipment,
    podOf: (t) => podDocument('dhl', t),
    callsPerDay: state.callsPerDay,
    close: () => http.close(),
  };
}

export async function startLaPosteStandIn(options: CarrierStandInOptions): Promise<CarrierStandIn<typeof LA_POSTE_ROUTE>> {
  const state = carrierState(options);
  async function suivi(request: StandInRequest): Promise<StandInReply> {
    await state.delay();
    if (request.headers['x-okapi-key'] !== options.credential)
      return { status: 401, body: { code: 'UNAUTHORIZED', message: 'Invalid credentials' } };
    state.count();
    const idShip = request.params.idShip as string;
    const base = { lang: 'fr_FR', scope: 'open', idShip };
    const shipment = state.stateOf(idShip);
    if (shipment === 'invalid' || !/^[A-Za-z0-9]{11,15}$/.test(idShip)) {
      return {
        status: 400,
        body: {
          ...base,
          returnCode: 400,
          returnMessage:
            'Le numéro que vous avez saisi n’est pas valide. Nous vous invitons à vérifier votre saisie, en particulier le nombre de caractères.',
        },
      };
    }
    if (shipment === 'unknown') return { status: 404, body: { ...base, returnCode: 105, returnMessage: "Numéro de l'objet inconnu" } };
    if (shipment === 'registered') {
      // La Poste's "not yet available": the number is known, its tracking not yet.
      return { status: 404, body: { ...base, returnCode: 104, returnMessage: "Votre suivi n'est pas encore disponible." } };
    }
    const delivered = shipment === 'delivered';
    const event = delivered
      ? [
          { code: 'DI1', label: 'Votre colis est livré.', date: '2026-12-03T10:15:00+01:00' },
          { code: 'ET1', label: 'Votre colis est en cours d’acheminement.', date: '2026-12-02T08:00:00+01:00' },
        ]
      : [
          {
            code: shipment === 'delivery-failed' ? 'ND1' : 'ET1',
            label: 'Votre colis est en cours d’acheminement.',
            date: '2026-12-02T08:00:00+01:00',
          },
        ];
    return {
      body: {
        lang: 'fr_FR',
        scope: 'open',
        returnCode: 200,
        shipment: {
          idShip,
          holder: 4,
          product: 'Colissimo',
          isFinal: delivered,
          ...(delivered ? { deliveryDate: '2026-12-03T10:15:00+01:00' } : {}),
          event,
          timeline: [],
          contextData: { deliveryChoice: { deliveryChoice: 0 }, originCountry: 'FR', arrivalCountry: 'FR' },
          url: `https://www.laposte.fr/outils/suivre-vos-envois?code=${idShip}`,
        },
      },
    };
  }
  const http = await startHttpStandIn({ routes: { [LA_POSTE_ROUTE]: suivi }, port: options.port });
  // La Poste has no POD document: what the service keeps is the delivery evidence it builds.
  return {
    url: http.url,
    http,
    setShipment: state.setShipment,
    podOf: () => Buffer.alloc(0),
    callsPerDay: state.callsPerDay,
    close: () => http.close(),
  };
}

export async function startChronopostStandIn(options: CarrierStandInOptions): Promise<CarrierStandIn<typeof CHRONOPOST_ROUTE>> {
  const state = carrierState(options);
  const answer = (fields: Record<string, string | number | boolean>): StandInReply => ({
    headers: { 'content-type': 'text/xml;charset=UTF-8' },
    body:
      '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>' +
      '<ns2:searchPODResponse xmlns:ns2="http://cxf.tracking.soap.chronopost.fr/"><return>' +
      Object.entries(fields)
        .map(([name, value]) => `<${name}>${value}</${name}>`)
        .join('') +
      '</return></ns2:searchPODResponse></soap:Body></soap:Envelope>',
  });
  async function searchPod(request: StandInRequest): Promise<StandInReply> {
    await state.delay();
    const text = typeof request.body === 'string' ? request.body : request.rawBody.toString('utf8');
    const field = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(text)?.[1];
    if (!text.includes('searchPOD') || field('skybillNumber') === undefined) {
      return {
        status: 500,
        headers: { 'content-type': 'text/xml;charset=UTF-8' },
        body: '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault><faultcode>soap:Client</faultcode><faultstring>Unmarshalling Error</faultstring></soap:Fault></soap:Body></soap:Envelope>',
      };
    }
    if (`${field('accountNumber')}:${field('password')}` !== options.credential) {
      return answer({ errorCode: 3, errorMessage: 'Identifiant ou mot de passe incorrect', podPresente: false, statusCode: 0 });
    }
    state.count();
    const skybill = field('skybillNumber') as string;
    const shipment = state.stateOf(skybill);
    if (shipment === 'invalid' || shipment === 'unknown') {
      return answer({ errorCode: 2, errorMessage: `Numéro de colis inconnu : ${skybill}`, podPresente: false, statusCode: 0 });
    }
    if (shipment !== 'delivered') return answer({ errorCode: 0, podPresente: false, statusCode: 0 });
    return answer({
      errorCode: 0,
      formatPOD: 'PDF',
      pod: podDocument('chronopost', skybill).toString('base64'),
      podPresente: true,
      statusCode: 0,
    });
  }
  const http = await startHttpStandIn({ routes: { [CHRONOPOST_ROUTE]: searchPod }, port: options.port });
  return {
    url: http.url,
    http,
    setShipment: state.setShipment,
    podOf: (t) => podDocument('chronopost', t),
    callsPerDay: state.callsPerDay,
    close: () => http.close(),
  };
}
