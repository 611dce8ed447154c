// One round of the router benchmark's throughput, in a process of its own:
//   router-throughput.ts <topic> <messages>
// reads `messages` records of `topic` from the start as a new consumer group, through the
// router with a no-op handler, and prints messages per second.
import { uniqueName } from '@tickflow/testing';
import { benchRouter } from './bench-router.ts';

const [topic, count] = process.argv.slice(2);
const messages = Number(count);
if (!topic || !Number.isInteger(messages) || messages <= 0) {
  throw new Error('usage: router-throughput.ts <topic> <messages>');
}

let handled = 0;
let first = 0;
let last = 0;
let done: () => void = () => undefined;
const finished = new Promise<void>((resolve) => {
  done = resolve;
});
const { router, transport } = benchRouter(uniqueName('bench'), topic, () => {
  if (handled === 0) first = performance.now();
  handled += 1;
  if (handled === messages) {
    last = performance.now();
    done();
  }
});
await router.start();
await finished;
await router.stop();
await transport.close();
console.log(messages / ((last - first) / 1000));
