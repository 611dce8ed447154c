// Where tickflow finds its infrastructure. The defaults are the local stack's endpoints
// (deploy/local); each variable points tickflow at existing infrastructure instead. Kafka,
// the schema registry and the OTLP collector every service uses; PostgreSQL, Redis, S3 and
// SMTP only those that declare them, so a service parses (and can be refused on) only what
// it uses.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, type Env, enumVar, loadConfig, secretVar, stringVar, urlVar } from './config.ts';

const hostPort = /^[A-Za-z0-9.-]+:\d{1,5}$/;

/** The local stack's development credentials: fine on a laptop, refused anywhere else. */
export const LOCAL_CREDENTIALS = {
  DATABASE_URL: 'postgres://tickflow:tickflow@127.0.0.1:5432/tickflow',
  S3_ACCESS_KEY_ID: 'tickflow',
  S3_SECRET_ACCESS_KEY: 'tickflow-secret',
} as const;

const kafkaSchema = z.object({
  KAFKA_BROKERS: stringVar('127.0.0.1:9092')
    .transform((value) => value.split(',').map((broker) => broker.trim()))
    .refine((brokers) => brokers.every((b) => hostPort.test(b)), 'must be a comma-separated list of host:port'),
  /** none, plain, scram-sha-256 or scram-sha-512. */
  KAFKA_SASL_MECHANISM: enumVar(['none', 'plain', 'scram-sha-256', 'scram-sha-512'], 'none'),
  KAFKA_SASL_USERNAME: z.string().trim().optional(),
  KAFKA_SASL_PASSWORD: secretVar({ minLength: 1 }),
  /** TLS to the brokers: on with a CA file, or with the system's CAs when `true`. */
  KAFKA_TLS: enumVar(['true', 'false'], 'false'),
  KAFKA_TLS_CA_FILE: z.string().trim().optional(),
  KAFKA_TLS_CERT_FILE: z.string().trim().optional(),
  KAFKA_TLS_KEY_FILE: z.string().trim().optional(),
  /** Replication of the topics tickflow creates; unset: min(3, brokers), min.insync.replicas one less. */
  KAFKA_REPLICATION_FACTOR: z
    .string()
    .trim()
    .optional()
    .refine((v) => !v || /^[1-9]\d{0,1}$/.test(v), 'must be a whole number from 1 to 99'),
  KAFKA_MIN_INSYNC_REPLICAS: z
    .string()
    .trim()
    .optional()
    .refine((v) => !v || /^[1-9]\d{0,1}$/.test(v), 'must be a whole number from 1 to 99'),
  /** Where a consumer group that has never committed starts on a request topic. */
  KAFKA_NEW_GROUP_START: enumVar(['latest', 'earliest'], 'latest'),
  SCHEMA_REGISTRY_URL: urlVar(['http', 'https'], 'http://127.0.0.1:8081/apis/ccompat/v7'),
  SCHEMA_REGISTRY_USERNAME: z.string().trim().optional(),
  SCHEMA_REGISTRY_PASSWORD: secretVar({ minLength: 1 }),
  OTEL_EXPORTER_OTLP_ENDPOINT: urlVar(['http', 'https'], 'http://127.0.0.1:4318'),
});

const partSchemas = {
  postgres: z.object({ DATABASE_URL: urlVar(['postgres', 'postgresql'], LOCAL_CREDENTIALS.DATABASE_URL) }),
  redis: z.object({ REDIS_URL: urlVar(['redis', 'rediss'], 'redis://127.0.0.1:6379') }),
  s3: z.object({
    S3_ENDPOINT: urlVar(['http', 'https'], 'http://127.0.0.1:9000'),
    S3_REGION: stringVar('us-east-1'),
    S3_ACCESS_KEY_ID: stringVar(LOCAL_CREDENTIALS.S3_ACCESS_KEY_ID),
    S3_SECRET_ACCESS_KEY: stringVar(LOCAL_CREDENTIALS.S3_SECRET_ACCESS_KEY),
  }),
  smtp: z.object({ SMTP_URL: urlVar(['smtp', 'smtps'], 'smtp://127.0.0.1:1025') }),
};

export type InfrastructureName = keyof typeof partSchemas;
export const infrastructureNames = Object.keys(partSchemas) as InfrastructureName[];

/** Every variable of every part: what the CLI, the tests and docker-compose read. */
export const infrastructureSchema = kafkaSchema
  .extend(partSchemas.postgres.shape)
  .extend(partSchemas.redis.shape)
  .extend(partSchemas.s3.shape)
  .extend(partSchemas.smtp.shape);

export interface KafkaSecurity {
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  /** Absent: plaintext. */
  tls?: { ca?: string; cert?: string; key?: string };
}

export interface Infrastructure {
  kafkaBrokers: string[];
  kafkaSecurity: KafkaSecurity;
  /** Replication of created topics; unset parts follow the cluster's size. */
  kafkaReplication: { factor?: number; minInsyncReplicas?: number };
  kafkaNewGroupStart: 'latest' | 'earliest';
  schemaRegistryUrl: string;
  schemaRegistryAuth?: { username: string; password: string };
  databaseUrl: string;
  redisUrl: string;
  s3: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string };
  otlpEndpoint: string;
  smtpUrl: string;
}

