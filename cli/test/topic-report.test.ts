import { describe, expect, it } from 'vitest';
import { CommandError } from '../src/cli-errors.ts';
import { formatProvisioning, formatTopics, mergeDeclarations, provisioningPlan } from '../src/topic-report.ts';

const spec = (name: string, partitions = 3) => ({ name, partitions, retentionMs: 604_800_000, cleanupPolicy: 'delete' as const });

describe('topic report', () => {
  it('lists topics with partitions, cleanup policy and retention', () => {
    expect(
      formatTopics([
        { name: 'a.requests.dlq', partitions: 3, cleanupPolicy: 'delete', retentionMs: -1 },
        { name: 'tickflow.scheduler.state', partitions: 1, cleanupPolicy: 'compact', retentionMs: 604_800_000 },
      ]).split('\n'),
    ).toEqual([
      'TOPIC                     PARTITIONS  CLEANUP  RETENTION',
      'a.requests.dlq                     3  delete   forever',
      'tickflow.scheduler.state           1  compact  7d',
    ]);
  });

  it('merges declarations: a topic declared by two services once, if they agree', () => {
    const merged = mergeDeclarations([
      { service: 'scheduler', specs: [spec('tickflow.scheduler.state'), spec('metering.requests')] },
      { service: 'metering', specs: [spec('metering.requests'), spec('metering.events')] },
    ]);
    expect(merged.map((t) => [t.name, t.services])).toEqual([
      ['metering.events', ['metering']],
      ['metering.requests', ['scheduler', 'metering']],
      ['tickflow.scheduler.state', ['scheduler']],
    ]);
    expect(() =>
      mergeDeclarations([
        { service: 'scheduler', specs: [spec('metering.requests', 3)] },
        { service: 'metering', specs: [spec('metering.requests', 6)] },
      ]),
    ).toThrow(new CommandError('topic metering.requests is declared differently by scheduler and metering'));
  });

  it('refuses a declaration that is not a list of topic specs, naming the service and the field', () => {
    expect(() =>
      mergeDeclarations([{ service: 'pricing', specs: [{ name: 'p', partitions: 0, retentionMs: 1, cleanupPolicy: 'delete' }] }]),
    ).toThrow(/services\/pricing\/src\/service\.ts: its topics are not a list of topic specs \(0\.partitions/);
    expect(() => mergeDeclarations([{ service: 'pricing', specs: 'nope' }])).toThrow(CommandError);
  });

  it('plans created versus existing', () => {
    const declared = mergeDeclarations([{ service: 's', specs: [spec('a'), spec('b')] }]);
    const plan = provisioningPlan(declared, new Set(['a']), false);
    expect(plan.map((t) => [t.name, t.status])).toEqual([
      ['a', 'existing'],
      ['b', 'created'],
    ]);
    expect(formatProvisioning(plan).split('\n').at(-1)).toBe('1 created, 1 existing');
    expect(provisioningPlan(declared, new Set(), true).map((t) => t.status)).toEqual(['would create', 'would create']);
  });
});
