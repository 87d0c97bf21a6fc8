// Deterministic synthetic populations for the Scheduler emulator (benchmarks, demo, large tests): a
// mix of the schedules a real account accumulates, each placed far enough from every decision boundary
// that whether a correct sweeper deletes it is never in doubt, with the expected count reported.
//
// The rule the expectation follows: a one-time at() schedule is finished once
//   at-time in its zone + flexible window + MaximumEventAgeInSeconds (86400 when unset) + grace
// has passed. Finished kinds sit at least two days beyond that point, pending kinds at least twelve hours
// before it, so zone offsets (at most 14 h, ignored when placing most kinds) cannot tip either side.
// DISABLED past at() schedules are finished too unless the sweeper keeps disabled ones; recurring
// schedules and schedules in a zone the runtime cannot resolve are never deleted.

import { badControl } from './core.ts';
import type { SeedDefinition } from './scheduler.ts';
import { formatAt } from './scheduler-model.ts';

export const SyntheticKind = {
  /** at() with NONE, long finished. Deleted. */
  finishedNone: 'finishedNone',
  /** at() at a local time that does not exist (spring-forward gap), years ago. Deleted. */
  dstGap: 'dstGap',
  /** DISABLED at() long past. Deleted unless disabled schedules are kept. */
  disabledPast: 'disabledPast',
  /** at() days or weeks ahead. Kept. */
  futureAt: 'futureAt',
  /** at() that fired within the last twelve hours: a retry may still be in flight. Kept. */
  insideRetryWindow: 'insideRetryWindow',
  /** rate() schedules. Kept. */
  rate: 'rate',
  /** cron() schedules. Kept. */
  cron: 'cron',
  /** at() long past in a zone this runtime cannot resolve. Kept (skipped by the sweeper). */
  unknownZone: 'unknownZone',
} as const;
export type SyntheticKindValue = (typeof SyntheticKind)[keyof typeof SyntheticKind];

/** The kinds a correct sweeper deletes when it does not keep DISABLED schedules (the deployed default). */
export const FINISHED_KINDS: readonly SyntheticKindValue[] = [
  SyntheticKind.finishedNone,
  SyntheticKind.dstGap,
  SyntheticKind.disabledPast,
];

export interface SynthesizeSpec {
  count: number;
  /** PRNG seed; the same seed, count, mix and clock give the same population. Default 1. */
  seed?: number;
  /** Relative weights per kind; omitted kinds use the default weights, 0 turns a kind off. */
  mix?: Partial<Record<SyntheticKindValue, number>>;
  /** Groups to spread schedules over, created when missing. Default ["default"]. */
  groups?: string[];
  /** Name prefix; names are `<prefix><kind>-<index>`. Default "syn-". */
  namePrefix?: string;
  /** Grace period of the sweeper whose expectation is reported. Default 60 minutes. */
  graceMinutes?: number;
  /** Called with the number created so far after each batch is stored (a progress bar's feed). */
  onProgress?: (created: number) => void;
}

export interface SynthesizeReport {
  created: number;
  byKind: Record<SyntheticKindValue, number>;
  graceMinutes: number;
  /** What a correct sweeper deletes with this grace period, disabled schedules included. */
  expectedDeletions: number;
  /** The same when the sweeper keeps DISABLED schedules. */
  expectedDeletionsKeepingDisabled: number;
  now: string;
  rule: string;
}

export const DEFAULT_MIX: Record<SyntheticKindValue, number> = {
  finishedNone: 45,
  dstGap: 4,
  disabledPast: 5,
  futureAt: 15,
  insideRetryWindow: 8,
  rate: 10,
  cron: 10,
  unknownZone: 3,
};

const RULE =
  'finished when now >= at-time in zone + flexible window + MaximumEventAgeInSeconds (86400 if unset) + grace; ' +
  'finished kinds are >= 2 days past that point, pending ones >= 12 hours before it; DISABLED past at() counts ' +
  'as finished unless disabled schedules are kept; recurring and unknown-zone schedules are never deleted';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const BATCH = 50_000;

