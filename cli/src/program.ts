// The `tickflow` command line: every command, flag and help text, and how every failure
// becomes one line on stderr and an exit code (0 done, 1 could not be done, 2 the command
// line is wrong). What a command does lives in commands/, loaded only when it runs: the
// libraries it needs take a second or two to load, which `--help` and a mistyped flag
// should not wait for.
import { Command, CommanderError } from 'commander';
import type { CliContext } from './cli-context.ts';
import { CommandError, EXIT_FAILURE, EXIT_USAGE, UsageError } from './cli-errors.ts';
import { parseCount, parseJsonObject, parseOffset, parseSignedInteger, parseStringMap, parseTimestamp } from './flag-values.ts';
import { Output } from './output.ts';
import { servicesDirectory } from './topic-declarations.ts';

export interface CliStreams {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

type Env = Record<string, string | undefined>;
type Run = (context: CliContext, output: Output) => Promise<void>;

const EPILOGUE = `
Configuration (environment): KAFKA_BROKERS, KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD,
KAFKA_TLS, KAFKA_TLS_CA_FILE, KAFKA_TLS_CERT_FILE, KAFKA_TLS_KEY_FILE, SCHEMA_REGISTRY_URL, SCHEMA_REGISTRY_USERNAME,
SCHEMA_REGISTRY_PASSWORD, SCHEDULER_URL, SCHEDULER_API_TOKEN, AGGREGATOR_URL, AGGREGATOR_API_TOKEN (the tokens default
to the one \`npm start\` keeps in .stack/api-token).
Exit codes: 0 done; 1 could not be done (unknown topic, type, group or schedule, unreachable service);
2 the command line is wrong (unknown command or flag, bad value, malformed JSON, bad variable).`;

const examples = (...lines: string[]) => `\n${lines.length > 1 ? 'Examples' : 'Example'}:\n${lines.map((l) => `  ${l}`).join('\n')}`;

export function buildProgram(streams: CliStreams, run: (json: boolean | undefined, command: Run) => Promise<void>): Command {
  const program = new Command('tickflow')
    .description('operate tickflow: events, schedules, aggregations, metering, pricing, dead letters, consumer offsets and lag, topics')
    // Set before the commands are added: subcommands inherit these.
    .exitOverride()
    .configureOutput({ writeOut: (text) => streams.stdout.write(text), writeErr: (text) => streams.stderr.write(text) })
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', EPILOGUE);

  program
    .command('produce')
    .description('send a manual event: CloudEvents headers, payload checked against and encoded with the latest schema of its type')
    .argument('<topic>', 'topic to write to, e.g. metering.requests')
    .requiredOption('--type <type>', 'CloudEvents type, also the schema registry subject, e.g. tickflow.scheduler.tick')
    .requiredOption('--key <key>', 'record key, e.g. the entity id')
    .requiredOption('--payload <json>', 'the payload as a JSON object', parseJsonObject)
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      examples(
        `tickflow produce metering.requests --type tickflow.scheduler.tick --key c-42 \\
    --payload '{"schedule":"metering-monthly","scheduledTime":"2026-11-01T00:00:00Z","payload":{}}'`,
      ),
    )
    .action((topic: string, options: { type: string; key: string; payload: Record<string, unknown>; json?: boolean }) =>
      run(options.json, async (context, output) => (await import('./commands/produce.ts')).produceCommand(context, output, topic, options)),
    );

  program
    .command('trigger')
    .description('fire a schedule now, through the scheduler (SCHEDULER_URL, SCHEDULER_API_TOKEN); prints the tick event id')
    .argument('<schedule>', 'schedule name')
    .option('--payload <json>', 'JSON object of string values, passed to the tick', parseStringMap)
    .option('--json', 'print the result as JSON')
    .addHelpText('after', examples(`tickflow trigger aggregator-hourly --payload '{"merchantId":"m-7"}'`))
    .action((schedule: string, options: { payload?: Record<string, string>; json?: boolean }) =>
      run(options.json, async (context, output) =>
        (await import('./commands/scheduler.ts')).triggerCommand(context, output, schedule, options),
      ),
    );

  program
    .command('schedules')
    .description("list the scheduler's schedules with their next and last firing (SCHEDULER_URL)")
    .option('--json', 'print the result as JSON')
    .addHelpText('after', examples('tickflow schedules'))
    .action((options: { json?: boolean }) =>
      run(options.json, async (context, output) => (await import('./commands/scheduler.ts')).schedulesCommand(context, output)),
    );

  program
    .command('aggregations')
    .description("the aggregator's state of a date (AGGREGATOR_URL)")
    .command('status')
    .description('counters waiting in Redis, rows in PostgreSQL, the last run and its errors')
    .argument('<date>', 'the date, YYYY-MM-DD')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', examples('tickflow aggregations status 2026-11-22'))
    .action((date: string, options: { json?: boolean }) =>
      run(options.json, async (context, output) =>
        (await import('./commands/aggregations.ts')).aggregationStatusCommand(context, output, date),
      ),
    );

