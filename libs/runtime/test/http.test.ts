import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, createMessagingMetrics, type HttpServer, type Readiness, startHttpServer } from '../src/index.ts';

describe('startHttpServer', () => {
  let server: HttpServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  function start(readiness: () => Promise<Readiness>, extra: Partial<Parameters<typeof startHttpServer>[0]> = {}) {
    const metrics = createMessagingMetrics();
    return startHttpServer({ service: 'metering', port: 0, registry: metrics.registry, readiness, ...extra }).then((started) => {
      server = started;
      return { server: started, metrics };
    });
  }

  it('listens on a free port on loopback when given port 0', async () => {
    const { server } = await start(async () => ({ ready: true, checks: {} }));
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.url).not.toMatch(/:0$/);
  });

  it('answers /healthz while the process runs', async () => {
    const { server } = await start(async () => ({ ready: false, checks: { kafka: false } }));
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', service: 'metering' });
  });

  it('answers /readyz with 200 when ready and 503 with the checks when not', async () => {
    let readiness: Readiness = { ready: true, checks: { kafka: true, postgres: true } };
    const { server } = await start(async () => readiness);

    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { kafka: true, postgres: true } });

    readiness = { ready: false, checks: { kafka: true, postgres: 'connection refused' } };
    const notReady = await fetch(`${server.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ status: 'not ready', checks: { kafka: true, postgres: 'connection refused' } });
  });

  it('answers /readyz with 503 when the readiness check throws, without its message', async () => {
    const lines: string[] = [];
    const logger = createLogger({ service: 'metering', write: (line) => lines.push(line) });
    const { server } = await start(
      async () => {
        throw new Error('cannot reach postgres://tickflow:hunter2@db');
      },
      { logger },
    );
    const response = await fetch(`${server.url}/readyz`);
    expect(response.status).toBe(503);
    const body = await response.text();
    expect(JSON.parse(body)).toEqual({ status: 'not ready', checks: { readiness: 'failed: Error' } });
    expect(body).not.toContain('hunter2');
    expect(lines.map((line) => JSON.parse(line).msg)).toEqual(['readiness check failed']);
  });

  it('serves the registry on /metrics in the Prometheus text format', async () => {
    const { server, metrics } = await start(async () => ({ ready: true, checks: {} }));
    metrics.messages.inc({ topic: 'metering.requests', outcome: 'dlq' });
    metrics.messages.inc({ topic: 'metering.requests', outcome: 'dlq' });
    metrics.retries.inc({ topic: 'metering.requests', tier: '4s' });
    metrics.consumerLag.set({ group: 'metering', topic: 'metering.requests', partition: '0' }, 7);

    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await response.text();
    expect(text).toContain('# TYPE tickflow_messages_total counter');
    expect(text).toContain('tickflow_messages_total{topic="metering.requests",outcome="dlq"} 2');
    expect(text).toContain('tickflow_retries_total{topic="metering.requests",tier="4s"} 1');
    expect(text).toContain('tickflow_consumer_lag{group="metering",topic="metering.requests",partition="0"} 7');
    expect(text).toContain('# TYPE tickflow_handler_duration_seconds histogram');
    expect(text).toContain('process_resident_memory_bytes');
  });

  it('serves the service’s own routes, and answers a failing one with a bare 500 it logs', async () => {
    const lines: string[] = [];
    const logger = createLogger({ service: 'metering', write: (line) => lines.push(line) });
    const { server } = await start(async () => ({ ready: true, checks: {} }), {
      logger,
      routes: (app) => {
        app.get('/contracts/:id', async (request) => ({ id: (request.params as { id: string }).id }));
        app.get('/broken', async () => {
          throw new Error('db password is hunter2');
        });
      },
    });

    const own = await fetch(`${server.url}/contracts/c-1`);
    expect(await own.json()).toEqual({ id: 'c-1' });

    const broken = await fetch(`${server.url}/broken?token=abc`);
    expect(broken.status).toBe(500);
    const body = await broken.text();
    expect(JSON.parse(body)).toEqual({ error: 'internal server error' });
    expect(lines).toHaveLength(1);
    const logged = JSON.parse(lines[0] ?? '{}');
    expect(logged).toMatchObject({
      level: 'error',
      msg: 'http request failed',
      method: 'GET',
      route: '/broken',
      error: { class: 'Error' },
    });
    expect(lines[0]).not.toContain('token=abc');

    const missing = await fetch(`${server.url}/nowhere`);
    expect(missing.status).toBe(404);
  });

  it('stops listening on close', async () => {
    const { server } = await start(async () => ({ ready: true, checks: {} }));
    await server.close();
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });

  it('fails to start on a port already taken', async () => {
    const { server: first } = await start(async () => ({ ready: true, checks: {} }));
    const port = Number(new URL(first.url).port);
    const metrics = createMessagingMetrics();
    await expect(
      startHttpServer({ service: 'metering', port, registry: metrics.registry, readiness: async () => ({ ready: true, checks: {} }) }),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});
