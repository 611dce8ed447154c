// npm run stack:up | stack:down | stack:status

import { InstallError } from './installers.ts';
import { down, StackError, status, up } from './stack.ts';

const USAGE = `usage: stack <up|down|status> [--quiet]
  up      install what is missing and start every component that is not answering
  down    stop what stack:up started, and nothing else
  status  one line per component; exits 1 when any is down`;

async function main(argv: string[]): Promise<number> {
  const [command, ...flags] = argv;
  const unknown = flags.filter((f) => f !== '--quiet');
  if (unknown.length > 0 || command === undefined || !['up', 'down', 'status'].includes(command)) {
    if (command === '--help' || command === 'help') {
      console.log(USAGE);
      return 0;
    }
    console.error(`${unknown.length > 0 ? `unknown flag ${unknown[0]}` : `unknown command ${command ?? '(none)'}`}\n${USAGE}`);
    return 2;
  }
  const quiet = flags.includes('--quiet');
  const log = (line: string) => {
    if (!quiet) console.log(line);
  };
  switch (command) {
    case 'up':
      await up(log);
      return printStatus();
    case 'down':
      await down(log);
      return 0;
    default:
      return printStatus();
  }
}

async function printStatus(): Promise<number> {
  const lines = await status();
  const rows = lines.map((line) => [
    line.up ? 'up' : 'down',
    line.component.name,
    line.version ?? '-',
    line.component.endpoint,
    line.pid ? `(pid ${line.pid})` : line.up ? '(not started by stack:up)' : '',
  ]);
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  for (const row of rows)
    console.log(
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    );
  return lines.every((l) => l.up) ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof StackError || error instanceof InstallError) {
      console.error(`stack: ${error.message}`);
    } else {
      console.error(error);
    }
    process.exit(1);
  },
);
