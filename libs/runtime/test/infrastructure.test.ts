import { describe, expect, it } from 'vitest';
import { ConfigError, loadInfrastructure } from '../src/index.ts';

describe('loadInfrastructure', () => {
  it('defaults to the local stack', () => {
    const infra = loadInfrastructure({});
    expect(infra.kafkaBrokers).toEqual(['127.0.0.1:9092']);
    expect(infra.databaseUrl).toBe('postgres://tickflow:tickflow@127.0.0.1:5432/tickflow');
    expect(infra.s3).toEqual({
      endpoint: 'http://127.0.0.1:9000',
      region: 'us-east-1',
      accessKeyId: 'tickflow',
      secretAccessKey: 'tickflow-secret',
    });
  });

  it('takes every endpoint from the environment', () => {
    const infra = loadInfrastructure({
      KAFKA_BROKERS: 'k1:9092, k2:9093',
      SCHEMA_REGISTRY_URL: 'https://registry.example:8081',
      DATABASE_URL: 'postgresql://u:p@db:5432/x',
      REDIS_URL: 'rediss://cache:6380',
      S3_ENDPOINT: 'https://s3.example',
      S3_ACCESS_KEY_ID: 'AKIA',
      S3_SECRET_ACCESS_KEY: 'shh',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      SMTP_URL: 'smtps://mail.example:465',
    });
    expect(infra.kafkaBrokers).toEqual(['k1:9092', 'k2:9093']);
    expect(infra.redisUrl).toBe('rediss://cache:6380');
    expect(infra.s3.secretAccessKey).toBe('shh');
    expect(infra.smtpUrl).toBe('smtps://mail.example:465');
  });

  it('names every bad variable and never echoes a value', () => {
    const secretish = 'mysql://root:hunter2@db/x';
    let error: unknown;
    try {
      loadInfrastructure({ KAFKA_BROKERS: 'no-port', DATABASE_URL: secretish, SMTP_URL: 'not a url' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('KAFKA_BROKERS: must be a comma-separated list of host:port');
    expect(message).toContain('DATABASE_URL: must be a postgres or postgresql URL');
    expect(message).toContain('SMTP_URL: must be a smtp or smtps URL');
    expect(message).not.toContain('hunter2');
  });
});
