// `tickflow pricing sync [--cloud c] [--region r,…]`, `tickflow pricing status` and `tickflow
// pricing show <instanceType> --region r`: a sync now (the seed's manual run), each region's
// state, and one instance type's prices and changes (services/pricing). A region's name says
// its cloud (`us-east-1` is AWS's, `eastus` Azure's), so --cloud is needed only to sync every
// region of one cloud.
import type { CliContext } from '../cli-context.ts';
import { UsageError } from '../cli-errors.ts';
import type { Output } from '../output.ts';
import { callServiceApi, type ServiceApi } from '../service-api.ts';
import { renderTable } from '../text-table.ts';
import { produceEvent } from './produce.ts';

const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const AZURE_REGION = /^[a-z][a-z0-9]+$/;
const CLOUDS = ['aws', 'azure'];

function checkCloud(cloud: string | undefined): void {
  if (cloud !== undefined && !CLOUDS.includes(cloud)) throw new UsageError(`--cloud must be one of ${CLOUDS.join(', ')}, got '${cloud}'`);
}

/** The cloud a region's name belongs to, checked against --cloud when given. */
function cloudOfRegion(region: string, cloud: string | undefined): string {
  const named = AWS_REGION.test(region) ? 'aws' : AZURE_REGION.test(region) ? 'azure' : undefined;
  if (named === undefined) {
    throw new UsageError(`--region takes AWS region codes such as us-east-1 or Azure region names such as eastus, got '${region}'`);
  }
  if (cloud !== undefined && cloud !== named) throw new UsageError(`--region ${region} is not an ${cloud} region name`);
  return named;
}

interface RegionState {
  cloud: string;
  region: string;
  currentVersion: string | null;
  syncedAt: string | null;
  lastResult: string;
  lastError: string | null;
  rows: number;
  changes: number;
  problemCount: number;
}

interface PriceRow {
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
  version: string;
}

interface Shown {
  cloud: string;
  region: string;
  instanceType: string;
  prices: PriceRow[];
  history: {
    change: string;
    term: string;
    operatingSystem: string;
    tenancy: string;
    oldHourly: string | null;
    newHourly: string | null;
    percent: string | null;
    version: string;
    detectedAt: string;
  }[];
}

function pricingApi(context: CliContext): ServiceApi {
  return { name: 'pricing', baseUrl: context.config().pricingUrl, urlVar: 'PRICING_URL', tokenVar: 'PRICING_API_TOKEN', token: undefined };
}

export async function pricingSyncCommand(context: CliContext, output: Output, options: { region?: string; cloud?: string }): Promise<void> {
  const { cloud } = options;
  checkCloud(cloud);
  const regions = (options.region ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '');
  for (const region of regions) cloudOfRegion(region, cloud);
  const { pricingRequestsTopic, schemaRegistryUrl } = context.config();
  // A tick as the daily schedule sends it, straight onto pricing's topic: no scheduler needed.
  const produced = await produceEvent(context.kafka(), context.registry(), schemaRegistryUrl, {
    topic: pricingRequestsTopic,
    type: 'tickflow.scheduler.tick',
    key: 'manual',
    payload: {
      schedule: 'pricing-daily',
      scheduledTime: new Date().toISOString(),
      payload: { ...(cloud === undefined ? {} : { cloud }), ...(regions.length > 0 ? { regions: regions.join(',') } : {}), manual: 'true' },
    },
  });
  output.result(
    { ...produced, cloud: cloud ?? null, regions },
    (p) =>
      `sync of ${p.regions.length > 0 ? p.regions.join(', ') : `every ${p.cloud ? `${p.cloud} ` : ''}region configured`} requested (event ${p.id} on ${p.topic}); follow it with: tickflow pricing status`,
  );
}

