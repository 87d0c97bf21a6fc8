// The pure decision at the heart of the sweep: is this schedule finished, and since when? A one-time
// at() schedule is finished once its time, resolved in its zone, plus Scheduler's 60 s invocation
// spread, its flexible window, its retry window and a grace margin have all passed; until then a
// delivery may still be in flight. Every bound AWS documents is in the rule whatever the grace; the
// grace is a margin on top, never a substitute. Anything
// this module is unsure about is skipped (kept), with a reason and a detail that names the field.
import { InputError } from '../errors.ts';
import { type LocalDateTime, parseExpression } from './expression.ts';
import { resolveLocalTime, resolveZone } from './timezone.ts';

export const SkipReason = {
  unknownTimezone: 'unknownTimezone',
  unparseableExpression: 'unparseableExpression',
  missingFields: 'missingFields',
  invalidFields: 'invalidFields',
  disabledKept: 'disabledKept',
  /**
   * Set by the sweep, never by decide(): the schedule changed between its lookup and the delete
   * (an application updated or recreated it), so it is left for the next sweep to judge afresh.
   */
  changedDuringSweep: 'changedDuringSweep',
  /**
   * Set by the sweep: GetSchedule was refused because the sweeper may not decrypt the schedule's
   * customer managed KMS key. It cannot be judged or tombstoned, so it is kept (src/sweep/README.md).
   */
  kmsAccessDenied: 'kmsAccessDenied',
  /** Set by the sweep: the schedule's protection (group tag, protected names) could not be read. */
  protectionUnknown: 'protectionUnknown',
  /**
   * Set by the sweep's delete gate: the delete could not leave with its preconditions current (its
   * definition read within the re-read window, its protection within PROTECTION_MAX_AGE_MS) after
   * DEPARTURES_BEFORE_KEEPING tries, say in a socket pool that stays full. Kept for the next sweep.
   */
  staleAtDeparture: 'staleAtDeparture',
  /**
   * Set by the sweep: a finished schedule a CloudFormation stack declares (an AWS::Scheduler::Schedule
   * resource, src/ownership/cloudformation.ts). Deleting it would make the stack drift and fail its
   * next update of that resource, so it is kept unless SWEEP_CLOUDFORMATION_OWNED is `sweep`.
   */
  cloudFormationOwned: 'cloudFormationOwned',
  /**
   * Set by the sweep: a finished schedule whose CloudFormation ownership could not be read (denied,
   * throttled, an index cut short, or created after the index was read): kept, as for protection.
   */
  ownershipUnknown: 'ownershipUnknown',
  /**
   * Set by the sweep: its first GetSchedule of a schedule named `.` or `..` answered 404. Such a name
   * is a dot segment of its path (/schedules/{Name}), which URL parsers remove and SigV4 signs without.
   * The API model allows both names and the SDK sends them unescaped; how AWS routes such a path is
   * undocumented, so that 404 cannot tell "already gone" from "not routed to it": kept and counted,
   * never counted alreadyGone (docs/guarantees.md, "How the sweeper decides").
   */
  unaddressableName: 'unaddressableName',
  /**
   * Set by the sweep: Scheduler answered with something other than what was asked. Either
   * ListSchedules listed a schedule outside its request (another group than the listing's, a name
   * without the requested prefix: the API filters by both, API reference, ListSchedules), or without
   * a name of the API's form or an ARN; or GetSchedule answered 200 with a schedule other than the
   * listed one (another ARN, Name or GroupName, or one missing; the API returns the named schedule:
   * answersFor, src/schedule/name.ts). Such an answer comes from something between the sweeper and
   * Scheduler; acting on it would delete outside the configured scope, or one schedule on another's
   * definition. Kept and counted, and looked up again by the next sweep.
   */
  answerMismatch: 'answerMismatch',
} as const;
export type SkipReason = (typeof SkipReason)[keyof typeof SkipReason];

export type Decision =
  | { outcome: 'finished'; finishedAt: Date; stuck: boolean }
  | { outcome: 'pending'; finishedAt: Date }
  | { outcome: 'recurring' }
  | { outcome: 'skipped'; reason: SkipReason; detail: string };

export interface DecideOptions {
  /** Safety margin added after the retry window, in milliseconds (0 or more). */
  graceMs: number;
  /** Keep DISABLED one-time schedules instead of treating a past one as finished. */
  keepDisabled: boolean;
}

/**
 * The fields of GetScheduleOutput that the decision reads; GetScheduleOutput itself fits. Values are
 * typed loosely (string, number) because they are checked here rather than trusted.
 */