const partFields = { postgres: 'databaseUrl', redis: 'redisUrl', s3: 's3', smtp: 'smtpUrl' } as const;
const urlVariables = { postgres: 'DATABASE_URL', redis: 'REDIS_URL', smtp: 'SMTP_URL' } as const;
type CoreField =
  | 'kafkaBrokers'
  | 'kafkaSecurity'
  | 'kafkaReplication'
  | 'kafkaNewGroupStart'
  | 'schemaRegistryUrl'
  | 'schemaRegistryAuth'
  | 'otlpEndpoint';
/** The infrastructure of a service that uses the parts `U`, and nothing else. */
export type InfrastructureOf<U extends InfrastructureName> = Pick<Infrastructure, CoreField | (typeof partFields)[U]>;

export function loadInfrastructure(env: Env = process.env): Infrastructure {
  return infrastructureFrom(loadConfig(infrastructureSchema, env), infrastructureNames) as Infrastructure;
}

/** The schema of the variables a service using `uses` reads. */
export function infrastructureSchemaFor(uses: readonly InfrastructureName[]) {
  let schema: z.ZodObject = kafkaSchema;
  for (const part of uses) schema = schema.extend(partSchemas[part].shape);
  return schema;
}

/** The endpoints in variables already parsed with `infrastructureSchemaFor(uses)`. */
export function infrastructureFrom<U extends InfrastructureName>(c: Record<string, unknown>, uses: readonly U[]): InfrastructureOf<U> {
  const v = c as Record<string, string | string[] | undefined>;
  const infrastructure: Record<string, unknown> = {
    kafkaBrokers: v.KAFKA_BROKERS,
    kafkaSecurity: kafkaSecurityFrom(v as Record<string, string | undefined>),
    kafkaReplication: {
      ...(v.KAFKA_REPLICATION_FACTOR ? { factor: Number(v.KAFKA_REPLICATION_FACTOR) } : {}),
      ...(v.KAFKA_MIN_INSYNC_REPLICAS ? { minInsyncReplicas: Number(v.KAFKA_MIN_INSYNC_REPLICAS) } : {}),
    },
    kafkaNewGroupStart: v.KAFKA_NEW_GROUP_START,
    schemaRegistryUrl: v.SCHEMA_REGISTRY_URL,
    otlpEndpoint: v.OTEL_EXPORTER_OTLP_ENDPOINT,
  };
  const registryUser = v.SCHEMA_REGISTRY_USERNAME as string | undefined;
  if (registryUser)
    infrastructure.schemaRegistryAuth = { username: registryUser, password: (v.SCHEMA_REGISTRY_PASSWORD as string | undefined) ?? '' };
  for (const part of uses) {
    if (part === 's3') {
      infrastructure.s3 = {
        endpoint: v.S3_ENDPOINT,
        region: v.S3_REGION,
        accessKeyId: v.S3_ACCESS_KEY_ID,
        secretAccessKey: v.S3_SECRET_ACCESS_KEY,
      };
    } else {
      infrastructure[partFields[part]] = v[urlVariables[part as Exclude<InfrastructureName, 's3'>]];
    }
  }
  return infrastructure as InfrastructureOf<U>;
}

function kafkaSecurityFrom(v: Record<string, string | undefined>): KafkaSecurity {
  const security: KafkaSecurity = {};
  const mechanism = v.KAFKA_SASL_MECHANISM as 'none' | 'plain' | 'scram-sha-256' | 'scram-sha-512';
  const problems: string[] = [];
  if (mechanism !== 'none') {
    if (!v.KAFKA_SASL_USERNAME) problems.push(`KAFKA_SASL_USERNAME: must be set with KAFKA_SASL_MECHANISM=${mechanism}`);
    if (!v.KAFKA_SASL_PASSWORD) problems.push(`KAFKA_SASL_PASSWORD: must be set with KAFKA_SASL_MECHANISM=${mechanism}`);
    security.sasl = { mechanism, username: v.KAFKA_SASL_USERNAME ?? '', password: v.KAFKA_SASL_PASSWORD ?? '' };
  }
  const files = { ca: v.KAFKA_TLS_CA_FILE, cert: v.KAFKA_TLS_CERT_FILE, key: v.KAFKA_TLS_KEY_FILE };
  if (v.KAFKA_TLS === 'true' || Object.values(files).some(Boolean)) {
    const tls: NonNullable<KafkaSecurity['tls']> = {};
    for (const [name, file] of Object.entries(files) as [keyof typeof files, string | undefined][]) {
      if (!file) continue;
      try {
        tls[name] = readFileSync(file, 'utf8');
      } catch {
        problems.push(`KAFKA_TLS_${name.toUpperCase()}_FILE: cannot read ${file}`);
      }
    }
    if (Boolean(tls.cert) !== Boolean(tls.key) && problems.length === 0)
      problems.push('KAFKA_TLS_CERT_FILE: must be given with KAFKA_TLS_KEY_FILE, or neither');
    security.tls = tls;
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  return security;
}
