// A plan-month is completed once every contract of it has an outcome: whichever handler sees
// that first announces it. The announcement comes before the mark, so a crash between them
// announces it again rather than never (at least once; the counts are the same).
import { meteringMonthCompleted } from '@tickflow/contracts';
import type { MessageContext } from '@tickflow/messaging';
import type { MeteringRepository } from './adapters/metering-repository.ts';

export async function completeMonthIfDone(
  message: Pick<MessageContext<unknown>, 'emit'>,
  repository: MeteringRepository,
  plan: string,
  month: string,
): Promise<void> {
  const ready = await repository.monthReadyToComplete(plan, month);
  if (ready === null) return;
  const { record } = ready;
  await message.emit(
    meteringMonthCompleted,
    {
      plan,
      month,
      contracts: ready.contracts,
      sent: ready.sent,
      failed: ready.failed,
      skipped: ready.skipped,
      warnings: ready.warnings,
      files: record.files,
      recordsRead: record.recordsRead,
      recordsSkipped: record.recordsSkipped,
      durationMs: Date.now() - record.computedAt.getTime(),
      dryRun: false,
    },
    plan,
  );
  await repository.markMonthCompleted(plan, month);
}
