// One plan's month: read every file of it from the export, total each contract, bill it with
// the configured dimensions, store the bills, and fan out one send per contract. Nothing is
// sent until the whole month is read: a malformed file fails the month, naming the file, with
// nothing partial stored or sent. A redelivery (a crash after the bills were stored) finds
// them stored and fans out again the contracts still pending — never new bills for a month
// whose bills may have been sent.
import { type MeteringPlanMonthRequested, meteringContractRequested, meteringMonthCompleted } from '@tickflow/contracts';
import { FatalError, type Handler, type MessageContext } from '@tickflow/messaging';
import { inSpan } from '@tickflow/runtime';
import type { ComputedMonth, MeteringRepository } from '../adapters/metering-repository.ts';
import { MalformedExportError, type UsageExport } from '../adapters/usage-export.ts';
import { usageRecords } from '../domain/clazar-reply.ts';
import { billContract } from '../domain/contract-bill.ts';
import type { CustomDimension } from '../domain/dimensions.ts';
import { isMonth, monthLastSecond, monthOf } from '../domain/month.ts';
import type { Plan } from '../domain/plan.ts';
import { UsageTotals } from '../domain/usage-totals.ts';
import type { MeteringMetrics } from '../metrics.ts';
import { completeMonthIfDone } from '../month-completion.ts';

export interface PlanMonthDependencies {
  plans: readonly Plan[];
  usageExport: UsageExport;
  repository: MeteringRepository;
  dimensions: readonly CustomDimension[];
  requestsTopic: string;
  cloud: string;
  truncateEachRecord: boolean;
  dryRun: boolean;
  /** Files read at once. */
  readConcurrency: number;
  metrics: MeteringMetrics;
}

export function planMonthHandler(deps: PlanMonthDependencies): Handler<MeteringPlanMonthRequested> {
  return async (message) => {
    const { month } = message.payload;
    const plan = deps.plans.find((p) => p.id === message.payload.plan);
    if (plan === undefined)
      throw new FatalError(`plan ${message.payload.plan} is not in METERING_PLANS (${deps.plans.map((p) => p.id).join(', ')})`);
    if (!isMonth(month)) throw new FatalError(`month '${month}' is not YYYY-MM`);

    const stored = await deps.repository.planMonth(plan.id, month);
    if (stored && (stored.status === 'sending' || stored.status === 'completed')) {
      await fanOut(message, deps, plan.id, month);
      return;
    }
    if (month >= monthOf(new Date())) throw new FatalError(`${plan.id} ${month}: the month is not over`);
    const completeThrough = (await deps.usageExport.completeness()).get(plan.id);
    if (completeThrough === undefined || completeThrough.getTime() < monthLastSecond(month)) {
      throw new FatalError(
        `${plan.id} ${month}: the export is not complete through the month's last second ` +
          `(last_success_export.json says ${completeThrough?.toISOString() ?? 'nothing for this plan'})`,
      );
    }

    let computed: ComputedMonth;
    try {
      computed = await computeMonth(deps, plan, month, message.signal);
    } catch (error) {
      if (error instanceof MalformedExportError) {
        await deps.repository.recordMonthFailure(plan.id, month, error.message);
        throw new FatalError(`${plan.id} ${month} not sent: ${error.message}`, { cause: error });
      }
      throw error;
    }
    const saved = await deps.repository.saveComputedMonth(computed);
    const skipped = computed.contracts.filter((c) => c.skipReason !== null).length;
    deps.metrics.contracts.inc({ outcome: 'skipped' }, skipped);
    message.log.info('month computed', {
      plan: plan.id,
      month,
      files: computed.files,
      recordsRead: computed.recordsRead,
      recordsSkipped: computed.recordsSkipped,
      contracts: computed.contracts.length,
      skipped,
      dryRun: deps.dryRun,
    });
    if (deps.dryRun) {
      if (saved) {
        await message.emit(
          meteringMonthCompleted,
          {
            plan: plan.id,
            month,
            contracts: computed.contracts.length,
            sent: 0,
            failed: 0,
            skipped,
            warnings: 0,
            files: computed.files,
            recordsRead: computed.recordsRead,
            recordsSkipped: computed.recordsSkipped,
            durationMs: 0,
            dryRun: true,
          },
          plan.id,
        );
      }
      return;
    }
    await fanOut(message, deps, plan.id, month);
  };
}

async function computeMonth(deps: PlanMonthDependencies, plan: Plan, month: string, signal: AbortSignal): Promise<ComputedMonth> {
  const files = await deps.usageExport.listFiles(plan, month, signal);
  const totals = new UsageTotals({ truncateEachRecord: deps.truncateEachRecord });
  let next = 0;
  const readFiles = async () => {
    while (next < files.length) {
      const key = files[next++] as string;
      await inSpan('s3 read', { 's3.key': key }, async () => {
        for await (const records of deps.usageExport.recordBatches(key, signal)) for (const record of records) totals.add(record);
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(deps.readConcurrency, files.length) }, readFiles));
  deps.metrics.recordsRead.inc({ outcome: 'counted' }, totals.recordsRead - totals.recordsSkipped);
  deps.metrics.recordsRead.inc({ outcome: 'skipped' }, totals.recordsSkipped);
  return {
    plan: plan.id,
    month,
    dryRun: deps.dryRun,
    files: files.length,
    recordsRead: totals.recordsRead,
    recordsSkipped: totals.recordsSkipped,
    skippedByReason: Object.fromEntries(totals.skippedByReason),
    contracts: totals.contractIds().map((contractId) => {
      const bill = billContract(totals.totalsOf(contractId), deps.dimensions);
      if ('skipped' in bill) return { contractId, bill: [], payload: null, skipReason: bill.skipped };
      return {
        contractId,
        bill: bill.lines,
        payload: { request: usageRecords(deps.cloud, contractId, month, bill.lines) },
        skipReason: null,
      };
    }),
  };
}

/** Send requests made at once: the transport writes those waiting together. */
const FAN_OUT_AT_ONCE = 500;

/** One send request per contract still pending; ids follow from the month's, so a redelivery sends the same ones. */
async function fanOut(message: MessageContext<unknown>, deps: PlanMonthDependencies, plan: string, month: string): Promise<void> {
  const pending = await deps.repository.contracts(plan, month, { status: 'pending' });
  for (let i = 0; i < pending.length; i += FAN_OUT_AT_ONCE) {
    await Promise.all(
      pending
        .slice(i, i + FAN_OUT_AT_ONCE)
        .map((contract) =>
          message.send(
            deps.requestsTopic,
            meteringContractRequested,
            { plan, month, contractId: contract.contractId, sends: contract.sends },
            { key: contract.contractId, id: `metering/${plan}/${month}/${contract.contractId}/${contract.sends}` },
          ),
        ),
    );
  }
  await completeMonthIfDone(message, deps.repository, plan, month);
}