  const metering = program.command('metering').description("metering's months and their contracts (METERING_URL)");
  metering
    .command('status')
    .description("a month's files, records and each contract's bill and outcome; every plan, or one")
    .argument('<month>', 'the month, YYYY-MM')
    .option('--plan <plan>', 'one plan, service:environment:plan')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', examples('tickflow metering status 2026-10', 'tickflow metering status --plan demo:local:plan-1 2026-10'))
    .action((month: string, options: { plan?: string; json?: boolean }) =>
      run(options.json, async (context, output) =>
        (await import('./commands/metering.ts')).meteringStatusCommand(context, output, month, options),
      ),
    );
  metering
    .command('retry')
    .description('re-send the contracts of a month that are in error (or one), past the retry limit too')
    .argument('<plan>', 'the plan, service:environment:plan')
    .argument('<month>', 'the month, YYYY-MM')
    .option('--contract <id>', 'only this contract')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      examples('tickflow metering retry demo:local:plan-1 2026-10', 'tickflow metering retry demo:local:plan-1 2026-10 --contract c-7'),
    )
    .action((plan: string, month: string, options: { contract?: string; json?: boolean }) =>
      run(options.json, async (context, output) =>
        (await import('./commands/metering.ts')).meteringRetryCommand(context, output, plan, month, options),
      ),
    );

  const pricing = program
    .command('pricing')
    .description("pricing's catalogue: a sync now, each region's state, an instance type's prices (PRICING_URL)");
  pricing
    .command('sync')
    .description('sync prices now: a tick of pricing-daily sent onto pricing.requests (every configured region, or those given)')
    .option('--region <regions>', 'comma-separated regions, AWS codes or Azure names: us-east-1,eu-west-1,eastus')
    .option('--cloud <cloud>', 'only this cloud: aws or azure (default: every cloud configured)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      examples(
        'tickflow pricing sync',
        'tickflow pricing sync --region us-east-1',
        'tickflow pricing sync --cloud azure',
        'tickflow pricing sync --region eastus',
      ),
    )
    .action((options: { region?: string; cloud?: string; json?: boolean }) =>
      run(options.json, async (context, output) => (await import('./commands/pricing.ts')).pricingSyncCommand(context, output, options)),
    );
  pricing
    .command('status')
    .description("each region's catalogue version, last sync and result")
    .option('--json', 'print the result as JSON')
    .addHelpText('after', examples('tickflow pricing status'))
    .action((options: { json?: boolean }) =>
      run(options.json, async (context, output) => (await import('./commands/pricing.ts')).pricingStatusCommand(context, output)),
    );
  pricing
    .command('show')
    .description("an instance type's prices in a region (every OS, tenancy and term of running instances) and its last changes")
    .argument('<instanceType>', 'e.g. m5.large, Standard_D2s_v3')
    .option('--region <region>', 'the region, e.g. us-east-1 or eastus (required; its name says the cloud)')
    .option('--cloud <cloud>', 'the cloud: aws or azure (checked against the region)')
    .option('--all', 'capacity reservations too')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      examples('tickflow pricing show m5.large --region us-east-1', 'tickflow pricing show Standard_D2s_v3 --region eastus'),
    )
    .action((instanceType: string, options: { region?: string; cloud?: string; all?: boolean; json?: boolean }) =>
      run(options.json, async (context, output) =>
        (await import('./commands/pricing.ts')).pricingShowCommand(context, output, instanceType, options),
      ),
    );

  const dlq = program.command('dlq').description('read and replay dead letters');
  dlq
    .command('list')
    .description('show the oldest dead letters of a topic, without moving any consumer group')
    .argument('<topic>', 'the topic or its dead-letter topic, e.g. metering.requests or metering.requests.dlq')
    .option('--limit <n>', 'show at most n dead letters', parseCount, 100)
    .option('--json', 'print the result as JSON')
    .addHelpText('after', examples('tickflow dlq list metering.requests --limit 20'))
    .action((topic: string, options: { limit: number; json?: boolean }) =>
      run(options.json, async (context, output) => (await import('./commands/dlq.ts')).dlqListCommand(context, output, topic, options)),
    );
  dlq
    .command('replay')
    .description('send dead letters back to their original topic, retry history dropped (attempt 0), tickflow_replayed_from added')
    .argument('<topic>', 'the topic or its dead-letter topic')
    .option('--offset <n>', 'the dead letter at this offset', parseOffset)
    .option('--partition <p>', 'its partition; needed when the dead-letter topic has more than one', parseOffset)
    .option('--since <iso>', 'every dead letter written at or after this time', parseTimestamp)
    .option('--all', 'every dead letter')
    .option('--dry-run', 'show what would be sent; send nothing')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `\nGive exactly one of --offset, --since or --all.\n${examples(
        'tickflow dlq replay metering.requests --partition 1 --offset 17',
        'tickflow dlq replay metering.requests --since 2026-11-22T08:00:00Z --dry-run',
      )}`,
    )
    .action(
      (topic: string, options: { offset?: number; partition?: number; since?: Date; all?: boolean; dryRun?: boolean; json?: boolean }) =>
        run(options.json, async (context, output) => (await import('./commands/dlq.ts')).dlqReplayCommand(context, output, topic, options)),
    );

  program
    .command('replay')
    .description("move a consumer group's committed offsets on every partition of a topic, so it reads again (or skips)")
    .requiredOption('--group <group>', 'consumer group, e.g. metering (a service) or metering.retry (its delay tiers)')
    .requiredOption('--topic <topic>', 'topic whose offsets move')
    .option('--to-datetime <iso>', 'to the first record at or after this time', parseTimestamp)
    .option('--to-offset <n>', 'to this offset, kept within each partition', parseOffset)
    .option('--to-earliest', 'to the earliest record still held')
    .option('--shift-by <n>', 'by n records, negative to go back, kept within each partition', parseSignedInteger)
    .option('--dry-run', 'show the new offsets; change nothing')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `\nGive exactly one of --to-datetime, --to-offset, --to-earliest or --shift-by. The group must have no live members.\n${examples(
        'tickflow replay --group metering --topic metering.requests --to-datetime 2026-11-22T00:00:00Z --dry-run',
        'tickflow replay --group metering --topic metering.requests --shift-by -10',
      )}`,
    )
    .action(
      (options: {
        group: string;
        topic: string;
        toDatetime?: Date;
        toOffset?: number;
        toEarliest?: boolean;
        shiftBy?: number;
        dryRun?: boolean;
        json?: boolean;
      }) => run(options.json, async (context, output) => (await import('./commands/replay.ts')).replayCommand(context, output, options)),
    );

  program
    .command('lag')
    .description('committed offset, end offset and lag per partition, and the total per consumer group')
    .option('--group <group>', 'only this consumer group (default: every group)')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', examples('tickflow lag --group metering'))
    .action((options: { group?: string; json?: boolean }) =>
      run(options.json, async (context, output) => (await import('./commands/lag.ts')).lagCommand(context, output, options)),
    );

  const topics = program.command('topics').description('list and provision topics');
  topics
    .command('list')
    .description('topics with their partition count, cleanup policy and retention')
    .option('--prefix <prefix>', 'only topics whose name starts with this')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', examples('tickflow topics list --prefix metering.'))
    .action((options: { prefix?: string; json?: boolean }) =>
      run(options.json, async (context, output) => (await import('./commands/topics.ts')).topicsListCommand(context, output, options)),
    );
  topics
    .command('provision')
    .description('create what is missing of every topic the services declare (services/*/src/service.ts), and report drift')
    .option('--services <dir>', 'directory holding the services', servicesDirectory)
    .option('--dry-run', 'show what would be created; create nothing')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', examples('tickflow topics provision'))
    .action((options: { services: string; dryRun?: boolean; json?: boolean }) =>
      run(options.json, async (context, output) => (await import('./commands/topics.ts')).topicsProvisionCommand(context, output, options)),
    );

  return program;
}

