// What a schedule is inside the Scheduler emulator, and how a request becomes one: the validation
// rules of the AWS API model (botocore scheduler/2021-06-30) and the wall-clock arithmetic the emulator
// needs to know when a schedule with ActionAfterCompletion DELETE is due to disappear.
import { validation } from './core.ts';

export const ScheduleState = { enabled: 'ENABLED', disabled: 'DISABLED' } as const;
export type ScheduleStateValue = (typeof ScheduleState)[keyof typeof ScheduleState];

export const AfterCompletion = { none: 'NONE', delete: 'DELETE' } as const;
export type AfterCompletionValue = (typeof AfterCompletion)[keyof typeof AfterCompletion];

export const WindowMode = { off: 'OFF', flexible: 'FLEXIBLE' } as const;
export type WindowModeValue = (typeof WindowMode)[keyof typeof WindowMode];

/** Defaults AWS reports in GetSchedule when the creator left RetryPolicy (or one of its members) out. */
export const DEFAULT_MAXIMUM_EVENT_AGE_SECONDS = 86_400;
export const DEFAULT_MAXIMUM_RETRY_ATTEMPTS = 185;

/**
 * The Scheduler quota page lists a 256 KB payload limit; the API model itself sets only a minimum of 1
 * for Target.Input, so this is the documented service limit rather than a model constraint.
 */
export const MAXIMUM_INPUT_LENGTH = 262_144;

/** A validated schedule definition. Dates are epoch milliseconds; strings are interned. */
export interface ScheduleDefinition {
  name: string;
  group: string;
  expression: string;
  timezone: string | undefined;
  startDate: number | undefined;
  endDate: number | undefined;
  description: string | undefined;
  state: ScheduleStateValue;
  kmsKeyArn: string | undefined;
  windowMode: WindowModeValue;
  windowMinutes: number | undefined;
  actionAfterCompletion: AfterCompletionValue;
  targetArn: string;
  roleArn: string;
  input: string | undefined;
  maximumEventAgeSeconds: number;
  maximumRetryAttempts: number;
  deadLetterArn: string | undefined;
  /** Templated-target parameters (EcsParameters, SqsParameters, ...), kept as sent. */
  targetExtra: Record<string, unknown> | undefined;
  creationDate: number | undefined;
  lastModificationDate: number | undefined;
}

export interface ParseOptions {
  /** The group to use when the definition names none (the URI's query for Get/Delete, `default` otherwise). */
  defaultGroup?: string;
  /** Name taken from the request path; overrides any Name in the body. */
  name?: string;
  /**
   * Accept a ScheduleExpressionTimezone this runtime cannot resolve. Only seeding uses it, to stand in for
   * zones that AWS's time-zone database knew when the schedule was created and this runtime does not.
   */
  allowUnknownZones?: boolean;
  /** Accept CreationDate / LastModificationDate overrides (seeding only). */
  allowDates?: boolean;
}

const NAME_PATTERN = /^[0-9a-zA-Z\-_.]{1,64}$/;
const ROLE_ARN_PATTERN = /^arn:aws(-[a-z]+)?:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const KMS_ARN_PATTERN = /^arn:aws(-[a-z]+)?:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[0-9a-zA-Z\-_]*$/;
const DEAD_LETTER_ARN_PATTERN = /^arn:aws(-[a-z]+)?:sqs:[a-z0-9-]+:\d{12}:[a-zA-Z0-9\-_]+$/;
const OFFSET_ZONE_PATTERN = /^UTC([+-])(\d{2}):(\d{2})$/;
const AT_PATTERN = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/;
const RATE_PATTERN = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const TARGET_KEYS = new Set(['Arn', 'RoleArn', 'Input', 'RetryPolicy', 'DeadLetterConfig']);
const TEMPLATED_TARGET_KEYS = new Set([
  'EcsParameters',
  'EventBridgeParameters',
  'EventBridgePutEventsV2Parameters',
  'EventBridgePutRawEventsParameters',
  'KinesisParameters',
  'SageMakerPipelineParameters',
  'SqsParameters',
]);

// Repeated strings (target and role ARNs, zones, inputs shared by many schedules) are stored once, so
// a million schedules cost a million names, not a million copies of the same ARN. The pool is capped so
// unique values cannot grow it without bound.
const INTERN_LIMIT = 200_000;
const internPool = new Map<string, string>();

