// GET /schedules and POST /schedules/:name/trigger.
import { bearerTokenMatches } from '@tickflow/runtime';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { SentTick } from './adapters/tick-publisher.ts';
import { nextFiring } from './domain/firings.ts';
import type { Schedule } from './domain/schedules.ts';

export interface SchedulerApiOptions {
  schedules: Schedule[];
  lastFirings(): Promise<Map<string, Date>>;
  trigger(schedule: Schedule, payload: Record<string, string>): Promise<SentTick>;
  /** Unset: manual triggers are refused. */
  apiToken: string | undefined;
}

const triggerBody = z.strictObject({ payload: z.record(z.string(), z.string()).optional() }).optional();

export function schedulerApi(options: SchedulerApiOptions) {
  return (app: FastifyInstance) => {
    app.get('/schedules', async () => {
      const last = await options.lastFirings();
      const now = new Date();
      return {
        schedules: options.schedules.map((s) => {
          const lastFiring = last.get(s.name);
          const next = s.enabled ? nextFiring(s, lastFiring && lastFiring > now ? lastFiring : now) : undefined;
          return {
            name: s.name,
            cron: s.cron,
            timezone: s.timezone,
            topic: s.topic,
            enabled: s.enabled,
            catchUp: s.catchUp,
            nextFiring: next?.toISOString() ?? null,
            lastFiring: lastFiring?.toISOString() ?? null,
          };
        }),
      };
    });

    app.post<{ Params: { name: string } }>('/schedules/:name/trigger', async (request, reply) => {
      if (!options.apiToken) return reply.code(403).send({ error: 'manual triggers are disabled: SCHEDULER_API_TOKEN is not set' });
      if (!bearerTokenMatches(request.headers.authorization, options.apiToken)) {
        return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'a valid bearer token is required' });
      }
      const schedule = options.schedules.find((s) => s.name === request.params.name);
      if (!schedule) return reply.code(404).send({ error: `no schedule named "${request.params.name}"` });
      const body = triggerBody.safeParse(request.body ?? undefined);
      if (!body.success) {
        const issue = body.error.issues[0];
        return reply.code(400).send({ error: `${issue?.path.join('.') || 'body'}: ${issue?.message}` });
      }
      const sent = await options.trigger(schedule, body.data?.payload ?? {});
      return reply.code(202).send(sent);
    });
  };
}
