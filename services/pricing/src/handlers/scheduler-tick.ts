// The daily tick (and `tickflow pricing sync`, a manual tick) fans out one sync per region, so
// each region retries and fails on its own. The region index is read once here: every region
// message carries the version and file it named, so a region whose version is the one in the
// catalogue is skipped without fetching its file.
import { pricingRegionSyncRequested, type SchedulerTick } from '@tickflow/contracts';
import { FatalError, type Handler } from '@tickflow/messaging';
import type { AwsPriceList } from '../adapters/aws-price-list.ts';

export interface SchedulerTickDependencies {
  priceList: AwsPriceList;
  /** PRICING_AWS_REGIONS: empty for every region the index lists. */
  regions: readonly string[];
  requestsTopic: string;
}

export function schedulerTickHandler(deps: SchedulerTickDependencies): Handler<SchedulerTick> {
  return async (message) => {
    const asked = listOf(message.payload.payload.regions);
    const cloud = message.payload.payload.cloud;
    if (cloud !== undefined && cloud !== '' && cloud !== 'aws') {
      throw new FatalError(`payload cloud '${cloud}' is not one pricing syncs (aws)`);
    }
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
        { syncId: message.event.id, cloud: 'aws', region: offer.region, version: offer.version, url: offer.url },
        // The tick's id in each: a replayed tick sends the same messages, which dedupe drops.
        { key: `aws/${offer.region}`, id: `${message.event.id}/aws/${offer.region}` },
      );
    }
    message.log.info('region syncs fanned out', { cloud: 'aws', regions: chosen.length, unknown });
  };
}

function listOf(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '');
}
