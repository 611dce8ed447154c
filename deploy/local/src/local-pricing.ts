// What `npm start` gives pricing so a newcomer can try it without reaching AWS: the AWS price
// list stand-in (libs/testing) unless PRICING_AWS_BASE_URL is set. Whatever is set in the
// environment wins.
import { join } from 'node:path';
import { repoRoot } from './paths.ts';

export const AWS_PRICE_LIST_STAND_IN_PORT = 7102;
export const awsPriceListStandInScript = join(repoRoot, 'libs', 'testing', 'src', 'aws-price-list-stand-in-main.ts');

export function prepareLocalPricing(env: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv; standIn: boolean } {
  if (env.PRICING_AWS_BASE_URL) return { env, standIn: false };
  return {
    env: {
      ...env,
      PRICING_AWS_BASE_URL: `http://127.0.0.1:${AWS_PRICE_LIST_STAND_IN_PORT}`,
      AWS_PRICE_LIST_STAND_IN_PORT: String(AWS_PRICE_LIST_STAND_IN_PORT),
    },
    standIn: true,
  };
}
