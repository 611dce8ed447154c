export { eventually, stack, uniqueName } from './stack.ts';
export { type ReadRecord, readRecords } from './topic-reader.ts';
