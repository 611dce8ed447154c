// Every behaviour is observed through Node's own fetch, as the services' clients will see it.
import { afterEach, describe, expect, it } from 'vitest';
import { type HttpStandIn, type StandInRequest, startHttpStandIn } from '../src/http-stand-in.ts';

const open: HttpStandIn<string>[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((standIn) => standIn.close()));
});

// A Clazar-like API: enough routes to exercise matching, bodies and faults.
let meteringCalls = 0;
async function clazar() {
  meteringCalls = 0;
  const standIn = await startHttpStandIn({
    routes: {
      'POST /authenticate/': () => ({ body: { access_token: 'token-1' } }),
      'POST /metering/': async (request) => {
        meteringCalls += 1;
        await new Promise((resolve) => setTimeout(resolve, 1));
        return { body: { results: [{ status: 'success', echo: request.body }] } };
      },
      'GET /suivi/v2/idships/:id': (request) => ({ body: { id: request.params.id, query: request.query } }),
      'GET /offers/:version/aws/:service/index.json': (request) => ({ body: request.params }),
      'GET /text': () => ({ body: 'plain words' }),
      'GET /bytes': () => ({ body: Buffer.from([0, 1, 2, 255]) }),
      'GET /problem': () => ({
        status: 404,
        headers: { 'Content-Type': 'application/problem+json' },
        body: { title: 'No shipment with given tracking number found.' },
      }),
      'GET /broken': () => {
        throw new Error('handler bug');
      },
    },
  });
  open.push(standIn);
  return standIn;
}

