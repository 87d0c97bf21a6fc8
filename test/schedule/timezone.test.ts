import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { resolveLocalTime, resolveZone } from '../../src/schedule/timezone.ts';
import { asUtcMs, createRandom, instantsReading, local, localText, pick, wallClockIn } from './support.ts';

const iso = (date: Date) => date.toISOString();

describe('resolveZone', () => {
  it('treats no zone as UTC, the Scheduler default', () => {
    // Act / Assess
    expect(resolveZone(undefined)).toEqual({ ok: true, zone: 'UTC' });
  });

  it('treats an empty zone name as unknown, not as UTC (the API model allows 1-50 characters)', () => {
    // Act / Assess
    expect(resolveZone('')).toMatchObject({ ok: false });
  });

  it.each([
    'UTC',
    'America/New_York',
    'Europe/London',
    'Australia/Lord_Howe',
    'Asia/Kolkata',
    'Asia/Calcutta',
    'Pacific/Chatham',
    'America/Argentina/Buenos_Aires',
    'America/Port-au-Prince',
    'US/Eastern',
    'Etc/GMT+5',
    'Etc/UTC',
    'EST5EDT',
    'GMT',
    'UTC+05:30',
    'UTC-04:00',
    'UTC+00:00',
    'UTC+14:00',
    'UTC-12:00',
    'UTC+12:45',
  ])('accepts %s, keeping its spelling', (name) => {
    // Act / Assess
    expect(resolveZone(name)).toEqual({ ok: true, zone: name });
  });

  it.each([
    ['Mars/Olympus', 'IANA time zone name'],
    ['America/New_Yrok', 'IANA time zone name'],
    ['New York', 'IANA time zone name'],
    ['Z', 'IANA time zone name'],
    ['+05:30', 'IANA time zone name'],
    ['America/', 'IANA time zone name'],
    // Intl matches names case-insensitively; AWS most likely does not, so these are not guessed.
    ['america/new_york', "such as 'America/New_York'"],
    ['AMERICA/NEW_YORK', "such as 'America/New_York'"],
    ['America/New_york', "such as 'America/New_York'"],
    ['utc', "such as 'UTC'"],
    ['us/eastern', 'spelt as the database spells it'],
    // Only the two-digit 'UTC±hh:mm' offset form is understood.
    ['UTC+4', "'UTC+hh:mm'"],
    ['UTC+4:00', "'UTC+hh:mm'"],
    ['UTC+0530', "'UTC+hh:mm'"],
    ['UTC+05:30:00', "'UTC+hh:mm'"],
    ['GMT+04:00', "'UTC+hh:mm'"],
    ['UTC+15:00', 'from UTC-14:00 to UTC+14:00'],
    ['UTC-14:30', 'from UTC-14:00 to UTC+14:00'],
    ['UTC+05:60', 'from UTC-14:00 to UTC+14:00'],
  ])('reports %s as unknown, saying %s', (name, reasonFragment) => {
    // Act
    const resolution = resolveZone(name);

    // Assess
    expect(resolution.ok).toBe(false);
    expect(!resolution.ok && resolution.reason).toContain(reasonFragment);
    expect(!resolution.ok && resolution.reason).toContain(`'${name}'`);
    expect(!resolution.ok && resolution.reason).toContain('ScheduleExpressionTimezone');
  });
});