const KNOWN_ZONES = [
  undefined,
  'UTC',
  'America/New_York',
  'America/Los_Angeles',
  'Europe/Berlin',
  'Asia/Tokyo',
  'Asia/Kolkata',
  'Australia/Sydney',
  'UTC-04:00',
];
/** Names shaped like IANA zones that no tz database holds. */
const UNKNOWN_ZONES = ['Mars/Olympus_Mons', 'Atlantis/Poseidonia', 'Pacific/Nowhere_Island'];
const TARGETS = [
  'arn:aws:lambda:us-east-1:123456789012:function:send-reminder',
  'arn:aws:lambda:us-east-1:123456789012:function:expire-offer',
  'arn:aws:sqs:us-east-1:123456789012:follow-ups',
];
const ROLE = 'arn:aws:iam::123456789012:role/scheduler-invoke';
const CRONS = ['cron(0 9 ? * MON-FRI *)', 'cron(30 2 1 * ? *)', 'cron(*/15 * * * ? *)', 'cron(0 0 L * ? *)'];

export interface SynthesizeDeps {
  now: number;
  createGroup(name: string): string;
  seed(definitions: SeedDefinition[]): number;
}

export function synthesizePopulation(spec: SynthesizeSpec, deps: SynthesizeDeps): SynthesizeReport {
  const count = spec.count;
  if (!Number.isInteger(count) || count < 0 || count > 20_000_000) {
    throw badControl(`synthesize: count must be a whole number from 0 to 20000000, got ${String(count)}`);
  }
  const graceMinutes = spec.graceMinutes ?? 60;
  if (!Number.isFinite(graceMinutes) || graceMinutes < 0) {
    throw badControl(`synthesize: graceMinutes must be a number >= 0, got ${String(graceMinutes)}`);
  }
  const weights = { ...DEFAULT_MIX, ...spec.mix };
  const kinds = Object.keys(DEFAULT_MIX) as SyntheticKindValue[];
  for (const kind of Object.keys(weights)) {
    if (!kinds.includes(kind as SyntheticKindValue)) {
      throw badControl(`synthesize: unknown kind '${kind}' in mix; expected one of ${kinds.join(', ')}`);
    }
  }
  const totalWeight = kinds.reduce((sum, kind) => sum + Math.max(0, weights[kind]), 0);
  if (count > 0 && totalWeight <= 0) throw badControl('synthesize: mix gives every kind weight 0');

  const groups = spec.groups && spec.groups.length > 0 ? spec.groups : ['default'];
  for (const group of groups) deps.createGroup(group);
  const prefix = spec.namePrefix ?? 'syn-';
  const random = mulberry32(spec.seed ?? 1);
  const graceMs = graceMinutes * MINUTE;
  const byKind = Object.fromEntries(kinds.map((kind) => [kind, 0])) as Record<SyntheticKindValue, number>;
  const context: KindContext = { now: deps.now, graceMs, random };

  let batch: SeedDefinition[] = [];
  for (let index = 0; index < count; index += 1) {
    const kind = pick(kinds, weights, totalWeight, random());
    byKind[kind] += 1;
    const definition = makeDefinition(kind, context);
    definition.Name = `${prefix}${kind}-${index}`;
    definition.GroupName = groups[Math.floor(random() * groups.length)]!;
    definition.Target.Input = `{"reference":"${kind}-${index}"}`;
    batch.push(definition);
    if (batch.length === BATCH) {
      deps.seed(batch);
      batch = [];
      spec.onProgress?.(index + 1);
    }
  }
  if (batch.length > 0) deps.seed(batch);
  spec.onProgress?.(count);

  const deletedIfDisabledKept = byKind.finishedNone + byKind.dstGap;
  return {
    created: count,
    byKind,
    graceMinutes,
    expectedDeletions: deletedIfDisabledKept + byKind.disabledPast,
    expectedDeletionsKeepingDisabled: deletedIfDisabledKept,
    now: new Date(deps.now).toISOString(),
    rule: RULE,
  };
}

interface KindContext {
  now: number;
  graceMs: number;
  random: () => number;
}

type MutableDefinition = SeedDefinition & { Target: NonNullable<SeedDefinition['Target']> };

