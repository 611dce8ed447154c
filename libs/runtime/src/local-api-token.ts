// The API token of a local run. `npm start` makes one at random and keeps it in the stack's
// directory, where the CLI finds it: a newcomer's `npx tickflow trigger …` works without
// setting anything, and no fixed token is ever shipped that a deployment could keep by mistake.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerSecret } from './redaction.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Where the local token lives: `.stack/api-token` (TICKFLOW_STACK_DIR moves the stack's directory). */
export function localApiTokenFile(env: Record<string, string | undefined> = process.env): string {
  return join(env.TICKFLOW_STACK_DIR ?? join(repoRoot, '.stack'), 'api-token');
}

/** The local token, or undefined when `npm start` has not made one. */
export function readLocalApiToken(env: Record<string, string | undefined> = process.env): string | undefined {
  try {
    const token = readFileSync(localApiTokenFile(env), 'utf8').trim();
    registerSecret(token);
    return token === '' ? undefined : token;
  } catch {
    return undefined;
  }
}

/** The local token, made (readable by its owner only) if there is none yet. */
export function ensureLocalApiToken(env: Record<string, string | undefined> = process.env): string {
  const existing = readLocalApiToken(env);
  if (existing) return existing;
  const file = localApiTokenFile(env);
  mkdirSync(dirname(file), { recursive: true });
  const token = randomBytes(24).toString('hex');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  registerSecret(token);
  return token;
}
