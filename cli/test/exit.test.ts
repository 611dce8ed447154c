// The CLI's exit waits for its output: a result bigger than a pipe's buffer arrives whole.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exitModule = fileURLToPath(new URL('../src/exit.ts', import.meta.url));

describe('exitWhenFlushed', () => {
  it('exits with the code only after a pipe has taken all of stdout', async () => {
    const size = 4 * 1024 * 1024;
    const script = `
      const { exitWhenFlushed } = await import(${JSON.stringify(exitModule)});
      process.stdout.write('x'.repeat(${size}));
      await exitWhenFlushed(3);
    `;
    const run = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      maxBuffer: 2 * size,
    }).then(
      () => ({ code: 0, stdout: '' }),
      (error: { code: number; stdout: string }) => error,
    );
    expect(run.code).toBe(3);
    expect(run.stdout.length).toBe(size);
  });
});