export function intern(value: string): string;
export function intern(value: string | undefined): string | undefined;
export function intern(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const known = internPool.get(value);
  if (known !== undefined) return known;
  if (internPool.size < INTERN_LIMIT) internPool.set(value, value);
  return value;
}

export function isValidName(value: unknown): value is string {
  return typeof value === 'string' && NAME_PATTERN.test(value);
}

export function requireName(value: unknown, field: string): string {
  if (!isValidName(value)) {
    throw validation(
      `Value ${describe(value)} at '${field}' failed to satisfy constraint: ` +
        'Member must have length between 1 and 64 and match pattern [0-9a-zA-Z-_.]+',
    );
  }
  return value;
}

/** Turns a CreateSchedule / UpdateSchedule body (or a seed definition) into a definition, or throws ValidationException. */
export function parseDefinition(
  body: Record<string, unknown>,
  options: ParseOptions = {},
): ScheduleDefinition {
  const name = requireName(options.name ?? body.Name, 'name');
  const group = requireName(body.GroupName ?? options.defaultGroup ?? 'default', 'groupName');

  const expression = body.ScheduleExpression;
  if (typeof expression !== 'string' || expression.length === 0) {
    throw validation(
      'ScheduleExpression is required: at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(fields)',
    );
  }
  if (expression.length > 256) throw validation('ScheduleExpression must be at most 256 characters');
  validateExpression(expression);

  const timezone = optionalString(body.ScheduleExpressionTimezone, 'ScheduleExpressionTimezone', 1, 50);
  if (timezone !== undefined && !options.allowUnknownZones && !isKnownZone(timezone)) {
    throw validation(
      `Invalid ScheduleExpressionTimezone '${timezone}': expected an IANA time zone such as America/New_York`,
    );
  }

  const startDate = optionalTimestamp(body.StartDate, 'StartDate');
  const endDate = optionalTimestamp(body.EndDate, 'EndDate');
  if (startDate !== undefined && endDate !== undefined && endDate <= startDate) {
    throw validation('The EndDate you specify must be after the StartDate');
  }

  const description = optionalString(body.Description, 'Description', 0, 512);
  const state = optionalEnum(body.State, 'State', [ScheduleState.enabled, ScheduleState.disabled]);
  const kmsKeyArn = optionalString(body.KmsKeyArn, 'KmsKeyArn', 1, 2048);
  if (kmsKeyArn !== undefined && !KMS_ARN_PATTERN.test(kmsKeyArn)) {
    throw validation(`Invalid KmsKeyArn '${kmsKeyArn}': expected arn:aws:kms:<region>:<account>:key/<id>`);
  }
  const actionAfterCompletion = optionalEnum(body.ActionAfterCompletion, 'ActionAfterCompletion', [
    AfterCompletion.none,
    AfterCompletion.delete,
  ]);

  const window = parseWindow(body.FlexibleTimeWindow);
  const target = parseTarget(body.Target);

  let creationDate: number | undefined;
  let lastModificationDate: number | undefined;
  if (options.allowDates) {
    creationDate = optionalTimestamp(body.CreationDate, 'CreationDate');
    lastModificationDate = optionalTimestamp(body.LastModificationDate, 'LastModificationDate');
  }

  return {
    name,
    group: intern(group),
    expression,
    timezone: intern(timezone),
    startDate,
    endDate,
    description: intern(description),
    state: state ?? ScheduleState.enabled,
    kmsKeyArn: intern(kmsKeyArn),
    windowMode: window.mode,
    windowMinutes: window.minutes,
    actionAfterCompletion: actionAfterCompletion ?? AfterCompletion.none,
    ...target,
    creationDate,
    lastModificationDate,
  };
}

