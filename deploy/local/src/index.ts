export { type Component, components } from './components.ts';
export { repoRoot, stackDir } from './paths.ts';
