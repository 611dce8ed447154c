// What `npm start` gives pricing so a newcomer can try it without reaching AWS or Azure: the
// AWS price list stand-in unless PRICING_AWS_BASE_URL is set, the Azure Retail Prices stand-in
// (and its two regions) unless PRICING_AZURE_BASE_URL is set. Whatever is set in the
// environment wins.
import { join } from 'node:path';
import { repoRoot } from './paths.ts';

export const AWS_PRICE_LIST_STAND_IN_PORT = 7102;
export const AZURE_RETAIL_PRICES_STAND_IN_PORT = 7103;
const standInScript = (name: string) => join(repoRoot, 'libs', 'testing', 'src', name);

export interface PricingStandIn {
  name: string;
  script: string;
  /** Said at start: what pricing reaches instead of the real API. */
  note: string;
}

export function prepareLocalPricing(env: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv; standIns: PricingStandIn[] } {
  const standIns: PricingStandIn[] = [];
  let local = env;
  if (!env.PRICING_AWS_BASE_URL) {
    local = {
      ...local,
      PRICING_AWS_BASE_URL: `http://127.0.0.1:${AWS_PRICE_LIST_STAND_IN_PORT}`,
      AWS_PRICE_LIST_STAND_IN_PORT: String(AWS_PRICE_LIST_STAND_IN_PORT),
    };
    standIns.push({
      name: 'aws-prices',
      script: standInScript('aws-price-list-stand-in-main.ts'),
      note: `pricing syncs AWS from the price list stand-in at ${local.PRICING_AWS_BASE_URL} (set PRICING_AWS_BASE_URL for the real one)`,
    });
  }
  if (!env.PRICING_AZURE_BASE_URL) {
    local = {
      ...local,
      PRICING_AZURE_BASE_URL: `http://127.0.0.1:${AZURE_RETAIL_PRICES_STAND_IN_PORT}`,
      PRICING_AZURE_REGIONS: env.PRICING_AZURE_REGIONS ?? 'eastus,westeurope',
      AZURE_RETAIL_PRICES_STAND_IN_PORT: String(AZURE_RETAIL_PRICES_STAND_IN_PORT),
    };
    standIns.push({
      name: 'azure-prices',
      script: standInScript('azure-retail-prices-stand-in-main.ts'),
      note: `pricing syncs Azure (${local.PRICING_AZURE_REGIONS}) from the Retail Prices stand-in at ${local.PRICING_AZURE_BASE_URL} (set PRICING_AZURE_BASE_URL for the real one)`,
    });
  }
  return { env: local, standIns };
}
