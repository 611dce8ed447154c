// Azure beside AWS, end to end on the real stack: the service pages through the Azure Retail
// Prices stand-in into the same catalogue (cloud=azure), announces changes between syncs, and
// resumes a sync that failed or died on page N at page N, never again from page 1.
import { AZURE_PRICES_ROUTE, eventually } from '@tickflow/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { db, PricingBed } from './pricing-bed.ts';

// Five sizes of ten rows each (pay-as-you-go Linux and Windows, two savings plans, Spot twice,
// Low Priority, Dev/Test, two reservations); 42 items a region with a Cloud Services and a Dedicated Host item.
const ROWS = 50;
const ITEMS = 42;
const PAGE = 7;
const skipsOf = (bed: PricingBed, region: string) =>
  (bed.azure?.http.requests(AZURE_PRICES_ROUTE) ?? [])
    .filter((r) => r.query.$filter?.includes(`armRegionName eq '${region}'`))
    .map((r) => Number(r.query.$skip ?? 0));
const everyPage = Array.from({ length: Math.ceil(ITEMS / PAGE) }, (_, n) => n * PAGE);

let bed: PricingBed;
afterEach(async () => {
  await bed?.stop();
});

async function azureBed(env: Record<string, string> = {}) {
  bed = new PricingBed();
  await bed.startPriceList({ 'us-east-1': { version: '20261101000000', instanceTypes: ['m5.large'] } });
  await bed.startAzure({ eastus: {}, westeurope: {} }, PAGE);
  return bed.start({ PRICING_AZURE_REGIONS: 'eastus,westeurope', ...env });
}

