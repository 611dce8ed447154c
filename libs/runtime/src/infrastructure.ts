// Where tickflow finds its infrastructure. The defaults are the local stack's endpoints
// (deploy/local); each variable points tickflow at existing infrastructure instead.
import { z } from 'zod';
import { type Env, loadConfig, stringVar, urlVar } from './config.ts';

const hostPort = /^[A-Za-z0-9.-]+:\d{1,5}$/;

export const infrastructureSchema = z.object({
  KAFKA_BROKERS: stringVar('127.0.0.1:9092')
    .transform((value) => value.split(',').map((broker) => broker.trim()))
    .refine((brokers) => brokers.every((b) => hostPort.test(b)), 'must be a comma-separated list of host:port'),
  SCHEMA_REGISTRY_URL: urlVar(['http', 'https'], 'http://127.0.0.1:8081/apis/ccompat/v7'),
  DATABASE_URL: urlVar(['postgres', 'postgresql'], 'postgres://tickflow:tickflow@127.0.0.1:5432/tickflow'),
  REDIS_URL: urlVar(['redis', 'rediss'], 'redis://127.0.0.1:6379'),
  S3_ENDPOINT: urlVar(['http', 'https'], 'http://127.0.0.1:9000'),
  S3_REGION: stringVar('us-east-1'),
  S3_ACCESS_KEY_ID: stringVar('tickflow'),
  S3_SECRET_ACCESS_KEY: stringVar('tickflow-secret'),
  OTEL_EXPORTER_OTLP_ENDPOINT: urlVar(['http', 'https'], 'http://127.0.0.1:4318'),
  SMTP_URL: urlVar(['smtp', 'smtps'], 'smtp://127.0.0.1:1025'),
});

export interface Infrastructure {
  kafkaBrokers: string[];
  schemaRegistryUrl: string;
  databaseUrl: string;
  redisUrl: string;
  s3: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string };
  otlpEndpoint: string;
  smtpUrl: string;
}

export function loadInfrastructure(env: Env = process.env): Infrastructure {
  return infrastructureFrom(loadConfig(infrastructureSchema, env));
}

/** The endpoints in variables already parsed with `infrastructureSchema`. */
export function infrastructureFrom(c: z.infer<typeof infrastructureSchema>): Infrastructure {
  return {
    kafkaBrokers: c.KAFKA_BROKERS,
    schemaRegistryUrl: c.SCHEMA_REGISTRY_URL,
    databaseUrl: c.DATABASE_URL,
    redisUrl: c.REDIS_URL,
    s3: { endpoint: c.S3_ENDPOINT, region: c.S3_REGION, accessKeyId: c.S3_ACCESS_KEY_ID, secretAccessKey: c.S3_SECRET_ACCESS_KEY },
    otlpEndpoint: c.OTEL_EXPORTER_OTLP_ENDPOINT,
    smtpUrl: c.SMTP_URL,
  };
}
