// What `npm start` gives metering so a newcomer can try it without a Clazar account or any
// setting: the Clazar stand-in (libs/testing) unless CLAZAR_API_URL is set, a demo plan and
// its dimensions unless METERING_PLANS is set, and the export bucket in the local S3. Whatever
// is set in the environment wins.
import { join } from 'node:path';
import { BucketAlreadyOwnedByYou, CreateBucketCommand } from '@aws-sdk/client-s3';
import { createS3Client, loadInfrastructure } from '@tickflow/runtime';
import { repoRoot } from './paths.ts';

export const CLAZAR_STAND_IN_PORT = 7101;
export const clazarStandInScript = join(repoRoot, 'libs', 'testing', 'src', 'clazar-stand-in-main.ts');

/** The demo plan's dimensions: the four base dimensions, bytes as GiB. */
const DEMO_DIMENSIONS = {
  DIMENSION_cpu_core_hours: 'cpu_core_hours',
  DIMENSION_memory_gib_hours: 'memory_byte_hours / 1073741824',
  DIMENSION_storage_gib_hours: 'storage_allocated_byte_hours / 1073741824',
  DIMENSION_replica_hours: 'replica_hours',
};

export interface LocalMetering {
  env: NodeJS.ProcessEnv;
  /** Whether metering sends to the stand-in, which `npm start` then runs. */
  standIn: boolean;
}

export async function prepareLocalMetering(env: NodeJS.ProcessEnv, clazarSecret: string): Promise<LocalMetering> {
  const local: NodeJS.ProcessEnv = { ...env };
  if (!env.METERING_PLANS) {
    local.METERING_PLANS = 'demo:local:plan-1';
    const hasDimensions = Object.keys(env).some((name) => /^DIMENSION(_|\d+_NAME$)/.test(name));
    if (!hasDimensions) Object.assign(local, DEMO_DIMENSIONS);
  }
  const standIn = !env.CLAZAR_API_URL;
  if (standIn) {
    local.CLAZAR_API_URL = `http://127.0.0.1:${CLAZAR_STAND_IN_PORT}`;
    local.CLAZAR_CLIENT_ID = 'tickflow-local';
    local.CLAZAR_CLIENT_SECRET = clazarSecret;
    local.CLAZAR_STAND_IN_PORT = String(CLAZAR_STAND_IN_PORT);
  }
  const s3 = createS3Client(loadInfrastructure(local).s3);
  try {
    await s3.send(new CreateBucketCommand({ Bucket: local.METERING_S3_BUCKET || 'tickflow-metering' }));
  } catch (error) {
    if (!(error instanceof BucketAlreadyOwnedByYou)) throw error;
  } finally {
    s3.destroy();
  }
  return { env: local, standIn };
}