function meter(url: string, contractId: string, init: RequestInit = {}) {
  return fetch(`${url}/metering/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer token-1' },
    body: JSON.stringify({ request: [{ contract_id: contractId, quantity: '3' }] }),
    ...init,
  });
}

/** The `cause.code` of a rejected fetch: what a client's error classifier looks at. */
async function failureCode(call: Promise<Response>): Promise<string> {
  const error = await call.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (error: unknown) => error,
  );
  expect(error).toBeInstanceOf(TypeError);
  return ((error as TypeError).cause as { code?: string } | undefined)?.code ?? 'no code';
}

describe('routes', () => {
  it('matches :param segments and exact paths, and parses the query separately', async () => {
    const standIn = await clazar();
    const laPoste = await fetch(`${standIn.url}/suivi/v2/idships/8Q%2012345?lang=fr_FR&$filter=a%20eq%20'b'`);
    expect(await laPoste.json()).toEqual({ id: '8Q 12345', query: { lang: 'fr_FR', $filter: "a eq 'b'" } });
    const offers = await fetch(`${standIn.url}/offers/v1.0/aws/AmazonEC2/index.json`);
    expect(await offers.json()).toEqual({ version: 'v1.0', service: 'AmazonEC2' });
    // a trailing slash is part of an exact path, as it is for Clazar
    expect((await fetch(`${standIn.url}/suivi/v2/idships/`)).status).toBe(404);
  });

  it('hands the handler method, lower-cased headers, raw body and JSON body', async () => {
    let seen: StandInRequest | undefined;
    const standIn = await startHttpStandIn({
      routes: {
        'POST /echo': (request) => {
          seen = request;
          return { status: 201 };
        },
      },
    });
    open.push(standIn);
    const response = await fetch(`${standIn.url}/echo?x=1`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'AWSInsightsIndexService.GetCostAndUsage' },
      body: '{"Granularity":"MONTHLY"}',
    });
    expect(response.status).toBe(201);
    expect(seen).toMatchObject({
      method: 'POST',
      path: '/echo',
      url: '/echo?x=1',
      query: { x: '1' },
      headers: { 'x-amz-target': 'AWSInsightsIndexService.GetCostAndUsage' },
      body: { Granularity: 'MONTHLY' },
    });
    expect(seen?.rawBody.toString()).toBe('{"Granularity":"MONTHLY"}');
  });

  it('keeps a non-JSON body as text, and invalid JSON as its text', async () => {
    const bodies: unknown[] = [];
    const standIn = await startHttpStandIn({
      routes: {
        'POST /soap': (request) => {
          bodies.push(request.body);
          return {};
        },
      },
    });
    open.push(standIn);
    await fetch(`${standIn.url}/soap`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: '<searchPOD/>' });
    await fetch(`${standIn.url}/soap`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' });
    await fetch(`${standIn.url}/soap`, { method: 'POST' });
    expect(bodies).toEqual(['<searchPOD/>', '{"a":', undefined]);
  });

  it('sends objects as JSON, strings as text, Buffers as bytes, and keeps a content-type the handler sets', async () => {
    const standIn = await clazar();
    const auth = await fetch(`${standIn.url}/authenticate/`, { method: 'POST' });
    expect(auth.headers.get('content-type')).toBe('application/json');
    expect(await auth.json()).toEqual({ access_token: 'token-1' });
    const text = await fetch(`${standIn.url}/text`);
    expect(text.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await text.text()).toBe('plain words');
    const bytes = await fetch(`${standIn.url}/bytes`);
    expect(bytes.headers.get('content-type')).toBe('application/octet-stream');
    expect([...new Uint8Array(await bytes.arrayBuffer())]).toEqual([0, 1, 2, 255]);
    const problem = await fetch(`${standIn.url}/problem`);
    expect(problem.status).toBe(404);
    expect(problem.headers.get('content-type')).toBe('application/problem+json');
  });

  it('answers 404 JSON to an unmatched path or method, and records it with no route', async () => {
    const standIn = await clazar();
    const response = await fetch(`${standIn.url}/nowhere`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: 'no stand-in route', method: 'GET', path: '/nowhere' });
    expect((await fetch(`${standIn.url}/metering/`)).status).toBe(404); // GET, where only POST is declared
    expect(standIn.requests().map((r) => [r.method, r.path, r.route])).toEqual([
      ['GET', '/nowhere', undefined],
      ['GET', '/metering/', undefined],
    ]);
  });

  it('answers 500 when a handler throws, and records why', async () => {
    const standIn = await clazar();
    const response = await fetch(`${standIn.url}/broken`);
    expect(response.status).toBe(500);
    expect(standIn.requests('GET /broken')[0]?.error).toContain('handler bug');
  });

  it('cuts the reply when a streamed body fails after its headers went out, and records why', async () => {
    const standIn = await startHttpStandIn({
      routes: {
        'GET /stream': () => ({
          body: (async function* () {
            yield 'first piece, ';
            throw new Error('the generator broke');
          })(),
        }),
      },
    });
    open.push(standIn);
    const response = await fetch(`${standIn.url}/stream`);
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
    expect(standIn.requests('GET /stream')[0]?.error).toContain('the generator broke');
  });

  it('refuses a route key that is not METHOD /path', async () => {
    await expect(startHttpStandIn({ routes: { '/no-method': () => ({}) } })).rejects.toThrow(/METHOD \/path/);
  });
});

describe('recording', () => {
  it('records every request in order, reads them by route, and clears them', async () => {
    const standIn = await clazar();
    const before = Date.now();
    await fetch(`${standIn.url}/authenticate/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'id', client_secret: 'secret' }),
    });
    await meter(standIn.url, 'c-1');
    await meter(standIn.url, 'c-2');
    const all = standIn.requests();
    expect(all.map((r) => r.route)).toEqual(['POST /authenticate/', 'POST /metering/', 'POST /metering/']);
    expect(all[0]?.body).toEqual({ client_id: 'id', client_secret: 'secret' });
    expect(all[0]?.receivedAt).toBeGreaterThanOrEqual(before);
    expect(all.map((r) => r.fault)).toEqual([undefined, undefined, undefined]);

    const metering = standIn.requests('POST /metering/');
    expect(metering.map((r) => (r.body as { request: { contract_id: string }[] }).request[0]?.contract_id)).toEqual(['c-1', 'c-2']);
    expect(metering[0]?.headers.authorization).toBe('Bearer token-1');

    standIn.clearRequests();
    expect(standIn.requests()).toEqual([]);
    await meter(standIn.url, 'c-3');
    expect(standIn.requests()).toHaveLength(1);
  });
});

