// Every service's configuration: where it serves HTTP, how much it logs, where its infrastructure
// is, and the variables of its own. All of them are validated together, so that one start names
// every bad variable at once.
//
// Secure by default: unless TICKFLOW_ENV=local (what `npm start` and the tests set), a service
// refuses to start without its API token, or with the local stack's development credentials
// standing in for real ones, so a deployment that forgot a variable fails at once instead of
// running open or against the wrong database.
import { z } from 'zod';
import { ConfigError, type Env, enumVar, loadConfig, portVar, stringVar } from './config.ts';
import {
  type InfrastructureName,
  type InfrastructureOf,
  infrastructureFrom,
  infrastructureSchemaFor,
  LOCAL_CREDENTIALS,
} from './infrastructure.ts';
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

export interface ServiceConfig<U extends InfrastructureName = InfrastructureName> {
  service: ServiceName;
  /** From TICKFLOW_ENV: `local` relaxes the rules meant for deployments. */
  environment: 'local' | 'production';
  /** From HOST and PORT. */
  http: { host: string; port: number };
  /** From LOG_LEVEL. */
  logLevel: LogLevel;
  infrastructure: InfrastructureOf<U>;
}

export interface ServiceConfigOptions<U extends InfrastructureName> {
  /** The infrastructure beyond Kafka, the registry and OTLP that the service uses; only its variables are read. */
  uses?: readonly U[];
  /** Variables of the service's own (its API token) that must be set outside TICKFLOW_ENV=local. */
  requiredSecrets?: readonly string[];
  /**
   * False when the configuration is read only to learn the service's topics (the CLI's
   * provision): the rules for a deployment's secrets are the service's to enforce at start.
   */
  forStart?: boolean;
}

// Loopback unless told otherwise, so that a service started on a laptop does not offer its API
// to the network; in a container, where probes and scrapes come from outside, set HOST=0.0.0.0.
const defaultHost = '127.0.0.1';

/**
 * Loads `service`'s configuration from `env`. `extra` declares the service's own variables;
 * their parsed values are returned under their variable names beside the common settings.
 * Throws a ConfigError naming every bad variable.
 */
export function loadServiceConfig<X extends z.ZodObject = z.ZodObject<Record<never, never>>, U extends InfrastructureName = never>(
  service: ServiceName,
  extra?: X,
  env: Env = process.env,
  options: ServiceConfigOptions<U> = {},
): ServiceConfig<U> & z.infer<X> {
  const uses = options.uses ?? [];
  const common = infrastructureSchemaFor(uses).extend({
    TICKFLOW_ENV: enumVar(['local', 'production'], 'production'),
    HOST: stringVar(defaultHost).refine((value) => /^[A-Za-z0-9.:-]+$/.test(value), 'must be a host name or IP address'),
    PORT: portVar(serviceHttpPorts[service]),
    LOG_LEVEL: enumVar(logLevels, 'info'),
  });
  const own = extra ?? z.object({});
  const c = loadConfig(common.and(own), env) as Record<string, unknown>;
  const environment = c.TICKFLOW_ENV as 'local' | 'production';
  if (environment !== 'local' && options.forStart !== false) refuseLocalDefaults(service, uses, options.requiredSecrets ?? [], env, c);
  const ownValues = Object.fromEntries(Object.keys(own.shape).map((name) => [name, c[name]]));
  return {
    ...ownValues,
    service,
    environment,
    http: { host: c.HOST as string, port: c.PORT as number },
    logLevel: c.LOG_LEVEL as LogLevel,
    infrastructure: infrastructureFrom(c, uses),
  } as ServiceConfig<U> & z.infer<X>;
}

function refuseLocalDefaults(
  service: ServiceName,
  uses: readonly InfrastructureName[],
  requiredSecrets: readonly string[],
  env: Env,
  parsed: Record<string, unknown>,
): void {
  const problems: string[] = [];
  const local = 'outside the local stack (TICKFLOW_ENV=local)';
  for (const name of requiredSecrets) if (parsed[name] === undefined) problems.push(`${name}: must be set ${local}`);
  const credentials: string[] = [];
  if (uses.includes('postgres')) credentials.push('DATABASE_URL');
  if (uses.includes('s3')) credentials.push('S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY');
  for (const name of credentials) {
    const given = env[name]?.trim();
    if (!given) problems.push(`${name}: must be set ${local}; the default is the local stack's development credential`);
    else if (isLocalCredential(name, given)) problems.push(`${name}: is the local stack's development credential, refused ${local}`);
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration of ${service}:\n  ${problems.join('\n  ')}`);
}

function isLocalCredential(name: string, value: string): boolean {
  if (name !== 'DATABASE_URL') return value === LOCAL_CREDENTIALS[name as keyof typeof LOCAL_CREDENTIALS];
  try {
    const url = new URL(value);
    return decodeURIComponent(url.password) === 'tickflow' && decodeURIComponent(url.username) === 'tickflow';
  } catch {
    return false;
  }
}