function parseWindow(value: unknown): { mode: WindowModeValue; minutes: number | undefined } {
  if (!isObject(value)) {
    throw validation(
      'FlexibleTimeWindow is required: {"Mode":"OFF"} or {"Mode":"FLEXIBLE","MaximumWindowInMinutes":1-1440}',
    );
  }
  const mode = optionalEnum(value.Mode, 'FlexibleTimeWindow.Mode', [WindowMode.off, WindowMode.flexible]);
  if (mode === undefined) throw validation('FlexibleTimeWindow.Mode is required: OFF or FLEXIBLE');
  const minutes = optionalInteger(
    value.MaximumWindowInMinutes,
    'FlexibleTimeWindow.MaximumWindowInMinutes',
    1,
    1440,
  );
  if (mode === WindowMode.flexible && minutes === undefined) {
    throw validation('FlexibleTimeWindow.MaximumWindowInMinutes (1-1440) is required when Mode is FLEXIBLE');
  }
  if (mode === WindowMode.off && minutes !== undefined) {
    throw validation('FlexibleTimeWindow.MaximumWindowInMinutes must not be set when Mode is OFF');
  }
  return { mode, minutes };
}

type TargetFields = Pick<
  ScheduleDefinition,
  | 'targetArn'
  | 'roleArn'
  | 'input'
  | 'maximumEventAgeSeconds'
  | 'maximumRetryAttempts'
  | 'deadLetterArn'
  | 'targetExtra'
>;

function parseTarget(value: unknown): TargetFields {
  if (!isObject(value))
    throw validation('Target is required: {"Arn": "...", "RoleArn": "arn:aws:iam::<account>:role/<name>"}');
  const targetArn = optionalString(value.Arn, 'Target.Arn', 1, 1600);
  if (targetArn === undefined) throw validation('Target.Arn is required');
  const roleArn = optionalString(value.RoleArn, 'Target.RoleArn', 1, 1600);
  if (roleArn === undefined) throw validation('Target.RoleArn is required');
  if (!ROLE_ARN_PATTERN.test(roleArn)) {
    throw validation(
      `Invalid Target.RoleArn '${roleArn}': expected arn:aws:iam::<12-digit account>:role/<name>`,
    );
  }
  const input = optionalString(value.Input, 'Target.Input', 1, MAXIMUM_INPUT_LENGTH);

  let maximumEventAgeSeconds = DEFAULT_MAXIMUM_EVENT_AGE_SECONDS;
  let maximumRetryAttempts = DEFAULT_MAXIMUM_RETRY_ATTEMPTS;
  if (value.RetryPolicy !== undefined && value.RetryPolicy !== null) {
    if (!isObject(value.RetryPolicy)) throw validation('Target.RetryPolicy must be an object');
    const policy = value.RetryPolicy;
    maximumEventAgeSeconds =
      optionalInteger(
        policy.MaximumEventAgeInSeconds,
        'Target.RetryPolicy.MaximumEventAgeInSeconds',
        60,
        86_400,
      ) ?? DEFAULT_MAXIMUM_EVENT_AGE_SECONDS;
    maximumRetryAttempts =
      optionalInteger(policy.MaximumRetryAttempts, 'Target.RetryPolicy.MaximumRetryAttempts', 0, 185) ??
      DEFAULT_MAXIMUM_RETRY_ATTEMPTS;
  }

  let deadLetterArn: string | undefined;
  if (value.DeadLetterConfig !== undefined && value.DeadLetterConfig !== null) {
    if (!isObject(value.DeadLetterConfig)) throw validation('Target.DeadLetterConfig must be an object');
    deadLetterArn = optionalString(value.DeadLetterConfig.Arn, 'Target.DeadLetterConfig.Arn', 1, 1600);
    if (deadLetterArn !== undefined && !DEAD_LETTER_ARN_PATTERN.test(deadLetterArn)) {
      throw validation(`Invalid Target.DeadLetterConfig.Arn '${deadLetterArn}': expected an SQS queue ARN`);
    }
  }

  let targetExtra: Record<string, unknown> | undefined;
  for (const [key, member] of Object.entries(value)) {
    if (TARGET_KEYS.has(key) || member === undefined || member === null) continue;
    if (!TEMPLATED_TARGET_KEYS.has(key)) throw validation(`Unknown Target member '${key}'`);
    targetExtra ??= {};
    targetExtra[key] = member;
  }

  return {
    targetArn: intern(targetArn),
    roleArn: intern(roleArn),
    input: intern(input),
    maximumEventAgeSeconds,
    maximumRetryAttempts,
    deadLetterArn: intern(deadLetterArn),
    targetExtra,
  };
}

