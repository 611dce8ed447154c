// The catalogue in PostgreSQL: a version of a region's offer is staged in batches (one
// set-based INSERT per batch, from JSON), then made current in one transaction. See
// migrations/001_pricing_catalogue.sql for why readers never see a sync half done.
import { type ServiceDatabase, withTransaction } from '@tickflow/runtime';
import type { InstanceProduct, TermRate } from '../domain/ec2-offer.ts';

export interface RegionVersion {
  cloud: string;
  region: string;
  version: string;
}

export interface RegionState {
  cloud: string;
  region: string;
  currentVersion: string | null;
  publicationDate: Date | null;
  etag: string | null;
  syncedAt: Date | null;
  lastResult: 'never' | 'synced' | 'unchanged' | 'failed';
  lastError: string | null;
  rows: number;
  problems: string[];
}

interface RegionRow {
  cloud: string;
  region: string;
  current_version: string | null;
  publication_date: Date | null;
  etag: string | null;
  synced_at: Date | null;
  last_result: RegionState['lastResult'];
  last_error: string | null;
  rows: number;
  problems: string[];
}

export class CatalogueRepository {
  private readonly t: { regions: string; products: string; terms: string; catalogue: string };

  constructor(private readonly db: ServiceDatabase) {
    this.t = { regions: db.table('regions'), products: db.table('products'), terms: db.table('terms'), catalogue: db.table('catalogue') };
  }

  async region(cloud: string, region: string): Promise<RegionState | null> {
    await this.db.ready();
    const result = await this.db.pool.query<RegionRow>(`SELECT * FROM ${this.t.regions} WHERE cloud = $1 AND region = $2`, [cloud, region]);
    const row = result.rows[0];
    return row ? regionOf(row) : null;
  }

  /**
   * Starts staging a new version of the region: what earlier syncs left staged and never made
   * current (cut short, or failed) goes, so staging starts clean. The current version stays;
   * a version equal to it is not staged again (readers would see it change under them).
   */
  async beginStaging({ cloud, region }: Omit<RegionVersion, 'version'>): Promise<void> {
    await this.db.ready();
    await withTransaction(this.db.pool, async (client) => {
      await client.query(`INSERT INTO ${this.t.regions} (cloud, region) VALUES ($1, $2) ON CONFLICT (cloud, region) DO NOTHING`, [
        cloud,
        region,
      ]);
      // Locks the region's row: a switch to a new version cannot land between the read and the deletes.
      const current = await client.query<{ current_version: string | null }>(
        `SELECT current_version FROM ${this.t.regions} WHERE cloud = $1 AND region = $2 FOR UPDATE`,
        [cloud, region],
      );
      const keep = current.rows[0]?.current_version ?? null;
      for (const table of [this.t.terms, this.t.products]) {
        await client.query(`DELETE FROM ${table} WHERE cloud = $1 AND region = $2 AND version IS DISTINCT FROM $3`, [cloud, region, keep]);
      }
    });
  }

  /** Stages a batch of products of `version`, in one statement. */
  async stageProducts({ cloud, region, version }: RegionVersion, products: readonly InstanceProduct[]): Promise<void> {
    if (products.length === 0) return;
    await this.db.pool.query(
      `INSERT INTO ${this.t.products} (cloud, region, version, sku, instance_type, instance_family, operating_system, tenancy,
                                       license_model, pre_installed_software, capacity_status, vcpu, memory_gib, gpu, storage, network)
       SELECT $1, $2, $3, p.sku, p."instanceType", p."instanceFamily", p."operatingSystem", p.tenancy, p."licenseModel",
              p."preInstalledSoftware", p."capacityStatus", p.vcpu, p."memoryGiB", p.gpu, p.storage, p.network
         FROM jsonb_to_recordset($4::jsonb) AS p(sku text, "instanceType" text, "instanceFamily" text, "operatingSystem" text,
              tenancy text, "licenseModel" text, "preInstalledSoftware" text, "capacityStatus" text, vcpu integer,
              "memoryGiB" numeric, gpu integer, storage text, network text)
       ON CONFLICT (cloud, region, version, sku) DO UPDATE SET instance_type = EXCLUDED.instance_type`,
      [cloud, region, version, JSON.stringify(products)],
    );
  }

