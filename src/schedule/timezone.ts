// Time zones for at() schedules: which ScheduleExpressionTimezone values we understand, and which
// instant(s) a wall-clock time in such a zone names. A zone we cannot resolve is reported as such,
// never read as UTC: guessing wrong by a few hours could delete a schedule before it fires.
//
// What resolveZone accepts:
// - nothing → 'UTC' (the Scheduler default). '' is not nothing: the API model allows 1-50
//   characters, so an empty name is unknown, never read as UTC;
// - 'UTC+hh:mm' and 'UTC-hh:mm', two-digit hours and minutes, up to ±14:00 → a fixed offset. Shorter
//   forms such as 'UTC+4' or 'GMT+04:00' are not accepted: they are unconfirmed on AWS, so such
//   schedules are kept as unknown rather than guessed;
// - any name the runtime's Intl accepts (IANA zones, their aliases such as 'US/Eastern', and the
//   POSIX-style names 'EST5EDT', 'Etc/GMT+5'), spelt with IANA capitalisation. Intl matches names
//   case-insensitively but AWS most likely does not (Java's ZoneId does not), so 'america/new_york'
//   is unknown here.
import { InputError } from '../errors.ts';
import type { LocalDateTime } from './expression.ts';

export type ZoneResolution = { ok: true; zone: string } | { ok: false; reason: string };

export type LocalTimeResolution =
  | { kind: 'exact'; instant: Date }
  | { kind: 'ambiguous'; earlier: Date; later: Date }
  | { kind: 'gap'; before: Date; after: Date };

type ZoneRules = { kind: 'fixed'; offsetMs: number } | { kind: 'intl'; format: Intl.DateTimeFormat };

const minuteMs = 60_000;
const dayMs = 86_400_000;
const fixedOffsetPattern = /^UTC([+-])(\d{2}):(\d{2})$/;
const maximumFixedOffsetMs = 14 * 60 * minuteMs;
const maximumCachedZones = 1000;

// One formatter per zone for the life of the process: constructing Intl.DateTimeFormat costs far
// more than formatting, and a sweep resolves a zone for every one of up to millions of schedules.
const rulesByZone = new Map<string, ZoneRules | { kind: 'unknown'; reason: string }>();

export function resolveZone(name: string | undefined): ZoneResolution {
  if (name === undefined) return { ok: true, zone: 'UTC' };
  if (name === '')
    return { ok: false, reason: unknown(name, 'a time zone name (leave the field out for UTC)').reason };
  const rules = rulesOf(name);
  return rules.kind === 'unknown' ? { ok: false, reason: rules.reason } : { ok: true, zone: name };
}

/**
 * The instant(s) at which the wall clock in `zone` reads `local`. In a spring-forward gap the wall
 * time never happens: `before` reads it with the offset in force after the gap (an instant just
 * before the gap) and `after` with the offset in force before it (an instant just after the gap),
 * so the transition lies between them. In a fall-back overlap it happens twice, `earlier` and `later`.
 */
export function resolveLocalTime(local: LocalDateTime, zone: string): LocalTimeResolution {
  const rules = rulesOf(zone);
  if (rules.kind === 'unknown') throw new InputError('zone', 'a zone that resolveZone accepts', zone);
  const wallMs = wallClockMs(local);
  if (rules.kind === 'fixed') return { kind: 'exact', instant: new Date(wallMs - rules.offsetMs) };

  // Same approach as Temporal's GetPossibleEpochNanoseconds: the offsets in force a day either side
  // bound every reading, since no zone changes its offset twice within two days.
  const offsetBefore = offsetMsAt(rules.format, wallMs - dayMs);
  const offsetAfter = offsetMsAt(rules.format, wallMs + dayMs);
  const candidates = offsetBefore === offsetAfter ? [offsetBefore] : [offsetBefore, offsetAfter];
  const instants = candidates
    .map((offset) => wallMs - offset)
    .filter((instant) => offsetMsAt(rules.format, instant) === wallMs - instant)
    .sort((left, right) => left - right);

  const [first, second] = instants;
  if (first !== undefined && second !== undefined && first !== second) {
    return { kind: 'ambiguous', earlier: new Date(first), later: new Date(second) };
  }
  if (first !== undefined) return { kind: 'exact', instant: new Date(first) };
  const readings = [wallMs - offsetBefore, wallMs - offsetAfter].sort((left, right) => left - right);
  return { kind: 'gap', before: new Date(readings[0]!), after: new Date(readings[1]!) };
}

