import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, durationVar, loadServiceConfig, type ServiceName, urlVar } from '../src/index.ts';

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
    const local = { TICKFLOW_ENV: 'local' };
    expect(loadServiceConfig('pricing', undefined, local, { uses: ['postgres'] }).infrastructure.databaseUrl).toBe(
      'postgres://tickflow:tickflow@127.0.0.1:5432/tickflow',
    );
    const env = { ...local, KAFKA_BROKERS: 'k1:9092,k2:9092', REDIS_URL: 'redis://cache:6379' };
    const config = loadServiceConfig('pricing', undefined, env, { uses: ['redis'] });
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
      loadServiceConfig(
        'metering',
        extra,
        {
          PORT: 'hunter2-port',
          LOG_LEVEL: 'hunter2-level',
          DATABASE_URL: 'mysql://root:hunter2@db/x',
          CLAZAR_API_URL: 'http://hunter2.example',
        },
        { uses: ['postgres'] },
      ),
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

  describe('outside TICKFLOW_ENV=local', () => {
    const real = {
      DATABASE_URL: 'postgres://svc:s3cret-pw@db.internal:5432/tickflow',
      S3_ACCESS_KEY_ID: 'AKIAREALKEY',
      S3_SECRET_ACCESS_KEY: 'real-secret',
      API_TOKEN: 'a-long-enough-api-token',
    };
    const extra = z.object({ API_TOKEN: z.string().optional() });
    const load = (env: Record<string, string>) =>
      loadServiceConfig('metering', extra, env, { uses: ['postgres', 's3'], requiredSecrets: ['API_TOKEN'] });

    it('refuses the API token missing and every development credential, defaulted or given, naming each', () => {
      const message = configError(() => load({})).message;
      expect(message).toContain('API_TOKEN: must be set outside the local stack');
      for (const name of ['DATABASE_URL', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY']) expect(message).toContain(`${name}: must be set`);
      const given = configError(() =>
        load({ ...real, DATABASE_URL: 'postgres://tickflow:tickflow@db.internal/x', S3_SECRET_ACCESS_KEY: 'tickflow-secret' }),
      ).message;
      expect(given).toContain("DATABASE_URL: is the local stack's development credential");
      expect(given).toContain("S3_SECRET_ACCESS_KEY: is the local stack's development credential");
      expect(given).not.toContain('db.internal');
    });

    it('starts on real values, and with TICKFLOW_ENV=local on the defaults', () => {
      expect(load(real).environment).toBe('production');
      expect(load({ TICKFLOW_ENV: 'local' }).environment).toBe('local');
    });

    it('reads only the infrastructure the service uses', () => {
      const config = loadServiceConfig('pricing', undefined, { TICKFLOW_ENV: 'local', REDIS_URL: 'not a url' }, { uses: ['postgres'] });
      expect(config.infrastructure).not.toHaveProperty('redisUrl');
      expect(() => loadServiceConfig('pricing', undefined, { TICKFLOW_ENV: 'local', REDIS_URL: 'not a url' }, { uses: ['redis'] })).toThrow(
        'REDIS_URL',
      );
    });
  });
});

describe('durationVar', () => {
  it('reads units and bare seconds, and refuses zero unless it is allowed', () => {
    const plain = durationVar('2s');
    expect(plain.parse('250ms')).toBe(250);
    expect(plain.parse('90')).toBe(90_000);
    expect(plain.parse('')).toBe(2_000);
    expect(plain.safeParse('0').success).toBe(false);
    expect(plain.safeParse('soon').error?.issues[0]?.message).toBe('must be a duration such as 30s, 2m, 24h or 7d');
    const zeroAllowed = durationVar('2s', { allowZero: true });
    expect(zeroAllowed.parse('0')).toBe(0);
    expect(zeroAllowed.parse('0ms')).toBe(0);
    expect(zeroAllowed.parse('3m')).toBe(180_000);
    expect(zeroAllowed.safeParse('-1s').error?.issues[0]?.message).toBe('must be a duration such as 0, 30s, 2m, 24h or 7d');
  });
});
