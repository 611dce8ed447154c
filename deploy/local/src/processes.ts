// Starting, finding and stopping the processes that `stack:up` launches.
// Each component gets a folder under .stack/<name>/ holding its data, its log and a
// pid file; `stack:down` only ever signals a pid it finds there, and only while that
// pid still runs the program it recorded, so a reused pid is never killed.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Launch {
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Run as this system user (PostgreSQL refuses to run as root). */
  user?: string;
}

interface PidRecord {
  pid: number;
  command: string;
  startedAt: string;
}

export function pidFile(componentDir: string): string {
  return join(componentDir, 'pid');
}

export function logFile(componentDir: string): string {
  return join(componentDir, 'output.log');
}

export interface Launched {
  pid: number;
  /** How the process ended, once it has (while this program still runs): for errors at start. */
  exit(): string | undefined;
}

export function launchDetached(componentDir: string, launch: Launch): Launched {
  mkdirSync(componentDir, { recursive: true });
  const log = openSync(logFile(componentDir), 'a');
  const ids = launch.user ? systemUserIds(launch.user) : undefined;
  const child = spawn(launch.command, launch.args, {
    cwd: launch.cwd ?? componentDir,
    env: { ...process.env, ...launch.env },
    detached: true,
    stdio: ['ignore', log, log],
    ...(ids ?? {}),
  });
  closeSync(log);
  if (child.pid === undefined) throw new Error(`could not start ${launch.command}`);
  let ended: string | undefined;
  child.on('exit', (code, signal) => {
    ended = signal ? `killed by ${signal}` : `exit code ${code}`;
  });
  child.unref();
  const record: PidRecord = { pid: child.pid, command: launch.command, startedAt: new Date().toISOString() };
  writeFileSync(pidFile(componentDir), JSON.stringify(record));
  return { pid: child.pid, exit: () => ended };
}

/** The pid this stack started for the component, if that process still runs it. */
export function runningPid(componentDir: string): number | undefined {
  const file = pidFile(componentDir);
  if (!existsSync(file)) return undefined;
  let record: PidRecord;
  try {
    record = JSON.parse(readFileSync(file, 'utf8')) as PidRecord;
  } catch {
    return undefined;
  }
  const cmdline = readCmdline(record.pid);
  if (cmdline === undefined || !cmdline.includes(record.command)) {
    rmSync(file, { force: true });
    return undefined;
  }
  return record.pid;
}

export async function stopProcess(componentDir: string, graceMs: number): Promise<'stopped' | 'killed' | 'not running'> {
  const pid = runningPid(componentDir);
  if (pid === undefined) return 'not running';
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (readCmdline(pid) === undefined) {
      rmSync(pidFile(componentDir), { force: true });
      return 'stopped';
    }
    await sleep(200);
  }
  // The whole process group: a server that ignored SIGTERM may have children too.
  signal(-pid, 'SIGKILL');
  rmSync(pidFile(componentDir), { force: true });
  return 'killed';
}

export function tailOfLog(componentDir: string, lines = 20): string {
  const file = logFile(componentDir);
  if (!existsSync(file)) return '(no output)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

export function systemUserIds(user: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`));
  const fields = line?.split(':');
  if (!fields || fields.length < 4) throw new Error(`system user ${user} does not exist`);
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

function readCmdline(pid: number): string | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    // A zombie has an empty command line: it is gone for our purposes.
    return raw.length > 0 ? raw.replaceAll('\0', ' ') : undefined;
  } catch {
    return undefined;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
