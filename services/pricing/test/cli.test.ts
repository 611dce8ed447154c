// The pricing commands of the CLI, run as a user runs them, against the service and its stand-in.
import { eventually, expectedRate, tickflow, tickflowJson } from '@tickflow/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { PricingBed } from './pricing-bed.ts';

const V1 = '20261101000000';

let bed: PricingBed;
afterEach(async () => {
  await bed?.stop();
});

describe('tickflow pricing', () => {
  it('syncs the regions asked for, shows each region’s state and an instance type’s prices', async () => {
    bed = new PricingBed();
    await bed.startPriceList({
      'us-east-1': { version: V1, instanceTypes: ['m5.large'] },
      'eu-west-1': { version: V1, instanceTypes: ['m5.large', 'c5.large'] },
    });
    const service = await bed.start();
    const env = { PRICING_INSTANCE: bed.instance, PRICING_URL: service.url };

    const sync = await tickflowJson<{ topic: string; regions: string[] }>(['pricing', 'sync', '--region', 'eu-west-1'], env);
    expect(sync).toMatchObject({ topic: `${bed.instance}.requests`, regions: ['eu-west-1'] });
    const [done] = await bed.completed(1);
    expect(done?.key).toBe('aws/eu-west-1');

    const status = await tickflowJson<{ region: string; currentVersion: string; lastResult: string; rows: number }[]>(
      ['pricing', 'status'],
      env,
    );
    expect(status.map((r) => [r.region, r.currentVersion, r.lastResult, r.rows])).toEqual([['eu-west-1', V1, 'synced', 2 * (54 + 144)]]);
    const table = await tickflow(['pricing', 'status'], env);
    expect(table.stdout).toMatch(/^CLOUD\s+REGION\s+VERSION/);
    expect(table.stdout).toContain('eu-west-1');

    const shown = await tickflow(['pricing', 'show', 'm5.large', '--region', 'eu-west-1'], env);
    expect(shown.code).toBe(0);
    const spec = bed.priceList.current('eu-west-1');
    expect(shown.stdout).toContain(`m5.large in aws/eu-west-1: 2 vCPU, 8 GiB, version ${V1}`);
    expect(shown.stdout).toMatch(
      new RegExp(
        `Linux\\s+NA\\s+No License required\\s+Shared\\s+Used\\s+on-demand\\s+${expectedRate(spec, { instanceType: 'm5.large' }, 'on-demand').replace('.', '\\.')} USD`,
      ),
    );
    expect(shown.stdout).toContain('no price changes recorded');
    // Running instances only, unless --all: 6 software variants × 3 tenancies on demand, 12 reservations for 12 of them.
    const json = await tickflowJson<{ prices: unknown[] }>(['pricing', 'show', 'm5.large', '--region', 'eu-west-1'], env);
    expect(json.prices).toHaveLength(18 + 144);
    const all = await tickflowJson<{ prices: unknown[] }>(['pricing', 'show', 'm5.large', '--region', 'eu-west-1', '--all'], env);
    expect(all.prices).toHaveLength(54 + 144);

    // Every region, the next time: us-east-1 is new, eu-west-1 unchanged.
    await tickflowJson(['pricing', 'sync'], env);
    const next = await bed.completed(3);
    expect(
      next
        .slice(1)
        .map((e) => `${e.key} ${e.payload.result}`)
        .sort(),
    ).toEqual(['aws/eu-west-1 unchanged', 'aws/us-east-1 synced']);
    await eventually(
      'both regions in the status',
      async () => ((await tickflowJson<unknown[]>(['pricing', 'status'], env)).length === 2 ? true : undefined),
      10_000,
    );
  });

  it('syncs an Azure region, told by its name, and shows a size’s prices', async () => {
    bed = new PricingBed();
    await bed.startPriceList({ 'us-east-1': { version: V1, instanceTypes: ['m5.large'] } });
    await bed.startAzure({ eastus: {} });
    const service = await bed.start();
    const env = { PRICING_INSTANCE: bed.instance, PRICING_URL: service.url };

    // No PRICING_AZURE_REGIONS: a region named is synced all the same.
    const sync = await tickflowJson<{ regions: string[]; cloud: string | null }>(['pricing', 'sync', '--region', 'eastus'], env);
    expect(sync).toMatchObject({ regions: ['eastus'], cloud: null });
    const [done] = await bed.completed(1);
    expect(done?.key).toBe('azure/eastus');
    expect(done?.payload).toMatchObject({ result: 'synced', rows: 50 });

    const shown = await tickflow(['pricing', 'show', 'Standard_D2s_v3', '--region', 'eastus'], env);
    expect(shown.code).toBe(0);
    // Azure says nothing of vCPUs or memory: left out rather than shown as unknown.
    expect(shown.stdout).toMatch(/^Standard_D2s_v3 in azure\/eastus: version \d{14}$/m);
    expect(shown.stdout).toMatch(/Linux\s+NA\s+No License required\s+Shared\s+Used\s+on-demand\s+0\.096 USD/);
    expect(shown.stdout).toMatch(/Linux\s+NA\s+No License required\s+Shared\s+Used\s+reserved-1yr\s+0\.0576484018 USD/);
    expect(shown.stdout).toMatch(/Windows\s+NA\s+License Included\s+Shared\s+Used\s+spot\s+0\.0376 USD/);
  });

  it('refuses a bad flag, naming it', async () => {
    const badRegion = await tickflow(['pricing', 'sync', '--region', 'us-east-1,Mars']);
    expect(badRegion.code).toBe(2);
    expect(badRegion.stderr).toContain(
      "--region takes AWS region codes such as us-east-1 or Azure region names such as eastus, got 'Mars'",
    );
    const noRegion = await tickflow(['pricing', 'show', 'm5.large']);
    expect(noRegion.code).toBe(2);
    expect(noRegion.stderr).toContain('--region is required: an AWS region code such as us-east-1 or an Azure region name such as eastus');
    const badCloud = await tickflow(['pricing', 'sync', '--cloud', 'gcp']);
    expect(badCloud.stderr).toContain("--cloud must be one of aws, azure, got 'gcp'");
    const mismatch = await tickflow(['pricing', 'sync', '--cloud', 'azure', '--region', 'us-east-1']);
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toContain('--region us-east-1 is not an azure region name');
  });
});
