// POST /v1/usage and GET /v1/aggregations/:date on the aggregator as a process, against the
// real Redis: increments land under the contract's key layout with their TTL, bad input is
// refused naming the field, and a batch is all or nothing.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { stack } from '@tickflow/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AggregationStatus } from '../src/aggregation-status.ts';
import { addDays } from '../src/domain/calendar-date.ts';
import { AggregatorBed, type AggregatorProcess, deleteKeys, spawnAggregator, uniqueDate } from './aggregator-bed.ts';

const TOKEN = 'usage-api-test-token-0123456789';
const cliMain = fileURLToPath(new URL('../../../cli/src/main.ts', import.meta.url));
const bed = new AggregatorBed({ AGGREGATOR_API_TOKEN: TOKEN });
const datesUsed: string[] = [];
function testDate(): string {
  const date = uniqueDate();
  datesUsed.push(date);
  return date;
}
const redis = new Redis(stack.redisUrl);
let service: AggregatorProcess;

beforeAll(async () => {
  service = await bed.start();
});

afterAll(async () => {
  for (const date of datesUsed) await deleteKeys(stack.redisUrl, `usage:*:${date}:*`);
  await bed.stop();
  redis.disconnect();
});

async function post(body: unknown, token: string | null = TOKEN): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${service.url}/v1/usage`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('POST /v1/usage', () => {
  it('increments usage:{merchantId}:{date}:{metricType} with the default TTL of 7 days, amount 1 and today (UTC) unless given', async () => {
    const date = testDate();
    expect(await post({ merchantId: 'api-m1', metricType: 'queries', amount: 5, date })).toEqual({ status: 200, body: { accepted: 1 } });
    expect(await post({ merchantId: 'api-m1', metricType: 'queries', date })).toEqual({ status: 200, body: { accepted: 1 } });
    expect(await redis.get(`usage:api-m1:${date}:queries`)).toBe('6');
    const ttl = await redis.ttl(`usage:api-m1:${date}:queries`);
    expect(ttl).toBeGreaterThan(7 * 86_400 - 60);
    expect(ttl).toBeLessThanOrEqual(7 * 86_400);

    const today = new Date().toISOString().slice(0, 10);
    const merchant = `api-today-${Date.now()}`;
    expect((await post({ merchantId: merchant, metricType: 'api_calls' })).status).toBe(200);
    expect(await redis.get(`usage:${merchant}:${today}:api_calls`)).toBe('1');
    await redis.del(`usage:${merchant}:${today}:api_calls`);
  });

  it('takes a batch, the same counter several times included', async () => {
    const date = testDate();
    const batch = [
      { merchantId: 'api-b1', metricType: 'documents', amount: 2, date },
      { merchantId: 'api-b1', metricType: 'documents', amount: 3, date },
      { merchantId: 'api-b2', metricType: 'storage_gb', amount: 1_000_000_000_000, date },
    ];
    expect(await post(batch)).toEqual({ status: 200, body: { accepted: 3 } });
    expect(await redis.mget(`usage:api-b1:${date}:documents`, `usage:api-b2:${date}:storage_gb`)).toEqual(['5', '1000000000000']);
  });

  it('refuses bad input with 400 naming the field, and a bad item refuses the whole batch', async () => {
    const date = testDate();
    const cases: [unknown, string][] = [
      [{ merchantId: 'a:b', metricType: 'queries', date }, 'merchantId'],
      [{ merchantId: 'a*', metricType: 'queries', date }, 'merchantId'],
      [{ merchantId: 'a b', metricType: 'queries', date }, 'merchantId'],
      [{ merchantId: '', metricType: 'queries', date }, 'merchantId'],
      [{ merchantId: 'x'.repeat(129), metricType: 'queries', date }, 'merchantId'],
      [{ merchantId: 'ok', metricType: 'tokens', date }, 'metricType'],
      [{ merchantId: 'ok', metricType: 'queries', amount: -1, date }, 'amount'],
      [{ merchantId: 'ok', metricType: 'queries', amount: 0.5, date }, 'amount'],
      [{ merchantId: 'ok', metricType: 'queries', amount: 1e13, date }, 'amount'],
      [{ merchantId: 'ok', metricType: 'queries', date: '2026-02-30' }, 'date'],
      [
        [
          { merchantId: 'ok', metricType: 'queries', date },
          { merchantId: 'ok', metricType: 'queries', amount: -2, date },
        ],
        '[1].amount',
      ],
    ];
    for (const [body, field] of cases) {
      const answer = await post(body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.field, JSON.stringify(body)).toBe(field);
      expect(String(answer.body.error)).toContain(field);
    }
    expect(await redis.exists(`usage:ok:${date}:queries`)).toBe(0);
    expect((await post('{not json')).status).toBe(400);
  });

  it('refuses with 409, touching nothing, a batch that meets a counter holding something else than an integer', async () => {
    const date = testDate();
    await redis.set(`usage:api-c1:${date}:queries`, 'garbage');
    const answer = await post([
      { merchantId: 'api-c2', metricType: 'queries', date },
      { merchantId: 'api-c1', metricType: 'queries', date },
    ]);
    expect(answer).toEqual({
      status: 409,
      body: { error: `counter usage:api-c1:${date}:queries does not hold an integer`, key: `usage:api-c1:${date}:queries` },
    });
    expect(await redis.exists(`usage:api-c2:${date}:queries`)).toBe(0);
    await redis.del(`usage:api-c1:${date}:queries`);
  });

  it('refuses a date outside the window, naming the field and the dates it takes', async () => {
    const today = new Date().toISOString().slice(0, 10);
    // The bed widens the window into the future for its dates; this process keeps the default.
    const strict = await bed.start({ AGGREGATOR_USAGE_MAX_FUTURE: '5m' });
    const postTo = async (url: string, date: string) => {
      const response = await fetch(`${url}/v1/usage`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ merchantId: 'api-window', metricType: 'queries', date }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    for (const date of [addDays(today, -2), addDays(today, 2)]) {
      const answer = await postTo(strict.url, date);
      expect(answer.status, date).toBe(400);
      expect(answer.body.field).toBe('date');
      expect(String(answer.body.error)).toMatch(/^date must be from \d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2} \(UTC\)/);
      expect(String(answer.body.error)).toContain(today);
      expect(await redis.exists(`usage:api-window:${date}:queries`)).toBe(0);
    }
    expect((await postTo(strict.url, today)).status).toBe(200);
    await redis.del(`usage:api-window:${today}:queries`);
  });

  it('asks for the bearer token when one is configured, and never for health', async () => {
    expect((await post({ merchantId: 'api-t', metricType: 'queries' }, null)).status).toBe(401);
    expect((await post({ merchantId: 'api-t', metricType: 'queries' }, 'wrong-token-0123456789')).status).toBe(401);
    expect((await fetch(`${service.url}/v1/aggregations/2026-01-01`)).status).toBe(401);
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    expect(service.output.join('')).not.toContain(TOKEN);
  });
});

/** One request exactly as written: fetch would normalise some of the paths tried here. */
function rawRequest(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<number> {
  const { hostname, port } = new URL(service.url);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: hostname, port, method, path, headers }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

describe('the bearer token', () => {
  it('guards every /v1 route however its URL is spelt: without the token 401, or no route at all (404)', async () => {
    const date = testDate();
    const json = { 'content-type': 'application/json' };
    const increment = JSON.stringify({ merchantId: 'api-probe', metricType: 'queries', date });
    const spellings = (canonical: string) => {
      const [, first, ...rest] = canonical.split('/') as [string, string, ...string[]];
      const tail = rest.join('/');
      return [
        canonical,
        `/%${first.charCodeAt(0).toString(16)}${first.slice(1)}/${tail}`,
        `/${first}/%${tail.charCodeAt(0).toString(16)}${tail.slice(1)}`,
        `/${canonical}`,
        `/${first.toUpperCase()}/${tail}`,
        `/${first}/${tail.toUpperCase()}`,
        `/${first}//${tail}`,
        `${canonical}/`,
        `${canonical}?x`,
        `${canonical};x`,
        `/%2F${first}/${tail}`,
        // The absolute form of the request target: the URL no longer starts with /v1/.
        `${service.url}${canonical}`,
      ];
    };
    const probes: [string, string][] = [
      ...spellings('/v1/usage').map((path): [string, string] => ['POST', path]),
      ...spellings(`/v1/aggregations/${date}`).flatMap((path): [string, string][] => [
        ['GET', path],
        ['HEAD', path],
      ]),
      ['GET', `/v1/aggregations/%${date.charCodeAt(0).toString(16)}${date.slice(1)}`],
    ];
    const answers: string[] = [];
    for (const [method, path] of probes) {
      for (const authorization of [undefined, 'Bearer wrong-token-0123456789', TOKEN]) {
        const headers = { ...(method === 'POST' ? json : {}), ...(authorization ? { authorization } : {}) };
        const status = await rawRequest(method, path, headers, method === 'POST' ? increment : undefined);
        if (status !== 401 && status !== 404) answers.push(`${method} ${path} (${authorization ?? 'no token'}): ${status}`);
      }
    }
    expect(answers).toEqual([]);
    expect(await redis.exists(`usage:api-probe:${date}:queries`)).toBe(0);

    // With the token the canonical routes answer.
    const withToken = { authorization: `Bearer ${TOKEN}` };
    expect(await rawRequest('POST', '/v1/usage', { ...json, ...withToken }, increment)).toBe(200);
    expect(await redis.get(`usage:api-probe:${date}:queries`)).toBe('1');
    expect(await rawRequest('GET', `/v1/aggregations/${date}`, withToken)).toBe(200);
    expect(await rawRequest('GET', `/v1/aggregations/${date}?x`, withToken)).toBe(200);
  });
});