  /** Stages a batch of term rates of `version`, in one statement; prices go in as their decimal text. */
  async stageTerms({ cloud, region, version }: RegionVersion, rates: readonly TermRate[]): Promise<void> {
    if (rates.length === 0) return;
    await this.db.pool.query(
      `INSERT INTO ${this.t.terms} (cloud, region, version, sku, term, currency, hourly, upfront, lease_years, purchase_option, offering_class)
       SELECT $1, $2, $3, t.sku, t.term, t.currency, t.hourly, t.upfront, t."leaseYears", t."purchaseOption", t."offeringClass"
         FROM jsonb_to_recordset($4::jsonb) AS t(sku text, term text, currency text, hourly numeric, upfront numeric,
              "leaseYears" integer, "purchaseOption" text, "offeringClass" text)
       ON CONFLICT (cloud, region, version, sku, term) DO UPDATE SET hourly = EXCLUDED.hourly, upfront = EXCLUDED.upfront`,
      [cloud, region, version, JSON.stringify(rates)],
    );
  }

  /**
   * Makes the staged `version` the one readers see, in one transaction, and drops the version
   * it replaces. Returns the rows of the catalogue now current.
   */
  async makeCurrent(
    { cloud, region, version }: RegionVersion,
    details: { publicationDate: string | null; etag: string | null; problems: string[] },
  ): Promise<number> {
    return withTransaction(this.db.pool, async (client) => {
      const previous = await client.query<{ current_version: string | null }>(
        `SELECT current_version FROM ${this.t.regions} WHERE cloud = $1 AND region = $2 FOR UPDATE`,
        [cloud, region],
      );
      const rows = await client.query<{ rows: number }>(
        `SELECT count(*)::int AS rows FROM ${this.t.products} p JOIN ${this.t.terms} t USING (cloud, region, version, sku)
          WHERE p.cloud = $1 AND p.region = $2 AND p.version = $3`,
        [cloud, region, version],
      );
      const count = rows.rows[0]?.rows ?? 0;
      await client.query(
        `UPDATE ${this.t.regions} SET current_version = $3, publication_date = $4, etag = $5, synced_at = now(), last_result = 'synced',
                last_error = NULL, rows = $6, problems = $7
          WHERE cloud = $1 AND region = $2`,
        [cloud, region, version, details.publicationDate, details.etag, count, JSON.stringify(details.problems)],
      );
      const replaced = previous.rows[0]?.current_version ?? null;
      if (replaced !== null && replaced !== version) {
        for (const table of [this.t.terms, this.t.products]) {
          await client.query(`DELETE FROM ${table} WHERE cloud = $1 AND region = $2 AND version = $3`, [cloud, region, replaced]);
        }
      }
      return count;
    });
  }

  /** A sync that failed: said on the region, whose current version stays what it was. */
  async recordFailure(cloud: string, region: string, error: string): Promise<void> {
    await this.db.ready();
    await this.db.pool.query(
      `INSERT INTO ${this.t.regions} (cloud, region, last_result, last_error, synced_at) VALUES ($1, $2, 'failed', $3, now())
       ON CONFLICT (cloud, region) DO UPDATE SET last_result = 'failed', last_error = EXCLUDED.last_error, synced_at = now()`,
      [cloud, region, error],
    );
  }
}

function regionOf(row: RegionRow): RegionState {
  return {
    cloud: row.cloud,
    region: row.region,
    currentVersion: row.current_version,
    publicationDate: row.publication_date,
    etag: row.etag,
    syncedAt: row.synced_at,
    lastResult: row.last_result,
    lastError: row.last_error,
    rows: row.rows,
    problems: row.problems,
  };
}
