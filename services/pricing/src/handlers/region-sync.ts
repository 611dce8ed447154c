// One region's sync: skip it when the version asked for is already current (no request) or
// the AWS file answers 304 to its ETag; otherwise stage the version — an AWS offer file
// streamed, or Azure's pages one by one from where an earlier attempt stopped — and switch the
// region to it at once (the previous catalogue stays readable until then, whatever stops the
// sync). Then announce: one `price.changed` per row that differs, a `sync.completed`, and one
// delivery per webhook that may want the changes. The announcement is marked done only after
// it went out, so a sync that dies between the switch and the events announces on redelivery
// (at least once).
import {
  type PricingRegionSyncRequested,
  type PricingSyncCompleted,
  pricingPriceChanged,
  pricingSyncCompleted,
  pricingWebhookDelivery,
} from '@tickflow/contracts';
import { FatalError, type Handler, type MessageContext } from '@tickflow/messaging';
import { describeError } from '@tickflow/runtime';
import type { AwsPriceList } from '../adapters/aws-price-list.ts';
import type { AwsPricingApi } from '../adapters/aws-pricing-api.ts';
import type { AzureRetailPrices } from '../adapters/azure-retail-prices.ts';
import type { CatalogueRepository, RegionState, SyncFindings } from '../adapters/catalogue-repository.ts';
import type { WebhookRepository } from '../adapters/webhook-repository.ts';
import { PriceDataError, readOfferFile } from '../domain/offer-file.ts';
import type { PricingMetrics } from '../metrics.ts';
import { stageOffer } from '../offer-staging.ts';
import { stagePagedRegion } from '../paged-staging.ts';

export interface RegionSyncDependencies {
  priceList: AwsPriceList;
  azure: AzureRetailPrices;
  /** AWS's Price List Query API, when PRICING_AWS_SOURCE=query-api. */
  queryApi: AwsPricingApi | null;
  repository: CatalogueRepository;
  metrics: PricingMetrics;
  batchRows: number;
  webhooks: WebhookRepository;
  /** Where webhook deliveries go: the service's own request topic. */
  requestsTopic: string;
}

/** Changes emitted at once: the transport writes them together. */
const ANNOUNCE_PAGE = 500;

export function regionSyncHandler(deps: RegionSyncDependencies): Handler<PricingRegionSyncRequested> {
  return async (message) => {
    const { cloud, region, version } = message.payload;
    const started = Date.now();
    const state = await deps.repository.region(cloud, region);

    // An earlier delivery switched the region but may not have announced it.
    if (
      state?.currentVersion != null &&
      state.announcedVersion !== state.currentVersion &&
      (version === null || version === state.currentVersion)
    ) {
      await announce(message, deps, state);
      return;
    }
    const unchanged = async (reason: string) => {
      await deps.repository.recordUnchanged(cloud, region);
      deps.metrics.syncs.observe({ cloud, result: 'unchanged' }, (Date.now() - started) / 1000);
      await message.emit(pricingSyncCompleted, summary(message.payload, state, 'unchanged', Date.now() - started), `${cloud}/${region}`);
      message.log.info('region unchanged', { cloud, region, version: state?.currentVersion ?? null, reason });
    };
    if (version !== null && state?.currentVersion === version) return unchanged('the version asked for is current');
    // Versions are times (`20261204020000`): a request for an older one than the region holds or
    // stages is a redelivery from before (dedupe forgets across restarts), and must not turn the clock back.
    const newer = [state?.currentVersion, state?.staging?.version].find((v) => v != null && version !== null && v > version);
    if (newer !== undefined) {
      message.log.info('sync request superseded', { cloud, region, version, newer });
      return;
    }

    try {
      const paged = cloud === 'azure' || message.payload.source === 'query-api';
      const staged = paged ? await stagePaged(message, deps, state) : await stageAws(message, deps, state);
      if (staged === 'not-modified') return unchanged('the offer file answered 304 to its ETag');
      const current = await deps.repository.makeCurrent(
        { cloud, region, version: staged.version },
        { ...staged.findings, durationMs: Date.now() - started },
      );
      deps.metrics.syncs.observe({ cloud, result: 'synced' }, (Date.now() - started) / 1000);
      message.log.info('region synced', {
        cloud,
        region,
        version: current.currentVersion,
        previousVersion: current.previousVersion,
        rows: current.rows,
        changes: current.changes,
        bytes: current.bytes,
        problems: current.problemCount,
        missingAttributes: current.missingAttributes,
      });
      await announce(message, deps, current);
    } catch (error) {
      deps.metrics.syncs.observe({ cloud, result: 'failed' }, (Date.now() - started) / 1000);
      await deps.repository.recordFailure(cloud, region, describeError(error).message).catch(() => undefined);
      // A file or page that is not what it should be stays so when fetched again: to the dead letters, named.
      if (error instanceof PriceDataError) throw new FatalError(error.message, { cause: error });
      throw error;
    }
  };
}

