// What a schedule is inside the Scheduler emulator, and how a request becomes one: every member checked
// against the API model's constraints (scheduler-constraints.ts), the grammar the user guide adds
// (expressions, zones, dates), and the wall-clock arithmetic the emulator needs to know when a
// schedule with ActionAfterCompletion DELETE is due to disappear.
import { resolveZone } from '../../src/schedule/timezone.ts';
import { isCalendarDateTime, validation } from './core.ts';
import { checkMember, checkOptionalMember, constraintProblem, Shape } from './scheduler-constraints.ts';

export const ScheduleState = { enabled: 'ENABLED', disabled: 'DISABLED' } as const;
export type ScheduleStateValue = (typeof ScheduleState)[keyof typeof ScheduleState];

export const AfterCompletion = { none: 'NONE', delete: 'DELETE' } as const;
export type AfterCompletionValue = (typeof AfterCompletion)[keyof typeof AfterCompletion];

export const WindowMode = { off: 'OFF', flexible: 'FLEXIBLE' } as const;
export type WindowModeValue = (typeof WindowMode)[keyof typeof WindowMode];

/** Defaults AWS reports in GetSchedule when the creator left RetryPolicy (or one of its members) out. */
export const DEFAULT_MAXIMUM_EVENT_AGE_SECONDS = 86_400;
export const DEFAULT_MAXIMUM_RETRY_ATTEMPTS = 185;

/** The 256 KB payload limit of the Scheduler quotas page (see Shape.TargetInput). */
export const MAXIMUM_INPUT_LENGTH = Shape.TargetInput.max;

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

const OFFSET_ZONE_PATTERN = /^UTC([+-])(\d{2}):(\d{2})$/;
const AT_PATTERN = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/;
const RATE_PATTERN = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const TARGET_KEYS = new Set(['Arn', 'RoleArn', 'Input', 'RetryPolicy', 'DeadLetterConfig']);

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
  return constraintProblem(value, Shape.Name) === undefined;
}

/** A schedule or group name (both 1-64 of [0-9a-zA-Z-_.]), or ValidationException naming `field`. */
export function requireName(value: unknown, field: string): string {
  return checkMember(value, field, Shape.Name);
}

