export { type Component, components } from './components.ts';
export { SERVICE_NODE_FLAGS, serviceNodeFlags } from './node-flags.ts';
export { repoRoot, stackDir } from './paths.ts';
