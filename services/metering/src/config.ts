// Metering's own variables, validated with the common ones at start: a bad value stops the
// start with a message naming the variable. Custom dimensions (`DIMENSION_<name>`, a family of
// variables) are read by domain/dimensions.ts, with the same kind of message.
import { booleanVar, delayListVar, durationVar, enumVar, intVar, listVar, secretVar, stringVar, urlVar } from '@tickflow/runtime';
import { z } from 'zod';
import { isMonth } from './domain/month.ts';
import { parsePlan } from './domain/plan.ts';

export const meteringConfig = z.object({
  /** Prefix of the topics and the consumer group; tests run several side by side. */
  METERING_INSTANCE: stringVar('metering').refine((v) => /^[A-Za-z0-9._-]+$/.test(v), 'must be a topic-safe name'),
  /** The plans exported, each `service:environment:plan` as the completeness marker names it; required to start (service.ts). */
  METERING_PLANS: listVar('')
    .refine(
      (plans) =>
        plans.every((p) => {
          try {
            parsePlan(p);
            return true;
          } catch {
            return false;
          }
        }),
      'must be a comma-separated list of service:environment:plan (letters, digits, . _ -)',
    )
    .refine((plans) => new Set(plans).size === plans.length, 'must not repeat a plan')
    .transform((plans) => plans.map(parsePlan)),
  /** The bucket holding `omnistrate-metering/…`. */
  METERING_S3_BUCKET: stringVar('tickflow-metering').refine(
    (v) => /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(v),
    'must be an S3 bucket name',
  ),
  /** Where a plan's first run begins (YYYY-MM); two months back unless given. */
  METERING_START_MONTH: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? null : v.trim()))
    .refine((v) => v === null || isMonth(v), 'must be a month as YYYY-MM'),
  METERING_MAX_MONTHS_PER_RUN: intVar(12, 1, 120),
  METERING_TRUNCATE_EACH_RECORD: booleanVar(false),
  METERING_DRY_RUN: booleanVar(false),
  /** The seed's backoff: 2^attempt seconds, five retries. */
  METERING_RETRY_TIERS: delayListVar('2s,4s,8s,16s,32s'),
  /** Retries of a send that failed for a passing reason (5xx, 429, network), and re-sends of a contract Clazar refused. */
  METERING_MAX_RETRIES: intVar(5, 0, 100),
  /** Partitions of metering's topics; as many contract-months are sent at once (one per partition). */
  METERING_PARTITIONS: intVar(16, 1, 256),
  METERING_DB_SCHEMA: stringVar('metering').refine((v) => /^[a-z_][a-z0-9_]{0,62}$/.test(v), 'must be a lower-case SQL name'),
  METERING_API_TOKEN: secretVar({ minLength: 16 }),
  CLAZAR_API_URL: urlVar(['http', 'https'], 'https://api.clazar.io'),
  CLAZAR_CLIENT_ID: stringVar(''),
  CLAZAR_CLIENT_SECRET: secretVar({ minLength: 8 }),
  CLAZAR_CLOUD: enumVar(['aws', 'azure', 'gcp'], 'aws'),
  CLAZAR_TIMEOUT: durationVar('30s'),
});

export type MeteringConfig = z.infer<typeof meteringConfig>;
