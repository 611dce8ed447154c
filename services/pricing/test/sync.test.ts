// Pricing end to end on the real stack: the service as a process syncing from the AWS price
// list stand-in; the catalogue, the events and the API are compared with what the stand-in's
// files hold, exactly.
import { randomBytes } from 'node:crypto';
import { eventually, expectedRate, stack } from '@tickflow/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { PRICING_TOKEN, PricingBed } from './pricing-bed.ts';

const V1 = '20261101000000';
const V2 = '20261201000000';
const TYPES = ['t3.micro', 'm5.large', 'c5.large', 'r5.large'];
// 54 products per instance type; on-demand for each, twelve reservations for each of the twelve running shared or dedicated ones.
const ROWS_PER_TYPE = 54 + 12 * 12;

let bed: PricingBed;
afterEach(async () => {
  await bed?.stop();
});

describe('pricing', () => {
  it('syncs each region, skips what did not change, and announces every row that did', async () => {
    bed = new PricingBed();
    const east1 = { version: V1, instanceTypes: TYPES, prices: { 'm5.large': '0.0960000000', 'c5.large': '0.0850000000' } };
    await bed.startPriceList({ 'us-east-1': east1, 'eu-west-1': { version: V1, instanceTypes: ['m5.large'] } });
    const service = await bed.start();
    const traceId = randomBytes(16).toString('hex');
    await bed.tick({}, { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` });

    const first = await bed.completed(2);
    expect(first.map((e) => [e.key, e.payload.result, e.payload.version, e.payload.rows]).sort()).toEqual([
      ['aws/eu-west-1', 'synced', V1, ROWS_PER_TYPE],
      ['aws/us-east-1', 'synced', V1, 4 * ROWS_PER_TYPE],
    ]);
    expect(first.every((e) => Number(e.payload.bytes) > 0 && e.payload.changes === 0 && e.payload.previousVersion === null)).toBe(true);
    // The first version of a region is not a change.
    expect(bed.changes()).toEqual([]);

    // Every rate the catalogue holds is the file's, exact: the default slice through the API, the rest straight from PostgreSQL.
    const slice = (await (await fetch(`${service.url}/v1/prices?region=us-east-1&sort=instanceType`)).json()) as {
      total: number;
      prices: { instanceType: string; hourly: string; term: string; operatingSystem: string; version: string }[];
    };
    expect(slice.total).toBe(4);
    expect(slice.prices.map((p) => [p.instanceType, p.operatingSystem, p.term, p.hourly, p.version])).toEqual(
      [...TYPES]
        .sort()
        .map((t) => [t, 'Linux', 'on-demand', expectedRate({ region: 'us-east-1', ...east1 }, { instanceType: t }, 'on-demand'), V1]),
    );
    const rows = await bed.catalogue('us-east-1');
    expect(rows).toHaveLength(4 * ROWS_PER_TYPE);
    const windowsDedicated = rows.filter((r) =>
      r.startsWith('m5.large Windows Dedicated Used NA No License required reserved-3yr-partial'),
    );
    expect(windowsDedicated).toEqual([
      `m5.large Windows Dedicated Used NA No License required reserved-3yr-partial-upfront-convertible ${expectedRate(
        { region: 'us-east-1', ...east1 },
        { instanceType: 'm5.large', os: 'Windows', tenancy: 'Dedicated' },
        'reserved-3yr-partial-upfront-convertible',
      )} @${V1}`,
      `m5.large Windows Dedicated Used NA No License required reserved-3yr-partial-upfront-standard ${expectedRate(
        { region: 'us-east-1', ...east1 },
        { instanceType: 'm5.large', os: 'Windows', tenancy: 'Dedicated' },
        'reserved-3yr-partial-upfront-standard',
      )} @${V1}`,
    ]);

    // The next day nothing changed: the region index names the current versions, so no file is fetched.
    await bed.tick();
    const second = await bed.completed(4);
    expect(
      second
        .slice(2)
        .map((e) => [e.key, e.payload.result, e.payload.version])
        .sort(),
    ).toEqual([
      ['aws/eu-west-1', 'unchanged', V1],
      ['aws/us-east-1', 'unchanged', V1],
    ]);
    expect([bed.priceList.downloads('us-east-1'), bed.priceList.downloads('eu-west-1')]).toEqual([1, 1]);

    // A new version of us-east-1: m5.large up, c5.large down, t3.micro gone, m7g.large new, r5.large as it was.
    bed.priceList.publish('us-east-1', {
      version: V2,
      instanceTypes: ['m5.large', 'c5.large', 'r5.large', 'm7g.large'],
      prices: { 'm5.large': '0.1000000000', 'c5.large': '0.0800000000' },
    });
    await bed.tick();
    const third = await bed.completed(6);
    const synced = third.slice(4).find((e) => e.key === 'aws/us-east-1');
    expect(synced?.payload).toMatchObject({ result: 'synced', version: V2, previousVersion: V1, rows: 4 * ROWS_PER_TYPE });
    const changes = await eventually(
      'every change announced',
      async () => (bed.changes().length >= Number(synced?.payload.changes) ? bed.changes() : undefined),
      30_000,
    );
    expect(changes).toHaveLength(Number(synced?.payload.changes));
    const byType = (type: string) => changes.filter((e) => e.key === type).map((e) => e.payload.change);
    expect(byType('m7g.large')).toEqual(Array(ROWS_PER_TYPE).fill('added'));
    expect(byType('t3.micro')).toEqual(Array(ROWS_PER_TYPE).fill('removed'));
    expect(byType('r5.large')).toEqual([]);
    // Dedicated hosts are paid per host: their instances' rows are 0 either way, and not a change.
    expect(byType('m5.large').length).toBe(ROWS_PER_TYPE - 18);
    expect(new Set(byType('m5.large'))).toEqual(new Set(['up']));
    expect(new Set(byType('c5.large'))).toEqual(new Set(['down']));
    const linux = changes.find(
      (e) =>
        e.key === 'm5.large' &&
        e.payload.operatingSystem === 'Linux' &&
        e.payload.tenancy === 'Shared' &&
        e.payload.capacityStatus === 'Used' &&
        e.payload.term === 'on-demand',
    );
    expect(linux?.payload).toMatchObject({
      region: 'us-east-1',
      version: V2,
      previousVersion: V1,
      oldHourly: '0.096',
      newHourly: '0.1',
      percent: '4.17',
    });

    // The API shows the new version, and an instance type's history of changes.
    const m5 = (await (await fetch(`${service.url}/v1/prices/aws/us-east-1/m5.large`)).json()) as {
      prices: { hourly: string; version: string }[];
      history: { change: string; term: string; operatingSystem: string; tenancy: string; oldHourly: string; newHourly: string }[];
    };
    expect(m5.prices).toHaveLength(ROWS_PER_TYPE);
    expect(new Set(m5.prices.map((p) => p.version))).toEqual(new Set([V2]));
    expect(m5.history).toHaveLength(ROWS_PER_TYPE - 18);
    const csv = await (await fetch(`${service.url}/v1/prices?region=us-east-1&instanceType=m5.large&format=csv`)).text();
    expect(csv.split('\r\n')).toEqual([
      'cloud,region,instanceType,operatingSystem,tenancy,licenseModel,preInstalledSoftware,capacityStatus,term,currency,hourly,upfront,vcpu,memoryGiB,gpu,storage,network,version',
      `aws,us-east-1,m5.large,Linux,Shared,No License required,NA,Used,on-demand,USD,0.1,0,2,8,0,EBS only,Moderate,${V2}`,
      '',
    ]);
    const bad = await fetch(`${service.url}/v1/prices?minVcpu=lots`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: "minVcpu must be a whole number from 0 to 100000, got 'lots'", field: 'minVcpu' });

    // A webhook must not reach loopback, private or link-local addresses (SSRF), by name or number.
    for (const [url, why] of [
      ['http://127.0.0.1:9/hook', 'resolves to 127.0.0.1, a loopback address'],
      ['http://localhost:9/hook', 'a loopback address'],
      ['http://169.254.169.254/latest/meta-data/', 'a link-local address'],
      ['http://[fd00::1]/hook', 'a unique-local (private) address'],
    ] as const) {
      const refused = await fetch(`${service.url}/v1/webhooks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${PRICING_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url }),
      });
      expect(refused.status, url).toBe(400);
      expect(((await refused.json()) as { error: string }).error, url).toContain(why);
    }

    // The first sync is one trace: the tick, both regions, their downloads.
    await eventually(
      'the sync as one trace in Jaeger',
      async () => {
        const response = await fetch(`${stack.jaegerQueryUrl}/api/traces/${traceId}`);
        if (!response.ok) return undefined;
        const body = (await response.json()) as { data: { spans: { operationName: string }[] }[] };
        const names = body.data.flatMap((t) => t.spans.map((s) => s.operationName));
        const count = (name: string) => names.filter((n) => n === name).length;
        return count(`process ${bed.instance}.requests`) >= 3 && count('aws-pricing GET offer') >= 2 ? true : undefined;
      },
      40_000,
    );

    // What happened is on /metrics.
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    const sample = (series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(metrics)?.[1]);
    expect(sample('tickflow_pricing_rows_parsed_total{kind="rate"}')).toBe((4 + 1 + 4) * ROWS_PER_TYPE);
    expect(sample('tickflow_pricing_bytes_read_total')).toBeGreaterThan(0);
    expect(sample('tickflow_pricing_changes_total{change="added"}')).toBe(ROWS_PER_TYPE);
  });
});
