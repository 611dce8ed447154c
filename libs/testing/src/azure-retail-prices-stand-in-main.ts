// The Azure Retail Prices stand-in as a process, for `npm start`: pricing syncs Azure from it
// when no PRICING_AZURE_BASE_URL is set, so a newcomer sees Azure rows beside AWS's without
// reaching Azure. Not Azure: two regions of generated VM prices, the default sizes.
import { startAzureRetailPricesStandIn } from './azure-retail-prices-stand-in.ts';

const port = Number(process.env.AZURE_RETAIL_PRICES_STAND_IN_PORT ?? 7103);
const regions = ['eastus', 'westeurope'];

const standIn = await startAzureRetailPricesStandIn({ port, regions: Object.fromEntries(regions.map((r) => [r, {}])) });
console.log(`Azure Retail Prices stand-in listening on ${standIn.url} (${regions.join(', ')})`);
const stop = () => {
  standIn.close().finally(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