type Staged = 'not-modified' | { version: string; findings: Omit<SyncFindings, 'durationMs'> };

/** An AWS region: its offer file, unless it answers 304 to the ETag of the copy held, streamed into staging. */
async function stageAws(
  message: MessageContext<PricingRegionSyncRequested>,
  deps: RegionSyncDependencies,
  state: RegionState | null,
): Promise<Staged> {
  const { cloud, region, version, url } = message.payload;
  if (url === null) throw new FatalError(`${cloud}/${region}: the sync request names no offer file`);
  const opened = await deps.priceList.openOffer(url, { etag: state?.etag ?? null }, message.signal);
  if (opened.status === 'not-modified') return 'not-modified';
  const staged = await stageOffer(readOfferFile(opened.chunks, url), deps.repository, {
    cloud,
    region,
    expectedVersion: version,
    batchRows: deps.batchRows,
    onRows: (kind, count) => deps.metrics.rowsParsed.inc({ kind }, count),
  });
  return { version: staged.version, findings: { ...staged.findings, etag: opened.etag, bytes: opened.bytesRead() } };
}

/** A paged region (Azure's, or AWS's through the Query API): its pages, staged one by one from where an earlier attempt of this version stopped. */
async function stagePaged(
  message: MessageContext<PricingRegionSyncRequested>,
  deps: RegionSyncDependencies,
  state: RegionState | null,
): Promise<Staged> {
  const { cloud, region, version } = message.payload;
  if (version === null) throw new FatalError(`${cloud}/${region}: the sync request names no version`);
  const source = cloud === 'azure' ? deps.azure : deps.queryApi;
  if (source === null)
    throw new FatalError(`${cloud}/${region}: the request asks for the Query API, and PRICING_AWS_SOURCE is not query-api`);
  const findings = await stagePagedRegion(source, deps.repository, state, {
    cloud,
    region,
    version,
    signal: message.signal,
    onRows: (kind, count) => deps.metrics.rowsParsed.inc({ kind }, count),
    onResume: (staging) => message.log.info('resuming the sync', { cloud, region, version, page: staging.pages + 1 }),
  });
  return { version, findings };
}

async function announce(
  message: MessageContext<PricingRegionSyncRequested>,
  deps: RegionSyncDependencies,
  state: RegionState,
): Promise<void> {
  const { cloud, region } = state;
  const version = state.currentVersion as string;
  if (state.previousVersion !== null) {
    let after: { sku: string; term: string } | null = null;
    while (true) {
      const page = await deps.repository.changesOf({ cloud, region, version }, after, ANNOUNCE_PAGE);
      if (page.length === 0) break;
      const previousVersion = state.previousVersion;
      await Promise.all(
        page.map(({ sku: _, detectedAt: __, ...change }) =>
          message.emit(pricingPriceChanged, { cloud, region, version, previousVersion, ...change }, change.instanceType),
        ),
      );
      for (const change of page) deps.metrics.changes.inc({ change: change.change });
      const last = page[page.length - 1] as { sku: string; term: string };
      after = { sku: last.sku, term: last.term };
    }
  }
  await message.emit(pricingSyncCompleted, summary(message.payload, state, 'synced', state.durationMs), `${cloud}/${region}`);
  if (state.previousVersion !== null && state.changes > 0) {
    for (const webhook of await deps.webhooks.forRegion(cloud, region)) {
      // The same id on a redelivery: dedupe drops the message, and the ledger the POST.
      const deliveryId = `${cloud}/${region}/${version}/${webhook.id}`;
      await message.send(
        deps.requestsTopic,
        pricingWebhookDelivery,
        { deliveryId, webhookId: webhook.id, cloud, region, version, previousVersion: state.previousVersion },
        { key: webhook.id, id: deliveryId },
      );
    }
  }
  await deps.repository.markAnnounced({ cloud, region, version });
}

function summary(
  request: PricingRegionSyncRequested,
  state: RegionState | null,
  result: PricingSyncCompleted['result'],
  durationMs: number,
): PricingSyncCompleted {
  const synced = result === 'synced' && state !== null;
  return {
    syncId: request.syncId,
    cloud: request.cloud,
    region: request.region,
    result,
    version: state?.currentVersion ?? null,
    previousVersion: synced ? state.previousVersion : null,
    rows: state?.rows ?? 0,
    changes: synced ? state.changes : 0,
    problems: synced ? state.problemCount : 0,
    missingAttributes: synced ? state.missingAttributes : {},
    bytes: synced ? state.bytes : 0,
    durationMs,
  };
}