/** The wall-clock time as if it were UTC, in epoch milliseconds (years 0–99 included). */
export function wallClockMs(local: LocalDateTime): number {
  const date = new Date(0);
  date.setUTCFullYear(local.year, local.month - 1, local.day);
  date.setUTCHours(local.hour, local.minute, local.second, 0);
  return date.getTime();
}

function rulesOf(name: string): ZoneRules | { kind: 'unknown'; reason: string } {
  const known = rulesByZone.get(name);
  if (known) return known;
  const rules = buildRules(name);
  // Real accounts use a handful of zones; the bound only guards against a flood of odd names.
  if (rulesByZone.size >= maximumCachedZones) rulesByZone.clear();
  rulesByZone.set(name, rules);
  return rules;
}

function buildRules(name: string): ZoneRules | { kind: 'unknown'; reason: string } {
  if (name === 'UTC') return { kind: 'fixed', offsetMs: 0 };
  const fixed = fixedOffsetPattern.exec(name);
  if (fixed) {
    const [, sign, hours = '', minutes = ''] = fixed;
    const offsetMs = (Number(hours) * 60 + Number(minutes)) * minuteMs * (sign === '-' ? -1 : 1);
    if (Number(minutes) > 59 || Math.abs(offsetMs) > maximumFixedOffsetMs) {
      return unknown(name, 'an offset from UTC-14:00 to UTC+14:00');
    }
    return { kind: 'fixed', offsetMs };
  }
  if (
    name.startsWith('UTC+') ||
    name.startsWith('UTC-') ||
    name.startsWith('GMT+') ||
    name.startsWith('GMT-')
  ) {
    return unknown(name, "an offset written 'UTC+hh:mm' or 'UTC-hh:mm'");
  }
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    return unknown(name, "an IANA time zone name such as 'America/New_York'");
  }
  const canonical = format.resolvedOptions().timeZone;
  const caseVariantOfCanonical = name !== canonical && name.toLowerCase() === canonical.toLowerCase();
  const lowercaseSegment = name.split('/').some((segment) => /^[a-z]/.test(segment));
  if (caseVariantOfCanonical || lowercaseSegment) {
    return unknown(name, `an IANA time zone name spelt as the database spells it, such as '${canonical}'`);
  }
  return { kind: 'intl', format };
}

function unknown(name: string, expected: string): { kind: 'unknown'; reason: string } {
  return { kind: 'unknown', reason: `ScheduleExpressionTimezone: expected ${expected}, got '${name}'` };
}

/** Offset of the zone at an instant (wall clock minus UTC), to the second as Intl reports it. */
function offsetMsAt(format: Intl.DateTimeFormat, instantMs: number): number {
  let year = 0;
  let month = 1;
  let day = 1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let beforeCommonEra = false;
  for (const part of format.formatToParts(instantMs)) {
    switch (part.type) {
      case 'year':
        year = Number(part.value);
        break;
      case 'month':
        month = Number(part.value);
        break;
      case 'day':
        day = Number(part.value);
        break;
      case 'hour':
        hour = Number(part.value);
        break;
      case 'minute':
        minute = Number(part.value);
        break;
      case 'second':
        second = Number(part.value);
        break;
      case 'era':
        beforeCommonEra = part.value === 'BC' || part.value === 'B';
        break;
    }
  }
  const wallMs = wallClockMs({ year: beforeCommonEra ? 1 - year : year, month, day, hour, minute, second });
  const wholeSecondMs = Math.floor(instantMs / 1000) * 1000;
  return wallMs - wholeSecondMs;
}
