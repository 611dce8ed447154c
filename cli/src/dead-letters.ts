// Dead letters as an operator sees them, and what replaying one sends: the record as it
// first arrived (key, value, CloudEvents headers, trace context), its retry history
// dropped so that it starts again at attempt 0, and a note of where it was replayed from.
import { deadLetterTopic, type Headers, RETRY } from '@tickflow/messaging';
import { CommandError, UsageError } from './cli-errors.ts';
import type { KafkaRecord, OutgoingRecord, PartitionRange, ReadRange } from './kafka-cluster.ts';
import { renderTable } from './text-table.ts';

export const REPLAYED_FROM = 'tickflow_replayed_from';
export const REPLAYED_AT = 'tickflow_replayed_at';

const DLQ_SUFFIX = '.dlq';

/** Operators name either the topic or its dead-letter topic; both mean the latter. */
export function deadLetterTopicOf(topic: string): string {
  return topic.endsWith(DLQ_SUFFIX) ? topic : deadLetterTopic(topic);
}

export interface DeadLetter {
  partition: number;
  offset: number;
  key: string | null;
  eventType: string | null;
  eventId: string | null;
  reason: string | null;
  errorClass: string | null;
  errorMessage: string | null;
  attempts: number | null;
  firstFailedAt: string | null;
  deadLetteredAt: string;
  original: { topic: string | null; partition: number | null; offset: number | null };
}

export function describeDeadLetter(record: KafkaRecord): DeadLetter {
  const h = record.headers;
  return {
    partition: record.partition,
    offset: record.offset,
    key: record.key?.toString() ?? null,
    eventType: h.ce_type ?? null,
    eventId: h.ce_id ?? null,
    reason: h[RETRY.dlqReason] ?? null,
    errorClass: h[RETRY.errorClass] ?? null,
    errorMessage: h[RETRY.errorMessage] ?? null,
    attempts: numberOrNull(h[RETRY.attempt]),
    firstFailedAt: h[RETRY.firstFailedAt] ?? null,
    deadLetteredAt: new Date(record.timestamp).toISOString(),
    original: {
      topic: h[RETRY.originalTopic] ?? null,
      partition: numberOrNull(h[RETRY.originalPartition]),
      offset: numberOrNull(h[RETRY.originalOffset]),
    },
  };
}

/**
 * The ranges to read for the `limit` oldest dead letters: no partition can contribute
 * more than `limit` of them, so reading that many from each start is enough.
 */
export function listingRanges(partitions: PartitionRange[], limit: number): ReadRange[] {
  return partitions.map((p) => ({ partition: p.partition, from: p.low, to: Math.min(p.high, p.low + limit) }));
}

/** Oldest first: the order they were dead-lettered in, whatever partition holds them. */
export function oldestDeadLetters(letters: DeadLetter[], limit: number): DeadLetter[] {
  return [...letters]
    .sort((a, b) => a.deadLetteredAt.localeCompare(b.deadLetteredAt) || a.partition - b.partition || a.offset - b.offset)
    .slice(0, limit);
}

export type ReplaySelector =
  | { kind: 'offset'; offset: number; partition: number | undefined }
  | { kind: 'since'; since: Date }
  | { kind: 'all' };

export function replaySelectorFrom(options: { offset?: number; partition?: number; since?: Date; all?: boolean }): ReplaySelector {
  const given = [
    options.offset !== undefined && '--offset',
    options.since !== undefined && '--since',
    options.all === true && '--all',
  ].filter((flag): flag is string => typeof flag === 'string');
  if (given.length !== 1) {
    throw new UsageError(`give exactly one of --offset, --since or --all${given.length > 1 ? ` (got ${given.join(' and ')})` : ''}`);
  }
  if (options.partition !== undefined && options.offset === undefined) throw new UsageError('--partition goes with --offset');
  if (options.offset !== undefined) return { kind: 'offset', offset: options.offset, partition: options.partition };
  if (options.since !== undefined) return { kind: 'since', since: options.since };
  return { kind: 'all' };
}

/**
 * What to read of `dlqTopic` for `selector`. For `since`, `offsetsSince` holds each
 * partition's first offset at or after the time; records are still filtered on their
 * timestamps (see `isSelected`), as timestamps need not rise with offsets.
 */