/** Turns a CreateSchedule / UpdateSchedule body (or a seed definition) into a definition, or throws ValidationException. */
export function parseDefinition(
  body: Record<string, unknown>,
  options: ParseOptions = {},
): ScheduleDefinition {
  const name = requireName(options.name ?? body.Name, 'Name');
  const group = checkMember(
    body.GroupName ?? options.defaultGroup ?? 'default',
    'GroupName',
    Shape.ScheduleGroupName,
  );
  // idempotencyToken: absent is fine (the service generates one); present, it must fit the shape.
  checkOptionalMember(body.ClientToken, 'ClientToken', Shape.ClientToken);

  if (body.ScheduleExpression === undefined || body.ScheduleExpression === null) {
    throw validation(
      'ScheduleExpression is required: at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(fields)',
    );
  }
  const expression = checkMember(body.ScheduleExpression, 'ScheduleExpression', Shape.ScheduleExpression);
  validateExpression(expression);

  const timezone = checkOptionalMember(
    body.ScheduleExpressionTimezone,
    'ScheduleExpressionTimezone',
    Shape.ScheduleExpressionTimezone,
  );
  if (timezone !== undefined && !options.allowUnknownZones && !isKnownZone(timezone)) {
    throw validation(
      `Invalid ScheduleExpressionTimezone '${timezone}': expected an IANA time zone spelt as the tz database spells it (America/New_York) or UTC+hh:mm / UTC-hh:mm up to 14:00`,
    );
  }

  const startDate = optionalTimestamp(body.StartDate, 'StartDate');
  const endDate = optionalTimestamp(body.EndDate, 'EndDate');
  if (startDate !== undefined && endDate !== undefined && endDate <= startDate) {
    throw validation('The EndDate you specify must be after the StartDate');
  }

  const description = checkOptionalMember(body.Description, 'Description', Shape.Description);
  const state = checkOptionalMember(body.State, 'State', Shape.ScheduleState) as
    | ScheduleStateValue
    | undefined;
  const kmsKeyArn = checkOptionalMember(body.KmsKeyArn, 'KmsKeyArn', Shape.KmsKeyArn);
  const actionAfterCompletion = checkOptionalMember(
    body.ActionAfterCompletion,
    'ActionAfterCompletion',
    Shape.ActionAfterCompletion,
  ) as AfterCompletionValue | undefined;

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
  if (value.Mode === undefined || value.Mode === null) {
    throw validation('FlexibleTimeWindow.Mode is required: OFF or FLEXIBLE');
  }
  const mode = checkMember(
    value.Mode,
    'FlexibleTimeWindow.Mode',
    Shape.FlexibleTimeWindowMode,
  ) as WindowModeValue;
  const minutes = checkOptionalMember(
    value.MaximumWindowInMinutes,
    'FlexibleTimeWindow.MaximumWindowInMinutes',
    Shape.MaximumWindowInMinutes,
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
    throw validation(
      'Target is required: {"Arn": "...", "RoleArn": "arn:<partition>:iam::<account>:role/<name>"}',
    );
  if (value.Arn === undefined || value.Arn === null) throw validation('Target.Arn is required');
  const targetArn = checkMember(value.Arn, 'Target.Arn', Shape.TargetArn);
  if (value.RoleArn === undefined || value.RoleArn === null) throw validation('Target.RoleArn is required');
  const roleArn = checkMember(value.RoleArn, 'Target.RoleArn', Shape.RoleArn);
  const input = checkOptionalMember(value.Input, 'Target.Input', Shape.TargetInput);

  let maximumEventAgeSeconds = DEFAULT_MAXIMUM_EVENT_AGE_SECONDS;
  let maximumRetryAttempts = DEFAULT_MAXIMUM_RETRY_ATTEMPTS;
  if (value.RetryPolicy !== undefined && value.RetryPolicy !== null) {
    if (!isObject(value.RetryPolicy)) throw validation('Target.RetryPolicy must be an object');
    const policy = value.RetryPolicy;
    maximumEventAgeSeconds =
      checkOptionalMember(
        policy.MaximumEventAgeInSeconds,
        'Target.RetryPolicy.MaximumEventAgeInSeconds',
        Shape.MaximumEventAgeInSeconds,
      ) ?? DEFAULT_MAXIMUM_EVENT_AGE_SECONDS;
    maximumRetryAttempts =
      checkOptionalMember(
        policy.MaximumRetryAttempts,
        'Target.RetryPolicy.MaximumRetryAttempts',
        Shape.MaximumRetryAttempts,
      ) ?? DEFAULT_MAXIMUM_RETRY_ATTEMPTS;
  }

  let deadLetterArn: string | undefined;
  if (value.DeadLetterConfig !== undefined && value.DeadLetterConfig !== null) {
    if (!isObject(value.DeadLetterConfig)) throw validation('Target.DeadLetterConfig must be an object');
    deadLetterArn = checkOptionalMember(
      value.DeadLetterConfig.Arn,
      'Target.DeadLetterConfig.Arn',
      Shape.DeadLetterConfigArnString,
    );
  }

  let targetExtra: Record<string, unknown> | undefined;
  for (const [key, member] of Object.entries(value)) {
    if (TARGET_KEYS.has(key) || member === undefined || member === null) continue;
    const check = TEMPLATED_TARGET_CHECKS[key];
    if (!check) throw validation(`Unknown Target member '${key}'`);
    if (!isObject(member)) throw validation(`Target.${key} must be an object`);
    check(member, `Target.${key}`);
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

/** The model's required members and constrained scalars of each templated-target parameter structure. */
const TEMPLATED_TARGET_CHECKS: Record<string, (value: Record<string, unknown>, path: string) => void> = {
  EcsParameters(value, path) {
    requireMember(value.TaskDefinitionArn, `${path}.TaskDefinitionArn`);
    checkMember(value.TaskDefinitionArn, `${path}.TaskDefinitionArn`, Shape.TaskDefinitionArn);
    checkOptionalMember(value.TaskCount, `${path}.TaskCount`, Shape.TaskCount);
  },
  EventBridgeParameters(value, path) {
    requireMember(value.DetailType, `${path}.DetailType`);
    checkMember(value.DetailType, `${path}.DetailType`, Shape.DetailType);
    requireMember(value.Source, `${path}.Source`);
    checkMember(value.Source, `${path}.Source`, Shape.Source);
  },
  KinesisParameters(value, path) {
    requireMember(value.PartitionKey, `${path}.PartitionKey`);
    checkMember(value.PartitionKey, `${path}.PartitionKey`, Shape.TargetPartitionKey);
  },
  SageMakerPipelineParameters(value, path) {
    const list = value.PipelineParameterList;
    if (list === undefined || list === null) return;
    if (!Array.isArray(list)) throw validation(`${path}.PipelineParameterList must be a list`);
    checkMember(list.length, `${path}.PipelineParameterList`, Shape.SageMakerPipelineParameterListLength);
    list.forEach((parameter: unknown, index) => {
      const item = isObject(parameter) ? parameter : {};
      const at = `${path}.PipelineParameterList.${index + 1}`;
      requireMember(item.Name, `${at}.Name`);
      checkMember(item.Name, `${at}.Name`, Shape.SageMakerPipelineParameterName);
      requireMember(item.Value, `${at}.Value`);
      checkMember(item.Value, `${at}.Value`, Shape.SageMakerPipelineParameterValue);
    });
  },
  SqsParameters(value, path) {
    checkOptionalMember(value.MessageGroupId, `${path}.MessageGroupId`, Shape.MessageGroupId);
  },
  // EventBridge's own PutEvents variants carry no constrained members in the model.
  EventBridgePutEventsV2Parameters() {},
  EventBridgePutRawEventsParameters() {},
};

function requireMember(value: unknown, member: string): void {
  if (value === undefined || value === null) {
    throw validation(
      `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
    );
  }
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
    // Scheduler documents no agreement between value and unit (rate(1 hours) and rate(5 minute) are
    // used in public configurations), so every combination is accepted, as the product's rule does.
    if (!match || value < 1) {
      throw validation(
        `Invalid Schedule Expression ${expression}: expected rate(value unit), value a positive integer, ` +
          'unit minute|minutes|hour|hours|day|days',
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

const zoneFormatters = new Map<string, Intl.DateTimeFormat>();

/**
 * A zone the emulator accepts and applies. Which names AWS accepts is not documented (the model sets
 * only 1-50 characters), so the emulator makes the product's documented choice rather than its own:
 * resolveZone in src/schedule/timezone.ts (IANA names spelt as the tz database spells them, and
 * UTC+hh:mm / UTC-hh:mm up to 14:00). A zone the product would keep as unknown is refused at create
 * here, and never applied when auto-deleting a seeded schedule.
 */
export function isKnownZone(zone: string): boolean {
  return resolveZone(zone).ok;
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
  if (!isKnownZone(zone)) return undefined;
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

/**
 * A timestamp as the SDK sends it (epoch seconds, a JSON number), or as seeding may give it: a Date,
 * an ISO 8601 string, or a numeric string of epoch seconds.
 */
export function optionalTimestamp(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  let ms = Number.NaN;
  if (value instanceof Date) ms = value.getTime();
  else if (typeof value === 'number') ms = Math.round(value * 1000);
  else if (typeof value === 'string') {
    // A time must name a real instant: Date.parse would read 30 February as 2 March, and a time
    // without a zone in the machine's own.
    if (/^\d+(\.\d+)?$/.test(value)) ms = Math.round(Number(value) * 1000);
    else if (isCalendarDateTime(value)) ms = Date.parse(value);
  }
  if (!Number.isFinite(ms)) {
    throw validation(`${field} must be a timestamp (epoch seconds or ISO 8601), got ${describe(value)}`);
  }
  return ms;
}
