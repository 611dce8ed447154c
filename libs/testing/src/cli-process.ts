// The tickflow CLI run as its own process from the repository root, as a user runs it: for
// the CLI's tests and for each service's tests of the commands that reach it.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const cliMain = fileURLToPath(new URL('../../../cli/src/main.ts', import.meta.url));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `tickflow args…`; resolves with its exit code and output whatever the code. */
export async function tickflow(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', cliMain, ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** The parsed `--json` output of a run that must succeed. */
export async function tickflowJson<T>(args: string[], env: Record<string, string> = {}): Promise<T> {
  const run = await tickflow([...args, '--json'], env);
  if (run.code !== 0) throw new Error(`tickflow ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}
