// Payload templates: a schedule's key and payload values may name values of the firing,
// computed in the schedule's own time zone ("yesterday" in Paris is not yesterday in UTC).

export const TEMPLATE_VALUES = ['schedule', 'scheduledTime', 'date', 'yesterday', 'month', 'previousMonth'] as const;
export type TemplateValue = (typeof TEMPLATE_VALUES)[number];

const PLACEHOLDER = /\{\{\s*([A-Za-z]+)\s*\}\}/g;

/** The placeholders in `text` that are not template values. */
export function unknownPlaceholders(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string).filter((name) => !TEMPLATE_VALUES.includes(name as TemplateValue));
}

export function templateValues(schedule: string, scheduledTime: Date, timeZone: string): Record<TemplateValue, string> {
  const [year, month, day] = localDate(scheduledTime, timeZone);
  const shift = (days: number) => new Date(Date.UTC(year, month - 1, day + days));
  const isoDate = (d: Date) => d.toISOString().slice(0, 10);
  const previousMonth = new Date(Date.UTC(year, month - 2, 1));
  return {
    schedule,
    scheduledTime: scheduledTime.toISOString(),
    date: isoDate(shift(0)),
    yesterday: isoDate(shift(-1)),
    month: isoDate(shift(0)).slice(0, 7),
    previousMonth: isoDate(previousMonth).slice(0, 7),
  };
}

export function render(text: string, values: Record<TemplateValue, string>): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => values[name as TemplateValue] ?? whole);
}

function localDate(at: Date, timeZone: string): [number, number, number] {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(at);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return [part('year'), part('month'), part('day')];
}
