// Pod-retry's HTTP API beside /healthz, /readyz and /metrics. Claims hold clients' data, so
// every route asks for the service's token (`Authorization: Bearer …`):
//   POST /v1/claims {claimId, clientId, carrier, trackingNumber} | {claims: [...]}   registers, idempotently
//   GET  /v1/claims/:id                                                             one claim and its attempts
//   GET  /v1/claims?status=&after=&limit=                                           claims by id, a page at a time
import { bearerTokenCheck } from '@tickflow/runtime';
import type { FastifyInstance } from 'fastify';
import type { ClaimRepository } from './adapters/claim-repository.ts';
import { POD_STATUSES, type PodStatus, readClaims } from './domain/claim.ts';

export interface PodRetryApiOptions {
  claims: ClaimRepository;
  /** The carriers a claim may name. */
  carriers: readonly string[];
  apiToken: string;
}

const MAX_LIMIT = 1000;

export function podRetryApi(options: PodRetryApiOptions) {
  return (app: FastifyInstance): void => {
    app.register(async (routes) => {
      routes.addHook('onRequest', bearerTokenCheck(options.apiToken));

      routes.post('/v1/claims', async (request, reply) => {
        const read = readClaims(request.body, options.carriers);
        if ('error' in read) return reply.code(400).send(read);
        const registered = await options.claims.register(read.claims);
        if ('conflict' in registered) {
          const { claimId, registered: held } = registered.conflict;
          return reply.code(409).send({
            error: `claim ${claimId} is already registered for client ${held.clientId}, carrier ${held.carrier}, tracking number ${held.trackingNumber}`,
            field: 'claimId',
            claimId,
          });
        }
        const created = registered.claims.filter((c) => c.result === 'created').length;
        return reply
          .code(created > 0 ? 201 : 200)
          .send({ created, existing: registered.claims.length - created, claims: registered.claims });
      });

      routes.get<{ Params: { id: string } }>('/v1/claims/:id', async (request, reply) => {
        const claim = await options.claims.get(request.params.id);
        if (claim === null) return reply.code(404).send({ error: `no claim ${request.params.id}` });
        return claim;
      });

      routes.get<{ Querystring: Record<string, string | undefined> }>('/v1/claims', async (request, reply) => {
        const { status, after, limit: limitText } = request.query;
        if (status !== undefined && !(POD_STATUSES as readonly string[]).includes(status)) {
          return reply.code(400).send({ error: `status must be one of ${POD_STATUSES.join(', ')}, got '${status}'`, field: 'status' });
        }
        const limit = limitText === undefined ? 100 : Number(limitText);
        if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
          return reply.code(400).send({ error: `limit must be a whole number from 1 to ${MAX_LIMIT}, got '${limitText}'`, field: 'limit' });
        }
        const claims = await options.claims.list({ status: status as PodStatus | undefined, after, limit });
        return { claims, next: claims.length === limit ? claims[claims.length - 1]?.claimId : null };
      });
    });
  };
}
