// The catalogue in PostgreSQL: a version of a region's offer is staged in batches (one
// set-based INSERT per batch, from JSON), then made current in one transaction. See
// migrations/001_pricing_catalogue.sql for why readers never see a sync half done.
import type { PricingPriceChanged } from '@tickflow/contracts';
import { type ServiceDatabase, withTransaction } from '@tickflow/runtime';
import type pg from 'pg';
import type { InstanceProduct, TermRate } from '../domain/ec2-offer.ts';

/** The pool, or a client inside a transaction. */
type Queryable = Pick<pg.PoolClient, 'query'>;

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
  /** The version whose changes and summary went out as events; behind `currentVersion` only while they are going out. */
  announcedVersion: string | null;
  previousVersion: string | null;
  changes: number;
  bytes: number;
  durationMs: number;
  missingAttributes: Record<string, number>;
  problemCount: number;
  /** A paged sync under way: the version it stages and where it stands; null when none is. */
  staging: PagedStaging | null;
}

/** Where a sync read page by page stands, kept with its staged rows. */
export interface PagedStaging {
  version: string;
  /** The page to read next; null once the last page is staged. */
  nextPage: string | null;
  pages: number;
  items: number;
  /** The first problems met, and how many in all. */
  problems: string[];
  problemCount: number;
  bytes: number;
}

/** What a sync found in the file it staged, kept with the version it makes current. */
export interface SyncFindings {
  publicationDate: string | null;
  etag: string | null;
  /** The first problems met (a product without an instance type, a term not understood); `problemCount` counts all. */
  problems: string[];
  problemCount: number;
  missingAttributes: Record<string, number>;
  bytes: number;
  durationMs: number;
}

/** A change as the events and the history carry it, with its place in the paging order. */
export type PriceChange = Omit<PricingPriceChanged, 'cloud' | 'region' | 'version' | 'previousVersion'> & {
  sku: string;
  detectedAt: Date;
};

export const PRICE_SORTS = ['price', '-price', 'vcpu', 'memory', 'instanceType'] as const;
const SORTS: Record<(typeof PRICE_SORTS)[number], string> = {
  price: 'hourly, region, instance_type, sku, term',
  '-price': 'hourly DESC, region, instance_type, sku, term',
  vcpu: 'vcpu, memory_gib, hourly, sku, term',
  memory: 'memory_gib, vcpu, hourly, sku, term',
  instanceType: 'instance_type, region, operating_system, tenancy, term, sku',
};

export interface PriceFilter {
  cloud?: string;
  region?: string;
  instanceType?: string;
  os?: string;
  tenancy?: string;
  term?: string;
  minVcpu?: number;
  minMemoryGiB?: string;
  maxPricePerHour?: string;
  /** The whole catalogue rather than its default slice (Linux, shared, running, no software, on-demand). */
  all: boolean;
  sort: (typeof PRICE_SORTS)[number];
  limit: number;
  offset: number;
}

/** A catalogue row as the API gives it: decimals as exact strings. */
export interface CatalogueRow {
  cloud: string;
  region: string;
  instanceType: string;
  instanceFamily: string | null;
  operatingSystem: string;
  tenancy: string;
  licenseModel: string;
  preInstalledSoftware: string;
  capacityStatus: string;
  term: string;
  currency: string;
  hourly: string;
  upfront: string;
  vcpu: number | null;
  memoryGiB: string | null;
  gpu: number;
  storage: string | null;
  network: string | null;
  version: string;
  publicationDate: Date | null;
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
  announced_version: string | null;
  previous_version: string | null;
  changes: number;
  bytes: string;
  duration_ms: string;
  missing_attributes: Record<string, number>;
  problem_count: number;
  staging_version: string | null;
  staging_next_page: string | null;
  staging_pages: number;
  staging_items: number;
  staging_problems: string[];
  staging_problem_count: number;
  staging_bytes: string;
}

/** A row of price_changes as pg returns it (numeric as text). */
export interface ChangeRow {
  sku: string;
  term: string;
  instance_type: string;
  operating_system: string;
  tenancy: string;
  license_model: string;
  pre_installed_software: string;
  capacity_status: string;
  currency: string;
  change: PriceChange['change'];
  old_hourly: string | null;
  new_hourly: string | null;
  percent: string | null;
  detected_at: Date;
}

