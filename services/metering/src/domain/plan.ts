// A plan is what one export folder holds: `service:environment:plan`, as the completeness
// marker names it; its usage of a month is under `omnistrate-metering/{service}/{environment}/{plan}/{YYYY}/{MM}/`.
import type { Month } from './month.ts';

export interface Plan {
  service: string;
  environment: string;
  planId: string;
  /** `service:environment:plan`, the marker's key and the plan's name everywhere in tickflow. */
  id: string;
}

const SEGMENT = /^[A-Za-z0-9._-]{1,128}$/;

export const EXPORT_ROOT = 'omnistrate-metering';
export const COMPLETENESS_MARKER = `${EXPORT_ROOT}/last_success_export.json`;

/** Reads `service:environment:plan`; throws a RangeError saying what is wrong. */
export function parsePlan(text: string): Plan {
  const segments = text.split(':');
  if (segments.length !== 3) throw new RangeError(`'${text}' is not service:environment:plan`);
  const [service, environment, planId] = segments as [string, string, string];
  for (const [name, value] of [
    ['service', service],
    ['environment', environment],
    ['plan', planId],
  ] as const) {
    if (!SEGMENT.test(value) || value === '.' || value === '..') {
      throw new RangeError(`'${text}': the ${name} must be 1 to 128 letters, digits, . _ or -`);
    }
  }
  return { service, environment, planId, id: text };
}

/** The prefix of the plan's objects for the month; its trailing slash keeps plan-10 out of plan-1. */
export function exportPrefix(plan: Plan, month: Month): string {
  const [year, mm] = month.split('-');
  return `${EXPORT_ROOT}/${plan.service}/${plan.environment}/${plan.planId}/${year}/${mm}/`;
}