describe('GET /v1/aggregations/:date', () => {
  it('reports the keys waiting, those near their TTL or without one, and malformed keys', async () => {
    const date = testDate();
    await post([
      { merchantId: 'st-1', metricType: 'queries', amount: 10, date },
      { merchantId: 'st-2', metricType: 'queries', amount: 5, date },
      { merchantId: 'st-3', metricType: 'documents', amount: 1, date },
    ]);
    await redis.expire(`usage:st-2:${date}:queries`, 600);
    await redis.persist(`usage:st-3:${date}:documents`);
    await redis.set(`usage:st-4:${date}:tokens`, '1', 'EX', 600);

    const response = await fetch(`${service.url}/v1/aggregations/${date}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    const status = (await response.json()) as AggregationStatus;
    expect(status).toMatchObject({
      date,
      redis: {
        keysWaiting: 3,
        unitsWaiting: '16',
        keysNearTtl: 1,
        nearTtlSeconds: 86_400,
        keysWithoutTtl: 1,
        malformedCount: 1,
        malformed: [{ key: `usage:st-4:${date}:tokens`, reason: 'unknown metric type tokens' }],
      },
      postgres: { rows: 0, merchants: 0, totals: {} },
      lastRun: null,
    });
    expect(status.redis.nearTtl).toEqual([{ key: `usage:st-2:${date}:queries`, ttlSeconds: expect.any(Number) }]);
    expect(status.redis.nearTtl[0]?.ttlSeconds).toBeLessThanOrEqual(600);

    const bad = await fetch(`${service.url}/v1/aggregations/2026-02-30`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ field: 'date' });
    await redis.del(
      `usage:st-1:${date}:queries`,
      `usage:st-2:${date}:queries`,
      `usage:st-3:${date}:documents`,
      `usage:st-4:${date}:tokens`,
    );
  });
});

describe('configuration', () => {
  it('stops the start on bad values, naming each variable and never a secret', async () => {
    const bad = spawnAggregator({
      AGGREGATOR_METRIC_TYPES: 'queries,Bad Type',
      AGGREGATOR_KEY_TTL: 'forever',
      AGGREGATOR_RETRY_TIERS: '5s,5s',
      AGGREGATOR_API_TOKEN: 'short-secret',
      AGGREGATOR_DB_SCHEMA: 'Robert"); DROP',
    });
    expect(await bad.exited).toBe(1);
    const output = bad.output.join('');
    for (const name of [
      'AGGREGATOR_METRIC_TYPES',
      'AGGREGATOR_KEY_TTL',
      'AGGREGATOR_RETRY_TIERS',
      'AGGREGATOR_API_TOKEN',
      'AGGREGATOR_DB_SCHEMA',
    ]) {
      expect(output).toContain(name);
    }
    expect(output).not.toContain('short-secret');
    expect(output).not.toMatch(/^\s+at /m);
  });
});

describe('outside the local stack', () => {
  it('refuses to start without its API token or on the development credentials, naming each variable', async () => {
    const refused = spawnAggregator({ TICKFLOW_ENV: 'production', AGGREGATOR_API_TOKEN: '', DATABASE_URL: '' });
    expect(await refused.exited).toBe(1);
    const output = refused.output.join('');
    expect(output).toContain('AGGREGATOR_API_TOKEN: must be set outside the local stack');
    expect(output).toContain(
      "DATABASE_URL: must be set outside the local stack (TICKFLOW_ENV=local); the default is the local stack's development credential",
    );
    // Given explicitly, the local password is refused just the same, and never echoed.
    const local = spawnAggregator({
      TICKFLOW_ENV: 'production',
      AGGREGATOR_API_TOKEN: TOKEN,
      DATABASE_URL: 'postgres://tickflow:tickflow@db.internal/prod',
    });
    expect(await local.exited).toBe(1);
    expect(local.output.join('')).toContain("DATABASE_URL: is the local stack's development credential");
    expect(local.output.join('')).not.toContain('db.internal');
  });
});

describe('tickflow aggregations status', () => {
  it('finds the token `npm start` keeps in .stack/ when none is set', async () => {
    const stackDir = mkdtempSync(join(tmpdir(), 'tickflow-stack-'));
    writeFileSync(join(stackDir, 'api-token'), `${TOKEN}\n`);
    const env: NodeJS.ProcessEnv = { ...process.env, AGGREGATOR_URL: service.url, TICKFLOW_STACK_DIR: stackDir };
    delete env.AGGREGATOR_API_TOKEN;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', cliMain, 'aggregations', 'status', testDate(), '--json'],
      { env },
    );
    expect((JSON.parse(stdout) as AggregationStatus).redis.keysWaiting).toBe(0);
    // Without it the aggregator refuses: the token read is what let the first call in.
    const without = await promisify(execFile)(process.execPath, ['--import', 'tsx', cliMain, 'aggregations', 'status', testDate()], {
      env: { ...env, TICKFLOW_STACK_DIR: mkdtempSync(join(tmpdir(), 'tickflow-stack-')) },
    }).catch((e: { code: number; stderr: string }) => e);
    expect(without).toMatchObject({ code: 1 });
  });

  it("prints the aggregator's status of a date, as text and as JSON", async () => {
    const date = testDate();
    expect((await post({ merchantId: 'cli-m1', metricType: 'queries', amount: 4, date })).status).toBe(200);
    const cli = (...args: string[]) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', cliMain, 'aggregations', 'status', ...args], {
        env: { ...process.env, AGGREGATOR_URL: service.url, AGGREGATOR_API_TOKEN: TOKEN },
      });
    const json = JSON.parse((await cli(date, '--json')).stdout) as AggregationStatus;
    expect(json.date).toBe(date);
    expect(json.redis.keysWaiting).toBe(1);
    const text = (await cli(date)).stdout;
    expect(text).toContain(`date             ${date}`);
    expect(text).toContain('waiting in Redis 1 keys (4 units)');
    const refused = await cli('2026-02-30').catch((e: { code: number; stderr: string }) => e);
    expect(refused).toMatchObject({ code: 1 });
    expect((refused as { stderr: string }).stderr).toContain('400');
  });
});