export class CatalogueRepository {
  private readonly t: { regions: string; products: string; terms: string; catalogue: string; changes: string };

  constructor(private readonly db: ServiceDatabase) {
    this.t = {
      regions: db.table('regions'),
      products: db.table('products'),
      terms: db.table('terms'),
      catalogue: db.table('catalogue'),
      changes: db.table('price_changes'),
    };
  }

  /** Every region synced or tried, by cloud and region. */
  async regions(): Promise<RegionState[]> {
    await this.db.ready();
    const result = await this.db.pool.query<RegionRow>(`SELECT * FROM ${this.t.regions} ORDER BY cloud, region`);
    return result.rows.map(regionOf);
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
  async beginStaging({ cloud, region }: Omit<RegionVersion, 'version'>, paged?: { version: string; firstPage: string }): Promise<void> {
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
      await client.query(
        `UPDATE ${this.t.regions} SET staging_version = $3, staging_next_page = $4, staging_pages = 0, staging_items = 0,
                staging_problems = '[]', staging_problem_count = 0, staging_bytes = 0
          WHERE cloud = $1 AND region = $2`,
        [cloud, region, paged?.version ?? null, paged?.firstPage ?? null],
      );
    });
  }

  /**
   * Stages one page of a paged sync and moves its cursor past it, in one transaction: a sync
   * stopped anywhere resumes at the first page not staged. Null, and nothing staged, when the
   * region is no longer staging `version` (a newer sync began).
   */
  async stagePage(
    target: RegionVersion,
    page: { products: readonly InstanceProduct[]; rates: readonly TermRate[]; problems: readonly string[]; items: number; bytes: number },
    nextPage: string | null,
    keptProblems: number,
  ): Promise<PagedStaging | null> {
    return withTransaction(this.db.pool, async (client) => {
      const cursor = await client.query<RegionRow>(
        `SELECT * FROM ${this.t.regions} WHERE cloud = $1 AND region = $2 AND staging_version = $3 FOR UPDATE`,
        [target.cloud, target.region, target.version],
      );
      const row = cursor.rows[0];
      if (row === undefined) return null;
      await this.stageProducts(target, page.products, client);
      await this.stageTerms(target, page.rates, client);
      const problems = [...row.staging_problems, ...page.problems].slice(0, keptProblems);
      const updated = await client.query<RegionRow>(
        `UPDATE ${this.t.regions} SET staging_next_page = $3, staging_pages = staging_pages + 1, staging_items = staging_items + $4,
                staging_problems = $5, staging_problem_count = staging_problem_count + $6, staging_bytes = staging_bytes + $7
          WHERE cloud = $1 AND region = $2 RETURNING *`,
        [target.cloud, target.region, nextPage, page.items, JSON.stringify(problems), page.problems.length, page.bytes],
      );
      return regionOf(updated.rows[0] as RegionRow).staging;
    });
  }

  /** Stages a batch of products of `version`, in one statement. */
  async stageProducts(
    { cloud, region, version }: RegionVersion,
    products: readonly InstanceProduct[],
    client: Queryable = this.db.pool,
  ): Promise<void> {
    if (products.length === 0) return;
    await client.query(
      `INSERT INTO ${this.t.products} (cloud, region, version, sku, instance_type, instance_family, operating_system, tenancy,
                                       license_model, pre_installed_software, capacity_status, vcpu, memory_gib, gpu, storage, network)
       SELECT $1, $2, $3, p.sku, p."instanceType", p."instanceFamily", p."operatingSystem", p.tenancy, p."licenseModel",
              p."preInstalledSoftware", p."capacityStatus", p.vcpu, p."memoryGiB", p.gpu, p.storage, p.network
         FROM jsonb_to_recordset($4::jsonb) AS p(sku text, "instanceType" text, "instanceFamily" text, "operatingSystem" text,
              tenancy text, "licenseModel" text, "preInstalledSoftware" text, "capacityStatus" text, vcpu integer,
              "memoryGiB" numeric, gpu integer, storage text, network text)
       ON CONFLICT (cloud, region, version, sku) DO NOTHING`,
      [cloud, region, version, JSON.stringify(products)],
    );
  }

  /**
   * Stages a batch of term rates of `version`, in one statement; prices go in as their decimal
   * text. A term staged twice keeps the price that holds since later (the first, when neither says).
   */
  async stageTerms({ cloud, region, version }: RegionVersion, rates: readonly TermRate[], client: Queryable = this.db.pool): Promise<void> {
    if (rates.length === 0) return;
    await client.query(
      `INSERT INTO ${this.t.terms} AS held (cloud, region, version, sku, term, currency, hourly, upfront, lease_years, purchase_option,
                                            offering_class, effective_start)
       SELECT $1, $2, $3, t.sku, t.term, t.currency, t.hourly, t.upfront, t."leaseYears", t."purchaseOption", t."offeringClass",
              t."effectiveStart"
         FROM jsonb_to_recordset($4::jsonb) AS t(sku text, term text, currency text, hourly numeric, upfront numeric,
              "leaseYears" integer, "purchaseOption" text, "offeringClass" text, "effectiveStart" timestamptz)
       ON CONFLICT (cloud, region, version, sku, term) DO UPDATE
         SET currency = EXCLUDED.currency, hourly = EXCLUDED.hourly, upfront = EXCLUDED.upfront, effective_start = EXCLUDED.effective_start
       WHERE held.effective_start < EXCLUDED.effective_start`,
      // One row per term in a statement: ON CONFLICT cannot update a row twice.
      [cloud, region, version, JSON.stringify(newestPerTerm(rates))],
    );
  }

  /**
   * Makes the staged `version` the one readers see, in one transaction: the rows that differ
   * from the version it replaces go to the change history, the replaced version is dropped,
   * and what the sync found is kept on the region. Returns the region as it now is.
   */
  async makeCurrent({ cloud, region, version }: RegionVersion, findings: SyncFindings): Promise<RegionState> {
    // Fresh statistics first: without them, on tables just filled, the planner joins products
    // to terms row by row, and counting or comparing a region's rows takes minutes, not seconds.
    await this.db.pool.query(`ANALYZE ${this.t.products}, ${this.t.terms}`);
    return withTransaction(this.db.pool, async (client) => {
      const previous = await client.query<{ current_version: string | null }>(
        `SELECT current_version FROM ${this.t.regions} WHERE cloud = $1 AND region = $2 FOR UPDATE`,
        [cloud, region],
      );
      const replaced = previous.rows[0]?.current_version ?? null;
      const rows = await client.query<{ rows: number }>(
        `SELECT count(*)::int AS rows FROM ${this.t.products} p JOIN ${this.t.terms} t USING (cloud, region, version, sku)
          WHERE p.cloud = $1 AND p.region = $2 AND p.version = $3`,
        [cloud, region, version],
      );
      const count = rows.rows[0]?.rows ?? 0;
      let changes = 0;
      if (replaced !== null && replaced !== version) {
        changes = (await client.query(this.diffStatement(), [cloud, region, version, replaced])).rowCount ?? 0;
        for (const table of [this.t.terms, this.t.products]) {
          await client.query(`DELETE FROM ${table} WHERE cloud = $1 AND region = $2 AND version = $3`, [cloud, region, replaced]);
        }
      }
      const updated = await client.query<RegionRow>(
        `UPDATE ${this.t.regions} SET current_version = $3, previous_version = $4, publication_date = $5, etag = $6, synced_at = now(),
                last_result = 'synced', last_error = NULL, rows = $7, changes = $8, problems = $9, problem_count = $10,
                missing_attributes = $11, bytes = $12, duration_ms = $13, staging_version = NULL, staging_next_page = NULL
          WHERE cloud = $1 AND region = $2 RETURNING *`,
        [
          cloud,
          region,
          version,
          replaced,
          findings.publicationDate,
          findings.etag,
          count,
          changes,
          JSON.stringify(findings.problems),
          findings.problemCount,
          JSON.stringify(findings.missingAttributes),
          findings.bytes,
          findings.durationMs,
        ],
      );
      return regionOf(updated.rows[0] as RegionRow);
    });
  }

  /**
   * The rows of `$3` (new) and `$4` (old) joined by sku and term: one change per row added,
   * removed, or whose hourly rate moved, compared exactly as numeric.
   */
  private diffStatement(): string {
    const side = (version: string) =>
      `SELECT p.sku, t.term, p.instance_type, p.operating_system, p.tenancy, p.license_model, p.pre_installed_software,
              p.capacity_status, t.currency, t.hourly
         FROM ${this.t.products} p JOIN ${this.t.terms} t USING (cloud, region, version, sku)
        WHERE p.cloud = $1 AND p.region = $2 AND p.version = ${version}`;
    return `INSERT INTO ${this.t.changes} (cloud, region, version, previous_version, sku, term, instance_type, operating_system, tenancy,
                                           license_model, pre_installed_software, capacity_status, currency, change, old_hourly,
                                           new_hourly, percent)
            SELECT $1, $2, $3, $4, coalesce(n.sku, o.sku), coalesce(n.term, o.term), coalesce(n.instance_type, o.instance_type),
                   coalesce(n.operating_system, o.operating_system), coalesce(n.tenancy, o.tenancy),
                   coalesce(n.license_model, o.license_model), coalesce(n.pre_installed_software, o.pre_installed_software),
                   coalesce(n.capacity_status, o.capacity_status), coalesce(n.currency, o.currency),
                   CASE WHEN o.sku IS NULL THEN 'added' WHEN n.sku IS NULL THEN 'removed' WHEN n.hourly > o.hourly THEN 'up' ELSE 'down' END,
                   o.hourly, n.hourly,
                   CASE WHEN o.hourly > 0 AND n.hourly IS NOT NULL THEN round((n.hourly - o.hourly) * 100 / o.hourly, 2) END
              FROM (${side('$4')}) o FULL JOIN (${side('$3')}) n ON o.sku = n.sku AND o.term = n.term
             WHERE o.sku IS NULL OR n.sku IS NULL OR o.hourly <> n.hourly`;
  }

  /** The changes a version brought, a page at a time in (sku, term) order, after the one given. */
  async changesOf(
    { cloud, region, version }: RegionVersion,
    after: { sku: string; term: string } | null,
    limit: number,
  ): Promise<PriceChange[]> {
    const result = await this.db.pool.query<ChangeRow>(
      `SELECT * FROM ${this.t.changes} WHERE cloud = $1 AND region = $2 AND version = $3 AND (sku, term) > ($4, $5)
        ORDER BY sku, term LIMIT $6`,
      [cloud, region, version, after?.sku ?? '', after?.term ?? '', limit],
    );
    return result.rows.map(changeOf);
  }

  /** The changes of one instance type in a region, newest first: its price history. */
  async history(
    cloud: string,
    region: string,
    instanceType: string,
    limit: number,
  ): Promise<(PriceChange & { version: string; previousVersion: string })[]> {
    await this.db.ready();
    const result = await this.db.pool.query<ChangeRow & { version: string; previous_version: string }>(
      `SELECT * FROM ${this.t.changes} WHERE cloud = $1 AND region = $2 AND instance_type = $3
        ORDER BY detected_at DESC, sku, term LIMIT $4`,
      [cloud, region, instanceType, limit],
    );
    return result.rows.map((row) => ({ ...changeOf(row), version: row.version, previousVersion: row.previous_version }));
  }

  /** The changes and summary of `version` went out: a redelivery need not send them again. */
  async markAnnounced({ cloud, region, version }: RegionVersion): Promise<void> {
    await this.db.pool.query(`UPDATE ${this.t.regions} SET announced_version = $3 WHERE cloud = $1 AND region = $2`, [
      cloud,
      region,
      version,
    ]);
  }

  /** A sync that found nothing new: said on the region, whose catalogue stays as it is. */
  async recordUnchanged(cloud: string, region: string): Promise<RegionState> {
    await this.db.ready();
    const result = await this.db.pool.query<RegionRow>(
      `INSERT INTO ${this.t.regions} (cloud, region, last_result, synced_at) VALUES ($1, $2, 'unchanged', now())
       ON CONFLICT (cloud, region) DO UPDATE SET last_result = 'unchanged', last_error = NULL, synced_at = now() RETURNING *`,
      [cloud, region],
    );
    return regionOf(result.rows[0] as RegionRow);
  }

  /** Catalogue rows that pass the filter, in the order asked, a page at a time. */
  async prices(filter: PriceFilter): Promise<{ rows: CatalogueRow[]; total: number }> {
    await this.db.ready();
    const where: string[] = [];
    const values: unknown[] = [];
    const param = (value: unknown) => {
      values.push(value);
      return `$${values.length}`;
    };
    if (filter.cloud !== undefined) where.push(`cloud = ${param(filter.cloud)}`);
    if (filter.region !== undefined) where.push(`region = ${param(filter.region)}`);
    if (filter.instanceType !== undefined) where.push(`instance_type = ${param(filter.instanceType)}`);
    if (filter.os !== undefined) where.push(`operating_system = ${param(filter.os)}`);
    if (filter.tenancy !== undefined) where.push(`tenancy = ${param(filter.tenancy)}`);
    if (filter.term !== undefined) where.push(`term = ${param(filter.term)}`);
    if (filter.minVcpu !== undefined) where.push(`vcpu >= ${param(filter.minVcpu)}`);
    if (filter.minMemoryGiB !== undefined) where.push(`memory_gib >= ${param(filter.minMemoryGiB)}::numeric`);
    if (filter.maxPricePerHour !== undefined) where.push(`hourly <= ${param(filter.maxPricePerHour)}::numeric`);
    const view = filter.all ? this.t.catalogue : this.db.table('default_catalogue');
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const order = SORTS[filter.sort];
    const total = await this.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${view} ${clause}`, values);
    const rows = await this.db.pool.query<CatalogueRow>(
      `SELECT cloud, region, instance_type AS "instanceType", instance_family AS "instanceFamily", operating_system AS "operatingSystem",
              tenancy, license_model AS "licenseModel", pre_installed_software AS "preInstalledSoftware",
              capacity_status AS "capacityStatus", term, currency, hourly::text, upfront::text, vcpu, memory_gib::text AS "memoryGiB",
              gpu, storage, network, version, publication_date AS "publicationDate"
         FROM ${view} ${clause} ORDER BY ${order} LIMIT ${param(filter.limit)} OFFSET ${param(filter.offset)}`,
      values,
    );
    return { rows: rows.rows, total: total.rows[0]?.n ?? 0 };
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

/** One rate per sku and term: the one that holds since later, the first when neither says. */
function newestPerTerm(rates: readonly TermRate[]): readonly TermRate[] {
  const kept = new Map<string, TermRate>();
  for (const rate of rates) {
    const key = `${rate.sku}\u0000${rate.term}`;
    const held = kept.get(key);
    if (
      held === undefined ||
      (rate.effectiveStart !== null && (held.effectiveStart === null || rate.effectiveStart > held.effectiveStart))
    ) {
      kept.set(key, rate);
    }
  }
  return kept.size === rates.length ? rates : [...kept.values()];
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
    announcedVersion: row.announced_version,
    previousVersion: row.previous_version,
    changes: row.changes,
    bytes: Number(row.bytes),
    durationMs: Number(row.duration_ms),
    missingAttributes: row.missing_attributes,
    problemCount: row.problem_count,
    staging:
      row.staging_version === null
        ? null
        : {
            version: row.staging_version,
            nextPage: row.staging_next_page,
            pages: row.staging_pages,
            items: row.staging_items,
            problems: row.staging_problems,
            problemCount: row.staging_problem_count,
            bytes: Number(row.staging_bytes),
          },
  };
}

export function changeOf(row: ChangeRow): PriceChange {
  return {
    sku: row.sku,
    term: row.term,
    instanceType: row.instance_type,
    operatingSystem: row.operating_system,
    tenancy: row.tenancy,
    licenseModel: row.license_model,
    preInstalledSoftware: row.pre_installed_software,
    capacityStatus: row.capacity_status,
    currency: row.currency,
    change: row.change,
    oldHourly: row.old_hourly,
    newHourly: row.new_hourly,
    percent: row.percent,
    detectedAt: row.detected_at,
  };
}
