// Durations as the tools print them for people ('2 hours 5 minutes', 'less than a second'), by
// date-fns. Only for display: Scheduler's time rules (zones, DST) live in src/schedule, not here.
import { type Duration, formatDuration, intervalToDuration } from 'date-fns';

const UNITS = ['years', 'months', 'weeks', 'days', 'hours', 'minutes', 'seconds'] as const;

/**
 * `ms` milliseconds as its `units` largest non-zero calendar units, rounded down: 93,784,000 ms is
 * '1 day 2 hours' (units 2). Below a second: 'less than a second'. Months and years count from
 * the epoch in the local time zone (date-fns intervalToDuration): an hour off across a DST change at
 * most, close enough for a human estimate.
 */
export function humanDuration(ms: number, units = 2): string {
  if (!Number.isFinite(ms)) return 'never';
  if (ms < 1000) return 'less than a second';
  const whole = intervalToDuration({ start: 0, end: Math.floor(ms / 1000) * 1000 });
  const kept: Duration = {};
  for (const unit of UNITS.filter((name) => (whole[name] ?? 0) > 0).slice(0, units)) kept[unit] = whole[unit];
  return formatDuration(kept);
}
