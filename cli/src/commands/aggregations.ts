// `tickflow aggregations status <date>`: the aggregator's view of a date (services/aggregator).
import type { CliContext } from '../cli-context.ts';
import { UsageError } from '../cli-errors.ts';
import type { Output } from '../output.ts';
import { callServiceApi } from '../service-api.ts';

interface AggregationStatus {
  date: string;
  redis: {
    surveyedAt: string;
    keysWaiting: number;
    unitsWaiting: string;
    keysNearTtl: number;
    malformedCount: number;
    pendingBatches: number;
  };
  postgres: { rows: number; merchants: number; totals: Record<string, string> };
  lastRun: {
    status: string;
    finishedAt: string | null;
    keysRead: number;
    rowsWritten: number;
    errorCount: number;
    errorMessage: string | null;
  } | null;
}

export async function aggregationStatusCommand(context: CliContext, output: Output, date: string): Promise<void> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new UsageError(`date '${date}' is not YYYY-MM-DD`);
  const { aggregatorUrl, aggregatorApiToken } = context.config();
  const api = {
    name: 'the aggregator',
    baseUrl: aggregatorUrl,
    urlVar: 'AGGREGATOR_URL',
    tokenVar: 'AGGREGATOR_API_TOKEN',
    token: aggregatorApiToken,
  };
  const status = await callServiceApi<AggregationStatus>(api, 'GET', `/v1/aggregations/${date}`);
  output.result(status, render);
}

function render(s: AggregationStatus): string {
  const run = s.lastRun;
  const totals = Object.entries(s.postgres.totals)
    .map(([metric, total]) => `${metric} ${total}`)
    .join(', ');
  return [
    `date             ${s.date}`,
    `waiting in Redis ${s.redis.keysWaiting} keys (${s.redis.unitsWaiting} units), ${s.redis.keysNearTtl} near their TTL, ${s.redis.malformedCount} malformed, ${s.redis.pendingBatches} pending batches (as of ${s.redis.surveyedAt})`,
    `in PostgreSQL    ${s.postgres.rows} rows, ${s.postgres.merchants} merchants${totals ? `: ${totals}` : ''}`,
    `last run         ${run ? `${run.status} at ${run.finishedAt ?? '-'}, ${run.keysRead} keys read, ${run.rowsWritten} rows written, ${run.errorCount} errors${run.errorMessage ? ` (${run.errorMessage})` : ''}` : 'none'}`,
  ].join('\n');
}
