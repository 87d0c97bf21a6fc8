// An independent judge of "finished", written from AWS's documentation rather than from
// src/schedule/decide.ts, and deliberately conservative: whatever it is unsure of is not finished.
//
// A one-time schedule at(wall) in zone Z may still be delivering until
//   latest instant the wall time can mean in Z (the later reading at a DST overlap or gap)
//   + 60 s (Scheduler invokes within the minute: "a schedule set for 1:00 runs between 1:00:00 and 1:00:59")
//   + the flexible window (MaximumWindowInMinutes)
//   + MaximumEventAgeInSeconds (86400 when unset: the default RetryPolicy)
//   + the sweeper's grace.
// A DISABLED one never fires: past that point it is finished unless disabled schedules are kept.
// rate() and cron() are never finished (an EndDate is not the sweeper's business). A zone the
// runtime's Intl cannot resolve, or an expression this oracle cannot read, is never finished.

export interface OracleOptions {
  graceMinutes: number;
  keepDisabled: boolean;
}

/** GetSchedule's answer as the emulator records it (Dates, or ISO strings after JSON). */
export interface RecordedDefinition {
  ScheduleExpression?: string;
  ScheduleExpressionTimezone?: string;
  State?: string;
  FlexibleTimeWindow?: { Mode?: string; MaximumWindowInMinutes?: number };
  Target?: { RetryPolicy?: { MaximumEventAgeInSeconds?: number } };
}

const AT = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/;

/** The instant from which the schedule is finished, or undefined when it never is (as far as we can tell). */
export function oracleFinishedAt(definition: RecordedDefinition, options: OracleOptions): number | undefined {
  const match = AT.exec(definition.ScheduleExpression ?? '');
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const zone = definition.ScheduleExpressionTimezone ?? 'UTC';
  const latest = latestInstant(zone, Date.UTC(year, month - 1, day, hour, minute, second));
  if (latest === undefined) return undefined;
  const window =
    definition.FlexibleTimeWindow?.Mode === 'FLEXIBLE'
      ? definition.FlexibleTimeWindow.MaximumWindowInMinutes
      : 0;
  if (window === undefined) return undefined;
  const eventAge = definition.Target?.RetryPolicy?.MaximumEventAgeInSeconds ?? 86_400;
  return latest + 60_000 + window * 60_000 + eventAge * 1000 + options.graceMinutes * 60_000;
}

/** Whether a sweeper may delete this definition at `at` (ms). */
export function oracleFinished(definition: RecordedDefinition, at: number, options: OracleOptions): boolean {
  if (definition.State === 'DISABLED' && options.keepDisabled) return false;
  const finishedAt = oracleFinishedAt(definition, options);
  return finishedAt !== undefined && at >= finishedAt;
}

/**
 * The latest UTC instant a wall-clock time (given as if it were UTC, `wallAsUtc`) can mean in `zone`:
 * each offset the zone uses within a day of it is tried, and the latest reading taken. At a gap
 * (the wall time never happens) this is the reading with the earlier offset, the later instant.
 */
function latestInstant(zone: string, wallAsUtc: number): number | undefined {
  // A fixed offset written UTC+hh:mm or UTC-hh:mm (seen working on AWS; up to 14 hours).
  const fixed = /^UTC([+-])(\d{2}):(\d{2})$/.exec(zone);
  if (fixed) {
    const minutes = Number(fixed[2]) * 60 + Number(fixed[3]);
    if (Number(fixed[3]) > 59 || minutes > 14 * 60) return undefined;
    return wallAsUtc - (fixed[1] === '+' ? 1 : -1) * minutes * 60_000;
  }
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    return undefined;
  }
  const offsetAt = (instant: number): number => {
    const parts = Object.fromEntries(format.formatToParts(instant).map((part) => [part.type, part.value]));
    const asUtc = Date.UTC(
      Number(parts.year),
      Number(parts.month) - 1,
      Number(parts.day),
      Number(parts.hour),
      Number(parts.minute),
      Number(parts.second),
    );
    return asUtc - Math.floor(instant / 1000) * 1000;
  };
  const offsets = new Set<number>();
  for (let shift = -36; shift <= 36; shift += 3) offsets.add(offsetAt(wallAsUtc + shift * 3_600_000));
  let latest: number | undefined;
  for (const offset of offsets) {
    const instant = wallAsUtc - offset;
    if (latest === undefined || instant > latest) latest = instant;
  }
  return latest;
}
