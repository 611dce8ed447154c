import { defineEvent } from '../event-contract.ts';

/**
 * Sync one region's prices into the catalogue. Sent on `pricing.requests` by the daily tick's
 * fan-out (one per region, so regions retry and fail on their own), keyed by `cloud/region`.
 */
export interface PricingRegionSyncRequested {
  /** The tick's event id: every region of one sync shares it. */
  syncId: string;
  cloud: string;
  region: string;
  /**
   * The version the sync makes current: for AWS the offer version the region index named when
   * the sync was fanned out (null if its URL did not say); for Azure, which has no versions, the
   * tick's time (`20261204020000`), shared by every attempt of the sync.
   */
  version: string | null;
  /** AWS: the offer file, as the region index gives it (a path on the price list's base URL); Azure: the first page's URL. */
  url: string | null;
  /** Where the prices come from: `query-api` for AWS's Price List Query API; null for the cloud's default (AWS's offer files, Azure Retail Prices). */
  source: string | null;
}

export const pricingRegionSyncRequested = defineEvent<PricingRegionSyncRequested>('tickflow.pricing.region-sync', {
  type: 'record',
  name: 'PricingRegionSyncRequested',
  namespace: 'tickflow.pricing',
  fields: [
    { name: 'syncId', type: 'string' },
    { name: 'cloud', type: 'string' },
    { name: 'region', type: 'string' },
    { name: 'version', type: ['null', 'string'], default: null },
    { name: 'url', type: ['null', 'string'], default: null },
    { name: 'source', type: ['null', 'string'], default: null },
  ],
});

/**
 * One catalogue row (an instance type in one OS, tenancy, licence, software, capacity status
 * and term) that differs between a region's previous version and the new one; on
 * `pricing.events`, keyed by the instance type.
 */
export interface PricingPriceChanged {
  cloud: string;
  region: string;
  version: string;
  previousVersion: string;
  instanceType: string;
  operatingSystem: string;
  tenancy: string;
  licenseModel: string;
  preInstalledSoftware: string;
  capacityStatus: string;
  term: string;
  change: 'added' | 'removed' | 'up' | 'down';
  currency: string;
  /** Hourly rates as exact decimal strings; null on the side where the row does not exist. */
  oldHourly: string | null;
  newHourly: string | null;
  /** (new - old) / old × 100, two decimals; null when added, removed, or the old rate was 0. */
  percent: string | null;
}

export const pricingPriceChanged = defineEvent<PricingPriceChanged>('tickflow.pricing.price.changed', {
  type: 'record',
  name: 'PricingPriceChanged',
  namespace: 'tickflow.pricing',
  fields: [
    { name: 'cloud', type: 'string' },
    { name: 'region', type: 'string' },
    { name: 'version', type: 'string' },
    { name: 'previousVersion', type: 'string' },
    { name: 'instanceType', type: 'string' },
    { name: 'operatingSystem', type: 'string' },
    { name: 'tenancy', type: 'string' },
    { name: 'licenseModel', type: 'string' },
    { name: 'preInstalledSoftware', type: 'string' },
    { name: 'capacityStatus', type: 'string' },
    { name: 'term', type: 'string' },
    { name: 'change', type: { type: 'enum', name: 'PriceChange', symbols: ['added', 'removed', 'up', 'down'] } },
    { name: 'currency', type: 'string' },
    { name: 'oldHourly', type: ['null', 'string'], default: null },
    { name: 'newHourly', type: ['null', 'string'], default: null },
    { name: 'percent', type: ['null', 'string'], default: null },
  ],
});

/** A region's sync is done: a new version is current (`synced`) or nothing had changed (`unchanged`); on `pricing.events`, keyed by `cloud/region`. */
export interface PricingSyncCompleted {
  syncId: string;
  cloud: string;
  region: string;
  result: 'synced' | 'unchanged';
  version: string | null;
  previousVersion: string | null;
  /** Catalogue rows of the version now current. */
  rows: number;
  /** Rows that differ from the previous version (as many `price.changed` events). */
  changes: number;
  /** Things in the file that could not be read (a product without an instance type, a term not understood), and attributes missing, counted. */
  problems: number;
  missingAttributes: Record<string, number>;
  bytes: number;
  durationMs: number;
}

export const pricingSyncCompleted = defineEvent<PricingSyncCompleted>('tickflow.pricing.sync.completed', {
  type: 'record',
  name: 'PricingSyncCompleted',
  namespace: 'tickflow.pricing',
  fields: [
    { name: 'syncId', type: 'string' },
    { name: 'cloud', type: 'string' },
    { name: 'region', type: 'string' },
    { name: 'result', type: { type: 'enum', name: 'PricingSyncResult', symbols: ['synced', 'unchanged'] } },
    { name: 'version', type: ['null', 'string'], default: null },
    { name: 'previousVersion', type: ['null', 'string'], default: null },
    { name: 'rows', type: 'int' },
    { name: 'changes', type: 'int' },
    { name: 'problems', type: 'int' },
    { name: 'missingAttributes', type: { type: 'map', values: 'int' } },
    { name: 'bytes', type: 'long' },
    { name: 'durationMs', type: 'long' },
  ],
});

/**
 * Deliver one webhook the changes of one region's new version that pass its filters. Sent on
 * `pricing.requests` by the region's sync once its changes are announced, keyed by the
 * webhook, so one subscriber's failures retry on the tiers and end in the DLQ on their own.
 */
export interface PricingWebhookDelivery {
  /** The receiver's idempotency key too (`X-Tickflow-Delivery`). */
  deliveryId: string;
  webhookId: string;
  cloud: string;
  region: string;
  version: string;
  previousVersion: string;
}

export const pricingWebhookDelivery = defineEvent<PricingWebhookDelivery>('tickflow.pricing.webhook-delivery', {
  type: 'record',
  name: 'PricingWebhookDelivery',
  namespace: 'tickflow.pricing',
  fields: [
    { name: 'deliveryId', type: 'string' },
    { name: 'webhookId', type: 'string' },
    { name: 'cloud', type: 'string' },
    { name: 'region', type: 'string' },
    { name: 'version', type: 'string' },
    { name: 'previousVersion', type: 'string' },
  ],
});
