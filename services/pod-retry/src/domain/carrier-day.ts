// A carrier's day, for its daily quota: carriers count calls per calendar day where they are
// (Chronopost and La Poste in Paris, DHL's API in Bonn), so the day a call counts against,
// and when the count starts again, are reckoned in the carrier's time zone, daylight saving
// included. Pure: an instant and a zone in, a day or an instant out.

/** The carrier's calendar day at `now`: `2026-03-29`. */
export function carrierDay(now: Date, timeZone: string): string {
  const { year, month, day } = partsAt(now, timeZone);
  return `${year}-${pad(month)}-${pad(day)}`;
}

/** When the carrier's next day begins after `now` (its local midnight), as an instant. */
export function nextCarrierDay(now: Date, timeZone: string): Date {
  const { year, month, day } = partsAt(now, timeZone);
  // Tomorrow's date, then the instant whose local time there is 00:00 (found from the zone's
  // offset, checked once more since the offset may change that night).
  const tomorrow = new Date(Date.UTC(year, month - 1, day + 1));
  const localMidnight = Date.UTC(tomorrow.getUTCFullYear(), tomorrow.getUTCMonth(), tomorrow.getUTCDate());
  let instant = localMidnight - offsetMs(new Date(localMidnight), timeZone);
  instant = localMidnight - offsetMs(new Date(instant), timeZone);
  return new Date(instant);
}

/** Throws naming the zone when it is not one the runtime knows. */
export function checkTimeZone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new RangeError(`'${timeZone}' is not an IANA time zone such as Europe/Paris`);
  }
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formats = new Map<string, Intl.DateTimeFormat>();

function partsAt(instant: Date, timeZone: string): LocalParts {
  let format = formats.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(instant).map((p) => [p.type, p.value]));
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

/** How far the zone's clock is ahead of UTC at `instant`. */
function offsetMs(instant: Date, timeZone: string): number {
  const p = partsAt(instant, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(instant.getTime() / 1000) * 1000;
}

const pad = (n: number) => String(n).padStart(2, '0');
