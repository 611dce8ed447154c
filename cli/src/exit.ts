/**
 * Ends the process with `code` once stdout and stderr have taken everything written to
 * them. process.exit alone drops what a pipe has not taken yet: a --json document larger
 * than the pipe's buffer came out cut short.
 */
export async function exitWhenFlushed(code: number): Promise<never> {
  await Promise.all([process.stdout, process.stderr].map((stream) => new Promise<void>((resolve) => stream.write('', () => resolve()))));
  // kafkajs can leave a timer behind after disconnecting; the command is over either way.
  process.exit(code);
}