function makeDefinition(kind: SyntheticKindValue, context: KindContext): MutableDefinition {
  const { now, random } = context;
  const base = (expression: string, created: number): MutableDefinition => ({
    Name: '',
    ScheduleExpression: expression,
    FlexibleTimeWindow: { Mode: 'OFF' },
    Target: { Arn: choose(TARGETS, random), RoleArn: ROLE },
    CreationDate: new Date(created),
    LastModificationDate: new Date(created),
  });

  switch (kind) {
    case SyntheticKind.finishedNone:
    case SyntheticKind.disabledPast:
    case SyntheticKind.unknownZone: {
      const windowMinutes = random() < 0.3 ? 1 + Math.floor(random() * 60) : undefined;
      const ageSeconds = random() < 0.3 ? 60 + Math.floor(random() * 86_341) : undefined;
      const finishSpan = (windowMinutes ?? 0) * MINUTE + (ageSeconds ?? 86_400) * 1000 + context.graceMs;
      const at = now - finishSpan - 2 * DAY - Math.floor(random() * 28 * DAY);
      const definition = base(formatAt(at), at - DAY - Math.floor(random() * 30 * DAY));
      definition.ScheduleExpressionTimezone =
        kind === SyntheticKind.unknownZone ? choose(UNKNOWN_ZONES, random) : choose(KNOWN_ZONES, random);
      if (windowMinutes !== undefined) {
        definition.FlexibleTimeWindow = { Mode: 'FLEXIBLE', MaximumWindowInMinutes: windowMinutes };
      }
      if (ageSeconds !== undefined) {
        definition.Target.RetryPolicy = { MaximumEventAgeInSeconds: ageSeconds, MaximumRetryAttempts: 3 };
      }
      if (kind === SyntheticKind.disabledPast) definition.State = 'DISABLED';
      if (random() < 0.5) definition.ActionAfterCompletion = 'NONE';
      return definition;
    }
    case SyntheticKind.dstGap: {
      const year = new Date(now).getUTCFullYear() - 1 - Math.floor(random() * 3);
      const [zone, wall] =
        random() < 0.5
          ? (['America/New_York', springForwardWall(year, 'second', 2)] as const)
          : (['Europe/Berlin', springForwardWall(year, 'last', 2)] as const);
      const definition = base(`at(${wall})`, Date.UTC(year, 0, 15));
      definition.ScheduleExpressionTimezone = zone;
      return definition;
    }
    case SyntheticKind.futureAt: {
      const at = now + 2 * DAY + Math.floor(random() * 58 * DAY);
      const definition = base(formatAt(at), now - Math.floor(random() * 30 * DAY));
      definition.ScheduleExpressionTimezone = choose(KNOWN_ZONES, random);
      definition.ActionAfterCompletion = random() < 0.25 ? 'DELETE' : 'NONE';
      return definition;
    }
    case SyntheticKind.insideRetryWindow: {
      // UTC on purpose: a zone offset of up to 14 h would blur a twelve-hour margin. Fired between
      // 10 minutes and 11 h 49 min ago, so with the default 24 h event age it stays pending > 12 h.
      const at = now - 10 * MINUTE - Math.floor(random() * (11 * HOUR + 49 * MINUTE));
      const definition = base(formatAt(at), at - DAY);
      if (random() < 0.5) definition.ScheduleExpressionTimezone = 'UTC';
      return definition;
    }
    case SyntheticKind.rate: {
      const value = random() < 0.5 ? 1 + Math.floor(random() * 59) : 1 + Math.floor(random() * 23);
      const unit = value === 1 ? 'minute' : value > 23 || random() < 0.5 ? 'minutes' : 'hours';
      const definition = base(`rate(${value} ${unit})`, now - Math.floor(random() * 365 * DAY));
      return definition;
    }
    case SyntheticKind.cron: {
      const definition = base(choose(CRONS, random), now - Math.floor(random() * 365 * DAY));
      definition.ScheduleExpressionTimezone = choose(KNOWN_ZONES, random);
      return definition;
    }
  }
}

/**
 * The wall-clock time 02:30 on the day clocks spring forward: the second Sunday of March (US) or the
 * last Sunday of March (EU). Returned as yyyy-mm-ddThh:mm:ss.
 */
function springForwardWall(year: number, which: 'second' | 'last', hour: number): string {
  let day: number;
  if (which === 'second') {
    const firstWeekday = new Date(Date.UTC(year, 2, 1)).getUTCDay();
    day = 1 + ((7 - firstWeekday) % 7) + 7;
  } else {
    const lastWeekday = new Date(Date.UTC(year, 2, 31)).getUTCDay();
    day = 31 - lastWeekday;
  }
  return `${year}-03-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:30:00`;
}

function pick(
  kinds: SyntheticKindValue[],
  weights: Record<SyntheticKindValue, number>,
  total: number,
  roll: number,
): SyntheticKindValue {
  let remaining = roll * total;
  for (const kind of kinds) {
    remaining -= Math.max(0, weights[kind]);
    if (remaining < 0) return kind;
  }
  return kinds.findLast((kind) => weights[kind] > 0)!;
}

function choose<T>(values: readonly T[], random: () => number): T {
  return values[Math.floor(random() * values.length)]!;
}

/** Small, fast, seedable PRNG; good enough for test populations. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}
