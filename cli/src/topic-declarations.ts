// Finds each service's topics through its definition: `services/<name>/src/service.ts`
// exporting `service`, the same definition the service starts from, so the CLI provisions
// exactly what the service would at start (its configuration read from the same environment).
import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CommandError } from './cli-errors.ts';
import type { TopicDeclaration } from './topic-report.ts';

export const servicesDirectory = fileURLToPath(new URL('../../services/', import.meta.url));

export async function discoverTopicDeclarations(
  servicesDir: string = servicesDirectory,
  env: Record<string, string | undefined> = process.env,
): Promise<TopicDeclaration[]> {
  let entries: string[];
  try {
    entries = (await readdir(servicesDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch (error) {
    throw new CommandError(`cannot read the services directory ${servicesDir}: ${error instanceof Error ? error.message : error}`);
  }
  const { topicSpecsOf } = await import('@tickflow/messaging');
  const declarations: TopicDeclaration[] = [];
  for (const service of entries.sort()) {
    const file = join(servicesDir, service, 'src', 'service.ts');
    if (!(await exists(file))) continue;
    const module = await load(file);
    const definition = module.service as Parameters<typeof topicSpecsOf>[0] | undefined;
    if (typeof definition?.topics !== 'function') throw new CommandError(`${file} does not export a service definition named service`);
    declarations.push({ service, specs: topicSpecsOf(definition, env) });
  }
  return declarations;
}

async function load(file: string): Promise<Record<string, unknown>> {
  try {
    return await import(pathToFileURL(file).href);
  } catch (error) {
    throw new CommandError(`cannot load ${file}: ${error instanceof Error ? error.message : error}`);
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