describe('resolveLocalTime: known instants', () => {
  it.each([
    ['2026-01-15T09:00:00', 'UTC', '2026-01-15T09:00:00.000Z'],
    ['2026-01-15T09:00:00', 'America/New_York', '2026-01-15T14:00:00.000Z'],
    ['2026-07-15T09:00:00', 'America/New_York', '2026-07-15T13:00:00.000Z'],
    ['2026-03-08T01:59:59', 'America/New_York', '2026-03-08T06:59:59.000Z'],
    ['2026-03-08T03:00:00', 'America/New_York', '2026-03-08T07:00:00.000Z'],
    ['2026-11-01T00:59:59', 'America/New_York', '2026-11-01T04:59:59.000Z'],
    ['2026-11-01T02:00:00', 'America/New_York', '2026-11-01T07:00:00.000Z'],
    ['2026-01-15T09:00:00', 'Europe/London', '2026-01-15T09:00:00.000Z'],
    ['2026-07-15T09:00:00', 'Europe/London', '2026-07-15T08:00:00.000Z'],
    ['2026-07-01T12:00:00', 'Asia/Kolkata', '2026-07-01T06:30:00.000Z'],
    ['2026-01-01T00:00:00', 'Asia/Kolkata', '2025-12-31T18:30:00.000Z'],
    ['2026-07-01T12:00:00', 'Australia/Lord_Howe', '2026-07-01T01:30:00.000Z'],
    ['2026-01-01T12:00:00', 'Australia/Lord_Howe', '2026-01-01T01:00:00.000Z'],
    ['2026-07-01T12:00:00', 'Pacific/Chatham', '2026-06-30T23:15:00.000Z'],
    ['2026-01-01T12:00:00', 'Pacific/Chatham', '2025-12-31T22:15:00.000Z'],
    ['2024-02-29T23:30:00', 'Asia/Kolkata', '2024-02-29T18:00:00.000Z'],
    ['2024-02-29T23:30:00', 'America/New_York', '2024-03-01T04:30:00.000Z'],
    ['2026-01-01T00:00:00', 'UTC+05:30', '2025-12-31T18:30:00.000Z'],
    ['2026-03-08T02:30:00', 'UTC-04:00', '2026-03-08T06:30:00.000Z'],
    ['2026-06-01T00:00:00', 'UTC+14:00', '2026-05-31T10:00:00.000Z'],
    ['2026-06-01T00:00:00', 'UTC-12:00', '2026-06-01T12:00:00.000Z'],
    ['2026-06-01T00:00:00', 'US/Eastern', '2026-06-01T04:00:00.000Z'],
    ['2026-06-01T00:00:00', 'Etc/GMT+5', '2026-06-01T05:00:00.000Z'],
    ['0050-06-01T00:00:00', 'UTC', '0050-06-01T00:00:00.000Z'],
  ])('reads %s in %s as exactly %s', (wallClock, zone, expected) => {
    // Act
    const resolution = resolveLocalTime(local(wallClock), zone);

    // Assess
    expect(resolution.kind).toBe('exact');
    expect(resolution.kind === 'exact' && iso(resolution.instant)).toBe(expected);
  });

  it.each([
    // Fall back: the wall time happens twice.
    ['2026-11-01T01:30:00', 'America/New_York', '2026-11-01T05:30:00.000Z', '2026-11-01T06:30:00.000Z'],
    ['2026-11-01T01:00:00', 'America/New_York', '2026-11-01T05:00:00.000Z', '2026-11-01T06:00:00.000Z'],
    ['2026-11-01T01:59:59', 'America/New_York', '2026-11-01T05:59:59.000Z', '2026-11-01T06:59:59.000Z'],
    ['2026-10-25T01:30:00', 'Europe/London', '2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z'],
    // Lord Howe falls back by only 30 minutes.
    ['2026-04-05T01:45:00', 'Australia/Lord_Howe', '2026-04-04T14:45:00.000Z', '2026-04-04T15:15:00.000Z'],
    ['2026-04-05T03:00:00', 'Pacific/Chatham', '2026-04-04T13:15:00.000Z', '2026-04-04T14:15:00.000Z'],
  ])('reads %s in %s as ambiguous: %s or %s', (wallClock, zone, earlier, later) => {
    // Act
    const resolution = resolveLocalTime(local(wallClock), zone);

    // Assess
    expect(resolution).toEqual({ kind: 'ambiguous', earlier: new Date(earlier), later: new Date(later) });
  });

  it.each([
    // Spring forward: the wall time never happens; `after` is the reading past the gap.
    ['2026-03-08T02:30:00', 'America/New_York', '2026-03-08T06:30:00.000Z', '2026-03-08T07:30:00.000Z'],
    ['2026-03-08T02:00:00', 'America/New_York', '2026-03-08T06:00:00.000Z', '2026-03-08T07:00:00.000Z'],
    ['2026-03-08T02:59:59', 'America/New_York', '2026-03-08T06:59:59.000Z', '2026-03-08T07:59:59.000Z'],
    ['2026-03-29T01:30:00', 'Europe/London', '2026-03-29T00:30:00.000Z', '2026-03-29T01:30:00.000Z'],
    ['2026-10-04T02:15:00', 'Australia/Lord_Howe', '2026-10-03T15:15:00.000Z', '2026-10-03T15:45:00.000Z'],
    ['2026-09-27T03:00:00', 'Pacific/Chatham', '2026-09-26T13:15:00.000Z', '2026-09-26T14:15:00.000Z'],
    // Samoa skipped a whole day when it crossed the date line.
    ['2011-12-30T12:00:00', 'Pacific/Apia', '2011-12-29T22:00:00.000Z', '2011-12-30T22:00:00.000Z'],
  ])('reads %s in %s as a gap between %s and %s', (wallClock, zone, before, after) => {
    // Act
    const resolution = resolveLocalTime(local(wallClock), zone);

    // Assess
    expect(resolution).toEqual({ kind: 'gap', before: new Date(before), after: new Date(after) });
  });

  it('refuses a zone that resolveZone does not accept rather than reading it as UTC', () => {
    // Act / Assess
    expect(() => resolveLocalTime(local('2026-01-01T00:00:00'), 'Mars/Olympus')).toThrow(InputError);
    expect(() => resolveLocalTime(local('2026-01-01T00:00:00'), 'america/new_york')).toThrow(/zone/);
  });
});