describe('faults as a client sees them', () => {
  it('delay: answers normally, late', async () => {
    const standIn = await clazar();
    standIn.injectFault('POST /metering/', { kind: 'delay', ms: 300 });
    const started = performance.now();
    const response = await meter(standIn.url, 'c-1');
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ results: [{ status: 'success' }] });
    expect(standIn.requests()[0]?.fault).toEqual({ kind: 'delay', ms: 300 });
  });

  it('timeout: never answers, so the client aborts on its own timeout', async () => {
    const standIn = await clazar();
    standIn.injectFault('POST /metering/', { kind: 'timeout' });
    const error = await meter(standIn.url, 'c-1', { signal: AbortSignal.timeout(200) }).catch((e: unknown) => e);
    expect((error as DOMException).name).toBe('TimeoutError');
    expect(meteringCalls).toBe(0);
    expect(standIn.requests()[0]?.fault?.kind).toBe('timeout');
    expect((await meter(standIn.url, 'c-1')).status).toBe(200);
  });

  it('timeout: close() ends a hanging call instead of waiting for it', async () => {
    const standIn = await clazar();
    standIn.injectFault('POST /metering/', { kind: 'timeout' });
    const hanging = meter(standIn.url, 'c-1');
    await expect.poll(() => standIn.requests().length).toBe(1);
    const started = performance.now();
    await standIn.close();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await failureCode(hanging)).toBe('UND_ERR_SOCKET');
  });

  it('delay: close() cancels a pending delay, so the handler never runs after the stand-in is gone', async () => {
    const standIn = await clazar();
    standIn.injectFault('POST /metering/', { kind: 'delay', ms: 300 });
    const delayed = meter(standIn.url, 'c-1');
    await expect.poll(() => standIn.requests().length).toBe(1);
    await standIn.close();
    expect(await failureCode(delayed)).toBe('UND_ERR_SOCKET');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(meteringCalls).toBe(0);
  });

  it('reset: the connection is reset with no reply (ECONNRESET)', async () => {
    const standIn = await clazar();
    standIn.injectFault('POST /metering/', { kind: 'reset' });
    expect(await failureCode(meter(standIn.url, 'c-1'))).toBe('ECONNRESET');
    expect(meteringCalls).toBe(0);
    expect((await meter(standIn.url, 'c-1')).status).toBe(200);
  });

  it('status: answers the given 5xx, with a default or given body', async () => {
    const standIn = await clazar();
    standIn.injectFault('POST /metering/', { kind: 'status', status: 503 });
    standIn.injectFault('POST /metering/', {
      kind: 'status',
      status: 502,
      body: '<html>Bad Gateway</html>',
      headers: { 'content-type': 'text/html' },
    });
    const first = await meter(standIn.url, 'c-1');
    expect(first.status).toBe(503);
    expect(await first.json()).toEqual({ message: 'Service Unavailable' });
    const second = await meter(standIn.url, 'c-1');
    expect(second.status).toBe(502);
    expect(second.headers.get('content-type')).toBe('text/html');
    expect(await second.text()).toBe('<html>Bad Gateway</html>');
    expect(meteringCalls).toBe(0);
  });

  it('rateLimit: 429 with Retry-After in seconds, as an HTTP date, or without it', async () => {
    const standIn = await clazar();
    const until = new Date('2030-01-02T03:04:05Z');
    standIn.injectFault('POST /metering/', { kind: 'rateLimit', retryAfter: 30 });
    standIn.injectFault('POST /metering/', { kind: 'rateLimit', retryAfter: until });
    standIn.injectFault('POST /metering/', { kind: 'rateLimit' });
    const seconds = await meter(standIn.url, 'c-1');
    expect(seconds.status).toBe(429);
    expect(seconds.headers.get('retry-after')).toBe('30');
    const date = await meter(standIn.url, 'c-1');
    expect(date.status).toBe(429);
    expect(date.headers.get('retry-after')).toBe('Wed, 02 Jan 2030 03:04:05 GMT');
    expect(new Date(date.headers.get('retry-after') ?? '').getTime()).toBe(until.getTime());
    const bare = await meter(standIn.url, 'c-1');
    expect(bare.status).toBe(429);
    expect(bare.headers.has('retry-after')).toBe(false);
  });

  it('malformed: 200 JSON whose body does not parse', async () => {
    const standIn = await clazar();
    standIn.injectFault('POST /metering/', { kind: 'malformed' });
    standIn.injectFault('POST /metering/', { kind: 'malformed', body: '<html>oops' });
    const truncated = await meter(standIn.url, 'c-1');
    expect(truncated.status).toBe(200);
    expect(truncated.headers.get('content-type')).toBe('application/json');
    await expect(truncated.json()).rejects.toThrow(SyntaxError);
    await expect((await meter(standIn.url, 'c-1')).json()).rejects.toThrow(SyntaxError);
    expect((await meter(standIn.url, 'c-1')).ok).toBe(true);
  });

  it('processed: the handler does the work and only the reply is lost', async () => {
    const standIn = await clazar();
    standIn.injectFault('POST /metering/', { kind: 'reset', processed: true });
    expect(await failureCode(meter(standIn.url, 'c-1'))).toBe('ECONNRESET');
    expect(meteringCalls).toBe(1);
  });
});

