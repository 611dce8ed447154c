// npm start: brings the stack up, then runs every service that exists, each line of
// output prefixed with the service's name. Ctrl-C stops the services; the stack keeps
// running until `npm run stack:down`.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ensureLocalApiToken } from '@tickflow/runtime';
import { InstallError } from './installers.ts';
import { clazarStandInScript, prepareLocalMetering } from './local-metering.ts';
import { prepareLocalPricing } from './local-pricing.ts';
import { serviceNodeFlags } from './node-flags.ts';
import { repoRoot } from './paths.ts';
import { StackError, status, up } from './stack.ts';

const servicesDir = join(repoRoot, 'services');

/** A service exists once it has an entry point; until then its package is a placeholder. */
function existingServices(): string[] {
  return readdirSync(servicesDir)
    .filter((name) => existsSync(join(servicesDir, name, 'src', 'main.ts')))
    .sort();
}

/**
 * What a local run sets for every service: the local environment (development credentials
 * allowed) and one random API token for all of them, kept in .stack/ for the CLI. A token
 * set in the environment wins.
 */
function localEnv(token: string): NodeJS.ProcessEnv {
  const tokens = Object.fromEntries(
    ['SCHEDULER', 'METERING', 'AGGREGATOR', 'PRICING', 'POD_RETRY', 'REPORTING'].map((s) => [
      `${s}_API_TOKEN`,
      process.env[`${s}_API_TOKEN`] || token,
    ]),
  );
  return { ...process.env, TICKFLOW_ENV: 'local', ...tokens };
}

function run(name: string, script: string, width: number, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, [...serviceNodeFlags(name), '--import', 'tsx', script], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = `${name.padEnd(width)} |`;
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream }).on('line', (line) => console.log(`${prefix} ${line}`));
  }
  child.on('exit', (code, signal) => console.log(`${prefix} exited (${signal ?? `code ${code}`})`));
  return child;
}

async function main(): Promise<number> {
  await up((line) => console.log(`stack | ${line}`));
  for (const s of await status()) console.log(`stack | ${s.component.name}: ${s.component.endpoint}`);

  const services = existingServices();
  if (services.length === 0) {
    console.log('No service has been built yet; the stack is up and stays up (`npm run stack:down` stops it).');
    return 0;
  }
  const token = ensureLocalApiToken();
  let env = localEnv(token);
  const processes = services.map((name) => ({ name, script: join(servicesDir, name, 'src', 'main.ts') }));
  if (services.includes('metering')) {
    const metering = await prepareLocalMetering(env, token);
    env = metering.env;
    if (metering.standIn) {
      processes.unshift({ name: 'clazar', script: clazarStandInScript });
      console.log(`stack | metering sends to the Clazar stand-in at ${env.CLAZAR_API_URL} (set CLAZAR_API_URL for a real one)`);
    }
  }
  if (services.includes('pricing')) {
    const pricing = prepareLocalPricing(env);
    env = pricing.env;
    for (const standIn of pricing.standIns) {
      processes.unshift({ name: standIn.name, script: standIn.script });
      console.log(`stack | ${standIn.note}`);
    }
  }
  const width = Math.max(...processes.map((p) => p.name.length));
  console.log('stack | services run with TICKFLOW_ENV=local and the API token in .stack/api-token (the CLI reads it there)');
  const children = processes.map((p) => run(p.name, p.script, width, env));
  const stop = () => {
    for (const child of children) child.kill('SIGTERM');
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const codes = await Promise.all(
    children.map((child) => new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 0)))),
  );
  return codes.every((code) => code === 0) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof StackError || error instanceof InstallError ? `stack: ${error.message}` : error);
    process.exit(1);
  },
);
