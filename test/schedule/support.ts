// Test helpers for the schedule decision: a seeded random source, fixtures, and an independent way
// to read the wall clock of an instant in a zone (Intl's 'sv-SE' formatting, not the module's own
// formatToParts arithmetic), so generated cases check the module against something it does not share.
import type { LocalDateTime } from '../../src/schedule/expression.ts';

/** mulberry32: small, fast and repeatable, so a failing generated case can be replayed. */
export function createRandom(seed: number): {
  next: () => number;
  integer: (min: number, max: number) => number;
} {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
  return { next, integer: (min, max) => min + Math.floor(next() * (max - min + 1)) };
}

export function pick<T>(random: { integer: (min: number, max: number) => number }, items: readonly T[]): T {
  return items[random.integer(0, items.length - 1)]!;
}

/** 'yyyy-mm-ddThh:mm:ss' → LocalDateTime, without the module's parser. */
export function local(text: string): LocalDateTime {
  const [year, month, day, hour, minute, second] = text.split(/[-T:]/).map(Number);
  return { year: year!, month: month!, day: day!, hour: hour!, minute: minute!, second: second! };
}

export function localText(value: LocalDateTime): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${String(value.year).padStart(4, '0')}-${two(value.month)}-${two(value.day)}T${two(value.hour)}:${two(value.minute)}:${two(value.second)}`;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall clock of an instant in a zone as 'yyyy-mm-ddThh:mm:ss' (years 1000–9999). */
export function wallClockIn(instantMs: number, zone: string): string {
  const fixed = /^UTC([+-])(\d{2}):(\d{2})$/.exec(zone);
  if (fixed) {
    const offsetMinutes = (Number(fixed[2]) * 60 + Number(fixed[3])) * (fixed[1] === '-' ? -1 : 1);
    return new Date(instantMs + offsetMinutes * 60_000).toISOString().slice(0, 19);
  }
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('sv-SE', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(zone, format);
  }
  return format.format(instantMs).replace(' ', 'T');
}

/** A wall-clock text read as if it were UTC. */
export function asUtcMs(text: string): number {
  return Date.parse(`${text}Z`);
}

/**
 * Every instant at which the zone's wall clock reads `text`, by brute force over all offsets from
 * −14:00 to +14:00 in 15-minute steps (every zone's offset since 1980 is such a multiple).
 */
export function instantsReading(text: string, zone: string): number[] {
  const wallMs = asUtcMs(text);
  const found: number[] = [];
  for (let quarters = -56; quarters <= 56; quarters += 1) {
    const instant = wallMs - quarters * 15 * 60_000;
    if (wallClockIn(instant, zone) === text) found.push(instant);
  }
  return found.sort((left, right) => left - right);
}

/** A GetSchedule-like definition of an ENABLED at() schedule with no windows, with overrides. */
export function oneTimeSchedule(overrides: Record<string, unknown> = {}) {
  return {
    Name: 'reminder-42',
    GroupName: 'default',
    ScheduleExpression: 'at(2026-06-01T12:00:00)',
    State: 'ENABLED',
    ActionAfterCompletion: 'NONE',
    FlexibleTimeWindow: { Mode: 'OFF' },
    Target: {
      Arn: 'arn:aws:lambda:us-east-1:123456789012:function:target',
      RoleArn: 'arn:aws:iam::123456789012:role/scheduler',
      RetryPolicy: { MaximumEventAgeInSeconds: 60, MaximumRetryAttempts: 0 },
    },
    ...overrides,
  };
}
