// Local stand-ins for third-party HTTP APIs (Clazar, AWS, Azure, carriers). A real HTTP
// server on loopback, so a service's own client code (fetch, its timeouts, its retry and
// error classification) runs unchanged; tests declare what the API answers, inject the
// faults the real API has, and assert on the requests it received.
import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A request as a route handler (and a fault's `when`) sees it. */
export interface StandInRequest {
  method: string;
  /** The path without the query string, as sent (not percent-decoded). */
  path: string;
  /** The `:name` segments of the matched route, percent-decoded. */
  params: Record<string, string>;
  /** The query string; a repeated key keeps its last value (`url` has the query as sent). */
  query: Record<string, string>;
  /** Path and query string as sent. */
  url: string;
  /** Lower-cased names, as sent: Authorization and API keys included (test-only). */
  headers: Record<string, string>;
  rawBody: Buffer;
  /** Parsed JSON when the content-type says JSON and it parses; otherwise the text; undefined when empty. */
  body: unknown;
}

export interface StandInReply {
  /** 200 unless given. */
  status?: number;
  headers?: Record<string, string>;
  /**
   * An object is sent as JSON, a string as text, a Buffer as bytes, an async iterable of
   * strings or Buffers as a stream (chunked, written as the client reads: a body of any size
   * in little memory); the content-type follows unless `headers` sets one.
   */
  body?: unknown;
}

export type RouteHandler = (request: StandInRequest) => StandInReply | Promise<StandInReply>;

/**
 * What the stand-in does instead of its normal reply. Only `delay` answers normally; every
 * other fault replaces the reply and skips the handler, unless `processed` is set: then the
 * handler runs first (the remote side did the work) and only its reply is lost — the case a
 * side-effect ledger calls `unknown`.
 */
export type Fault =
  | { kind: 'delay'; ms: number }
  | { kind: 'timeout'; processed?: boolean }
  | { kind: 'reset'; processed?: boolean }
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string>; processed?: boolean }
  | { kind: 'rateLimit'; retryAfter?: number | Date; body?: unknown; headers?: Record<string, string>; processed?: boolean }
  | { kind: 'malformed'; body?: string; processed?: boolean }
  /** The normal reply, its connection dropped after `afterBytes` bytes of the body: a network cut mid-download. */
  | { kind: 'cut'; afterBytes: number };

export interface FaultOptions {
  /** How many matching calls the fault applies to (default 1), or every one until `clearFaults()`. */
  times?: number | 'always';
  /** Only calls for which this holds match (and use up `times`), e.g. one contract among many on one route. */
  when?: (request: StandInRequest) => boolean;
}

export interface RecordedRequest<Route extends string = string> extends StandInRequest {
  /** The route key that matched, or undefined for a request answered 404. */
  route: Route | undefined;
  fault: Fault | undefined;
  /** Epoch ms at which the request arrived. */
  receivedAt: number;
  /** Set when the handler (or a fault's `when`) threw; the client got a 500. */
  error?: string;
}

export interface HttpStandIn<Route extends string> {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** Received requests in arrival order, all of them or those matched by one route. */
  requests(route?: Route): RecordedRequest<Route>[];
  clearRequests(): void;
  /** Queues a fault for one route, or `'*'` for any request (unmatched ones included). The first queued fault that matches a call applies. */
  injectFault(route: Route | '*', fault: Fault, options?: FaultOptions): void;
  clearFaults(): void;
  /** Stops listening and ends every connection, hanging `timeout` ones included. */
  close(): Promise<void>;
}

export interface HttpStandInOptions<Route extends string> {
  /** Keyed `'METHOD /path'`; a path segment `:name` matches any one segment. The first declared match wins. */
  routes: Record<Route, RouteHandler>;
  /** 0 (any free port) unless given. */
  port?: number;
}

interface CompiledRoute<Route extends string> {
  key: Route;
  method: string;
  segments: string[];
  handler: RouteHandler;
}

interface QueuedFault<Route extends string> {
  route: Route | '*';
  fault: Fault;
  remaining: number;
  when: ((request: StandInRequest) => boolean) | undefined;
}