export interface ScheduleDefinition {
  Name?: string | undefined;
  ScheduleExpression?: string | undefined;
  ScheduleExpressionTimezone?: string | undefined;
  State?: string | undefined;
  ActionAfterCompletion?: string | undefined;
  FlexibleTimeWindow?: { Mode?: string | undefined; MaximumWindowInMinutes?: number | undefined } | undefined;
  Target?:
    | {
        RetryPolicy?:
          | { MaximumEventAgeInSeconds?: number | undefined; MaximumRetryAttempts?: number | undefined }
          | undefined;
      }
    | undefined;
  /** Ignored for at() schedules, as AWS ignores it. */
  StartDate?: Date | undefined;
  /** Ignored for at() schedules, as AWS ignores it. */
  EndDate?: Date | undefined;
}

/**
 * Scheduler invokes with 60-second precision: a schedule set for 1:00 runs between 1:00:00 and
 * 1:00:59 (EventBridge Scheduler User Guide, "Schedule types", note on precision). The first attempt
 * may therefore start up to a minute after the at-time, and the retry window counts from there.
 */
export const invocationSpreadMs = 60_000;

/** Applied by AWS when a target has no RetryPolicy or no MaximumEventAgeInSeconds. */
export const defaultMaximumEventAgeSeconds = 86_400;

type Timing =
  | { kind: 'oneTime'; finishedAt: Date; enabled: boolean; deleteAfterCompletion: boolean }
  | { kind: 'recurring' }
  | { kind: 'skipped'; reason: SkipReason; detail: string };

export function decide(schedule: ScheduleDefinition, now: Date, options: DecideOptions): Decision {
  checkNow(now);
  const timing = timingOf(schedule, options);
  if (timing.kind === 'recurring') return { outcome: 'recurring' };
  if (timing.kind === 'skipped') return { outcome: 'skipped', reason: timing.reason, detail: timing.detail };

  if (!timing.enabled && options.keepDisabled) {
    return {
      outcome: 'skipped',
      reason: SkipReason.disabledKept,
      detail: 'State is DISABLED and disabled schedules are kept',
    };
  }
  if (now.getTime() < timing.finishedAt.getTime())
    return { outcome: 'pending', finishedAt: timing.finishedAt };
  // Scheduler removes an ENABLED DELETE schedule itself after its last attempt; one still here is
  // stuck. A DISABLED one never fires, so AWS never removes it: expected, not stuck.
  return {
    outcome: 'finished',
    finishedAt: timing.finishedAt,
    stuck: timing.enabled && timing.deleteAfterCompletion,
  };
}

/**
 * The instant from which an at() schedule is finished (its time in its zone + the 60 s invocation
 * spread + flexible window + retry window + graceMs), or undefined when it is recurring or anything about it is unsure.
 */
export function finishedAtOf(
  schedule: ScheduleDefinition,
  options: Pick<DecideOptions, 'graceMs'>,
): Date | undefined {
  const timing = timingOf(schedule, options);
  return timing.kind === 'oneTime' ? timing.finishedAt : undefined;
}

function timingOf(schedule: ScheduleDefinition, options: Pick<DecideOptions, 'graceMs'>): Timing {
  checkGrace(options.graceMs);
  const expressionText = schedule.ScheduleExpression;
  if (expressionText === undefined || expressionText === null || expressionText === '') {
    return missing('ScheduleExpression', 'an at(), rate() or cron() expression');
  }
  if (typeof expressionText !== 'string')
    return invalidField('ScheduleExpression', 'a string', expressionText);
  const expression = parseExpression(expressionText);
  if (expression.kind === 'invalid') {
    return {
      kind: 'skipped',
      reason: SkipReason.unparseableExpression,
      detail: `ScheduleExpression: ${expression.reason}`,
    };
  }
  // Recurring schedules are never finished by this rule, whatever their StartDate and EndDate say.
  if (expression.kind !== 'at') return { kind: 'recurring' };

  const state = schedule.State;
  if (state === undefined || state === null) return missing('State', 'ENABLED or DISABLED');
  if (state !== 'ENABLED' && state !== 'DISABLED') return invalidField('State', 'ENABLED or DISABLED', state);

  const action = schedule.ActionAfterCompletion ?? 'NONE';
  if (action !== 'NONE' && action !== 'DELETE') {
    return invalidField('ActionAfterCompletion', 'NONE or DELETE', action);
  }

  const flexibleWindowMs = flexibleWindowMsOf(schedule);
  if (typeof flexibleWindowMs !== 'number') return flexibleWindowMs;
  const retryWindowMs = retryWindowMsOf(schedule);
  if (typeof retryWindowMs !== 'number') return retryWindowMs;

  const zoneName = schedule.ScheduleExpressionTimezone ?? undefined;
  if (zoneName !== undefined && typeof zoneName !== 'string') {
    return invalidField('ScheduleExpressionTimezone', 'a time zone name', zoneName);
  }
  const zone = resolveZone(zoneName);
  if (!zone.ok) return { kind: 'skipped', reason: SkipReason.unknownTimezone, detail: zone.reason };

  const firesAt = latestFiringInstant(expression.local, zone.zone);
  return {
    kind: 'oneTime',
    finishedAt: new Date(firesAt + invocationSpreadMs + flexibleWindowMs + retryWindowMs + options.graceMs),
    enabled: state === 'ENABLED',
    deleteAfterCompletion: action === 'DELETE',
  };
}

