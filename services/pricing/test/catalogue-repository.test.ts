// The catalogue in the real PostgreSQL: a version staged in batches becomes current at once;
// until then, and after a sync cut short, readers see the previous version whole.
import { fileURLToPath } from 'node:url';
import { Decimal, readMigrations, ServiceDatabase } from '@tickflow/runtime';
import { stack, uniqueName } from '@tickflow/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { CatalogueRepository } from '../src/adapters/catalogue-repository.ts';
import type { InstanceProduct, TermRate } from '../src/domain/ec2-offer.ts';

const db = new ServiceDatabase({
  databaseUrl: stack.databaseUrl,
  applicationName: 'pricing-test',
  schema: uniqueName('pricing')
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 60),
  migrations: readMigrations(fileURLToPath(new URL('../migrations', import.meta.url))),
});
const repository = new CatalogueRepository(db);
afterAll(async () => {
  await db.pool.query(`DROP SCHEMA IF EXISTS "${db.schema}" CASCADE`);
  await db.close();
});

const product = (sku: string, instanceType: string, overrides: Partial<InstanceProduct> = {}): InstanceProduct => ({
  sku,
  instanceType,
  instanceFamily: 'General purpose',
  operatingSystem: 'Linux',
  tenancy: 'Shared',
  licenseModel: 'No License required',
  preInstalledSoftware: 'NA',
  capacityStatus: 'Used',
  vcpu: 2,
  memoryGiB: Decimal.parse('8'),
  gpu: 0,
  storage: 'EBS only',
  network: 'Up to 10 Gigabit',
  ...overrides,
});
const onDemand = (sku: string, hourly: string): TermRate => ({
  sku,
  term: 'on-demand',
  currency: 'USD',
  hourly: Decimal.parse(hourly),
  upfront: Decimal.ZERO,
  leaseYears: null,
  purchaseOption: null,
  offeringClass: null,
  effectiveStart: null,
});

async function catalogue(view = 'catalogue'): Promise<string[]> {
  const result = await db.pool.query<{ instance_type: string; term: string; hourly: string; version: string }>(
    `SELECT instance_type, term, hourly::text, version FROM ${db.table(view)} WHERE region = 'us-east-1' ORDER BY instance_type, term`,
  );
  return result.rows.map((r) => `${r.instance_type} ${r.term} ${r.hourly} @${r.version}`);
}

const v1 = { cloud: 'aws', region: 'us-east-1', version: '20261101000000' };
const findings = (etag: string, problems: string[] = []) => ({
  publicationDate: '2026-11-01T00:00:00Z',
  etag,
  problems,
  problemCount: problems.length,
  missingAttributes: {},
  bytes: 1000,
  durationMs: 5,
});
const v2 = { ...v1, version: '20261201000000' };