export async function runCli(
  args: string[],
  env: Env = process.env,
  streams: CliStreams = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  let context: CliContext | undefined;
  const run = async (json: boolean | undefined, command: Run) => {
    const { CliContext } = await import('./cli-context.ts');
    context = new CliContext(env);
    await command(context, new Output(json === true, streams.stdout));
  };
  try {
    await buildProgram(streams, run).parseAsync(args, { from: 'user' });
    return 0;
  } catch (error) {
    // Commander has already written its own message (or the help) by now.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    streams.stderr.write(`error: ${describe(error)}\n`);
    return error instanceof UsageError || isConfigError(error) ? EXIT_USAGE : EXIT_FAILURE;
  } finally {
    await context?.close();
  }
}

function describe(error: unknown): string {
  if (error instanceof CommandError || error instanceof UsageError || isConfigError(error)) return (error as Error).message;
  if (error instanceof Error && error.name.startsWith('KafkaJS')) return `Kafka: ${error.message}`;
  // Not one of the failures the commands expect: name the error class, as a lead for a bug report.
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * @tickflow/runtime's ConfigError, told by name so that this module need not load the
 * runtime. A variable with a bad value is wrong before anything runs, like a bad flag; the
 * message names the variable, never its value (some are secrets).
 */
function isConfigError(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConfigError';
}