// ---------------------------------------------------------------------------------------------------
// Expressions

export function validateExpression(expression: string): void {
  if (expression.startsWith('at(')) {
    if (parseAt(expression) === undefined) {
      throw validation(
        `Invalid Schedule Expression ${expression}: expected at(yyyy-mm-ddThh:mm:ss) with a real date`,
      );
    }
    return;
  }
  if (expression.startsWith('rate(')) {
    const match = RATE_PATTERN.exec(expression);
    const value = Number(match?.[1]);
    // As in AWS: a value of 1 takes the singular unit, larger values the plural (rate(1 hours) is invalid).
    const singular = match?.[2]?.endsWith('s') === false;
    if (!match || value < 1 || singular !== (value === 1)) {
      throw validation(
        `Invalid Schedule Expression ${expression}: expected rate(value unit), value a positive integer, ` +
          'unit minute|hour|day when the value is 1, minutes|hours|days above 1',
      );
    }
    return;
  }
  if (expression.startsWith('cron(') && expression.endsWith(')')) {
    const problem = cronProblem(expression.slice(5, -1));
    if (problem) throw validation(`Invalid Schedule Expression ${expression}: ${problem}`);
    return;
  }
  throw validation(
    `Invalid Schedule Expression ${expression}: expected at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(fields)`,
  );
}

/** The wall-clock fields of an at() expression, or undefined when it is not one or names no real date. */
export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

export function parseAt(expression: string): WallClock | undefined {
  const match = AT_PATTERN.exec(expression);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59 || day < 1) return undefined;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > daysInMonth) return undefined;
  return { year, month, day, hour, minute, second };
}

export function formatAt(instantMs: number): string {
  return `at(${new Date(instantMs).toISOString().slice(0, 19)})`;
}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface CronField {
  label: string;
  min: number;
  max: number;
  names?: string[];
  /** Characters beyond numbers, ranges, lists and steps that this field allows. */
  special: 'dom' | 'dow' | 'none';
}

const CRON_FIELDS: CronField[] = [
  { label: 'minutes', min: 0, max: 59, special: 'none' },
  { label: 'hours', min: 0, max: 23, special: 'none' },
  { label: 'day-of-month', min: 1, max: 31, special: 'dom' },
  { label: 'month', min: 1, max: 12, names: MONTH_NAMES, special: 'none' },
  { label: 'day-of-week', min: 1, max: 7, names: DAY_NAMES, special: 'dow' },
  { label: 'year', min: 1970, max: 2199, special: 'none' },
];

function cronProblem(body: string): string | undefined {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6) {
    return `expected 6 fields (minutes hours day-of-month month day-of-week year), got ${fields.length}`;
  }
  const dayOfMonth = fields[2]!;
  const dayOfWeek = fields[4]!;
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    return 'exactly one of day-of-month and day-of-week must be ?';
  }
  for (let index = 0; index < 6; index += 1) {
    const field = CRON_FIELDS[index]!;
    const text = fields[index]!;
    if (!cronFieldValid(text, field)) return `invalid ${field.label} field '${text}'`;
  }
  return undefined;
}

function cronFieldValid(text: string, field: CronField): boolean {
  if (text === '?') return field.special !== 'none';
  if (field.special === 'dom' && (text === 'L' || /^L-\d{1,2}$/.test(text) || text === 'LW')) return true;
  if (field.special === 'dom' && /^\d{1,2}W$/.test(text))
    return cronValue(text.slice(0, -1), field) !== undefined;
  if (field.special === 'dow') {
    const hash = /^(\w+)#([1-5])$/.exec(text);
    if (hash) return cronValue(hash[1]!, field) !== undefined;
    const last = /^(\w+)L$/.exec(text);
    if (last) return cronValue(last[1]!, field) !== undefined;
    if (text === 'L') return true;
  }
  return text.split(',').every((item) => {
    const [range, step, ...rest] = item.split('/');
    if (rest.length > 0 || range === undefined) return false;
    if (step !== undefined && !/^\d+$/.test(step)) return false;
    if (range === '*') return true;
    const bounds = range.split('-');
    if (bounds.length > 2) return false;
    return bounds.every((bound) => cronValue(bound, field) !== undefined);
  });
}

