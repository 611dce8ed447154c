// What pricing's tests share: the service as a real process with its own topics and PostgreSQL
// schema, the AWS price list and Azure Retail Prices stand-ins it syncs from, and the events it
// writes, read back from Kafka.
import { fileURLToPath } from 'node:url';
import { schedulerTick } from '@tickflow/contracts';
import {
  type AwsPriceListStandIn,
  type AwsPricingApiStandIn,
  type AwsRegionOffer,
  type AzureRegionPrices,
  type AzureRetailPricesStandIn,
  EventTap,
  eventually,
  type ReadEvent,
  type StartedServiceProcess,
  stack,
  startAwsPriceListStandIn,
  startAwsPricingApiStandIn,
  startAzureRetailPricesStandIn,
  startServiceProcess,
  uniqueName,
} from '@tickflow/testing';
import pg from 'pg';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
export const PRICING_TOKEN = 'pricing-test-token-0123456789';
export const QUERY_API_KEY = { id: 'AKIATICKFLOWTEST0001', secret: 'query-api-secret-never-logged-0123456789' };
export const db = new pg.Pool({ connectionString: stack.databaseUrl, max: 4 });

export class PricingBed {
  readonly instance = uniqueName('pricing');
  readonly schema = this.instance.replaceAll('-', '_');
  readonly tap = new EventTap();
  readonly processes: StartedServiceProcess[] = [];
  priceList!: AwsPriceListStandIn;
  azure: AzureRetailPricesStandIn | undefined;
  queryApi: AwsPricingApiStandIn | undefined;
  events: ReadEvent[] = [];
  private ticks = 0;

  async startPriceList(regions: Record<string, AwsRegionOffer>): Promise<AwsPriceListStandIn> {
    this.priceList = await startAwsPriceListStandIn({ regions });
    return this.priceList;
  }

  /** Azure's prices, `pageSize` items a page; the service syncs the regions given unless `env` says otherwise. */
  async startAzure(regions: Record<string, AzureRegionPrices>, pageSize = 1000): Promise<AzureRetailPricesStandIn> {
    this.azure = await startAzureRetailPricesStandIn({ regions, pageSize });
    return this.azure;
  }

  /** AWS's Price List Query API; the service reads AWS from it (PRICING_AWS_SOURCE=query-api), signing with QUERY_API_KEY. */
  async startQueryApi(regions: Record<string, AwsRegionOffer>): Promise<AwsPricingApiStandIn> {
    this.queryApi = await startAwsPricingApiStandIn({ regions, accessKeyId: QUERY_API_KEY.id });
    return this.queryApi;
  }

  async start(env: Record<string, string> = {}): Promise<StartedServiceProcess> {
    const started = await startServiceProcess(main, {
      PRICING_INSTANCE: this.instance,
      PRICING_DB_SCHEMA: this.schema,
      PRICING_AWS_BASE_URL: this.priceList.url,
      PRICING_RETRY_TIERS: '1s,2s',
      PRICING_BATCH_ROWS: '500',
      PRICING_FETCH_TIMEOUT: '5s',
      PRICING_API_TOKEN: PRICING_TOKEN,
      ...(this.azure === undefined ? {} : { PRICING_AZURE_BASE_URL: this.azure.url }),
      ...(this.queryApi === undefined
        ? {}
        : {
            PRICING_AWS_SOURCE: 'query-api',
            PRICING_AWS_API_ENDPOINT: this.queryApi.url,
            AWS_ACCESS_KEY_ID: QUERY_API_KEY.id,
            AWS_SECRET_ACCESS_KEY: QUERY_API_KEY.secret,
          }),
      ...env,
    });
    this.processes.push(started);
    if (this.processes.length === 1) this.events = await this.tap.read(`${this.instance}.events`);
    return started;
  }

  /** Sends a tick of the daily schedule, as the scheduler would; each tick is a new slot. */
  tick(payload: Record<string, string> = {}, headers: Record<string, string> = {}) {
    this.ticks += 1;
    const scheduledTime = new Date(Date.UTC(2026, 11, this.ticks, 2)).toISOString();
    return this.tap.send(
      `${this.instance}.requests`,
      schedulerTick,
      { schedule: 'pricing-daily', scheduledTime, payload },
      'tick',
      headers,
    );
  }

  /** The `sync.completed` events so far, or waits until there are `count` of them. */
  async completed(count: number, timeoutMs = 60_000): Promise<ReadEvent[]> {
    return eventually(
      `${count} sync.completed events`,
      async () => {
        const found = this.events.filter((e) => e.type === 'tickflow.pricing.sync.completed');
        return found.length >= count ? found : undefined;
      },
      timeoutMs,
    );
  }

  changes(): ReadEvent[] {
    return this.events.filter((e) => e.type === 'tickflow.pricing.price.changed');
  }

  /** The catalogue as readers see it, straight from PostgreSQL: `instanceType os tenancy capacity sw term hourly @version`. */
  async catalogue(region: string): Promise<string[]> {
    const result = await db.query<Record<string, string>>(
      `SELECT instance_type, operating_system, tenancy, capacity_status, pre_installed_software, license_model, term, hourly::text, version
         FROM "${this.schema}".catalogue WHERE region = $1 ORDER BY 1, 2, 3, 4, 5, 6, 7`,
      [region],
    );
    return result.rows.map(
      (r) =>
        `${r.instance_type} ${r.operating_system} ${r.tenancy} ${r.capacity_status} ${r.pre_installed_software} ${r.license_model} ${r.term} ${r.hourly} @${r.version}`,
    );
  }

  async region(region: string, cloud = 'aws'): Promise<Record<string, unknown> | undefined> {
    const result = await db
      .query(`SELECT * FROM "${this.schema}".regions WHERE cloud = $1 AND region = $2`, [cloud, region])
      .catch(() => undefined);
    return result?.rows[0];
  }

  /** Waits until the region's row holds what `ready` looks for. */
  eventuallyRegion(
    region: string,
    ready: (row: Record<string, unknown>) => boolean,
    timeoutMs = 30_000,
    cloud = 'aws',
  ): Promise<Record<string, unknown>> {
    return eventually(
      `region ${cloud}/${region} as expected`,
      async () => {
        const row = await this.region(region, cloud);
        return row !== undefined && ready(row) ? row : undefined;
      },
      timeoutMs,
    );
  }

  /** Waits until `events` (a tap's live array) holds `count` records. */
  eventuallyEvents(events: ReadEvent[], count: number, timeoutMs = 30_000): Promise<ReadEvent[]> {
    return eventually(`${count} records`, async () => (events.length >= count ? events : undefined), timeoutMs);
  }

  /** Waits until rows of `version` are being staged: a sync is mid-file. */
  eventuallyStaged(version: string, timeoutMs = 30_000): Promise<true> {
    return eventually(
      `rows of ${version} staged`,
      async () => {
        const result = await db.query(`SELECT 1 FROM "${this.schema}".terms WHERE version = $1 LIMIT 1`, [version]);
        return result.rowCount === 1 ? true : undefined;
      },
      timeoutMs,
    );
  }

  async stop(): Promise<void> {
    for (const p of this.processes.splice(0)) p.child.kill('SIGKILL');
    await this.tap.close();
    await this.priceList?.close().catch(() => undefined);
    await this.azure?.close().catch(() => undefined);
    await this.queryApi?.close().catch(() => undefined);
    await db.query(`DROP SCHEMA IF EXISTS "${this.schema}" CASCADE`).catch(() => undefined);
  }
}
