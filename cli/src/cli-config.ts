// The CLI reaches the same infrastructure as the services, from the same variables, plus
// the HTTP APIs of the scheduler, the aggregator, metering and pricing. The token is a secret: it is passed on, never printed.
import { type Infrastructure, loadConfig, loadInfrastructure, readLocalApiToken, secretVar, stringVar, urlVar } from '@tickflow/runtime';
import { z } from 'zod';

export interface CliConfig {
  kafkaBrokers: string[];
  kafkaSecurity: Infrastructure['kafkaSecurity'];
  kafkaReplication: Infrastructure['kafkaReplication'];
  schemaRegistryUrl: string;
  schemaRegistryAuth: Infrastructure['schemaRegistryAuth'];
  schedulerUrl: string;
  schedulerApiToken: string | undefined;
  aggregatorUrl: string;
  aggregatorApiToken: string | undefined;
  meteringUrl: string;
  meteringApiToken: string | undefined;
  pricingUrl: string;
  /** Where `tickflow pricing sync` sends its tick: `<PRICING_INSTANCE>.requests`. */
  pricingRequestsTopic: string;
}

const servicesSchema = z.object({
  SCHEDULER_URL: urlVar(['http', 'https'], 'http://127.0.0.1:7000'),
  SCHEDULER_API_TOKEN: secretVar({ minLength: 1 }),
  AGGREGATOR_URL: urlVar(['http', 'https'], 'http://127.0.0.1:7002'),
  AGGREGATOR_API_TOKEN: secretVar({ minLength: 1 }),
  METERING_URL: urlVar(['http', 'https'], 'http://127.0.0.1:7001'),
  METERING_API_TOKEN: secretVar({ minLength: 1 }),
  PRICING_URL: urlVar(['http', 'https'], 'http://127.0.0.1:7003'),
  PRICING_INSTANCE: stringVar('pricing').refine((v) => /^[A-Za-z0-9._-]+$/.test(v), 'must be a topic-safe name'),
});

export function loadCliConfig(env: Record<string, string | undefined> = process.env): CliConfig {
  const infrastructure = loadInfrastructure(env);
  const services = loadConfig(servicesSchema, env);
  return {
    kafkaBrokers: infrastructure.kafkaBrokers,
    kafkaSecurity: infrastructure.kafkaSecurity,
    kafkaReplication: infrastructure.kafkaReplication,
    schemaRegistryUrl: infrastructure.schemaRegistryUrl,
    schemaRegistryAuth: infrastructure.schemaRegistryAuth,
    schedulerUrl: services.SCHEDULER_URL.replace(/\/+$/, ''),
    // Unset, the token `npm start` made for the local services (.stack/api-token), if any.
    schedulerApiToken: services.SCHEDULER_API_TOKEN || readLocalApiToken(env),
    aggregatorUrl: services.AGGREGATOR_URL.replace(/\/+$/, ''),
    aggregatorApiToken: services.AGGREGATOR_API_TOKEN || readLocalApiToken(env),
    meteringUrl: services.METERING_URL.replace(/\/+$/, ''),
    meteringApiToken: services.METERING_API_TOKEN || readLocalApiToken(env),
    pricingUrl: services.PRICING_URL.replace(/\/+$/, ''),
    pricingRequestsTopic: `${services.PRICING_INSTANCE}.requests`,
  };
}
