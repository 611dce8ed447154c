// The aggregator's HTTP API beside /healthz, /readyz and /metrics:
//   POST /v1/usage               count usage (one increment or an array), straight into Redis
//   GET  /v1/aggregations/:date  what waits in Redis for a date, what PostgreSQL holds, the last run
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { CounterNotIntegerError, type UsageCounterStore, UsageStoreUnavailableError } from './adapters/usage-counter-store.ts';
import { type UsageRepository, UsageRepositoryError } from './adapters/usage-repository.ts';
import { aggregationStatus, type StatusOptions } from './aggregation-status.ts';
import { calendarDateProblem } from './domain/calendar-date.ts';
import { parseIncrements, UsageValidationError } from './domain/usage-increments.ts';

export interface AggregatorApiOptions {
  store: UsageCounterStore;
  repository: UsageRepository;
  metricTypes: ReadonlySet<string>;
  keyTtlSeconds: number;
  status: Omit<StatusOptions, 'metricTypes'>;
  onIncrements(count: number): void;
  /** When set, /v1 requests need `Authorization: Bearer <token>`. */
  apiToken: string | undefined;
}

export function aggregatorApi(options: AggregatorApiOptions) {
  return (app: FastifyInstance): void => {
    if (options.apiToken !== undefined) {
      const expected = digest(options.apiToken);
      app.addHook('onRequest', async (request, reply) => {
        if (!request.url.startsWith('/v1/')) return;
        const header = request.headers.authorization ?? '';
        const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
        // Digests of equal length, compared in constant time: the answer's timing says nothing about the token.
        if (!timingSafeEqual(digest(token), expected)) {
          return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'missing or wrong bearer token' });
        }
      });
    }

    app.post('/v1/usage', async (request, reply) => {
      try {
        const increments = parseIncrements(request.body, { metricTypes: options.metricTypes, now: new Date() });
        await options.store.increment(increments, options.keyTtlSeconds);
        options.onIncrements(increments.length);
        return reply.code(200).send({ accepted: increments.length });
      } catch (error) {
        return sendError(reply, error);
      }
    });

    app.get<{ Params: { date: string } }>('/v1/aggregations/:date', async (request, reply) => {
      const problem = calendarDateProblem(request.params.date);
      if (problem) return reply.code(400).send({ error: `date ${problem}`, field: 'date' });
      try {
        return reply.send(
          await aggregationStatus(request.params.date, options.store, options.repository, {
            ...options.status,
            metricTypes: options.metricTypes,
          }),
        );
      } catch (error) {
        return sendError(reply, error);
      }
    });
  };
}

function sendError(reply: FastifyReply, error: unknown) {
  if (error instanceof UsageValidationError) return reply.code(400).send({ error: error.message, field: error.field });
  if (error instanceof CounterNotIntegerError) return reply.code(409).send({ error: error.message, key: error.key });
  if (error instanceof UsageStoreUnavailableError) return reply.code(503).send({ error: 'Redis unavailable' });
  if (error instanceof UsageRepositoryError) return reply.code(503).send({ error: 'PostgreSQL unavailable' });
  throw error;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
