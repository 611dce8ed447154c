export { eventually, stack, uniqueName } from './stack.ts';
