// Every service's configuration: where it serves HTTP, how much it logs, where its infrastructure
// is, and the variables of its own. All of them are validated together, so that one start names
// every bad variable at once.
import { z } from 'zod';
import { type Env, enumVar, loadConfig, portVar, stringVar } from './config.ts';
import { type Infrastructure, infrastructureFrom, infrastructureSchema } from './infrastructure.ts';
import { type LogLevel, logLevels } from './logger.ts';

export const serviceHttpPorts = {
  scheduler: 7000,
  metering: 7001,
  aggregator: 7002,
  pricing: 7003,
  'pod-retry': 7004,
  reporting: 7005,
} as const;

export type ServiceName = keyof typeof serviceHttpPorts;

export interface ServiceConfig {
  service: ServiceName;
  /** From HOST and PORT. */
  http: { host: string; port: number };
  /** From LOG_LEVEL. */
  logLevel: LogLevel;
  infrastructure: Infrastructure;
}

// Loopback unless told otherwise, so that a service started on a laptop does not offer its API
// to the network; in a container, where probes and scrapes come from outside, set HOST=0.0.0.0.
const defaultHost = '127.0.0.1';

/**
 * Loads `service`'s configuration from `env`. `extra` declares the service's own variables;
 * their parsed values are returned under their variable names beside the common settings.
 * Throws a ConfigError naming every bad variable.
 */
export function loadServiceConfig<X extends z.ZodObject = z.ZodObject<Record<never, never>>>(
  service: ServiceName,
  extra?: X,
  env: Env = process.env,
): ServiceConfig & z.infer<X> {
  const common = infrastructureSchema.extend({
    HOST: stringVar(defaultHost).refine((value) => /^[A-Za-z0-9.:-]+$/.test(value), 'must be a host name or IP address'),
    PORT: portVar(serviceHttpPorts[service]),
    LOG_LEVEL: enumVar(logLevels, 'info'),
  });
  const own = extra ?? z.object({});
  const c = loadConfig(common.and(own), env);
  const ownValues = Object.fromEntries(Object.keys(own.shape).map((name) => [name, (c as Record<string, unknown>)[name]]));
  return {
    ...ownValues,
    service,
    http: { host: c.HOST, port: c.PORT },
    logLevel: c.LOG_LEVEL,
    infrastructure: infrastructureFrom(c),
  } as ServiceConfig & z.infer<X>;
}
