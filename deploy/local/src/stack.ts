// stack:up, stack:down and stack:status over the declaration in components.ts.
import { join } from 'node:path';
import { type Component, components } from './components.ts';
import { stackDir } from './paths.ts';
import { isListening, portHolder } from './ports.ts';
import { type Launched, launchDetached, runningPid, sleep, stopProcess, tailOfLog } from './processes.ts';

export class StackError extends Error {
  override name = 'StackError';
}

export interface ComponentStatus {
  component: Component;
  up: boolean;
  version?: string;
  /** Set when this stack started the process. */
  pid?: number;
}

type Log = (line: string) => void;

const componentDir = (component: Component) => join(stackDir, component.name);

async function probe(component: Component): Promise<string | undefined> {
  try {
    return await component.probe();
  } catch {
    return undefined;
  }
}

export async function status(): Promise<ComponentStatus[]> {
  return Promise.all(
    components.map(async (component) => {
      const version = await probe(component);
      const pid = runningPid(componentDir(component));
      return { component, up: version !== undefined, ...(version ? { version } : {}), ...(pid ? { pid } : {}) };
    }),
  );
}

export async function up(log: Log): Promise<void> {
  const started = Date.now();
  const initial = await status();
  const down = initial.filter((s) => !s.up).map((s) => s.component);
  for (const s of initial.filter((s) => s.up)) {
    log(`${s.component.name}: already up (${s.version}), reused`);
  }
  if (down.length === 0) return;

  await refuseTakenPorts(down);

  await Promise.all(
    down.map(async (component) => {
      const t = Date.now();
      await component.install();
      const seconds = (Date.now() - t) / 1000;
      if (seconds > 1) log(`${component.name}: installed in ${seconds.toFixed(1)}s`);
    }),
  );

  const ready = new Set(initial.filter((s) => s.up).map((s) => s.component.name));
  const pending = new Set(down);
  while (pending.size > 0) {
    const wave = [...pending].filter((c) => c.dependsOn.every((d) => ready.has(d)));
    if (wave.length === 0) {
      throw new StackError(`cannot start ${[...pending].map((c) => c.name).join(', ')}: dependencies never came up`);
    }
    await Promise.all(
      wave.map(async (component) => {
        await startComponent(component, log);
        ready.add(component.name);
        pending.delete(component);
      }),
    );
  }
  // Databases and the like may be missing even on a component that was already up.
  for (const s of initial.filter((s) => s.up)) await s.component.provision?.();
  log(`stack up in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

/** A port answered by something that is not the component is never shared or fought over. */
async function refuseTakenPorts(down: Component[]): Promise<void> {
  const problems: string[] = [];
  for (const component of down) {
    if (runningPid(componentDir(component)) !== undefined) continue; // ours, still starting
    for (const port of component.ports) {
      if (await isListening(port)) {
        problems.push(`port ${port} (${component.name}) is held by ${portHolder(port)}, which does not answer as ${component.product}`);
      }
    }
  }
  if (problems.length > 0) {
    throw new StackError(
      `${problems.join('\n')}\nStop that program, or point tickflow at existing infrastructure with the variables in the README.`,
    );
  }
}

/** Starts one component (its dependencies up already) unless it runs; exported for its tests. */
export async function startComponent(component: Component, log: Log): Promise<void> {
  const dir = componentDir(component);
  const t = Date.now();
  let pid = runningPid(dir);
  let version: string;
  if (pid === undefined) {
    // Installs can take minutes: something may have taken the ports, or brought the
    // component up, since stack:up first looked.
    const already = await probe(component);
    if (already !== undefined) {
      log(`${component.name}: came up meanwhile (${already}), reused`);
      await component.provision?.();
      return;
    }
    await refuseTakenPorts([component]);
    await component.prepare?.();
    ({ pid, version } = await launchUntilAnswering(component, log));
  } else {
    version = await awaitAnswer(component, undefined);
  }
  await component.provision?.();
  log(`${component.name}: started (${version}, pid ${pid}) in ${((Date.now() - t) / 1000).toFixed(1)}s`);
}

/**
 * Launches the component and waits for it to answer. A process that dies during start is
 * launched once more: on a busy two-core machine a server has been seen to die silently at
 * its first start and come up at the next; a second death is an error.
 */
async function launchUntilAnswering(component: Component, log: Log): Promise<{ pid: number; version: string }> {
  const dir = componentDir(component);
  for (let attempt = 1; ; attempt += 1) {
    const launched = launchDetached(dir, component.launch());
    try {
      return { pid: launched.pid, version: await awaitAnswer(component, launched) };
    } catch (error) {
      if (!(error instanceof ExitedDuringStart) || attempt === 2) throw error;
      log(`${error.message}\n${component.name}: launching it once more`);
    }
  }
}

class ExitedDuringStart extends StackError {}

/** Resolves with the version the component reports once it answers. */
async function awaitAnswer(component: Component, launched: Launched | undefined): Promise<string> {
  const dir = componentDir(component);
  const log = join(dir, 'output.log');
  const deadline = Date.now() + component.startTimeoutSeconds * 1000;
  while (true) {
    if (runningPid(dir) === undefined) {
      await sleep(100); // lets the exit event arrive
      const how = launched?.exit();
      throw new ExitedDuringStart(`${component.name} exited during start${how ? ` (${how})` : ''}; the end of ${log}:\n${tailOfLog(dir)}`);
    }
    if (Date.now() > deadline) {
      throw new StackError(
        `${component.name} did not answer within ${component.startTimeoutSeconds}s; the end of ${log}:\n${tailOfLog(dir)}`,
      );
    }
    await sleep(250);
    const version = await probe(component);
    if (version !== undefined) return version;
  }
}

export async function down(log: Log): Promise<void> {
  // Reverse declaration order would stop Kafka last; dependents go before what they need.
  const order = [...components].sort((a, b) => Number(a.dependsOn.length === 0) - Number(b.dependsOn.length === 0));
  for (const component of order) {
    const outcome = await stopProcess(componentDir(component), 30_000);
    if (outcome !== 'not running') log(`${component.name}: ${outcome}`);
  }
}
