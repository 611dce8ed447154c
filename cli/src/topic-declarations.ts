// Finds each service's topic declaration: `services/<name>/src/topics.ts` exporting
// `topicSpecs(): TopicSpec[]`, the same declaration the service provisions from at start.
import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CommandError } from './cli-errors.ts';
import type { TopicDeclaration } from './topic-report.ts';

export const servicesDirectory = fileURLToPath(new URL('../../services/', import.meta.url));

export async function discoverTopicDeclarations(servicesDir: string = servicesDirectory): Promise<TopicDeclaration[]> {
  let entries: string[];
  try {
    entries = (await readdir(servicesDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch (error) {
    throw new CommandError(`cannot read the services directory ${servicesDir}: ${error instanceof Error ? error.message : error}`);
  }
  const declarations: TopicDeclaration[] = [];
  for (const service of entries.sort()) {
    const file = join(servicesDir, service, 'src', 'topics.ts');
    if (!(await exists(file))) continue;
    let module: Record<string, unknown>;
    try {
      module = await import(pathToFileURL(file).href);
    } catch (error) {
      throw new CommandError(`cannot load ${file}: ${error instanceof Error ? error.message : error}`);
    }
    if (typeof module.topicSpecs !== 'function') throw new CommandError(`${file} does not export a function topicSpecs()`);
    declarations.push({ service, specs: await module.topicSpecs() });
  }
  return declarations;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