// Not valid JSON: what a client sees when a connection drops mid-body behind a proxy.
const truncatedJson = '{"truncated": [{"id": "1", "sta';

export async function startHttpStandIn<const Route extends string>(options: HttpStandInOptions<Route>): Promise<HttpStandIn<Route>> {
  const routes = (Object.entries(options.routes) as [Route, RouteHandler][]).map(([key, handler]) => compileRoute(key, handler));
  const recorded: RecordedRequest<Route>[] = [];
  let faults: QueuedFault<Route>[] = [];
  // Aborts pending delays on close, so no timer outlives the stand-in.
  const closing = new AbortController();

  function takeFault(route: Route | undefined, request: StandInRequest): Fault | undefined {
    const queued = faults.find((q) => (q.route === '*' || q.route === route) && (q.when === undefined || q.when(request)));
    if (queued === undefined) return undefined;
    queued.remaining -= 1;
    if (queued.remaining <= 0) faults = faults.filter((q) => q !== queued);
    return queued.fault;
  }

  async function handle(incoming: IncomingMessage, response: ServerResponse): Promise<void> {
    const receivedAt = Date.now();
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const request = parseRequest(incoming, Buffer.concat(chunks));
    const match = matchRoute(routes, request.method, request.path);
    request.params = match?.params ?? {};
    const record: RecordedRequest<Route> = { ...request, route: match?.route.key, fault: undefined, receivedAt };
    recorded.push(record);

    const normalReply = async (): Promise<StandInReply> =>
      match === undefined
        ? { status: 404, body: { error: 'no stand-in route', method: request.method, path: request.path } }
        : match.route.handler(request);

    try {
      const fault = takeFault(record.route, request);
      record.fault = fault;
      if (fault === undefined) return await send(response, await normalReply());
      if (fault.kind === 'delay') {
        await sleep(fault.ms, undefined, { signal: closing.signal });
        return await send(response, await normalReply());
      }
      if (fault.kind === 'cut') return await send(response, await normalReply(), fault.afterBytes);
      if (fault.processed) await normalReply();
      switch (fault.kind) {
        case 'timeout':
          return; // the response stays open until the client gives up or close() ends the connection
        case 'reset':
          // An RST rather than a FIN: the client sees ECONNRESET, as when a remote process dies.
          incoming.socket.resetAndDestroy();
          return;
        case 'status':
          return send(response, {
            status: fault.status,
            headers: fault.headers,
            body: fault.body ?? { message: STATUS_CODES[fault.status] },
          });
        case 'rateLimit': {
          const retryAfter = fault.retryAfter instanceof Date ? fault.retryAfter.toUTCString() : fault.retryAfter?.toString();
          const headers = { ...(retryAfter === undefined ? {} : { 'retry-after': retryAfter }), ...fault.headers };
          return send(response, { status: 429, headers, body: fault.body ?? { message: STATUS_CODES[429] } });
        }
        case 'malformed':
          return send(response, { headers: { 'content-type': 'application/json' }, body: fault.body ?? truncatedJson });
      }
    } catch (error) {
      if (closing.signal.aborted) return;
      record.error = error instanceof Error ? (error.stack ?? error.message) : String(error);
      // Failing mid-body (a client that went away while a stream was written): the reply can only be cut.
      if (response.headersSent) {
        response.destroy();
        return;
      }
      await send(response, { status: 500, body: { error: 'stand-in handler failed', message: String(error) } }).catch(() =>
        response.destroy(),
      );
    }
  }

  const server = createServer((incoming, response) => {
    // A client that goes away mid-request is not the test's failure; everything else is caught in handle.
    handle(incoming, response).catch(() => response.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: options.port ?? 0 }, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;

  return {
    url: `http://127.0.0.1:${port}`,
    requests: (route) => recorded.filter((r) => route === undefined || r.route === route),
    clearRequests: () => {
      recorded.length = 0;
    },
    injectFault: (route, fault, { times = 1, when } = {}) => {
      if (route !== '*' && !routes.some((r) => r.key === route)) throw new Error(`no stand-in route ${route}`);
      if (times !== 'always' && !(Number.isInteger(times) && times >= 1))
        throw new Error(`times must be a positive integer or 'always', got ${times}`);
      faults.push({ route, fault, remaining: times === 'always' ? Number.POSITIVE_INFINITY : times, when });
    },
    clearFaults: () => {
      faults = [];
    },
    // Idempotent, so a test may close early and still leave the close in afterEach.
    close: () => {
      closed ??= new Promise<void>((resolve, reject) => {
        closing.abort();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

function compileRoute<Route extends string>(key: Route, handler: RouteHandler): CompiledRoute<Route> {
  const match = /^([A-Z]+) (\/\S*)$/.exec(key);
  if (match === null) throw new Error(`a stand-in route is 'METHOD /path', got '${key}'`);
  const [, method = '', path = ''] = match;
  return { key, method, segments: path.split('/'), handler };
}

function matchRoute<Route extends string>(
  routes: CompiledRoute<Route>[],
  method: string,
  path: string,
): { route: CompiledRoute<Route>; params: Record<string, string> } | undefined {
  const segments = path.split('/');
  for (const route of routes) {
    if (route.method !== method || route.segments.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const matches = route.segments.every((pattern, i) => {
      const segment = segments[i] ?? '';
      if (!pattern.startsWith(':')) return pattern === segment;
      if (segment === '') return false;
      params[pattern.slice(1)] = decodeURIComponent(segment);
      return true;
    });
    if (matches) return { route, params };
  }
  return undefined;
}

function parseRequest(incoming: IncomingMessage, rawBody: Buffer): StandInRequest {
  const url = new URL(incoming.url ?? '/', 'http://stand-in');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const text = rawBody.toString('utf8');
  let body: unknown = rawBody.length === 0 ? undefined : text;
  // Covers application/json, problem+json and AWS's application/x-amz-json-1.1.
  if (rawBody.length > 0 && /json/i.test(headers['content-type'] ?? '')) {
    try {
      body = JSON.parse(text);
    } catch {
      // left as text: the handler may answer 400 as the real API would
    }
  }
  return {
    method: incoming.method ?? 'GET',
    path: url.pathname,
    params: {},
    query: Object.fromEntries(url.searchParams),
    url: incoming.url ?? '/',
    headers,
    rawBody,
    body,
  };
}

/** Writes the reply; with `cutAfter`, only that many bytes of its body, then the connection is destroyed. */
async function send(response: ServerResponse, reply: StandInReply, cutAfter?: number): Promise<void> {
  if (response.destroyed) return;
  const { body } = reply;
  const headers = Object.fromEntries(Object.entries(reply.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
  let chunks: AsyncIterable<string | Buffer> | Iterable<string | Buffer> = [];
  let contentType: string | undefined;
  if (Buffer.isBuffer(body)) [chunks, contentType] = [[body], 'application/octet-stream'];
  else if (typeof body === 'string') [chunks, contentType] = [[body], 'text/plain; charset=utf-8'];
  else if (isAsyncIterable(body)) [chunks, contentType] = [body, 'application/octet-stream'];
  else if (body !== undefined) [chunks, contentType] = [[JSON.stringify(body)], 'application/json'];
  if (contentType !== undefined && headers['content-type'] === undefined) headers['content-type'] = contentType;
  response.writeHead(reply.status ?? 200, headers);
  let left = cutAfter ?? Number.POSITIVE_INFINITY;
  for await (const chunk of chunks) {
    if (response.destroyed) return;
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (bytes.length >= left) {
      // Flushed first, so the client does receive the bytes before the connection drops.
      await write(response, bytes.subarray(0, left));
      response.destroy();
      return;
    }
    left -= bytes.length;
    await write(response, bytes);
  }
  if (cutAfter !== undefined) response.destroy();
  else response.end();
}

function write(response: ServerResponse, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    response.write(bytes, (error) => (error ? reject(error) : resolve()));
  });
}

function isAsyncIterable(value: unknown): value is AsyncIterable<string | Buffer> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}
