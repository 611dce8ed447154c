// The daily tick (and `tickflow pricing sync`, a manual tick) fans out one sync per region, so
// each region retries and fails on its own. For AWS the region index is read once here: every
// region message carries the version and file it named, so a region whose version is the one
// in the catalogue is skipped without fetching its file. Azure has no index nor versions: each
// of its regions gets the tick's time as the version the sync makes, which every attempt of
// that sync shares (so a retried sync resumes its paging rather than starting another); so
// does AWS when its prices come from the Price List Query API, which pages too.
import { pricingRegionSyncRequested, type SchedulerTick } from '@tickflow/contracts';
import { FatalError, type Handler, type MessageContext } from '@tickflow/messaging';
import type { AwsPriceList } from '../adapters/aws-price-list.ts';
import type { AwsPricingApi } from '../adapters/aws-pricing-api.ts';
import type { AzureRetailPrices } from '../adapters/azure-retail-prices.ts';
import { AWS_REGION, AZURE_REGION } from '../config.ts';

export interface SchedulerTickDependencies {
  priceList: AwsPriceList;
  /** Set when AWS's prices come from the Price List Query API (PRICING_AWS_SOURCE=query-api). */
  queryApi: AwsPricingApi | null;
  azure: AzureRetailPrices;
  /** PRICING_AWS_REGIONS: empty for every region the index lists. */
  regions: readonly string[];
  /** PRICING_AZURE_REGIONS: empty for none. */
  azureRegions: readonly string[];
  requestsTopic: string;
}

const CLOUDS = ['aws', 'azure'] as const;

export function schedulerTickHandler(deps: SchedulerTickDependencies): Handler<SchedulerTick> {
  return async (message) => {
    const asked = listOf(message.payload.payload.regions);
    const cloud = message.payload.payload.cloud ?? '';
    if (cloud !== '' && !(CLOUDS as readonly string[]).includes(cloud)) {
      throw new FatalError(`payload cloud '${cloud}' is not one pricing syncs (${CLOUDS.join(', ')})`);
    }
    // Regions named without a cloud are told apart by their names: `us-east-1` is AWS's, `eastus` Azure's.
    const awsAsked = asked.filter((r) => cloud === 'aws' || (cloud === '' && AWS_REGION.test(r)));
    const azureAsked = asked.filter((r) => cloud === 'azure' || (cloud === '' && !AWS_REGION.test(r)));
    const wantsAws = cloud === 'aws' || (cloud === '' && (asked.length === 0 || awsAsked.length > 0));
    const wantsAzure = cloud === 'azure' || (cloud === '' && (asked.length === 0 ? deps.azureRegions.length > 0 : azureAsked.length > 0));
    // Azure first: it needs no request, so an AWS index that fails (and retries the tick) does not hold it back.
    if (wantsAzure) await fanOutAzure(message, deps, azureAsked.length > 0 ? azureAsked : deps.azureRegions);
    if (wantsAws) await fanOutAws(message, deps, awsAsked);
  };
}

async function fanOutAws(message: MessageContext<SchedulerTick>, deps: SchedulerTickDependencies, asked: string[]): Promise<void> {
  if (deps.queryApi !== null) return fanOutQueryApi(message, deps, deps.queryApi, asked);
  const offers = await deps.priceList.regionIndex(message.signal);
  const listed = new Set(offers.map((o) => o.region));
  const wanted = asked.length > 0 ? asked : deps.regions;
  const unknown = wanted.filter((r) => !listed.has(r));
  if (asked.length > 0 && unknown.length === asked.length) {
    throw new FatalError(`the region index lists none of the regions asked for: ${unknown.join(', ')}`);
  }
  if (unknown.length > 0) message.log.warn('regions not in the region index', { regions: unknown });
  const chosen = wanted.length === 0 ? offers : offers.filter((o) => wanted.includes(o.region));
  for (const offer of chosen) {
    await message.send(
      deps.requestsTopic,
      pricingRegionSyncRequested,
      { syncId: message.event.id, cloud: 'aws', region: offer.region, version: offer.version, url: offer.url, source: null },
      // The tick's id in each: a replayed tick sends the same messages, which dedupe drops.
      { key: `aws/${offer.region}`, id: `${message.event.id}/aws/${offer.region}` },
    );
  }
  message.log.info('region syncs fanned out', { cloud: 'aws', regions: chosen.length, unknown });
}

/** AWS through the Query API: the regions it names (GetAttributeValues), each synced page by page under the tick's time as version. */
async function fanOutQueryApi(
  message: MessageContext<SchedulerTick>,
  deps: SchedulerTickDependencies,
  queryApi: AwsPricingApi,
  asked: string[],
): Promise<void> {
  const wanted = asked.length > 0 ? asked : deps.regions;
  const listed = wanted.length > 0 ? wanted : await queryApi.regionCodes(message.signal);
  const bad = listed.filter((r) => !AWS_REGION.test(r));
  if (bad.length > 0) throw new FatalError(`not AWS region codes (such as us-east-1): ${bad.join(', ')}`);
  const version = versionOf(message.payload.scheduledTime);
  for (const region of listed) {
    await message.send(
      deps.requestsTopic,
      pricingRegionSyncRequested,
      { syncId: message.event.id, cloud: 'aws', region, version, url: null, source: 'query-api' },
      { key: `aws/${region}`, id: `${message.event.id}/aws/${region}` },
    );
  }
  message.log.info('region syncs fanned out', { cloud: 'aws', source: 'query-api', regions: listed.length, version });
}

async function fanOutAzure(
  message: MessageContext<SchedulerTick>,
  deps: SchedulerTickDependencies,
  regions: readonly string[],
): Promise<void> {
  if (regions.length === 0) {
    throw new FatalError("no Azure region to sync: set PRICING_AZURE_REGIONS, or name them in the payload's regions");
  }
  const bad = regions.filter((r) => !AZURE_REGION.test(r));
  if (bad.length > 0) throw new FatalError(`not Azure region names (such as eastus): ${bad.join(', ')}`);
  const version = versionOf(message.payload.scheduledTime);
  for (const region of regions) {
    await message.send(
      deps.requestsTopic,
      pricingRegionSyncRequested,
      { syncId: message.event.id, cloud: 'azure', region, version, url: deps.azure.firstPage(region), source: null },
      { key: `azure/${region}`, id: `${message.event.id}/azure/${region}` },
    );
  }
  message.log.info('region syncs fanned out', { cloud: 'azure', regions: regions.length, version });
}

/** `2026-12-04T02:00:00.000Z` → `20261204020000`, the shape of AWS's versions. */
function versionOf(scheduledTime: string): string {
  const time = new Date(scheduledTime);
  if (Number.isNaN(time.getTime())) throw new FatalError(`the tick's scheduledTime '${scheduledTime}' is not a time`);
  return time.toISOString().slice(0, 19).replace(/[-:T]/g, '');
}

function listOf(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '');
}
