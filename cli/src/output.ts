// Where a command's result goes: a table or sentence for people, or one JSON document for
// scripts. Nothing else is written to stdout, so `--json` output always parses.

export class Output {
  constructor(
    readonly json: boolean,
    private readonly stdout: NodeJS.WritableStream = process.stdout,
  ) {}

  /** Writes `data` as JSON, or `render(data)` as text. */
  result<T>(data: T, render: (data: T) => string): void {
    const text = this.json ? JSON.stringify(data, null, 2) : render(data);
    this.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }
}