describe('the price catalogue', () => {
  it('shows a version once it is whole, exact, and keeps the previous one whole through a sync cut short', async () => {
    await repository.beginStaging(v1);
    await repository.stageProducts(v1, [product('A', 'm5.large'), product('W', 'm5.large', { operatingSystem: 'Windows' })]);
    await repository.stageTerms(v1, [onDemand('A', '0.0960000000'), onDemand('W', '0.1880000000')]);
    expect(await catalogue()).toEqual([]);
    expect(await repository.makeCurrent(v1, findings('"e1"'))).toMatchObject({ rows: 2, changes: 0, previousVersion: null });
    expect(await catalogue()).toEqual(['m5.large on-demand 0.096 @20261101000000', 'm5.large on-demand 0.188 @20261101000000']);
    expect(await catalogue('default_catalogue')).toEqual(['m5.large on-demand 0.096 @20261101000000']);

    // A sync of the next version stops halfway: readers still see v1, all of it.
    await repository.beginStaging(v2);
    await repository.stageProducts(v2, [product('A', 'm5.large'), product('B', 'm6i.large')]);
    await repository.stageTerms(v2, [onDemand('A', '0.1')]);
    expect(await catalogue()).toHaveLength(2);
    expect((await catalogue()).every((row) => row.endsWith('@20261101000000'))).toBe(true);

    // The next sync starts clean (the half-staged rows go), stages v2 whole and switches.
    await repository.beginStaging(v2);
    const staged = await db.pool.query(`SELECT count(*)::int AS n FROM ${db.table('products')} WHERE version = $1`, [v2.version]);
    expect(staged.rows[0].n).toBe(0);
    await repository.stageProducts(v2, [product('A', 'm5.large'), product('B', 'm6i.large')]);
    await repository.stageTerms(v2, [onDemand('A', '0.0970000000'), onDemand('B', '0.0960000000')]);
    expect(await repository.makeCurrent(v2, findings('"e2"', ['a problem']))).toMatchObject({
      rows: 2,
      changes: 3,
      previousVersion: v1.version,
    });
    expect(await catalogue()).toEqual(['m5.large on-demand 0.097 @20261201000000', 'm6i.large on-demand 0.096 @20261201000000']);
    const left = await db.pool.query(`SELECT DISTINCT version FROM ${db.table('products')}`);
    expect(left.rows.map((r) => r.version)).toEqual([v2.version]);
    expect(await repository.region('aws', 'us-east-1')).toMatchObject({
      currentVersion: v2.version,
      etag: '"e2"',
      lastResult: 'synced',
      rows: 2,
      problems: ['a problem'],
    });

    // What differs from v1, by sku and term, exactly: A up, W gone, B new.
    const changes = await repository.changesOf(v2, null, 10);
    expect(changes.map((c) => [c.sku, c.instanceType, c.operatingSystem, c.change, c.oldHourly, c.newHourly, c.percent])).toEqual([
      ['A', 'm5.large', 'Linux', 'up', '0.096', '0.097', '1.04'],
      ['B', 'm6i.large', 'Linux', 'added', null, '0.096', null],
      ['W', 'm5.large', 'Windows', 'removed', '0.188', null, null],
    ]);
    expect((await repository.changesOf(v2, { sku: 'A', term: 'on-demand' }, 1)).map((c) => c.sku)).toEqual(['B']);
    expect((await repository.history('aws', 'us-east-1', 'm5.large', 10)).map((c) => c.sku).sort()).toEqual(['A', 'W']);
  });

  it('stages a paged source a page at a time with its cursor, and keeps the newer of two prices for one term', async () => {
    const azure = { cloud: 'azure', region: 'eastus', version: '20261204020000' };
    await repository.beginStaging(azure, { version: azure.version, firstPage: 'https://prices.example/p?$skip=0' });
    const dated = (hourly: string, effectiveStart: string | null) => ({ ...onDemand('D2/Linux', hourly), effectiveStart });
    const page = (rates: TermRate[], problems: string[] = []) => ({
      products: [product('D2/Linux', 'Standard_D2s_v3', { vcpu: null, memoryGiB: null })],
      rates,
      problems,
      items: rates.length,
      bytes: 100,
    });
    // Azure lists one meter twice, at two dates; within a page and across pages the newer price wins.
    const first = await repository.stagePage(
      azure,
      page([dated('0.2', '2026-10-01T00:00:00Z'), dated('0.1', '2026-11-01T00:00:00Z'), dated('0.3', null)], ['p1']),
      'https://prices.example/p?$skip=3',
      50,
    );
    expect(first).toMatchObject({
      version: azure.version,
      nextPage: 'https://prices.example/p?$skip=3',
      pages: 1,
      items: 3,
      problems: ['p1'],
    });
    const second = await repository.stagePage(azure, page([dated('0.4', '2026-09-01T00:00:00Z')], ['p2']), null, 1);
    expect(second).toMatchObject({ nextPage: null, pages: 2, items: 4, problems: ['p1'], problemCount: 2, bytes: 200 });
    const held = await db.pool.query(`SELECT hourly::text, effective_start FROM ${db.table('terms')} WHERE cloud = 'azure'`);
    expect(held.rows.map((r) => [r.hourly, (r.effective_start as Date).toISOString()])).toEqual([['0.1', '2026-11-01T00:00:00.000Z']]);
    expect((await repository.region('azure', 'eastus'))?.staging).toMatchObject({ pages: 2, nextPage: null });

    // A newer sync that began staging: the older one's pages are refused, and the switch clears the cursor.
    const newer = { ...azure, version: '20261205020000' };
    await repository.beginStaging(newer, { version: newer.version, firstPage: 'https://prices.example/p?$skip=0' });
    expect(await repository.stagePage(azure, page([dated('0.5', null)]), null, 50)).toBeNull();
    await repository.stagePage(newer, page([dated('0.11', null)]), null, 50);
    await repository.makeCurrent(newer, { ...findings('', []), etag: null });
    expect(await repository.region('azure', 'eastus')).toMatchObject({ currentVersion: newer.version, staging: null, rows: 1 });
  });
});
