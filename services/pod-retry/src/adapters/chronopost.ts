// Chronopost's TrackingServiceWS, SOAP 1.1: `searchPOD(accountNumber, password, language,
// skybillNumber, pdf)` answers `{errorCode, errorMessage, formatPOD, pod (base64), podPresente,
// statusCode}`. errorCode 0 with a POD is the document; 0 without one is "not yet"; 3 is the
// account refused (persistent); 1 is Chronopost's "System Error" (temporary). Chronopost
// publishes no table of its other codes: any other is taken as the number's fault
// (persistent), quoting errorMessage. The password is only ever in the request body.
import { fetchFailure } from '../domain/fetch-outcome.ts';
import { type CarrierAnswer, type CarrierClient, carrierCall, commonFailure, malformed } from './carrier-client.ts';

export interface ChronopostOptions {
  baseUrl: string;
  accountNumber: string;
  password: string;
  timeoutMs: number;
  now?: () => Date;
}

export const CHRONOPOST_NAMESPACE = 'http://cxf.tracking.soap.chronopost.fr/';

export class ChronopostClient implements CarrierClient {
  readonly carrier = 'chronopost';

  constructor(private readonly options: ChronopostOptions) {}

  async fetchPod(trackingNumber: string, signal?: AbortSignal): Promise<CarrierAnswer> {
    const { baseUrl, accountNumber, password, timeoutMs } = this.options;
    const envelope =
      `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:cxf="${CHRONOPOST_NAMESPACE}">` +
      `<soapenv:Body><cxf:searchPOD><accountNumber>${xml(accountNumber)}</accountNumber><password>${xml(password)}</password>` +
      `<language>fr_FR</language><skybillNumber>${xml(trackingNumber)}</skybillNumber><pdf>true</pdf></cxf:searchPOD></soapenv:Body></soapenv:Envelope>`;
    const reply = await carrierCall(`${baseUrl.replace(/\/+$/, '')}/tracking-cxf/TrackingServiceWS`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: '""' },
      body: envelope,
      timeoutMs,
      signal,
    });
    if ('code' in reply) return { kind: 'failure', failure: reply };
    const common = commonFailure(reply, this.options.now?.() ?? new Date());
    if (common) return { kind: 'failure', failure: common };
    const text = reply.body.toString('utf8');
    const result = /<return>([\s\S]*)<\/return>/.exec(text)?.[1];
    const errorCode = result === undefined ? undefined : Number(element(result, 'errorCode'));
    if (reply.status !== 200 || errorCode === undefined || Number.isNaN(errorCode)) {
      return { kind: 'failure', failure: malformed(reply, 'not a searchPOD reply') };
    }
    const said = element(result as string, 'errorMessage') ?? `errorCode ${errorCode}`;
    if (errorCode === 1) return { kind: 'failure', failure: fetchFailure('server-error', `Chronopost: ${said}`) };
    if (errorCode === 3)
      return { kind: 'failure', failure: fetchFailure('bad-credentials', 'Chronopost refused the account number or password') };
    if (errorCode !== 0) return { kind: 'failure', failure: fetchFailure('invalid-tracking-number', `Chronopost ${errorCode}: ${said}`) };
    const pod = element(result as string, 'pod');
    if (element(result as string, 'podPresente') !== 'true' || pod === undefined || pod === '') {
      return { kind: 'failure', failure: fetchFailure('not-yet-available', 'Chronopost has no proof of delivery yet') };
    }
    const format = (element(result as string, 'formatPOD') ?? 'PDF').toUpperCase();
    return {
      kind: 'pod',
      document: {
        content: Buffer.from(pod, 'base64'),
        contentType: format === 'PDF' ? 'application/pdf' : `image/${format.toLowerCase()}`,
      },
    };
  }
}

/** The text of `<name>` in a flat, unqualified result (the service's own form), entities decoded. */
function element(xmlText: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xmlText);
  return match?.[1]
    ?.replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
