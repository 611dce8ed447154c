// The command line itself: help for every command, exit codes, and messages that name
// what is wrong without a stack trace or a secret.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { mainScript, repoRoot, STACK_TRACE, tickflow } from './stack-fixtures.ts';

const commands: { path: string[]; options: string[] }[] = [
  { path: ['produce'], options: ['--type <type>', '--key <key>', '--payload <json>', '--json'] },
  { path: ['trigger'], options: ['--payload <json>', '--json'] },
  { path: ['schedules'], options: ['--json'] },
  { path: ['dlq', 'list'], options: ['--limit <n>', '--json'] },
  { path: ['dlq', 'replay'], options: ['--offset <n>', '--partition <p>', '--since <iso>', '--all', '--dry-run', '--json'] },
  {
    path: ['replay'],
    options: [
      '--group <group>',
      '--topic <topic>',
      '--to-datetime <iso>',
      '--to-offset <n>',
      '--to-earliest',
      '--shift-by <n>',
      '--dry-run',
      '--json',
    ],
  },
  { path: ['lag'], options: ['--group <group>', '--json'] },
  { path: ['topics', 'list'], options: ['--prefix <prefix>', '--json'] },
  { path: ['topics', 'provision'], options: ['--services <dir>', '--dry-run', '--json'] },
];

describe('tickflow --help', () => {
  it('lists every command', async () => {
    const run = await tickflow(['--help']);
    expect(run.code).toBe(0);
    for (const name of ['produce', 'trigger', 'schedules', 'dlq', 'replay', 'lag', 'topics'])
      expect(run.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    for (const group of [['dlq'], ['topics']]) {
      const sub = await tickflow([...group, '--help']);
      expect(sub.code).toBe(0);
      expect(sub.stdout).toMatch(/^ {2}list /m);
    }
  });

  it.each(commands.map((c) => ({ ...c, name: c.path.join(' ') })))('tickflow $name --help: usage, every option, an example', async ({
    path,
    options,
  }) => {
    const run = await tickflow([...path, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout.startsWith(`Usage: tickflow ${path.join(' ')} [options]`)).toBe(true);
    for (const option of options) expect(run.stdout).toContain(`  ${option}`);
    expect(run.stdout).toMatch(/Examples?:\n {2}tickflow /);
    expect(run.stderr).toBe('');
  });

  it('runs through its shebang, as the npm bin does', async () => {
    const { stdout } = await promisify(execFile)(mainScript, ['--help'], { cwd: repoRoot });
    expect(stdout).toMatch(/^Usage: tickflow /);
  });
});

describe('tickflow usage errors', () => {
  it('exit 2 with a message naming the command, flag or value', async () => {
    const cases: [string[], string][] = [
      [[], 'Usage: tickflow'],
      [['publish'], "error: unknown command 'publish'"],
      [['lag', '--verbose'], "error: unknown option '--verbose'"],
      [['produce', 'a.requests', '--key', 'k', '--payload', '{}'], "error: required option '--type <type>' not specified"],
      [
        ['dlq', 'list', 'a.requests', '--limit', 'ten'],
        "error: option '--limit <n>' argument 'ten' is invalid. must be a whole number of at least 1",
      ],
      [['dlq', 'replay', 'a.requests', '--since', '08:00'], "error: option '--since <iso>' argument '08:00' is invalid"],
      [['replay', '--group', 'g', '--topic', 't', '--shift-by', '1.5'], "error: option '--shift-by <n>' argument '1.5' is invalid"],
      [['trigger', 'x', '--payload', '{"merchantId":7}'], 'must have string values only; not a string: merchantId'],
      [['trigger', 'x', '--payload', '["a"]'], 'must be a JSON object, got an array'],
      [['topics', 'list', 'extra'], 'error: too many arguments'],
    ];
    const runs = await Promise.all(cases.map(([args]) => tickflow(args)));
    runs.forEach((run, i) => {
      const [args, message] = cases[i] as [string[], string];
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr, args.join(' ')).toContain(message);
      expect(run.stderr).not.toMatch(STACK_TRACE);
    });
  });

  it('a bad environment variable is named, with exit 2, before anything is reached', async () => {
    const run = await tickflow(['topics', 'list'], { KAFKA_BROKERS: 'not a broker' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('KAFKA_BROKERS: must be a comma-separated list of host:port');
    expect(run.stderr).not.toContain('not a broker');
  });
});

describe('tickflow trigger and schedules, scheduler unreachable', () => {
  it('exit 1 naming SCHEDULER_URL, and never printing the token', async () => {
    const env = { SCHEDULER_URL: 'http://127.0.0.1:1', SCHEDULER_API_TOKEN: 'token-that-must-not-show' };
    const [trigger, schedules] = await Promise.all([
      tickflow(['trigger', 'metering-monthly'], env),
      tickflow(['schedules', '--json'], env),
    ]);
    for (const run of [trigger, schedules]) {
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^error: cannot reach the scheduler at http:\/\/127\.0\.0\.1:1 \(SCHEDULER_URL\): /);
      expect(run.stdout + run.stderr).not.toContain('token-that-must-not-show');
      expect(run.stderr).not.toMatch(STACK_TRACE);
    }
  });
});