describe('pricing, Azure beside AWS', () => {
  it('pages each Azure region into the catalogue beside AWS, exactly, and announces what changed since', async () => {
    const service = await azureBed();
    await bed.tick();
    const first = await bed.completed(3);
    expect(first.map((e) => [e.key, e.payload.result, e.payload.version, e.payload.rows]).sort()).toEqual([
      ['aws/us-east-1', 'synced', '20261101000000', 198],
      ['azure/eastus', 'synced', '20261201020000', ROWS],
      ['azure/westeurope', 'synced', '20261201020000', ROWS],
    ]);
    // Page by page, each once, in order; the savings plans asked for with the API version that has them.
    expect(skipsOf(bed, 'eastus')).toEqual(everyPage);
    expect(bed.azure?.http.requests(AZURE_PRICES_ROUTE).every((r) => r.query['api-version'] === '2023-01-01-preview')).toBe(true);

    const rows = await bed.catalogue('eastus');
    expect(rows).toHaveLength(ROWS);
    const d2s = rows.filter((r) => r.startsWith('Standard_D2s_v3 ')).map((r) => r.replace(' Shared Used NA ', ' ').replace(/ @\d+$/, ''));
    // 2 vCPUs at 0.048 (Linux), +0.046 (Windows); reservations priced for the term, spread over its hours.
    expect(d2s).toEqual([
      'Standard_D2s_v3 Linux No License required low-priority 0.0192',
      'Standard_D2s_v3 Linux No License required on-demand 0.096',
      'Standard_D2s_v3 Linux No License required reserved-1yr 0.0576484018',
      'Standard_D2s_v3 Linux No License required reserved-3yr 0.0383942161',
      'Standard_D2s_v3 Linux No License required savings-plan-1yr 0.06432',
      'Standard_D2s_v3 Linux No License required savings-plan-3yr 0.04224',
      'Standard_D2s_v3 Linux No License required spot 0.0192',
      'Standard_D2s_v3 Windows License Included dev-test 0.096',
      'Standard_D2s_v3 Windows License Included on-demand 0.188',
      'Standard_D2s_v3 Windows License Included spot 0.0376',
    ]);

    // The API's default slice takes Azure as it takes AWS: Linux, on demand.
    const slice = (await (await fetch(`${service.url}/v1/prices?cloud=azure&region=eastus&sort=price`)).json()) as {
      total: number;
      prices: { instanceType: string; hourly: string; instanceFamily: string; vcpu: number | null }[];
    };
    expect(slice.total).toBe(5);
    expect(slice.prices[0]).toMatchObject({ instanceType: 'Standard_B1ls', hourly: '0.048', instanceFamily: 'bls', vcpu: null });

    // A new price list for eastus: 10% up everywhere; westeurope's prices are the same as before.
    bed.azure?.publish('eastus', { priceFactor: '1.1' });
    await bed.tick();
    const second = (await bed.completed(6)).slice(3);
    const byKey = Object.fromEntries(second.map((e) => [e.key, e.payload]));
    expect(byKey['azure/eastus']).toMatchObject({
      result: 'synced',
      version: '20261202020000',
      previousVersion: '20261201020000',
      changes: ROWS,
    });
    expect(byKey['azure/westeurope']).toMatchObject({ result: 'synced', changes: 0 });
    expect(byKey['aws/us-east-1']).toMatchObject({ result: 'unchanged' });
    const onDemand = bed
      .changes()
      .filter((e) => e.payload.cloud === 'azure' && e.payload.term === 'on-demand' && e.payload.operatingSystem === 'Linux')
      .map((e) => [e.key, e.payload.change, e.payload.oldHourly, e.payload.newHourly, e.payload.percent])
      .sort();
    expect(onDemand).toContainEqual(['Standard_D2s_v3', 'up', '0.096', '0.1056', '10.00']);
    expect(onDemand).toHaveLength(5);

    const history = (await (await fetch(`${service.url}/v1/prices/azure/eastus/Standard_D2s_v3`)).json()) as { history: unknown[] };
    expect(history.history).toHaveLength(10);
  });

  it('resumes at the page that failed, and at the page it was on when killed, never from page 1', async () => {
    await azureBed({ PRICING_AZURE_REGIONS: 'eastus' });
    // Page 4 answers 503 once: the region's sync waits a tier and goes on from page 4.
    bed.azure?.http.injectFault(AZURE_PRICES_ROUTE, { kind: 'status', status: 503 }, { when: (r) => r.query.$skip === '21' });
    await bed.tick({ cloud: 'azure' });
    const [first] = await bed.completed(1);
    expect(first?.payload).toMatchObject({ cloud: 'azure', result: 'synced', rows: ROWS });
    expect(skipsOf(bed, 'eastus')).toEqual([0, 7, 14, 21, 21, 28, 35]);

    // Page 3 of the next sync hangs; the process is killed while it waits, and a new one picks the sync up.
    bed.azure?.http.clearRequests();
    bed.azure?.publish('eastus', { priceFactor: '2' });
    bed.azure?.http.injectFault(AZURE_PRICES_ROUTE, { kind: 'timeout' }, { when: (r) => r.query.$skip === '14' });
    await bed.tick({ cloud: 'azure' });
    const staging = await bed.eventuallyRegion('eastus', (r) => r.staging_pages === 2, 30_000, 'azure');
    expect(staging).toMatchObject({ staging_version: '20261202020000', current_version: '20261201020000' });
    expect(String(staging.staging_next_page)).toContain('%24skip=14');
    // Readers still see the whole previous version.
    expect(await bed.catalogue('eastus')).toHaveLength(ROWS);
    bed.processes[0]?.child.kill('SIGKILL');
    await bed.start({ PRICING_AZURE_REGIONS: 'eastus' });
    // The first version's request may come again first (its offset not committed before the kill): `unchanged`, no request.
    const second = await eventually(
      'the second version synced',
      async () => bed.events.find((e) => e.type === 'tickflow.pricing.sync.completed' && e.payload.version === '20261202020000'),
      90_000,
    );
    expect(second.payload).toMatchObject({ cloud: 'azure', result: 'synced', rows: ROWS, changes: ROWS });
    expect(skipsOf(bed, 'eastus')).toEqual([0, 7, 14, 14, 21, 28, 35]);
    const rows = await bed.catalogue('eastus');
    expect(rows).toHaveLength(ROWS);
    expect(rows).toContain('Standard_D2s_v3 Linux Shared Used NA No License required on-demand 0.192 @20261202020000');
    const left = await db.query(`SELECT DISTINCT version FROM "${bed.schema}".terms WHERE cloud = 'azure'`);
    expect(left.rows.map((r) => r.version)).toEqual(['20261202020000']);
  }, 150_000);

  it('dead-letters a region Azure does not know and a refused query, keeping what the catalogue holds', async () => {
    await azureBed({ PRICING_AZURE_REGIONS: 'eastus' });
    const dead = await bed.tap.read(`${bed.instance}.requests.dlq`);
    await bed.tick({ cloud: 'azure' });
    await bed.completed(1);

    // Names are case-sensitive: `EastUS` is no region; nor is `nowhere`.
    await bed.tick({ cloud: 'azure', regions: 'nowhere' });
    bed.azure?.http.injectFault(
      AZURE_PRICES_ROUTE,
      { kind: 'status', status: 400, body: { Error: { Code: 'BadRequest', Message: 'Invalid OData parameters supplied' } } },
      { when: (r) => r.query.$filter?.includes("'eastus'") === true },
    );
    await bed.tick({ cloud: 'azure' });
    const letters = await bed.eventuallyEvents(dead, 2);
    const errors = Object.fromEntries(letters.map((l) => [l.key, l.headers.tickflow_error_message]));
    expect(errors['azure/nowhere']).toBe("azure/nowhere: Azure Retail Prices lists no virtual machine prices for region 'nowhere'");
    expect(errors['azure/eastus']).toMatch(/answered 400: BadRequest: Invalid OData parameters supplied$/);
    expect(await bed.catalogue('eastus')).toHaveLength(ROWS);
    expect(await bed.region('eastus', 'azure')).toMatchObject({ current_version: '20261201020000', last_result: 'failed' });

    // A tick for Azure with no region configured or asked says so.
    await bed.tick({ cloud: 'azure', regions: 'East US' });
    const [, , bad] = await bed.eventuallyEvents(dead, 3);
    expect(bad?.headers.tickflow_error_message).toBe('not Azure region names (such as eastus): East US');
  });
});
