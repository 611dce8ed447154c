import { type AvroRecordSchema, defineEvent } from '../event-contract.ts';

/** A dimension Clazar accepted (or had accepted before: a duplicate), with its result id. */
export interface MeteredDimension {
  dimension: string;
  quantity: string;
  resultId: string | null;
  /** Clazar reported it as already recorded (a re-send after a crash). */
  duplicate: boolean;
}

/** A dimension Clazar took without error but not as "success", e.g. not registered for the listing: recorded, not retried. */
export interface MeteringWarning {
  dimension: string;
  status: string;
  message: string | null;
}

const meteredDimension: AvroRecordSchema = {
  type: 'record',
  name: 'MeteredDimension',
  fields: [
    { name: 'dimension', type: 'string' },
    { name: 'quantity', type: 'string' },
    { name: 'resultId', type: ['null', 'string'], default: null },
    { name: 'duplicate', type: 'boolean' },
  ],
};

const meteringWarning: AvroRecordSchema = {
  type: 'record',
  name: 'MeteringWarning',
  fields: [
    { name: 'dimension', type: 'string' },
    { name: 'status', type: 'string' },
    { name: 'message', type: ['null', 'string'], default: null },
  ],
};

/** A contract's usage of a month is at Clazar; on `metering.events`, keyed by the contract. */
export interface MeteringContractSent {
  plan: string;
  month: string;
  contractId: string;
  dimensions: MeteredDimension[];
  warnings: MeteringWarning[];
  /** Re-sends after an error before this one. */
  retryCount: number;
}

export const meteringContractSent = defineEvent<MeteringContractSent>('tickflow.metering.contract.sent', {
  type: 'record',
  name: 'MeteringContractSent',
  namespace: 'tickflow.metering',
  fields: [
    { name: 'plan', type: 'string' },
    { name: 'month', type: 'string' },
    { name: 'contractId', type: 'string' },
    { name: 'dimensions', type: { type: 'array', items: meteredDimension } },
    { name: 'warnings', type: { type: 'array', items: meteringWarning } },
    { name: 'retryCount', type: 'int' },
  ],
});

/**
 * Clazar refused some or all of a contract's usage of a month (the lines it refused are kept,
 * to be re-sent), or a send failed and will be retried; on `metering.events`.
 */
export interface MeteringContractFailed {
  plan: string;
  month: string;
  contractId: string;
  /** Clazar's error code, or `HTTP_<status>`, `NETWORK`, `TIMEOUT`. */
  code: string;
  message: string;
  /** Every error Clazar listed, `dimension: code: message`. */
  errors: string[];
  /** Dimensions accepted in the same request despite the error. */
  dimensions: MeteredDimension[];
  retryCount: number;
  /** True when the contract now waits in error for the next run or an operator; false when the tiers retry it. */
  final: boolean;
}

export const meteringContractFailed = defineEvent<MeteringContractFailed>('tickflow.metering.contract.failed', {
  type: 'record',
  name: 'MeteringContractFailed',
  namespace: 'tickflow.metering',
  fields: [
    { name: 'plan', type: 'string' },
    { name: 'month', type: 'string' },
    { name: 'contractId', type: 'string' },
    { name: 'code', type: 'string' },
    { name: 'message', type: 'string' },
    { name: 'errors', type: { type: 'array', items: 'string' } },
    { name: 'dimensions', type: { type: 'array', items: meteredDimension } },
    { name: 'retryCount', type: 'int' },
    { name: 'final', type: 'boolean' },
  ],
});

/** Every contract of a plan-month has an outcome; on `metering.events`, keyed by the plan. */
export interface MeteringMonthCompleted {
  plan: string;
  month: string;
  contracts: number;
  sent: number;
  failed: number;
  /** Contracts a formula could not be computed for (division by zero, a negative result). */
  skipped: number;
  warnings: number;
  files: number;
  recordsRead: number;
  /** Records without a payer or dimension, or with values that are not numbers. */
  recordsSkipped: number;
  /** From the month's computation to its last contract's outcome. */
  durationMs: number;
  dryRun: boolean;
}

export const meteringMonthCompleted = defineEvent<MeteringMonthCompleted>('tickflow.metering.month.completed', {
  type: 'record',
  name: 'MeteringMonthCompleted',
  namespace: 'tickflow.metering',
  fields: [
    { name: 'plan', type: 'string' },
    { name: 'month', type: 'string' },
    { name: 'contracts', type: 'int' },
    { name: 'sent', type: 'int' },
    { name: 'failed', type: 'int' },
    { name: 'skipped', type: 'int' },
    { name: 'warnings', type: 'int' },
    { name: 'files', type: 'int' },
    { name: 'recordsRead', type: 'long' },
    { name: 'recordsSkipped', type: 'long' },
    { name: 'durationMs', type: 'long' },
    { name: 'dryRun', type: 'boolean' },
  ],
});