describe('fault targeting', () => {
  it('applies to exactly the next N calls of its route, then answers normally', async () => {
    const standIn = await clazar();
    standIn.injectFault('POST /metering/', { kind: 'status', status: 500 }, { times: 2 });
    expect((await fetch(`${standIn.url}/authenticate/`, { method: 'POST' })).status).toBe(200); // another route: untouched
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await meter(standIn.url, 'c-1')).status);
    expect(statuses).toEqual([500, 500, 200, 200]);
    expect(standIn.requests('POST /metering/').map((r) => r.fault?.kind)).toEqual(['status', 'status', undefined, undefined]);
  });

  it("applies to every call with times 'always', until cleared", async () => {
    const standIn = await clazar();
    standIn.injectFault('POST /metering/', { kind: 'status', status: 503 }, { times: 'always' });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await meter(standIn.url, 'c-1')).status);
    expect(statuses).toEqual([503, 503, 503, 503, 503]);
    standIn.clearFaults();
    expect((await meter(standIn.url, 'c-1')).status).toBe(200);
  });

  it("'*' applies to any route, unmatched requests included", async () => {
    const standIn = await clazar();
    standIn.injectFault('*', { kind: 'status', status: 502 }, { times: 3 });
    expect((await fetch(`${standIn.url}/authenticate/`, { method: 'POST' })).status).toBe(502);
    expect((await meter(standIn.url, 'c-1')).status).toBe(502);
    expect((await fetch(`${standIn.url}/nowhere`)).status).toBe(502);
    expect((await meter(standIn.url, 'c-1')).status).toBe(200);
  });

  it('with `when`, applies only to matching calls, and only they use up its count', async () => {
    const standIn = await clazar();
    const forContract = (id: string) => (request: StandInRequest) =>
      (request.body as { request: { contract_id: string }[] }).request.some((record) => record.contract_id === id);
    standIn.injectFault('POST /metering/', { kind: 'status', status: 500 }, { times: 2, when: forContract('c-2') });
    const statuses: Record<string, number[]> = { 'c-1': [], 'c-2': [] };
    for (const id of ['c-1', 'c-2', 'c-1', 'c-2', 'c-1', 'c-2']) statuses[id]?.push((await meter(standIn.url, id)).status);
    expect(statuses).toEqual({ 'c-1': [200, 200, 200], 'c-2': [500, 500, 200] });
  });

  it('refuses an unknown route and a count that is not a positive integer', async () => {
    const standIn = await clazar();
    // @ts-expect-error route keys are type-checked too
    expect(() => standIn.injectFault('POST /metring/', { kind: 'reset' })).toThrow(/no stand-in route/);
    expect(() => standIn.injectFault('POST /metering/', { kind: 'reset' }, { times: 0 })).toThrow(/positive integer/);
  });
});
