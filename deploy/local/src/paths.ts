import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** deploy/local */
export const deployDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = resolve(deployDir, '..', '..');
/** Everything the stack downloads, builds and stores: git-ignored, removable at will. */
export const stackDir = process.env.TICKFLOW_STACK_DIR ?? join(repoRoot, '.stack');
