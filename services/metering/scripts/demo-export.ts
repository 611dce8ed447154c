// `npm run demo-export -w services/metering [-- <YYYY-MM> [contracts] [plan]]`: puts a month of
// usage (last month, 3 contracts, the demo plan `npm start` runs unless told otherwise) into
// the local S3, marked complete, so `tickflow trigger metering-monthly` sends it to Clazar.
import { createS3Client, loadInfrastructure } from '@tickflow/runtime';
import { addMonths, isMonth, monthOf } from '../src/domain/month.ts';
import { parsePlan } from '../src/domain/plan.ts';
import { writeMonthExport } from './export-writer.ts';

const [monthArg, contractsArg, planArg] = process.argv.slice(2);
const month = monthArg ?? addMonths(monthOf(new Date()), -1);
const contracts = Number(contractsArg ?? 3);
const bucket = process.env.METERING_S3_BUCKET || 'tickflow-metering';
try {
  if (!isMonth(month)) throw new RangeError(`month '${month}' is not YYYY-MM`);
  if (!Number.isInteger(contracts) || contracts < 1 || contracts > 100_000)
    throw new RangeError(`contracts '${contractsArg}' is not 1 to 100000`);
  const plan = parsePlan(planArg ?? process.env.METERING_PLANS?.split(',')[0]?.trim() ?? 'demo:local:plan-1');
  const s3 = createS3Client(loadInfrastructure({ TICKFLOW_ENV: 'local', ...process.env }).s3);
  const written = await writeMonthExport(s3, bucket, plan, month, { contracts });
  console.log(
    `wrote ${written.files} hourly files, ${written.records} records, for ${contracts} contracts of ${plan.id} in ${month} to s3://${bucket}, marked complete`,
  );
  console.log('next: npx tickflow trigger metering-monthly, then npx tickflow metering status', month);
} catch (error) {
  console.error(`demo-export: ${(error as Error).message}`);
  process.exit(1);
}
