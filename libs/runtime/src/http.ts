// Every service's HTTP server: liveness, readiness and metrics, plus the service's own routes.
// Fastify's logger stays off; failures are logged through the service's Logger, in its format.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.ts';

export interface Readiness {
  ready: boolean;
  /** One entry per dependency: true when fine, false or a short reason when not. */
  checks: Record<string, boolean | string>;
  /** What the service says of itself beside its checks (the scheduler: leader or follower). */
  info?: Record<string, string>;
}

export interface HttpServerOptions {
  service: string;
  /** 0 takes any free port; `url` tells which. */
  port: number;
  /**
   * The address to listen on; `127.0.0.1` unless given, so that nothing is offered to the network
   * by accident. Containers, whose probes and scrapes come from outside, pass `0.0.0.0`.
   */
  host?: string;
  registry: Registry;
  readiness: () => Promise<Readiness>;
  /** The service's own routes, registered as a Fastify plugin of their own. */
  routes?: (app: FastifyInstance) => void | Promise<void>;
  logger?: Logger;
}

export interface HttpServer {
  app: FastifyInstance;
  /** Where the server can be reached from this host, e.g. `http://127.0.0.1:7001`. */
  url: string;
  close(): Promise<void>;
}

// A readiness check that hangs would hold every probe open; the orchestrator's own probe timeout
// is longer than this, so the answer reaches it as "not ready" rather than as a timeout.
const readinessTimeoutMs = 5_000;

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const app = Fastify({ logger: false });

  app.setErrorHandler((error, request, reply) => {
    const statusCode = statusCodeOf(error);
    if (statusCode < 500) return reply.code(statusCode).send({ error: error instanceof Error ? error.message : 'bad request' });
    // The route's pattern, not the URL, which may carry a token in its query.
    options.logger?.error('http request failed', { method: request.method, route: request.routeOptions.url, error });
    return reply.code(statusCode).send({ error: 'internal server error' });
  });

  app.get('/healthz', async () => ({ status: 'ok', service: options.service }));

  app.get('/readyz', async (_request, reply) => {
    const { ready, checks, info } = await checkReadiness(options.readiness, options.logger);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks, ...(info ? { info } : {}) });
  });

  app.get('/metrics', async (_request, reply) => {
    const body = await options.registry.metrics();
    return reply.type(options.registry.contentType).send(body);
  });

  const { routes } = options;
  if (routes) await app.register(async (scope) => routes(scope));

  try {
    await app.listen({ port: options.port, host: options.host ?? '127.0.0.1' });
  } catch (error) {
    await app.close();
    throw error;
  }
  return { app, url: reachableUrl(app.server.address() as AddressInfo), close: () => app.close() };
}

async function checkReadiness(readiness: () => Promise<Readiness>, logger: Logger | undefined): Promise<Readiness> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Readiness>((resolve) => {
    timer = setTimeout(
      () => resolve({ ready: false, checks: { readiness: `no answer within ${readinessTimeoutMs} ms` } }),
      readinessTimeoutMs,
    );
  });
  try {
    return await Promise.race([readiness(), timeout]);
  } catch (error) {
    logger?.warn('readiness check failed', { error });
    // Only the class: the message may name a host or carry a connection string.
    return { ready: false, checks: { readiness: `failed: ${error instanceof Error ? error.name : typeof error}` } };
  } finally {
    clearTimeout(timer);
  }
}

function statusCodeOf(error: unknown): number {
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof statusCode === 'number' && statusCode >= 400 && statusCode < 600 ? statusCode : 500;
}

function reachableUrl(address: AddressInfo): string {
  // A server listening on every interface is reached through loopback.
  const host = address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '::1' : address.address;
  return `http://${address.family === 'IPv6' ? `[${host}]` : host}:${address.port}`;
}

/** True when `header` is `Bearer <apiToken>`; compared in constant time, so the answer's timing says nothing of the token. */
export function bearerTokenMatches(header: string | undefined, apiToken: string): boolean {
  const given = header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
  return timingSafeEqual(sha256(given), sha256(apiToken));
}

/**
 * An `onRequest` hook answering 401 unless the request carries `Authorization: Bearer <apiToken>`.
 * Added to a Fastify plugin, it guards every route registered in it, whatever spelling of the
 * URL routed the request, and no route outside it.
 */
export function bearerTokenCheck(apiToken: string) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (!bearerTokenMatches(request.headers.authorization, apiToken)) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'missing or wrong bearer token' });
    }
  };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
