// Pricing's HTTP API beside /healthz, /readyz and /metrics; reads need no token (a price list
// is public), CSV when asked by `format=csv` or `Accept: text/csv`:
//   GET /v1/regions                                     each region's version, last sync and result
//   GET /v1/prices?cloud=&region=&instanceType=&os=&tenancy=&term=&minVcpu=&minMemoryGiB=&maxPricePerHour=&sort=&limit=&offset=&all=
//   GET /v1/prices/:cloud/:region/:instanceType         its rows (every OS, tenancy and term) and its history of price changes
// Webhooks, with the API token (`Authorization: Bearer …`):
//   POST /v1/webhooks {url, clouds?, regions?, instanceFamilies?, minPercent?}   registers one; its signing secret is in this reply only
//   GET /v1/webhooks, DELETE /v1/webhooks/:id
import { bearerTokenCheck } from '@tickflow/runtime';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type CatalogueRepository, type CatalogueRow, PRICE_SORTS, type PriceFilter } from './adapters/catalogue-repository.ts';
import type { WebhookRepository } from './adapters/webhook-repository.ts';
import type { WebhookSender } from './adapters/webhook-sender.ts';
import { readRegistration } from './domain/webhooks.ts';

export interface PricingApiOptions {
  repository: CatalogueRepository;
  webhooks: WebhookRepository;
  /** Says whether a webhook's URL may be reached (the SSRF guard). */
  sender: WebhookSender;
  /** When set, the webhook routes need `Authorization: Bearer <token>`. */
  apiToken: string | undefined;
}

const MAX_LIMIT = 1000;
const DECIMAL = /^\d+(\.\d+)?$/;
const CSV_COLUMNS: (keyof CatalogueRow)[] = [
  'cloud',
  'region',
  'instanceType',
  'operatingSystem',
  'tenancy',
  'licenseModel',
  'preInstalledSoftware',
  'capacityStatus',
  'term',
  'currency',
  'hourly',
  'upfront',
  'vcpu',
  'memoryGiB',
  'gpu',
  'storage',
  'network',
  'version',
];

class BadQuery extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

type Query = Record<string, string | undefined>;

export function pricingApi(options: PricingApiOptions) {
  return (app: FastifyInstance): void => {
    app.setErrorHandler((error, _request, reply) => {
      if (error instanceof BadQuery) return reply.code(400).send({ error: error.message, field: error.field });
      return reply.send(error);
    });

    app.get('/v1/regions', async () => ({ regions: await options.repository.regions() }));

    app.get<{ Querystring: Query }>('/v1/prices', async (request, reply) => {
      const filter = filterOf(request.query);
      const { rows, total } = await options.repository.prices(filter);
      if (wantsCsv(request)) return sendCsv(reply, rows);
      return { total, limit: filter.limit, offset: filter.offset, prices: rows };
    });

    app.get<{ Params: { cloud: string; region: string; instanceType: string }; Querystring: Query }>(
      '/v1/prices/:cloud/:region/:instanceType',
      async (request, reply) => {
        const { cloud, region, instanceType } = request.params;
        const { rows } = await options.repository.prices({
          ...filterOf(request.query),
          cloud,
          region,
          instanceType,
          all: true,
          limit: MAX_LIMIT,
        });
        const history = await options.repository.history(cloud, region, instanceType, 200);
        if (rows.length === 0 && history.length === 0) {
          return reply.code(404).send({ error: `no prices for ${instanceType} in ${cloud}/${region}`, field: 'instanceType' });
        }
        if (wantsCsv(request)) return sendCsv(reply, rows);
        return { cloud, region, instanceType, prices: rows, history: history.map(({ sku: _, ...change }) => change) };
      },
    );

    app.register(async (hooks) => {
      if (options.apiToken !== undefined) hooks.addHook('onRequest', bearerTokenCheck(options.apiToken));
      hooks.post('/v1/webhooks', async (request, reply) => {
        const read = readRegistration(request.body);
        if ('error' in read) return reply.code(400).send(read);
        const forbidden = await options.sender.forbidden(read.registration.url);
        if (forbidden !== null) return reply.code(400).send({ error: `url is not one a webhook may reach: ${forbidden}`, field: 'url' });
        return reply.code(201).send(await options.webhooks.create(read.registration));
      });
      hooks.get('/v1/webhooks', async () => ({ webhooks: await options.webhooks.list() }));
      hooks.delete<{ Params: { id: string } }>('/v1/webhooks/:id', async (request, reply) => {
        const { id } = request.params;
        if (!/^[0-9a-f-]{36}$/.test(id)) return reply.code(400).send({ error: `'${id}' is not a webhook id`, field: 'id' });
        if (!(await options.webhooks.delete(id))) return reply.code(404).send({ error: `no webhook ${id}`, field: 'id' });
        return reply.code(204).send();
      });
    });
  };
}

function filterOf(query: Query): PriceFilter {
  const text = (name: string) => {
    const value = query[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const int = (name: string, fallback: number, min: number, max: number) => {
    const value = text(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new BadQuery(name, `${name} must be a whole number from ${min} to ${max}, got '${value}'`);
    return n;
  };
  const decimal = (name: string) => {
    const value = text(name);
    if (value !== undefined && !DECIMAL.test(value))
      throw new BadQuery(name, `${name} must be a non-negative decimal such as 0.25, got '${value}'`);
    return value;
  };
  const sort = text('sort') ?? 'price';
  if (!(PRICE_SORTS as readonly string[]).includes(sort))
    throw new BadQuery('sort', `sort must be one of ${PRICE_SORTS.join(', ')}, got '${sort}'`);
  const all = text('all');
  if (all !== undefined && all !== 'true' && all !== 'false') throw new BadQuery('all', `all must be true or false, got '${all}'`);
  return {
    cloud: text('cloud'),
    region: text('region'),
    instanceType: text('instanceType'),
    os: text('os'),
    tenancy: text('tenancy'),
    term: text('term'),
    minVcpu: text('minVcpu') === undefined ? undefined : int('minVcpu', 0, 0, 100_000),
    minMemoryGiB: decimal('minMemoryGiB'),
    maxPricePerHour: decimal('maxPricePerHour'),
    // Asking for an OS, tenancy or term other than the default slice's means the whole catalogue.
    all: all === 'true' || text('os') !== undefined || text('tenancy') !== undefined || text('term') !== undefined,
    sort: sort as PriceFilter['sort'],
    limit: int('limit', 100, 1, MAX_LIMIT),
    offset: int('offset', 0, 0, 10_000_000),
  };
}

function wantsCsv(request: FastifyRequest<{ Querystring: Query }>): boolean {
  return request.query.format === 'csv' || (request.headers.accept ?? '').includes('text/csv');
}

function sendCsv(reply: FastifyReply, rows: CatalogueRow[]) {
  const cell = (value: unknown) => {
    const text = value === null || value === undefined ? '' : String(value);
    return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const lines = [CSV_COLUMNS.join(','), ...rows.map((row) => CSV_COLUMNS.map((c) => cell(row[c])).join(','))];
  return reply.header('content-type', 'text/csv; charset=utf-8').send(`${lines.join('\r\n')}\r\n`);
}
