// The Clazar metering API's request and reply, as data. One request per contract-month holds
// all its dimensions; the reply has one result per record sent. A result is read as Clazar
// means it: with `errors` it is an error (its `code` and `message` kept, the record to be sent
// again); without errors but not "success" it is a warning (a dimension not registered for the
// listing) that is recorded and shown, not retried; a duplicate (the same contract, dimension
// and hour already recorded) means an earlier request got through, and counts as sent.
import type { MeteredDimension, MeteringWarning } from '@tickflow/contracts';
import type { BillLine } from './contract-bill.ts';
import { type Month, monthWindow } from './month.ts';

export interface ClazarUsageRecord {
  cloud: string;
  contract_id: string;
  dimension: string;
  start_time: string;
  end_time: string;
  /** A non-negative integer as text. */
  quantity: string;
}

export interface MeteringReply {
  accepted: MeteredDimension[];
  warnings: MeteringWarning[];
  /** The records refused, as sent: the payload of a re-send. */
  refused: ClazarUsageRecord[];
  /** `dimension: code: message` per refused record. */
  errors: string[];
  /** The first refusal's code and message. */
  code: string | null;
  message: string | null;
}

/** Clazar answered in a shape it does not use: nothing can be concluded of what it did. */
export class UnreadableReplyError extends Error {
  override name = 'UnreadableReplyError';
}

export function usageRecords(cloud: string, contractId: string, month: Month, lines: readonly BillLine[]): ClazarUsageRecord[] {
  const { start, end } = monthWindow(month);
  return lines.map((line) => ({
    cloud,
    contract_id: contractId,
    dimension: line.dimension,
    start_time: start,
    end_time: end,
    quantity: line.quantity,
  }));
}

interface ClazarResult {
  id?: unknown;
  contract_id?: unknown;
  dimension?: unknown;
  status?: unknown;
  errors?: unknown;
  code?: unknown;
  message?: unknown;
}

const DUPLICATE = /duplicate|already (?:been )?(?:recorded|reported|exists|submitted)/i;

/** Reads the reply to `sent`; throws UnreadableReplyError when it is not `{"results": [...]}`. */
export function readMeteringReply(sent: readonly ClazarUsageRecord[], body: unknown): MeteringReply {
  const results = (body as { results?: unknown } | null)?.results;
  if (!Array.isArray(results)) throw new UnreadableReplyError('the reply has no results list');
  const reply: MeteringReply = { accepted: [], warnings: [], refused: [], errors: [], code: null, message: null };
  const unmatched = [...results] as ClazarResult[];
  for (const [index, record] of sent.entries()) {
    // Results name their dimension; a result without one is taken in request order.
    let at = unmatched.findIndex(
      (r) => r && r.dimension === record.dimension && (r.contract_id === undefined || r.contract_id === record.contract_id),
    );
    if (at < 0 && results.length === sent.length && (results[index] as ClazarResult)?.dimension === undefined)
      at = unmatched.indexOf(results[index] as ClazarResult);
    const result = at >= 0 ? (unmatched.splice(at, 1)[0] as ClazarResult) : undefined;
    if (result === undefined) {
      refuse(reply, record, 'NO_RESULT', 'Clazar returned no result for this record');
      continue;
    }
    const errors = Array.isArray(result.errors) ? result.errors.map(String) : typeof result.errors === 'string' ? [result.errors] : [];
    const code = typeof result.code === 'string' ? result.code : null;
    const message = typeof result.message === 'string' ? result.message : null;
    const status = typeof result.status === 'string' ? result.status : '';
    const id = typeof result.id === 'string' || typeof result.id === 'number' ? String(result.id) : null;
    if (errors.length > 0 || (code !== null && status.toLowerCase() !== 'success')) {
      const said = [code, message, ...errors].filter((s): s is string => s !== null).join(' ');
      if (DUPLICATE.test(said)) {
        reply.accepted.push({ dimension: record.dimension, quantity: record.quantity, resultId: id, duplicate: true });
        continue;
      }
      refuse(reply, record, code ?? 'ERROR', message ?? errors.join('; '));
      continue;
    }
    if (status.toLowerCase() === 'success') {
      reply.accepted.push({ dimension: record.dimension, quantity: record.quantity, resultId: id, duplicate: false });
      continue;
    }
    reply.warnings.push({ dimension: record.dimension, status: status || '(none)', message });
  }
  return reply;
}

function refuse(reply: MeteringReply, record: ClazarUsageRecord, code: string, message: string): void {
  reply.refused.push(record);
  reply.errors.push(`${record.dimension}: ${code}: ${message}`);
  reply.code ??= code;
  reply.message ??= message;
}