export function replayRanges(
  dlqTopic: string,
  selector: ReplaySelector,
  partitions: PartitionRange[],
  offsetsSince?: Map<number, number>,
): ReadRange[] {
  if (selector.kind === 'all') return partitions.map((p) => ({ partition: p.partition, from: p.low, to: p.high }));
  if (selector.kind === 'since') {
    return partitions.map((p) => ({ partition: p.partition, from: Math.max(p.low, offsetsSince?.get(p.partition) ?? p.low), to: p.high }));
  }
  const partition = selector.partition ?? onlyPartition(dlqTopic, partitions);
  const range = partitions.find((p) => p.partition === partition);
  if (!range) throw new CommandError(`${dlqTopic} has no partition ${partition} (it has ${partitions.length})`);
  if (selector.offset < range.low || selector.offset >= range.high) {
    throw new CommandError(
      range.high > range.low
        ? `${dlqTopic} partition ${partition} holds offsets ${range.low} to ${range.high - 1}, not ${selector.offset}`
        : `${dlqTopic} partition ${partition} is empty`,
    );
  }
  return [{ partition, from: selector.offset, to: selector.offset + 1 }];
}

function onlyPartition(dlqTopic: string, partitions: PartitionRange[]): number {
  if (partitions.length !== 1) throw new UsageError(`${dlqTopic} has ${partitions.length} partitions; say which with --partition`);
  return (partitions[0] as PartitionRange).partition;
}

export function isSelected(selector: ReplaySelector, record: KafkaRecord): boolean {
  return selector.kind !== 'since' || record.timestamp >= selector.since.getTime();
}

const RETRY_HEADERS = new Set<string>(Object.values(RETRY));

export interface Replay {
  from: { topic: string; partition: number; offset: number };
  record: OutgoingRecord;
}

/** The record a dead letter is replayed as; its topic is where it first arrived. */
export function replayOf(deadLetter: KafkaRecord, replayedAt: Date): Replay {
  const headers: Headers = {};
  for (const [name, value] of Object.entries(deadLetter.headers)) if (!RETRY_HEADERS.has(name)) headers[name] = value;
  headers[REPLAYED_FROM] = `${deadLetter.topic}/${deadLetter.partition}/${deadLetter.offset}`;
  headers[REPLAYED_AT] = replayedAt.toISOString();
  return {
    from: { topic: deadLetter.topic, partition: deadLetter.partition, offset: deadLetter.offset },
    record: {
      topic: deadLetter.headers[RETRY.originalTopic] ?? deadLetter.topic.slice(0, -DLQ_SUFFIX.length),
      key: deadLetter.key,
      value: deadLetter.value,
      headers,
    },
  };
}

export function formatDeadLetters(dlqTopic: string, letters: DeadLetter[]): string {
  if (letters.length === 0) return `${dlqTopic} holds no dead letters`;
  const rows = letters.map((d) => [
    `${d.partition}/${d.offset}`,
    d.key,
    d.reason,
    d.errorClass && d.errorMessage !== null ? `${d.errorClass}: ${oneLine(d.errorMessage)}` : d.errorClass,
    d.attempts,
    d.firstFailedAt,
    d.deadLetteredAt,
    d.original.topic === null ? null : `${d.original.topic}/${d.original.partition ?? '?'}/${d.original.offset ?? '?'}`,
  ]);
  return renderTable(['PARTITION/OFFSET', 'KEY', 'REASON', 'ERROR', 'ATTEMPTS', 'FIRST FAILED AT', 'DEAD-LETTERED AT', 'ORIGINAL'], rows);
}

export interface SentReplay {
  from: string;
  to: { topic: string; partition: number | null; offset: number | null };
  key: string | null;
  eventType: string | null;
  eventId: string | null;
}

export function formatReplays(dlqTopic: string, replays: SentReplay[], dryRun: boolean): string {
  if (replays.length === 0) return `no dead letters in ${dlqTopic} match`;
  const rows = replays.map((r) => [
    r.from,
    r.to.partition === null ? r.to.topic : `${r.to.topic}/${r.to.partition}/${r.to.offset}`,
    r.key,
    r.eventType,
    r.eventId,
  ]);
  const summary = dryRun
    ? `would replay ${replays.length} dead letter(s); nothing sent (--dry-run)`
    : `replayed ${replays.length} dead letter(s)`;
  return `${renderTable(['FROM', dryRun ? 'TO' : 'SENT TO', 'KEY', 'TYPE', 'EVENT ID'], rows)}\n${summary}`;
}

function numberOrNull(text: string | undefined): number | null {
  if (text === undefined || text === '') return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 80 ? `${flat.slice(0, 79)}…` : flat;
}