/**
 * The latest instant the schedule could be due. An ambiguous wall time (fall back) fires once, at
 * one of its two instants: take the later. A wall time in a gap (spring forward) never fires: take
 * the reading just after the gap, so the schedule is finished no earlier than any reading of it.
 */
function latestFiringInstant(local: LocalDateTime, zone: string): number {
  const resolution = resolveLocalTime(local, zone);
  if (resolution.kind === 'exact') return resolution.instant.getTime();
  if (resolution.kind === 'ambiguous') return resolution.later.getTime();
  return resolution.after.getTime();
}

function flexibleWindowMsOf(schedule: ScheduleDefinition): number | Timing {
  const window = schedule.FlexibleTimeWindow;
  if (window === undefined || window === null) return missing('FlexibleTimeWindow', 'Mode OFF or FLEXIBLE');
  const mode = window.Mode;
  if (mode === undefined || mode === null) return missing('FlexibleTimeWindow.Mode', 'OFF or FLEXIBLE');
  // AWS applies MaximumWindowInMinutes only in FLEXIBLE mode, so with OFF the field is ignored.
  if (mode === 'OFF') return 0;
  if (mode !== 'FLEXIBLE') return invalidField('FlexibleTimeWindow.Mode', 'OFF or FLEXIBLE', mode);
  const minutes = window.MaximumWindowInMinutes;
  if (!isIntegerIn(minutes, 1, 1440)) {
    return invalidField(
      'FlexibleTimeWindow.MaximumWindowInMinutes',
      'a whole number from 1 to 1440 when Mode is FLEXIBLE',
      minutes,
    );
  }
  return minutes * 60_000;
}

function retryWindowMsOf(schedule: ScheduleDefinition): number | Timing {
  const target = schedule.Target;
  if (target === undefined || target === null)
    return missing('Target', 'the schedule target with its RetryPolicy');
  const policy = target.RetryPolicy ?? undefined;
  const retryAttempts = policy?.MaximumRetryAttempts ?? undefined;
  if (retryAttempts !== undefined && !isIntegerIn(retryAttempts, 0, 185)) {
    return invalidField(
      'Target.RetryPolicy.MaximumRetryAttempts',
      'a whole number from 0 to 185',
      retryAttempts,
    );
  }
  // The event age bounds retries however few attempts are allowed, so it alone sets the window:
  // that never ends the window early, whatever MaximumRetryAttempts says.
  const eventAge = policy?.MaximumEventAgeInSeconds ?? undefined;
  if (eventAge === undefined) return defaultMaximumEventAgeSeconds * 1000;
  if (!isIntegerIn(eventAge, 60, 86_400)) {
    return invalidField(
      'Target.RetryPolicy.MaximumEventAgeInSeconds',
      'a whole number from 60 to 86400',
      eventAge,
    );
  }
  return eventAge * 1000;
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function missing(field: string, expected: string): Timing {
  return {
    kind: 'skipped',
    reason: SkipReason.missingFields,
    detail: `${field} is missing: expected ${expected}`,
  };
}

function invalidField(field: string, expected: string, got: unknown): Timing {
  return {
    kind: 'skipped',
    reason: SkipReason.invalidFields,
    detail: `${field}: expected ${expected}, got ${describe(got)}`,
  };
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 80 ? `${value.slice(0, 77)}...` : value}'`;
  if (typeof value === 'number' || value === null || value === undefined) return String(value);
  try {
    return JSON.stringify(value).slice(0, 80);
  } catch {
    return typeof value;
  }
}

function checkNow(now: Date): void {
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) {
    throw new InputError('now', 'a valid Date', String(now));
  }
}

function checkGrace(graceMs: number): void {
  if (typeof graceMs !== 'number' || !Number.isFinite(graceMs) || graceMs < 0) {
    throw new InputError('graceMs', 'a finite number of milliseconds, 0 or more', graceMs);
  }
}
