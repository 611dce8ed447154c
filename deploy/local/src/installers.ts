// How the stack gets its programs on a bare machine: Debian packages, Maven Central
// artifacts and Go modules. Caches outside the repo (~/.m2, the Go module and build
// caches) are left where later runs find them; everything else goes under .stack/.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class InstallError extends Error {
  override name = 'InstallError';
}

export function run(command: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  return new Promise<string>((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, env: { ...process.env, ...options.env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const output = `${stdout}\n${stderr}`.trim().split('\n').slice(-15).join('\n');
          reject(new InstallError(`${command} ${args.join(' ')} failed:\n${output}`));
        } else {
          resolve(stdout);
        }
      },
    );
  });
}

/** Installs a piece once per version: the stamp file records what is in place. */
export async function installOnce(stamp: string, version: string, install: () => Promise<void>): Promise<boolean> {
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === version) return false;
  await install();
  writeFileSync(stamp, `${version}\n`);
  return true;
}

let aptUpdated: Promise<string> | undefined;
let aptQueue: Promise<unknown> = Promise.resolve();

/** apt-get holds a lock, so installs run one after another; `update` runs once per stack:up. */
export function aptInstall(packages: string[]): Promise<void> {
  const task = aptQueue.then(async () => {
    if (process.getuid?.() !== 0) {
      throw new InstallError(
        `Debian packages ${packages.join(', ')} are missing and only root can install them: run \`sudo apt-get install ${packages.join(' ')}\` and try again.`,
      );
    }
    const env = { DEBIAN_FRONTEND: 'noninteractive' };
    aptUpdated ??= run('apt-get', ['update', '-qq'], { env });
    await aptUpdated;
    await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { env });
  });
  aptQueue = task.catch(() => undefined);
  return task;
}

/** Resolves a Maven project's runtime dependencies into a folder of jars. */
export async function mavenCopyDependencies(pomDir: string, outputDir: string, properties: Record<string, string> = {}): Promise<void> {
  mkdirSync(outputDir, { recursive: true });
  const defines = Object.entries(properties).map(([key, value]) => `-D${key}=${value}`);
  await run('mvn', ['-q', '-B', 'dependency:copy-dependencies', `-DoutputDirectory=${outputDir}`, '-DincludeScope=runtime', ...defines], {
    cwd: pomDir,
  });
}

/**
 * Builds a Go program from a wrapper module under deploy/local/go/<name>. The wrapper
 * pins the version with a committed go.sum, so the build is reproducible and needs no
 * checksum-database look-ups, and it can carry replace directives (which
 * `go install pkg@version` refuses).
 */
export async function goBuild(wrapperDir: string, pkg: string, output: string, ldflags = ''): Promise<void> {
  mkdirSync(join(output, '..'), { recursive: true });
  await run('go', ['build', '-trimpath', `-ldflags=${ldflags}`, '-o', output, pkg], {
    cwd: wrapperDir,
    env: { GOFLAGS: '-mod=readonly -buildvcs=false', GOTOOLCHAIN: 'local', CGO_ENABLED: '0' },
  });
}
