// Dead letters made by a real Router (a handler that throws FatalError), read with
// `tickflow dlq list` and sent back with `tickflow dlq replay` to the same route, whose
// handler now succeeds.
import { FatalError, RETRY } from '@tickflow/messaging';
import { eventually } from '@tickflow/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestBed } from '../../libs/messaging/test/test-bed.ts';
import type { DeadLetterListing, ReplayReport } from '../src/commands/dlq.ts';
import { REPLAYED_AT, REPLAYED_FROM } from '../src/dead-letters.ts';
import { endOffsets, kafka, type ReadRecord, readRecords, STACK_TRACE, tickflow, tickflowJson } from './stack-fixtures.ts';

let failing = true;
const handled: { id: string; attempt: number; eventId: string; key: string | null }[] = [];
const bed = new TestBed(async (message) => {
  if (failing) throw new FatalError(`job ${message.payload.id} cannot be done`);
  handled.push({ id: message.payload.id, attempt: message.attempt, eventId: message.event.id, key: message.key });
});
const dlqTopic = `${bed.topic}.dlq`;
const sent = new Map<string, Record<string, string>>();
const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
/** The dead letters as the router wrote them, keyed by record key. */
let deadLetters: Map<string | null, ReadRecord>;

beforeAll(async () => {
  await bed.start();
  const traceparent = `00-${traceId}-00f067aa0ba902b7-01`;
  sent.set('bad-1', await bed.send('bad-1', { key: 'k-1', partition: 0, headers: { traceparent } }));
  sent.set('bad-2', await bed.send('bad-2', { key: 'k-2', partition: 1, headers: { traceparent } }));
  deadLetters = new Map((await readRecords(dlqTopic, 2)).map((r) => [r.key, r]));
});

afterAll(async () => {
  await bed.stop();
});

