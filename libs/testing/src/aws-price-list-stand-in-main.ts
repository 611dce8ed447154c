// The AWS price list stand-in as a process, for `npm start`: pricing syncs from it when no
// PRICING_AWS_BASE_URL is set, so a newcomer sees a catalogue fill without reaching AWS. Not
// AWS: three regions of generated offer files, each a few megabytes, a new version of each
// every day (the day's date), so a daily sync finds something to do.
import { startAwsPriceListStandIn } from './aws-price-list-stand-in.ts';

const port = Number(process.env.AWS_PRICE_LIST_STAND_IN_PORT ?? 7102);
const today = new Date().toISOString().slice(0, 10).replaceAll('-', '');
const version = `${today}000000`;
const regions = ['us-east-1', 'us-west-2', 'eu-west-1'];

const standIn = await startAwsPriceListStandIn({ port, regions: Object.fromEntries(regions.map((r) => [r, { version }])) });
console.log(`AWS price list stand-in listening on ${standIn.url} (${regions.join(', ')} at version ${version})`);
const stop = () => {
  standIn.close().finally(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
