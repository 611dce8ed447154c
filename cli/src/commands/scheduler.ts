import type { CliContext } from '../cli-context.ts';
import type { Output } from '../output.ts';
import { formatSchedules, formatTriggered } from '../scheduler-api.ts';

export async function triggerCommand(
  context: CliContext,
  output: Output,
  schedule: string,
  options: { payload?: Record<string, string> },
): Promise<void> {
  const accepted = await context.scheduler().trigger(schedule, options.payload);
  output.result(accepted, (a) => formatTriggered(schedule, a));
}

export async function schedulesCommand(context: CliContext, output: Output): Promise<void> {
  output.result(await context.scheduler().schedules(), formatSchedules);
}