describe('tickflow dlq list', () => {
  it('shows each dead letter: position, key, reason, error, attempts, times and origin', async () => {
    const listing = await tickflowJson<DeadLetterListing>(['dlq', 'list', bed.topic]);
    expect(listing.topic).toBe(dlqTopic);
    const byKey = new Map(listing.deadLetters.map((d) => [d.key, d]));
    expect([...byKey.keys()].sort()).toEqual(['k-1', 'k-2']);
    const first = byKey.get('k-1');
    expect(first).toMatchObject({
      partition: deadLetters.get('k-1')?.partition,
      offset: deadLetters.get('k-1')?.offset,
      eventType: 'tickflow.test.job',
      eventId: sent.get('bad-1')?.ce_id,
      reason: 'fatal',
      errorClass: 'FatalError',
      errorMessage: 'job bad-1 cannot be done',
      attempts: 1,
      original: { topic: bed.topic, partition: 0, offset: 0 },
    });
    expect(Date.parse(first?.firstFailedAt ?? '')).not.toBeNaN();
    expect(Date.parse(first?.deadLetteredAt ?? '')).toBeGreaterThanOrEqual(Date.parse(first?.firstFailedAt ?? ''));
    expect(byKey.get('k-2')?.original).toEqual({ topic: bed.topic, partition: 1, offset: 0 });
  });

  it('takes the dead-letter topic by name too, limits, and prints a table', async () => {
    const limited = await tickflowJson<DeadLetterListing>(['dlq', 'list', dlqTopic, '--limit', '1']);
    expect(limited.deadLetters).toHaveLength(1);
    const table = await tickflow(['dlq', 'list', dlqTopic]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^PARTITION\/OFFSET\s+KEY\s+REASON\s+ERROR\s+ATTEMPTS\s+FIRST FAILED AT\s+DEAD-LETTERED AT\s+ORIGINAL$/);
    expect(lines).toHaveLength(3);
    expect(table.stdout).toContain('FatalError: job bad-1 cannot be done');
    expect(table.stdout).toContain(`${bed.topic}/0/0`);
  });

  it('commits no offsets on the dead-letter topic for any group', async () => {
    await tickflowJson(['dlq', 'list', bed.topic]);
    const admin = kafka.admin();
    await admin.connect();
    try {
      const { groups } = await admin.listGroups();
      const committed = await Promise.all(groups.map(async (g) => admin.fetchOffsets({ groupId: g.groupId, topics: [dlqTopic] })));
      const offsets = committed.flat().flatMap((t) => t.partitions.filter((p) => Number(p.offset) >= 0));
      expect(offsets).toEqual([]);
    } finally {
      await admin.disconnect();
    }
  });

  it('names an unknown topic', async () => {
    const run = await tickflow(['dlq', 'list', `${bed.topic}-nope`]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^error: topic '${bed.topic}-nope\\.dlq' does not exist`));
  });
});

describe('tickflow dlq replay', () => {
  it('--dry-run and --since show what matches and send nothing', async () => {
    const before = await endOffsets(bed.topic);
    const dry = await tickflowJson<ReplayReport>(['dlq', 'replay', bed.topic, '--all', '--dry-run']);
    expect(dry.dryRun).toBe(true);
    expect(dry.replays.map((r) => r.from).sort()).toEqual(
      [...deadLetters.values()].map((r) => `${dlqTopic}/${r.partition}/${r.offset}`).sort(),
    );
    expect(dry.replays.every((r) => r.to.topic === bed.topic && r.to.offset === null)).toBe(true);
    const future = await tickflowJson<ReplayReport>(['dlq', 'replay', bed.topic, '--since', '2999-01-01T00:00:00Z', '--dry-run']);
    expect(future.replays).toEqual([]);
    const past = await tickflowJson<ReplayReport>(['dlq', 'replay', bed.topic, '--since', '2000-01-01', '--dry-run']);
    expect(past.replays).toHaveLength(2);
    expect(await endOffsets(bed.topic)).toEqual(before);
  });

  it('sends one dead letter back to its topic, where the route now handles it as a first attempt', async () => {
    failing = false;
    const deadLetter = deadLetters.get('k-1') as ReadRecord;
    const position = `${dlqTopic}/${deadLetter.partition}/${deadLetter.offset}`;
    const report = await tickflowJson<ReplayReport>([
      'dlq',
      'replay',
      dlqTopic,
      '--partition',
      String(deadLetter.partition),
      '--offset',
      String(deadLetter.offset),
    ]);
    expect(report.replays).toHaveLength(1);
    expect(report.replays[0]).toMatchObject({ from: position, key: 'k-1', eventId: sent.get('bad-1')?.ce_id, to: { topic: bed.topic } });

    const done = await eventually('the replayed job to be handled', async () => handled.find((h) => h.id === 'bad-1'));
    expect(done).toEqual({ id: 'bad-1', attempt: 0, eventId: sent.get('bad-1')?.ce_id, key: 'k-1' });

    const records = await readRecords(bed.topic, 3);
    const replayed = records.find((r) => r.headers[REPLAYED_FROM] !== undefined);
    const original = records.find((r) => r.partition === 0 && r.offset === 0);
    expect(replayed?.headers[REPLAYED_FROM]).toBe(position);
    expect(report.replays[0]?.to).toEqual({ topic: bed.topic, partition: replayed?.partition, offset: replayed?.offset });
    expect(Date.parse(replayed?.headers[REPLAYED_AT] ?? '')).not.toBeNaN();
    expect(replayed?.key).toBe('k-1');
    expect(replayed?.value).toEqual(original?.value);
    for (const header of ['ce_specversion', 'ce_id', 'ce_source', 'ce_type', 'ce_time', 'content-type']) {
      expect(replayed?.headers[header], header).toBe(sent.get('bad-1')?.[header]);
    }
    // The dead letter's trace context, which continues the original trace: the replay joins it.
    expect(replayed?.headers.traceparent).toBe(deadLetter.headers.traceparent);
    expect(replayed?.headers.traceparent).toContain(traceId);
    for (const header of Object.values(RETRY)) expect(replayed?.headers, header).not.toHaveProperty(header);

    expect(
      handled.find((h) => h.id === 'bad-2'),
      'the dead letter not selected stays where it is',
    ).toBeUndefined();
  });

  it('refuses a missing or doubled selector, a partition it must guess, and an offset the partition does not hold', async () => {
    const [none, two, guess, outside] = await Promise.all([
      tickflow(['dlq', 'replay', bed.topic]),
      tickflow(['dlq', 'replay', bed.topic, '--all', '--offset', '0']),
      tickflow(['dlq', 'replay', bed.topic, '--offset', '0']),
      tickflow(['dlq', 'replay', bed.topic, '--partition', String(deadLetters.get('k-2')?.partition), '--offset', '99']),
    ]);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe('error: give exactly one of --offset, --since or --all\n');
    expect(two.code).toBe(2);
    expect(two.stderr).toContain('(got --offset and --all)');
    expect(guess.code).toBe(2);
    expect(guess.stderr).toBe(`error: ${dlqTopic} has 2 partitions; say which with --partition\n`);
    expect(outside.code).toBe(1);
    expect(outside.stderr).toMatch(
      new RegExp(`^error: ${dlqTopic.replaceAll('.', '\\.')} partition \\d holds offsets 0 to \\d, not 99\n$`),
    );
    for (const run of [none, two, guess, outside]) expect(run.stderr).not.toMatch(STACK_TRACE);
  });
});
