// Metering's HTTP API beside /healthz, /readyz and /metrics:
//   GET  /v1/metering                     the plans, each with the last month processed
//   GET  /v1/metering/:plan/:month        a plan-month's state: its files and records, each contract's bill and outcome
//   POST /v1/metering/:plan/:month/retry  re-send the contracts in error (or one: {"contractId": …}), past the retry limit too
import { randomUUID } from 'node:crypto';
import { bearerTokenCheck } from '@tickflow/runtime';
import type { FastifyInstance } from 'fastify';
import type { ContractStatus, MeteringRepository } from './adapters/metering-repository.ts';
import { isMonth } from './domain/month.ts';
import type { Plan } from './domain/plan.ts';

export interface MeteringApiOptions {
  plans: readonly Plan[];
  repository: MeteringRepository;
  dryRun: boolean;
  /** Sends a contract's request onto the service's own topic. */
  publish: (contractId: string, payload: { plan: string; month: string; contractId: string; sends: number }, id: string) => Promise<void>;
  /** When set, the /v1 routes need `Authorization: Bearer <token>`. */
  apiToken: string | undefined;
}

const STATUSES: readonly ContractStatus[] = ['pending', 'sent', 'error', 'skipped', 'dry_run'];

type PlanMonthParams = { Params: { plan: string; month: string } };

export function meteringApi(options: MeteringApiOptions) {
  return (app: FastifyInstance): void => {
    app.register(async (v1) => {
      if (options.apiToken !== undefined) v1.addHook('onRequest', bearerTokenCheck(options.apiToken));

      const problem = (params: { plan: string; month: string }) => {
        if (!options.plans.some((p) => p.id === params.plan)) {
          return {
            status: 404,
            body: {
              error: `plan '${params.plan}' is not one of METERING_PLANS: ${options.plans.map((p) => p.id).join(', ')}`,
              field: 'plan',
            },
          };
        }
        if (!isMonth(params.month)) return { status: 400, body: { error: `month '${params.month}' is not YYYY-MM`, field: 'month' } };
        return undefined;
      };

      v1.get('/v1/metering', async () => ({
        dryRun: options.dryRun,
        plans: await Promise.all(
          options.plans.map(async (p) => ({ plan: p.id, lastProcessedMonth: await options.repository.lastProcessed(p.id) })),
        ),
      }));

      v1.get<PlanMonthParams & { Querystring: { status?: string; contract?: string } }>(
        '/v1/metering/:plan/:month',
        async (request, reply) => {
          const bad = problem(request.params);
          if (bad) return reply.code(bad.status).send(bad.body);
          const { status, contract } = request.query;
          if (status !== undefined && !STATUSES.includes(status as ContractStatus)) {
            return reply.code(400).send({ error: `status must be one of ${STATUSES.join(', ')}`, field: 'status' });
          }
          const { plan, month } = request.params;
          const [record, lastProcessedMonth, contracts] = await Promise.all([
            options.repository.planMonth(plan, month),
            options.repository.lastProcessed(plan),
            options.repository.contracts(plan, month),
          ]);
          const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<ContractStatus, number>;
          let warnings = 0;
          for (const c of contracts) {
            counts[c.status] += 1;
            if (c.warnings.length > 0) warnings += 1;
          }
          return reply.send({
            plan,
            month,
            dryRun: options.dryRun,
            lastProcessedMonth,
            status: record?.status ?? 'not processed',
            files: record?.files ?? 0,
            recordsRead: record?.recordsRead ?? 0,
            recordsSkipped: record?.recordsSkipped ?? 0,
            skippedByReason: record?.skippedByReason ?? {},
            error: record?.error ?? null,
            computedAt: record?.computedAt ?? null,
            completedAt: record?.completedAt ?? null,
            counts: { contracts: contracts.length, ...counts, warnings },
            contracts: contracts.filter(
              (c) => (status === undefined || c.status === status) && (contract === undefined || c.contractId === contract),
            ),
          });
        },
      );

      v1.post<PlanMonthParams & { Body: { contractId?: unknown } | undefined }>(
        '/v1/metering/:plan/:month/retry',
        async (request, reply) => {
          const bad = problem(request.params);
          if (bad) return reply.code(bad.status).send(bad.body);
          const contractId = request.body?.contractId;
          if (contractId !== undefined && (typeof contractId !== 'string' || contractId === '')) {
            return reply.code(400).send({ error: 'contractId must be a non-empty string', field: 'contractId' });
          }
          const { plan, month } = request.params;
          const contracts = await options.repository.contracts(plan, month, contractId ? { contractId } : { status: 'error' });
          if (contractId && contracts.length === 0)
            return reply.code(404).send({ error: `no contract ${contractId} in ${plan} ${month}`, field: 'contractId' });
          const notInError = contracts.find((c) => c.status !== 'error');
          if (contractId && notInError) {
            return reply
              .code(409)
              .send({ error: `contract ${contractId} of ${plan} ${month} is ${notInError.status}, not in error`, field: 'contractId' });
          }
          // A fresh id per request: an operator asking again means it.
          const requestId = randomUUID();
          for (const c of contracts) {
            await options.publish(
              c.contractId,
              { plan, month, contractId: c.contractId, sends: c.sends },
              `retry/${requestId}/${c.contractId}`,
            );
          }
          return reply.code(202).send({ plan, month, resent: contracts.map((c) => c.contractId) });
        },
      );
    });
  };
}
