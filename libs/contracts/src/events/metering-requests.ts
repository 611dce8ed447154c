import { defineEvent } from '../event-contract.ts';

/**
 * Compute one plan's usage of one month from the export and fan it out, one contract-month
 * each. Sent on `metering.requests` by the monthly tick's fan-out and by operators; keyed by the plan.
 */
export interface MeteringPlanMonthRequested {
  /** service:environment:plan */
  plan: string;
  /** YYYY-MM */
  month: string;
}

export const meteringPlanMonthRequested = defineEvent<MeteringPlanMonthRequested>('tickflow.metering.plan-month', {
  type: 'record',
  name: 'MeteringPlanMonthRequested',
  namespace: 'tickflow.metering',
  fields: [
    { name: 'plan', type: 'string', doc: 'service:environment:plan' },
    { name: 'month', type: 'string', doc: 'YYYY-MM' },
  ],
});

/**
 * Send one contract's usage of a month to Clazar, from the bill stored when the month was
 * computed. Keyed by the contract. `sends` is how many requests the contract had had when this
 * message was made: a message whose count is behind the stored one was handled already.
 */
export interface MeteringContractRequested {
  plan: string;
  month: string;
  contractId: string;
  sends: number;
}

export const meteringContractRequested = defineEvent<MeteringContractRequested>('tickflow.metering.contract', {
  type: 'record',
  name: 'MeteringContractRequested',
  namespace: 'tickflow.metering',
  fields: [
    { name: 'plan', type: 'string' },
    { name: 'month', type: 'string' },
    { name: 'contractId', type: 'string' },
    { name: 'sends', type: 'int' },
  ],
});