export async function pricingStatusCommand(context: CliContext, output: Output): Promise<void> {
  const { regions } = await callServiceApi<{ regions: RegionState[] }>(pricingApi(context), 'GET', '/v1/regions');
  output.result(regions, (all) =>
    all.length === 0
      ? 'no region has been synced yet: tickflow pricing sync'
      : renderTable(
          ['CLOUD', 'REGION', 'VERSION', 'LAST SYNC', 'RESULT', 'ROWS', 'CHANGES', 'PROBLEMS', 'ERROR'],
          all.map((r) => [r.cloud, r.region, r.currentVersion, r.syncedAt, r.lastResult, r.rows, r.changes, r.problemCount, r.lastError]),
        ),
  );
}

export async function pricingShowCommand(
  context: CliContext,
  output: Output,
  instanceType: string,
  options: { region?: string; cloud?: string; all?: boolean },
): Promise<void> {
  checkCloud(options.cloud);
  if (options.region === undefined) {
    throw new UsageError('--region is required: an AWS region code such as us-east-1 or an Azure region name such as eastus');
  }
  const cloud = cloudOfRegion(options.region, options.cloud);
  const path = `/v1/prices/${encodeURIComponent(cloud)}/${encodeURIComponent(options.region)}/${encodeURIComponent(instanceType)}`;
  const shown = await callServiceApi<Shown>(pricingApi(context), 'GET', path);
  // Running instances unless --all: capacity reservations repeat every rate.
  const prices = options.all ? shown.prices : shown.prices.filter((p) => p.capacityStatus === 'Used');
  output.result({ ...shown, prices }, (s) => renderShown(s));
}

/** Shared first, as most people run: then Dedicated, then Host, then any other. */
const TENANCIES = ['Shared', 'Dedicated', 'Host'];
function tenancyRank(tenancy: string): number {
  const rank = TENANCIES.indexOf(tenancy);
  return rank === -1 ? TENANCIES.length : rank;
}

function renderShown(s: Shown): string {
  const first = s.prices[0];
  // Azure's price list says nothing of cores or memory: left out rather than shown as unknown.
  const shape = first
    ? [
        first.vcpu === null ? null : `${first.vcpu} vCPU`,
        first.memoryGiB === null ? null : `${first.memoryGiB} GiB`,
        first.gpu ? `${first.gpu} GPU` : null,
      ]
    : [];
  const facts = [...shape.filter((f) => f !== null), ...(first ? [`version ${first.version}`] : [])];
  const head = [`${s.instanceType} in ${s.cloud}/${s.region}${facts.length > 0 ? `: ${facts.join(', ')}` : ''}`];
  const sorted = [...s.prices].sort(
    (a, b) =>
      a.operatingSystem.localeCompare(b.operatingSystem) ||
      a.preInstalledSoftware.localeCompare(b.preInstalledSoftware) ||
      a.licenseModel.localeCompare(b.licenseModel) ||
      tenancyRank(a.tenancy) - tenancyRank(b.tenancy) ||
      a.capacityStatus.localeCompare(b.capacityStatus) ||
      a.term.localeCompare(b.term),
  );
  const table = renderTable(
    ['OS', 'SOFTWARE', 'LICENSE', 'TENANCY', 'CAPACITY', 'TERM', 'PER HOUR', 'UPFRONT'],
    sorted.map((p) => [
      p.operatingSystem,
      p.preInstalledSoftware,
      p.licenseModel,
      p.tenancy,
      p.capacityStatus,
      p.term,
      `${p.hourly} ${p.currency}`,
      p.upfront === '0' ? null : p.upfront,
    ]),
  );
  const changes =
    s.history.length === 0
      ? 'no price changes recorded'
      : `last changes:\n${renderTable(
          ['DETECTED', 'VERSION', 'OS', 'TENANCY', 'TERM', 'CHANGE', 'OLD', 'NEW', '%'],
          s.history
            .slice(0, 10)
            .map((h) => [h.detectedAt, h.version, h.operatingSystem, h.tenancy, h.term, h.change, h.oldHourly, h.newHourly, h.percent]),
        )}`;
  return `${head.join('\n')}\n\n${table}\n\n${changes}`;
}
