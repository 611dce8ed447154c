// Each carrier adapter against its stand-in over real HTTP: a POD when there is one, and every
// failure classified as the fetch-outcome rules want it — never a throw, never a credential
// in a message.
import {
  type CarrierStandIn,
  CHRONOPOST_ROUTE,
  DHL_ROUTES,
  LA_POSTE_ROUTE,
  startChronopostStandIn,
  startDhlStandIn,
  startLaPosteStandIn,
} from '@tickflow/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CarrierAnswer, CarrierClient } from '../src/adapters/carrier-client.ts';
import { ChronopostClient } from '../src/adapters/chronopost.ts';
import { DhlClient } from '../src/adapters/dhl.ts';
import { LaPosteClient } from '../src/adapters/la-poste.ts';

const KEY = 'carrier-secret-key-0123456789';
const SHIPMENTS = {
  '1234567890DE': 'delivered',
  '2234567890DE': 'in-transit',
  '3234567890DE': 'registered',
  '4234567890DE': 'delivery-failed',
  '5234567890DE': 'invalid',
} as const;
const UNKNOWN = '9234567890DE';
const now = new Date('2026-12-04T10:00:00Z');

interface Case {
  name: string;
  route: string;
  standIn?: CarrierStandIn<string>;
  start(): Promise<CarrierStandIn<string>>;
  client(url: string, credential: string): CarrierClient;
  credential: string;
}

const cases: Case[] = [
  {
    name: 'dhl',
    route: DHL_ROUTES.track,
    credential: KEY,
    start: () => startDhlStandIn({ shipments: SHIPMENTS, credential: KEY }),
    client: (baseUrl, apiKey) => new DhlClient({ baseUrl, apiKey, timeoutMs: 500, now: () => now }),
  },
  {
    name: 'colissimo',
    route: LA_POSTE_ROUTE,
    credential: KEY,
    start: () => startLaPosteStandIn({ shipments: SHIPMENTS, credential: KEY }),
    client: (baseUrl, apiKey) => new LaPosteClient({ baseUrl, apiKey, timeoutMs: 500, now: () => now }),
  },
  {
    name: 'chronopost',
    route: CHRONOPOST_ROUTE,
    credential: `19869502:${KEY}`,
    start: () => startChronopostStandIn({ shipments: SHIPMENTS, credential: `19869502:${KEY}` }),
    client: (baseUrl, credential) => {
      const [accountNumber = '', password = ''] = credential.split(':');
      return new ChronopostClient({ baseUrl, accountNumber, password, timeoutMs: 500, now: () => now });
    },
  },
];

beforeAll(async () => {
  for (const c of cases) c.standIn = await c.start();
});
afterAll(async () => {
  for (const c of cases) await c.standIn?.close();
});

const outcome = (answer: CarrierAnswer) =>
  answer.kind === 'pod' ? `pod ${answer.document.contentType}` : `${answer.failure.class} ${answer.failure.code}`;

describe.each(cases)('the $name adapter', (c) => {
  const client = () => c.client(c.standIn?.url as string, c.credential);
  const http = () => c.standIn?.http as CarrierStandIn<string>['http'];

  it('fetches the proof of delivery of a delivered shipment', async () => {
    const answer = await client().fetchPod('1234567890DE');
    if (answer.kind !== 'pod') throw new Error(`no POD: ${JSON.stringify(answer)}`);
    if (c.name === 'colissimo') {
      // La Poste has no document: the delivery evidence is what is kept.
      expect(answer.document.contentType).toBe('application/json');
      expect(JSON.parse(answer.document.content.toString())).toMatchObject({ idShip: '1234567890DE', event: { code: 'DI1' } });
    } else {
      expect(answer.document).toEqual({ content: c.standIn?.podOf('1234567890DE'), contentType: 'application/pdf' });
    }
  });

  it('classifies what the carrier says of the number', async () => {
    const answers = await Promise.all(
      ['2234567890DE', '3234567890DE', '5234567890DE', UNKNOWN].map(async (n) => outcome(await client().fetchPod(n))),
    );
    const expected = {
      dhl: [
        'temporary not-yet-available',
        'temporary not-yet-available',
        'persistent invalid-tracking-number',
        'persistent unknown-shipment',
      ],
      colissimo: [
        'temporary not-yet-available',
        'temporary not-yet-available',
        'persistent invalid-tracking-number',
        'persistent unknown-shipment',
      ],
      chronopost: [
        'temporary not-yet-available',
        'temporary not-yet-available',
        'persistent invalid-tracking-number',
        'persistent invalid-tracking-number',
      ],
    }[c.name];
    expect(answers).toEqual(expected);
    if (c.name === 'dhl') expect(outcome(await client().fetchPod('4234567890DE'))).toBe('persistent no-pod');
    const refused = await c
      .client(c.standIn?.url as string, c.name === 'chronopost' ? '19869502:wrong' : 'wrong-key')
      .fetchPod('1234567890DE');
    expect(outcome(refused)).toBe('persistent bad-credentials');
    expect(JSON.stringify(refused)).not.toContain(KEY);
  });

  it('takes timeouts, 5xx, 429 and malformed replies as temporary, quoting a malformed reply', async () => {
    http().injectFault(c.route, { kind: 'timeout' });
    expect(outcome(await client().fetchPod('1234567890DE'))).toBe('temporary timeout');
    http().injectFault(c.route, { kind: 'status', status: 503 });
    expect(outcome(await client().fetchPod('1234567890DE'))).toBe('temporary server-error');
    http().injectFault(c.route, { kind: 'rateLimit', retryAfter: 120 });
    const limited = await client().fetchPod('1234567890DE');
    expect(limited).toMatchObject({ kind: 'failure', failure: { code: 'rate-limited', retryAfter: new Date('2026-12-04T10:02:00Z') } });
    http().injectFault(c.route, { kind: 'malformed', body: '<html>502 Bad Gateway from the proxy</html>' });
    const garbled = await client().fetchPod('1234567890DE');
    expect(outcome(garbled)).toBe('temporary malformed-reply');
    expect(garbled.kind === 'failure' && garbled.failure.message).toContain('<html>502 Bad Gateway from the proxy</html>');
    http().injectFault(c.route, { kind: 'reset' });
    expect(outcome(await client().fetchPod('1234567890DE'))).toBe('temporary connection-failed');
  });
});
