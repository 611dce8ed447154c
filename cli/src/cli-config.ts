// The CLI reaches the same infrastructure as the services, from the same variables, plus
// the scheduler's and the aggregator's HTTP APIs. The token is a secret: it is passed on, never printed.
import { loadConfig, loadInfrastructure, urlVar } from '@tickflow/runtime';
import { z } from 'zod';

export interface CliConfig {
  kafkaBrokers: string[];
  schemaRegistryUrl: string;
  schedulerUrl: string;
  schedulerApiToken: string | undefined;
  aggregatorUrl: string;
  aggregatorApiToken: string | undefined;
}

const schedulerSchema = z.object({
  SCHEDULER_URL: urlVar(['http', 'https'], 'http://127.0.0.1:7000'),
  SCHEDULER_API_TOKEN: z.string().trim().optional(),
  AGGREGATOR_URL: urlVar(['http', 'https'], 'http://127.0.0.1:7002'),
  AGGREGATOR_API_TOKEN: z.string().trim().optional(),
});

export function loadCliConfig(env: Record<string, string | undefined> = process.env): CliConfig {
  const infrastructure = loadInfrastructure(env);
  const scheduler = loadConfig(schedulerSchema, env);
  return {
    kafkaBrokers: infrastructure.kafkaBrokers,
    schemaRegistryUrl: infrastructure.schemaRegistryUrl,
    schedulerUrl: scheduler.SCHEDULER_URL.replace(/\/+$/, ''),
    schedulerApiToken: scheduler.SCHEDULER_API_TOKEN || undefined,
    aggregatorUrl: scheduler.AGGREGATOR_URL.replace(/\/+$/, ''),
    aggregatorApiToken: scheduler.AGGREGATOR_API_TOKEN || undefined,
  };
}
