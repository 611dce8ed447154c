// The aggregator's HTTP API beside /healthz, /readyz and /metrics:
//   POST /v1/usage               count usage (one increment or an array), straight into Redis
//   GET  /v1/aggregations/:date  what waits in Redis for a date, what PostgreSQL holds, the last run
import { bearerTokenCheck } from '@tickflow/runtime';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { CounterNotIntegerError, type UsageCounterStore, UsageStoreUnavailableError } from './adapters/usage-counter-store.ts';
import { type UsageRepository, UsageRepositoryError } from './adapters/usage-repository.ts';
import { aggregationStatus } from './aggregation-status.ts';
import { calendarDateProblem } from './domain/calendar-date.ts';
import { parseIncrements, type UsageDateWindow, UsageValidationError } from './domain/usage-increments.ts';
import type { UsageSurveyor } from './usage-surveyor.ts';

export interface AggregatorApiOptions {
  store: UsageCounterStore;
  repository: UsageRepository;
  metricTypes: ReadonlySet<string>;
  keyTtlSeconds: number;
  /** The dates POST /v1/usage takes. */
  usageWindow: UsageDateWindow;
  surveyor: UsageSurveyor;
  /** How old the survey behind a status may be (0: begun after the request). */
  statusMaxAgeMs: number;
  nearTtlMs: number;
  onIncrements(count: number): void;
  /** When set, the /v1 routes need `Authorization: Bearer <token>`. */
  apiToken: string | undefined;
}

export function aggregatorApi(options: AggregatorApiOptions) {
  return (app: FastifyInstance): void => {
    // The /v1 routes live in a plugin of their own, and the token check is its hook: Fastify
    // runs it for every route registered here, whatever spelling of the URL routed the request
    // (`/%761/usage`, a query, an absolute URL), and for no route outside.
    app.register(async (v1) => {
      if (options.apiToken !== undefined) v1.addHook('onRequest', bearerTokenCheck(options.apiToken));

      v1.post('/v1/usage', async (request, reply) => {
        try {
          const now = new Date();
          const increments = parseIncrements(request.body, { metricTypes: options.metricTypes, now, window: options.usageWindow });
          await options.store.increment(increments, options.keyTtlSeconds);
          options.onIncrements(increments.length);
          return reply.code(200).send({ accepted: increments.length });
        } catch (error) {
          return sendError(reply, error);
        }
      });

      v1.get<{ Params: { date: string } }>('/v1/aggregations/:date', async (request, reply) => {
        const problem = calendarDateProblem(request.params.date);
        if (problem) return reply.code(400).send({ error: `date ${problem}`, field: 'date' });
        try {
          const survey = await options.surveyor.read(options.statusMaxAgeMs);
          return reply.send(await aggregationStatus(request.params.date, survey, options.repository, options.nearTtlMs));
        } catch (error) {
          return sendError(reply, error);
        }
      });
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
