// `tickflow metering status [--plan p] <month>` and `tickflow metering retry <plan> <month>
// [--contract id]`: metering's state of a month and its re-sends (services/metering).
import type { CliContext } from '../cli-context.ts';
import { UsageError } from '../cli-errors.ts';
import type { Output } from '../output.ts';
import { callServiceApi, type ServiceApi } from '../service-api.ts';
import { renderTable } from '../text-table.ts';

interface ContractState {
  contractId: string;
  status: string;
  bill: { dimension: string; quantity: string }[];
  warnings: { dimension: string; status: string }[];
  skipReason: string | null;
  code: string | null;
  message: string | null;
  sends: number;
  retryCount: number;
}

interface PlanMonthState {
  plan: string;
  month: string;
  dryRun: boolean;
  lastProcessedMonth: string | null;
  status: string;
  files: number;
  recordsRead: number;
  recordsSkipped: number;
  error: string | null;
  completedAt: string | null;
  counts: { contracts: number; pending: number; sent: number; error: number; skipped: number; dry_run: number; warnings: number };
  contracts: ContractState[];
}

interface Resent {
  plan: string;
  month: string;
  resent: string[];
}

function meteringApi(context: CliContext): ServiceApi {
  const { meteringUrl, meteringApiToken } = context.config();
  return { name: 'metering', baseUrl: meteringUrl, urlVar: 'METERING_URL', tokenVar: 'METERING_API_TOKEN', token: meteringApiToken };
}

function checkMonth(month: string): void {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) throw new UsageError(`month '${month}' is not YYYY-MM`);
}

const planMonthPath = (plan: string, month: string) => `/v1/metering/${encodeURIComponent(plan)}/${month}`;

export async function meteringStatusCommand(context: CliContext, output: Output, month: string, options: { plan?: string }): Promise<void> {
  checkMonth(month);
  const api = meteringApi(context);
  if (options.plan !== undefined) {
    output.result(await callServiceApi<PlanMonthState>(api, 'GET', planMonthPath(options.plan, month)), renderPlanMonth);
    return;
  }
  const { plans } = await callServiceApi<{ plans: { plan: string }[] }>(api, 'GET', '/v1/metering');
  const states = await Promise.all(plans.map(({ plan }) => callServiceApi<PlanMonthState>(api, 'GET', planMonthPath(plan, month))));
  output.result(states, renderPlans);
}

export async function meteringRetryCommand(
  context: CliContext,
  output: Output,
  plan: string,
  month: string,
  options: { contract?: string },
): Promise<void> {
  checkMonth(month);
  if (options.contract === '') throw new UsageError('--contract needs a contract id');
  const body = options.contract === undefined ? {} : { contractId: options.contract };
  const resent = await callServiceApi<Resent>(meteringApi(context), 'POST', `${planMonthPath(plan, month)}/retry`, body);
  output.result(resent, (r) =>
    r.resent.length === 0
      ? `no contract of ${r.plan} ${r.month} is in error: nothing to re-send`
      : `re-sending ${r.resent.length} contract${r.resent.length === 1 ? '' : 's'} of ${r.plan} ${r.month}: ${r.resent.join(', ')}`,
  );
}

function monthLine(s: PlanMonthState): string {
  const done = s.completedAt ? ` at ${s.completedAt}` : '';
  return `${s.status}${done}${s.dryRun ? ' (dry run: nothing is sent)' : ''}${s.error ? `: ${s.error}` : ''}`;
}

function renderPlanMonth(s: PlanMonthState): string {
  const c = s.counts;
  const lines = [
    `plan             ${s.plan}`,
    `month            ${s.month}: ${monthLine(s)}`,
    `last processed   ${s.lastProcessedMonth ?? 'none yet'}`,
    `read             ${s.files} files, ${s.recordsRead} records, ${s.recordsSkipped} skipped`,
    `contracts        ${c.contracts}: ${c.sent} sent, ${c.error} in error, ${c.skipped} skipped, ${c.pending} pending${c.dry_run ? `, ${c.dry_run} dry run` : ''}; ${c.warnings} with warnings`,
  ];
  if (s.contracts.length === 0) return lines.join('\n');
  const rows = s.contracts.map((k) => [
    k.contractId,
    k.status,
    k.sends,
    k.retryCount,
    k.bill.map((line) => `${line.dimension}=${line.quantity}`).join(' '),
    note(k),
  ]);
  return `${lines.join('\n')}\n\n${renderTable(['CONTRACT', 'STATUS', 'SENDS', 'RETRIES', 'BILL', 'NOTE'], rows)}`;
}

function note(k: ContractState): string | null {
  if (k.skipReason) return k.skipReason;
  if (k.code || k.message) return [k.code, k.message].filter(Boolean).join(': ');
  if (k.warnings.length > 0) return k.warnings.map((w) => `${w.dimension} ${w.status}`).join(', ');
  return null;
}

function renderPlans(states: PlanMonthState[]): string {
  if (states.length === 0) return 'metering has no plans (METERING_PLANS)';
  return renderTable(
    ['PLAN', 'MONTH', 'STATUS', 'FILES', 'RECORDS', 'CONTRACTS', 'SENT', 'ERROR', 'SKIPPED', 'LAST PROCESSED'],
    states.map((s) => [
      s.plan,
      s.month,
      s.dryRun ? `${s.status} (dry run)` : s.status,
      s.files,
      s.recordsRead,
      s.counts.contracts,
      s.counts.sent,
      s.counts.error,
      s.counts.skipped,
      s.lastProcessedMonth,
    ]),
  );
}
