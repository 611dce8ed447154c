// Webhooks in PostgreSQL, and the changes each one wants of a region's new version, filtered
// in SQL so a sync of many thousand changes never comes into memory whole.
import { randomBytes, randomUUID } from 'node:crypto';
import type { ServiceDatabase } from '@tickflow/runtime';
import type { WebhookRegistration } from '../domain/webhooks.ts';
import { type ChangeRow, changeOf, type PriceChange, type RegionVersion } from './catalogue-repository.ts';

export interface Webhook extends WebhookRegistration {
  id: string;
  createdAt: Date;
}

interface WebhookRow {
  id: string;
  url: string;
  secret: string;
  clouds: string[];
  regions: string[];
  instance_families: string[];
  min_percent: string;
  created_at: Date;
}

export class WebhookRepository {
  private readonly webhooks: string;
  private readonly changes: string;

  constructor(private readonly db: ServiceDatabase) {
    this.webhooks = db.table('webhooks');
    this.changes = db.table('price_changes');
  }

  /** Registers a webhook; its secret is returned here only. */
  async create(registration: WebhookRegistration): Promise<Webhook & { secret: string }> {
    await this.db.ready();
    const id = randomUUID();
    const secret = `whsec_${randomBytes(24).toString('base64url')}`;
    const result = await this.db.pool.query<WebhookRow>(
      `INSERT INTO ${this.webhooks} (id, url, secret, clouds, regions, instance_families, min_percent)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
      [id, registration.url, secret, registration.clouds, registration.regions, registration.instanceFamilies, registration.minPercent],
    );
    return { ...webhookOf(result.rows[0] as WebhookRow), secret };
  }

  async list(): Promise<Webhook[]> {
    await this.db.ready();
    const result = await this.db.pool.query<WebhookRow>(`SELECT * FROM ${this.webhooks} ORDER BY created_at, id`);
    return result.rows.map(webhookOf);
  }

  /** A webhook with its secret, for signing a delivery; null once deleted. */
  async withSecret(id: string): Promise<(Webhook & { secret: string }) | null> {
    const result = await this.db.pool.query<WebhookRow>(`SELECT * FROM ${this.webhooks} WHERE id = $1`, [id]);
    const row = result.rows[0];
    return row ? { ...webhookOf(row), secret: row.secret } : null;
  }

  async delete(id: string): Promise<boolean> {
    await this.db.ready();
    const result = await this.db.pool.query(`DELETE FROM ${this.webhooks} WHERE id = $1`, [id]);
    return (result.rowCount ?? 0) > 0;
  }

  /** The webhooks that may want changes of `cloud`/`region` (the family and percent filters are applied per change). */
  async forRegion(cloud: string, region: string): Promise<Webhook[]> {
    const result = await this.db.pool.query<WebhookRow>(
      `SELECT * FROM ${this.webhooks} WHERE (clouds = '{}' OR $1 = ANY (clouds)) AND (regions = '{}' OR $2 = ANY (regions)) ORDER BY id`,
      [cloud, region],
    );
    return result.rows.map(webhookOf);
  }

  /** The changes of a version that pass a webhook's filters: the first `limit`, and how many in all. */
  async changesFor(
    webhook: Webhook,
    { cloud, region, version }: RegionVersion,
    limit: number,
  ): Promise<{ changes: PriceChange[]; total: number }> {
    const where = `cloud = $1 AND region = $2 AND version = $3
      AND (cardinality($4::text[]) = 0 OR split_part(instance_type, '.', 1) = ANY ($4::text[]))
      AND (percent IS NULL OR abs(percent) >= $5::numeric)`;
    const values = [cloud, region, version, webhook.instanceFamilies, webhook.minPercent];
    const total = await this.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${this.changes} WHERE ${where}`, values);
    const rows = await this.db.pool.query<ChangeRow>(
      `SELECT * FROM ${this.changes} WHERE ${where} ORDER BY instance_type, sku, term LIMIT $6`,
      [...values, limit],
    );
    return { total: total.rows[0]?.n ?? 0, changes: rows.rows.map(changeOf) };
  }
}

function webhookOf(row: WebhookRow): Webhook {
  return {
    id: row.id,
    url: row.url,
    clouds: row.clouds,
    regions: row.regions,
    instanceFamilies: row.instance_families,
    minPercent: row.min_percent,
    createdAt: row.created_at,
  };
}
