// The monthly tick (and a manual `tickflow trigger metering`) catches every plan up: first the
// contracts in error with re-sends left, from their stored payload, then each complete month
// after the last one processed, as one plan-month request each.
import { meteringContractRequested, meteringPlanMonthRequested, type SchedulerTick } from '@tickflow/contracts';
import type { Handler } from '@tickflow/messaging';
import type { MeteringRepository } from '../adapters/metering-repository.ts';
import type { UsageExport } from '../adapters/usage-export.ts';
import { monthsToProcess } from '../domain/month.ts';
import type { Plan } from '../domain/plan.ts';

export interface SchedulerTickDependencies {
  plans: readonly Plan[];
  usageExport: UsageExport;
  repository: MeteringRepository;
  requestsTopic: string;
  startMonth: string | null;
  maxMonths: number;
  maxRetries: number;
}

export function schedulerTickHandler(deps: SchedulerTickDependencies): Handler<SchedulerTick> {
  return async (message) => {
    const completeness = await deps.usageExport.completeness();
    // The tick's own time, so a replayed tick asks for what it asked for then.
    const now = new Date(message.payload.scheduledTime);
    for (const plan of deps.plans) {
      const resends = await deps.repository.contractsToResend(plan.id, deps.maxRetries);
      for (const contract of resends) {
        const key = `${plan.id}/${contract.month}/${contract.contractId}`;
        await message.send(
          deps.requestsTopic,
          meteringContractRequested,
          { plan: plan.id, month: contract.month, contractId: contract.contractId, sends: contract.sends },
          { key: contract.contractId, id: `${message.event.id}/resend/${key}/${contract.sends}` },
        );
      }
      const months = monthsToProcess({
        lastProcessed: await deps.repository.lastProcessed(plan.id),
        startMonth: deps.startMonth,
        completeThrough: completeness.get(plan.id) ?? null,
        now,
        maxMonths: deps.maxMonths,
      });
      for (const month of months) {
        await message.send(
          deps.requestsTopic,
          meteringPlanMonthRequested,
          { plan: plan.id, month },
          {
            key: plan.id,
            id: `${message.event.id}/plan-month/${plan.id}/${month}`,
          },
        );
      }
      message.log.info('plan caught up', {
        plan: plan.id,
        months,
        resends: resends.length,
        exportCompleteThrough: completeness.get(plan.id)?.toISOString() ?? null,
      });
    }
  };
}
