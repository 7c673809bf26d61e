import { zonedDateTimeParts } from '../exports/zoned-time';

/**
 * When a schedule runs and which period it sends (docs/profiles.md), on the
 * tenant's wall clock. Pure functions of an instant and a time zone: the
 * runner passes its (injectable) clock.
 *
 * - WEEKLY on `day` 1–7 (1 = Monday): the week Monday–Sunday before the run's.
 * - MONTHLY on `day` 1–28: the calendar month before the run's.
 * - QUARTERLY on `day` 1–28 of a quarter's first month: the quarter before.
 */
export type Cadence = 'WEEKLY' | 'MONTHLY' | 'QUARTERLY';

export interface Period {
  /** First and last calendar day, `yyyy-mm-dd`, inclusive. */
  start: string;
  end: string;
  /** In French: `novembre 2026`, `3e trimestre 2026`, `semaine du 16/11/2026 au 22/11/2026`. */
  label: string;
}

const MONTHS_FR = ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'];
const pad2 = (n: number) => String(n).padStart(2, '0');
const iso = (d: Date) => `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
const frDate = (d: Date) => `${pad2(d.getUTCDate())}/${pad2(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}`;
/** A calendar date as a UTC midnight (arithmetic on days, no zone). */
const day = (y: number, m: number, d: number) => new Date(Date.UTC(y, m - 1, d));

/** The calendar date of an instant on the wall clock of `timeZone`. */
function localDay(at: Date, timeZone: string): Date {
  const p = zonedDateTimeParts(at, timeZone);
  return day(p.year, p.month, p.day);
}

/** The instant the wall clock of `timeZone` shows `y-m-d h:00` (the later one in a DST gap's shift). */
export function zonedInstant(y: number, m: number, d: number, h: number, timeZone: string): Date {
  const target = Date.UTC(y, m - 1, d, h);
  let guess = target;
  for (let i = 0; i < 3; i++) {
    const p = zonedDateTimeParts(new Date(guess), timeZone);
    const shown = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
    if (shown === target) break;
    guess += target - shown;
  }
  return new Date(guess);
}

/** Monday of the week holding `d`. */
const mondayOf = (d: Date) => new Date(d.getTime() - ((d.getUTCDay() + 6) % 7) * 86_400_000);

/** The period a run on (or at) `at` sends: the one ended last before the local day of `at`. */
export function periodBefore(cadence: Cadence, at: Date, timeZone: string): Period {
  const today = localDay(at, timeZone);
  const y = today.getUTCFullYear();
  const m = today.getUTCMonth() + 1;
  switch (cadence) {
    case 'WEEKLY': {
      const end = new Date(mondayOf(today).getTime() - 86_400_000);
      const start = new Date(end.getTime() - 6 * 86_400_000);
      return { start: iso(start), end: iso(end), label: `semaine du ${frDate(start)} au ${frDate(end)}` };
    }
    case 'MONTHLY': {
      const start = day(y, m - 1, 1);
      const end = day(y, m, 0);
      return { start: iso(start), end: iso(end), label: `${MONTHS_FR[start.getUTCMonth()]} ${start.getUTCFullYear()}` };
    }
    case 'QUARTERLY': {
      const firstMonth = Math.floor((m - 1) / 3) * 3 + 1;
      const start = day(y, firstMonth - 3, 1);
      const end = day(y, firstMonth, 0);
      const q = Math.floor(start.getUTCMonth() / 3) + 1;
      return { start: iso(start), end: iso(end), label: `${q === 1 ? '1er' : `${q}e`} trimestre ${start.getUTCFullYear()}` };
    }
  }
}

/** The first run strictly after `after`: `day` at `hour` on the tenant's wall clock. */
export function nextRunAfter(cadence: Cadence, dayOf: number, hour: number, timeZone: string, after: Date): Date {
  const today = localDay(after, timeZone);
  const y = today.getUTCFullYear();
  const m = today.getUTCMonth() + 1;
  for (let k = 0; k < 3; k++) {
    let d: Date;
    if (cadence === 'WEEKLY') d = new Date(mondayOf(today).getTime() + ((dayOf - 1) + 7 * k) * 86_400_000);
    else if (cadence === 'MONTHLY') d = day(y, m + k, dayOf);
    else d = day(y, Math.floor((m - 1) / 3) * 3 + 1 + 3 * k, dayOf);
    const at = zonedInstant(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), hour, timeZone);
    if (at.getTime() > after.getTime()) return at;
  }
  throw new Error(`No run of a ${cadence} schedule after ${after.toISOString()}`);
}
