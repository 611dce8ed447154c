// Pricing's own variables, validated with the common ones at start: a bad value stops the
// start with a message naming the variable.
import { booleanVar, delayListVar, durationVar, enumVar, intVar, listVar, secretVar, stringVar, urlVar } from '@tickflow/runtime';
import { z } from 'zod';

/** An AWS region code as the price list names regions: `us-east-1`, `ap-southeast-2`, `us-gov-west-1`. */
export const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
/** An Azure region as the Retail Prices API names it (`armRegionName`): `eastus`, `westeurope`, `southcentralus`. */
export const AZURE_REGION = /^[a-z][a-z0-9]+$/;

export const pricingConfig = z.object({
  /** Prefix of the topics and the consumer group; tests run several side by side. */
  PRICING_INSTANCE: stringVar('pricing').refine((v) => /^[A-Za-z0-9._-]+$/.test(v), 'must be a topic-safe name'),
  /** The public AWS price list (Bulk API); no credentials. */
  PRICING_AWS_BASE_URL: urlVar(['http', 'https'], 'https://pricing.us-east-1.amazonaws.com'),
  /**
   * Where AWS's prices come from: `bulk`, the public price list's offer files (no
   * credentials), or `query-api`, the Price List Query API's `GetProducts` (the seed's
   * `--boto3` mode: AWS credentials from the standard chain, such as AWS_ACCESS_KEY_ID).
   */
  PRICING_AWS_SOURCE: enumVar(['bulk', 'query-api'], 'bulk'),
  /** The Query API's endpoint when not AWS's own (`https://api.pricing.<PRICING_AWS_API_REGION>.amazonaws.com`). */
  PRICING_AWS_API_ENDPOINT: stringVar('').refine((v) => v === '' || /^https?:\/\/[^\s]+$/.test(v), 'must be empty or an http or https URL'),
  /** The region the Query API is called in: AWS serves it from these three. */
  PRICING_AWS_API_REGION: enumVar(['us-east-1', 'eu-central-1', 'ap-south-1'], 'us-east-1'),
  /** Regions to sync, e.g. `us-east-1,eu-west-1`; empty: every region the region index (or the Query API) lists. */
  PRICING_AWS_REGIONS: listVar('').refine(
    (regions) => regions.every((r) => AWS_REGION.test(r)),
    'must be a comma-separated list of AWS region codes such as us-east-1',
  ),
  /** The public Azure Retail Prices API; no credentials. */
  PRICING_AZURE_BASE_URL: urlVar(['http', 'https'], 'https://prices.azure.com'),
  /**
   * Azure regions the daily tick syncs, e.g. `eastus,westeurope`; empty: none (Azure has no
   * index of regions to read, and all of them is a quarter of a million prices).
   */
  PRICING_AZURE_REGIONS: listVar('').refine(
    (regions) => regions.every((r) => AZURE_REGION.test(r)),
    'must be a comma-separated list of Azure region names such as eastus',
  ),
  /** Rows (products or rates) written per statement while an offer file is staged. */
  PRICING_BATCH_ROWS: intVar(5000, 100, 100_000),
  /** Longest wait for the price list to answer or to send the next bytes of a file. */
  PRICING_FETCH_TIMEOUT: durationVar('60s'),
  /** A region's sync that fails for a passing reason (5xx, network, a file cut short) waits in these tiers. */
  PRICING_RETRY_TIERS: delayListVar('1m,10m,1h'),
  /** Partitions of pricing's request topic: as many regions sync at once (one per partition). */
  PRICING_PARTITIONS: intVar(2, 1, 64),
  PRICING_DB_SCHEMA: stringVar('pricing').refine((v) => /^[a-z_][a-z0-9_]{0,62}$/.test(v), 'must be a lower-case SQL name'),
  /** Longest wait for a webhook receiver's answer. */
  PRICING_WEBHOOK_TIMEOUT: durationVar('10s'),
  /** Lets webhooks reach loopback, private and link-local addresses (SSRF guard off): for a receiver on the same network, and tests. */
  PRICING_WEBHOOK_ALLOW_PRIVATE: booleanVar(false),
  /** The token the HTTP API's write routes ask for (`Authorization: Bearer …`). */
  PRICING_API_TOKEN: secretVar({ minLength: 16 }),
});

export type PricingConfig = z.infer<typeof pricingConfig>;
