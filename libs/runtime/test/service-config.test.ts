import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, loadServiceConfig, type ServiceName, urlVar } from '../src/index.ts';

function configError(load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadServiceConfig', () => {
  it.each<[ServiceName, number]>([
    ['scheduler', 7000],
    ['metering', 7001],
    ['aggregator', 7002],
    ['pricing', 7003],
    ['pod-retry', 7004],
    ['reporting', 7005],
  ])('gives %s its own default port %i, on loopback, logging at info', (service, port) => {
    const config = loadServiceConfig(service, undefined, {});
    expect(config.service).toBe(service);
    expect(config.http).toEqual({ host: '127.0.0.1', port });
    expect(config.logLevel).toBe('info');
  });

  it('takes the infrastructure endpoints from the environment, with the local stack as default', () => {
    expect(loadServiceConfig('pricing', undefined, {}).infrastructure.databaseUrl).toBe(
      'postgres://tickflow:tickflow@127.0.0.1:5432/tickflow',
    );
    const config = loadServiceConfig('pricing', undefined, { KAFKA_BROKERS: 'k1:9092,k2:9092', REDIS_URL: 'redis://cache:6379' });
    expect(config.infrastructure.kafkaBrokers).toEqual(['k1:9092', 'k2:9092']);
    expect(config.infrastructure.redisUrl).toBe('redis://cache:6379');
  });

  it('takes PORT, HOST and LOG_LEVEL from the environment', () => {
    const config = loadServiceConfig('metering', undefined, { PORT: '8080', HOST: '0.0.0.0', LOG_LEVEL: 'WARN' });
    expect(config.http).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(config.logLevel).toBe('warn');
    expect(loadServiceConfig('metering', undefined, { PORT: '0' }).http.port).toBe(0);
    expect(loadServiceConfig('metering', undefined, { PORT: '65535' }).http.port).toBe(65535);
    expect(loadServiceConfig('metering', undefined, { PORT: '' }).http.port).toBe(7001);
  });

  it.each(['70000', '65536', '-1', '1.5', 'abc', '80 80'])('rejects PORT=%s, naming PORT', (port) => {
    const error = configError(() => loadServiceConfig('reporting', undefined, { PORT: port }));
    expect(error.message).toContain('PORT: must be an integer port from 0 to 65535');
  });

  it('names every bad variable at once, its own ones included, and never echoes a value', () => {
    const extra = z.object({ CLAZAR_API_URL: urlVar(['https'], 'https://api.clazar.io') });
    const error = configError(() =>
      loadServiceConfig('metering', extra, {
        PORT: 'hunter2-port',
        LOG_LEVEL: 'hunter2-level',
        DATABASE_URL: 'mysql://root:hunter2@db/x',
        CLAZAR_API_URL: 'http://hunter2.example',
      }),
    );
    expect(error.message).toContain('PORT: must be an integer port from 0 to 65535');
    expect(error.message).toContain('LOG_LEVEL: must be one of debug, info, warn, error');
    expect(error.message).toContain('DATABASE_URL: must be a postgres or postgresql URL');
    expect(error.message).toContain('CLAZAR_API_URL: must be a https URL');
    expect(error.message).not.toContain('hunter2');
  });

  it('returns the service’s own variables under their names', () => {
    const extra = z.object({
      CLAZAR_API_URL: urlVar(['https'], 'https://api.clazar.io'),
      BATCH_SIZE: z.coerce.number().int().positive().default(50),
    });
    const config = loadServiceConfig('metering', extra, { BATCH_SIZE: '20' });
    expect(config.CLAZAR_API_URL).toBe('https://api.clazar.io');
    expect(config.BATCH_SIZE).toBe(20);
    expect(config.http.port).toBe(7001);
    expect(config).not.toHaveProperty('KAFKA_BROKERS');
  });

  it('applies the checks of the service’s own schema as a whole', () => {
    const extra = z
      .object({ FROM_DAY: z.coerce.number().default(1), TO_DAY: z.coerce.number().default(28) })
      .refine((c) => c.FROM_DAY <= c.TO_DAY, { message: 'must not come after TO_DAY', path: ['FROM_DAY'] });
    const error = configError(() => loadServiceConfig('aggregator', extra, { FROM_DAY: '9', TO_DAY: '3' }));
    expect(error.message).toContain('FROM_DAY: must not come after TO_DAY');
  });

  it('rejects a HOST that is no host name', () => {
    expect(configError(() => loadServiceConfig('pricing', undefined, { HOST: 'http://x/' })).message).toContain(
      'HOST: must be a host name or IP address',
    );
  });
});