function cronValue(text: string, field: CronField): number | undefined {
  if (/^\d+$/.test(text)) {
    const value = Number(text);
    return value >= field.min && value <= field.max ? value : undefined;
  }
  const index = field.names?.indexOf(text.toUpperCase()) ?? -1;
  return index >= 0 ? index + field.min : undefined;
}

// ---------------------------------------------------------------------------------------------------
// Time zones

const zoneValidity = new Map<string, boolean>();
const zoneFormatters = new Map<string, Intl.DateTimeFormat>();

/** A zone AWS accepts: an IANA name this runtime resolves, or a fixed offset written UTC±hh:mm. */
export function isKnownZone(zone: string): boolean {
  let known = zoneValidity.get(zone);
  if (known === undefined) {
    known = OFFSET_ZONE_PATTERN.test(zone) || formatterFor(zone) !== undefined;
    zoneValidity.set(zone, known);
  }
  return known;
}

function formatterFor(zone: string): Intl.DateTimeFormat | undefined {
  let formatter = zoneFormatters.get(zone);
  if (formatter) return formatter;
  // Intl accepts a few forms AWS does not (such as "+05:00"); only names with letters count.
  if (!/^[A-Za-z]/.test(zone)) return undefined;
  try {
    formatter = new Intl.DateTimeFormat('en-US', {
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
  zoneFormatters.set(zone, formatter);
  return formatter;
}

/** Offset of the zone from UTC at the given instant, in milliseconds (local = utc + offset). */
function zoneOffsetMs(zone: string, instantMs: number): number | undefined {
  const fixed = OFFSET_ZONE_PATTERN.exec(zone);
  if (fixed) {
    const sign = fixed[1] === '-' ? -1 : 1;
    return sign * (Number(fixed[2]) * 60 + Number(fixed[3])) * 60_000;
  }
  const formatter = formatterFor(zone);
  if (!formatter) return undefined;
  const parts: Record<string, number> = {};
  for (const part of formatter.formatToParts(instantMs)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const local = Date.UTC(
    parts.year ?? 0,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
    parts.second ?? 0,
  );
  return local - Math.floor(instantMs / 1000) * 1000;
}

/**
 * The instant a wall-clock time names in a zone. Undefined when the zone is unknown or the time does
 * not exist there (a spring-forward gap, so the at() never fires). An ambiguous time (fall back) is the
 * earlier instant, the one at which Scheduler fires.
 */
export function wallClockToInstant(wall: WallClock, zone: string | undefined): number | undefined {
  const localMs = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  if (zone === undefined || zone === 'UTC') return localMs;
  const day = 86_400_000;
  const before = zoneOffsetMs(zone, localMs - day);
  const after = zoneOffsetMs(zone, localMs + day);
  if (before === undefined || after === undefined) return undefined;
  const candidates = [localMs - before, localMs - after].sort((left, right) => left - right);
  for (const candidate of candidates) {
    if (zoneOffsetMs(zone, candidate) === localMs - candidate) return candidate;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Small readers

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown, field: string, min: number, max: number): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw validation(`${field} must be a string, got ${describe(value)}`);
  if (value.length < min || value.length > max) {
    throw validation(`${field} must have length between ${min} and ${max}, got ${value.length}`);
  }
  return value;
}

function optionalInteger(value: unknown, field: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw validation(`${field} must be an integer from ${min} to ${max}, got ${describe(value)}`);
  }
  return value;
}

function optionalEnum<T extends string>(value: unknown, field: string, allowed: readonly T[]): T | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw validation(`${field} must be one of ${allowed.join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

/**
 * A timestamp as the SDK sends it (epoch seconds, a JSON number), or as seeding may give it: a Date,
 * an ISO 8601 string, or a numeric string of epoch seconds.
 */
export function optionalTimestamp(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  let ms = Number.NaN;
  if (value instanceof Date) ms = value.getTime();
  else if (typeof value === 'number') ms = Math.round(value * 1000);
  else if (typeof value === 'string')
    ms = /^\d+(\.\d+)?$/.test(value) ? Math.round(Number(value) * 1000) : Date.parse(value);
  if (!Number.isFinite(ms)) {
    throw validation(`${field} must be a timestamp (epoch seconds or ISO 8601), got ${describe(value)}`);
  }
  return ms;
}