const generatedZones = [
  'America/New_York',
  'America/Los_Angeles',
  'America/Sao_Paulo',
  'America/St_Johns',
  'Europe/London',
  'Europe/Berlin',
  'Africa/Casablanca',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Asia/Tehran',
  'Australia/Lord_Howe',
  'Australia/Adelaide',
  'Pacific/Chatham',
  'Pacific/Auckland',
  'Pacific/Kiritimati',
  'UTC+05:30',
  'UTC-09:30',
] as const;

/** Checks a resolution against the brute-force list of instants whose wall clock reads `text`. */
function expectAgreesWithBruteForce(text: string, zone: string): string {
  const resolution = resolveLocalTime(local(text), zone);
  const readings = instantsReading(text, zone);
  const context = `${text} in ${zone}`;
  if (readings.length === 1) {
    expect(resolution, context).toEqual({ kind: 'exact', instant: new Date(readings[0]!) });
  } else if (readings.length === 2) {
    expect(resolution, context).toEqual({
      kind: 'ambiguous',
      earlier: new Date(readings[0]!),
      later: new Date(readings[1]!),
    });
  } else {
    expect(readings, context).toEqual([]);
    expect(resolution.kind, context).toBe('gap');
    if (resolution.kind === 'gap') {
      // The clock reads before the at-time at `before` and past it at `after`: the gap lies between.
      expect(wallClockIn(resolution.before.getTime(), zone) < text, context).toBe(true);
      expect(wallClockIn(resolution.after.getTime(), zone) > text, context).toBe(true);
    }
  }
  return resolution.kind;
}

describe('resolveLocalTime: generated cases against an independent computation', () => {
  it('agrees with a brute-force search over every offset for 1,500 random wall-clock times', () => {
    // Prepare
    const random = createRandom(7_2026);
    const kinds = new Set<string>();

    for (let index = 0; index < 1500; index += 1) {
      const year = random.integer(1980, 2037);
      const month = random.integer(1, 12);
      const day = random.integer(1, 28);
      const text = localText({
        year,
        month,
        day,
        hour: random.integer(0, 23),
        minute: random.integer(0, 59),
        second: random.integer(0, 59),
      });

      // Act / Assess
      kinds.add(expectAgreesWithBruteForce(text, pick(random, generatedZones)));
    }
    expect(kinds.has('exact')).toBe(true);
  });

  it('agrees with the brute-force search around every offset change from 2024 to 2027, minute by 10 minutes', () => {
    // Prepare: find each zone's offset changes independently, by scanning the wall clock every 6 hours
    // and narrowing each change to the minute.
    const kinds = new Map<string, number>();
    const offsetAt = (instant: number, zone: string) => asUtcMs(wallClockIn(instant, zone)) - instant;
    const start = Date.UTC(2024, 0, 1);
    const end = Date.UTC(2028, 0, 1);
    const step = 6 * 3_600_000;

    for (const zone of generatedZones) {
      for (let instant = start; instant < end; instant += step) {
        const offsetBefore = offsetAt(instant, zone);
        const offsetAfter = offsetAt(instant + step, zone);
        if (offsetBefore === offsetAfter) continue;
        let low = instant;
        let high = instant + step;
        while (high - low > 60_000) {
          const middle = low + Math.floor((high - low) / 120_000) * 60_000;
          if (offsetAt(middle, zone) === offsetBefore) low = middle;
          else high = middle;
        }
        const changeWallMs = high + offsetBefore;
        for (let minutes = -90; minutes <= 90; minutes += 10) {
          const text = new Date(changeWallMs + minutes * 60_000).toISOString().slice(0, 19);

          // Act / Assess
          const kind = expectAgreesWithBruteForce(text, zone);
          kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
        }
      }
    }
    // Every DST zone above springs forward and falls back, so all three kinds must have come up.
    expect(kinds.get('gap') ?? 0).toBeGreaterThan(50);
    expect(kinds.get('ambiguous') ?? 0).toBeGreaterThan(50);
    expect(kinds.get('exact') ?? 0).toBeGreaterThan(500);
  });
});
