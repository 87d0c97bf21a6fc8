// Turns a caller's request into the exact CreateSchedule input, or an InputError naming the field
// and the expected form. Pure (the clock is passed in), so every rule is tested without AWS, and
// nothing is sent unless the whole request is valid. ActionAfterCompletion is always DELETE.
// Every member sent is held to the API model's constraints in constraints.ts.
import { createHash, randomBytes } from 'node:crypto';
import type { CreateScheduleCommandInput } from '@aws-sdk/client-scheduler';
import { InputError } from '../errors.ts';
import {
  formatAtExpression,
  type LocalDateTime,
  parseExpression,
  parseLocalDateTime,
} from '../schedule/expression.ts';
import { resolveLocalTime, resolveZone } from '../schedule/timezone.ts';
import { parseIsoInstant, suggestion } from '../validate.ts';
import { CreateScheduleMember, requireMember } from './constraints.ts';

const PARTITION = 'aws(?:-[a-z]+)*';
const REGION = '[a-z]{2}(?:-[a-z]+)+-\\d{1,2}';
const ACCOUNT = '\\d{12}';

/**
 * The target ARNs the create path understands (the model itself sets only 1-1600 characters):
 * a templated target, arn:<partition>:<service>:<region>:<account>:<resource>, or a universal target,
 * arn:<partition>:scheduler:::aws-sdk:<service>:<apiAction> (Scheduler user guide, "Universal targets").
 */
export const TARGET_ARN_PATTERN = new RegExp(
  `^arn:${PARTITION}:(?:[a-z0-9-]+:${REGION}:${ACCOUNT}:\\S+|scheduler:::aws-sdk:[a-z0-9.-]+:[a-zA-Z0-9]+)$`,
);
/** The model's RoleArn pattern (constraints.ts). */
export const ROLE_ARN_PATTERN = CreateScheduleMember['Target.RoleArn'].pattern;
/** The model's dead-letter queue pattern (constraints.ts): no FIFO queues. */
export const QUEUE_ARN_PATTERN = CreateScheduleMember['Target.DeadLetterConfig.Arn'].pattern;
/** The model's ScheduleGroupName (constraints.ts) as one expression, length included. */
export const SCHEDULE_GROUP_PATTERN = new RegExp(
  `^[0-9a-zA-Z\\-_.]{${CreateScheduleMember.GroupName.min},${CreateScheduleMember.GroupName.max}}$`,
);

export const MAX_NAME_LENGTH = CreateScheduleMember.Name.max;
export const SUFFIX_LENGTH = 24;
/** Room left for a caller's prefix in `<prefix>-<suffix>`. */
export const MAX_PREFIX_LENGTH = MAX_NAME_LENGTH - 1 - SUFFIX_LENGTH;
/** Scheduler's target payload limit: 256 KB, counted in UTF-8 bytes of the serialized input. */
export const MAX_INPUT_BYTES = CreateScheduleMember['Target.Input'].max;
export const MIN_LEAD_MS = 60_000;

export interface RetryInput {
  /** 60-86400; Scheduler's default when unset is 86400. */
  maximumEventAgeSeconds?: number;
  /** 0-185; Scheduler's default when unset is 185. */
  maximumRetryAttempts?: number;
}

interface CommonInput {
  targetArn: string;
  /** Any JSON value; sent to the target serialized (at most 256 KB). */
  input?: unknown;
  flexibleWindowMinutes?: number;
  retry?: RetryInput;
  deadLetterArn?: string;
  groupName?: string;
  roleArn?: string;
  /** The name is `<namePrefix or businessId>-<suffix>`; pass at most one of the two. */
  namePrefix?: string;
  businessId?: string;
  /** The same key always maps to the same name and ClientToken, so a retry never makes a second schedule. */
  idempotencyKey?: string;
  description?: string;
}

/** One-time schedule: `at` (local wall-clock time in `timezone`, default UTC) or `runAt` (an instant). */
export interface CreateInput extends CommonInput {
  at?: string;
  timezone?: string;
  runAt?: string;
}

/** Recurring schedule: rate() or cron(), accepted only with an endDate so that DELETE can take effect. */
export interface RecurringInput extends CommonInput {
  expression: string;
  timezone?: string;
  startDate?: string;
  endDate: string;
}

export interface ScheduleDefaults {
  groupName: string;
  roleArn: string;
}

export interface SchedulePlan {
  name: string;
  groupName: string;
  scheduleExpression: string;
  timezone: string;
  /** When a one-time schedule fires (or a recurring one stops), as an instant. */
  runsAt?: Date;
  endDate?: Date;
  /** Set only with an idempotency key (hash of the key and the request); otherwise the SDK fills one. */
  clientToken?: string;
  request: CreateScheduleCommandInput;
}

const COMMON_FIELDS = [
  'targetArn',
  'input',
  'flexibleWindowMinutes',
  'retry',
  'deadLetterArn',
  'groupName',
  'roleArn',
  'namePrefix',
  'businessId',
  'idempotencyKey',
  'description',
] as const;

export const ONE_TIME_FIELDS = ['at', 'timezone', 'runAt', ...COMMON_FIELDS] as const;
export const RECURRING_FIELDS = ['expression', 'timezone', 'startDate', 'endDate', ...COMMON_FIELDS] as const;
const RETRY_FIELDS = ['maximumEventAgeSeconds', 'maximumRetryAttempts'] as const;

/** Validates a one-time request (also untyped invoke payloads) and builds the CreateSchedule input. */
export function planOneTimeSchedule(input: unknown, defaults: ScheduleDefaults, now: Date): SchedulePlan {
  const fields = requireObject(input, 'payload', ONE_TIME_FIELDS);
  const time = resolveRunTime(fields, now);
  return assemble(fields, defaults, {
    scheduleExpression: time.expression,
    timezone: time.timezone,
    runsAt: time.runsAt,
  });
}

/** Validates a recurring request; an EndDate is required so that ActionAfterCompletion DELETE ever applies. */
export function planRecurringSchedule(input: unknown, defaults: ScheduleDefaults, now: Date): SchedulePlan {
  const fields = requireObject(input, 'payload', RECURRING_FIELDS);
  const expression = optionalString(fields, 'expression');
  if (expression !== undefined) requireMember('ScheduleExpression', 'expression', expression);
  const kind = parseExpression(expression).kind;
  if (expression === undefined || (kind !== 'rate' && kind !== 'cron')) {
    throw new InputError(
      'expression',
      "rate(<n> minute|minutes|hour|hours|day|days) or cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>); for one time use createOneTimeSchedule with 'at'",
      expression,
    );
  }
  const { timezone } = resolveTimezone(fields);
  const endText = optionalString(fields, 'endDate');
  const endExpected =
    'an ISO instant with Z or an offset (e.g. 2026-12-31T00:00:00Z) when the schedule stops, so that ActionAfterCompletion DELETE can remove it';
  if (endText === undefined) throw new InputError('endDate', endExpected);
  const endDate = parseInstant(endText);
  if (!endDate) throw new InputError('endDate', endExpected, endText);
  requireLead('endDate', endText, endDate, now);
  const startText = optionalString(fields, 'startDate');
  let startDate: Date | undefined;
  if (startText !== undefined) {
    startDate = parseInstant(startText);
    if (!startDate || startDate >= endDate) {
      throw new InputError(
        'startDate',
        `an ISO instant with Z or an offset, before endDate (${endText})`,
        startText,
      );
    }
  }
  return assemble(fields, defaults, {
    scheduleExpression: expression,
    timezone,
    endDate,
    ...(startDate ? { startDate } : {}),
  });
}

interface Timing {
  scheduleExpression: string;
  timezone: string;
  runsAt?: Date;
  startDate?: Date;
  endDate?: Date;
}

function assemble(fields: Record<string, unknown>, defaults: ScheduleDefaults, timing: Timing): SchedulePlan {
  const targetArn = requireMember(
    'Target.Arn',
    'targetArn',
    optionalString(fields, 'targetArn'),
    'arn:aws:lambda:us-east-1:123456789012:function:my-function or arn:aws:scheduler:::aws-sdk:sqs:sendMessage',
  );
  if (!TARGET_ARN_PATTERN.test(targetArn)) {
    throw new InputError(
      'targetArn',
      'a templated target ARN arn:<partition>:<service>:<region>:<account>:<resource> (e.g. arn:aws:lambda:us-east-1:123456789012:function:my-function) or a universal target arn:<partition>:scheduler:::aws-sdk:<service>:<apiAction> (e.g. arn:aws:scheduler:::aws-sdk:sqs:sendMessage)',
      targetArn,
    );
  }
  const roleArn = requireMember(
    'Target.RoleArn',
    'roleArn',
    optionalString(fields, 'roleArn') ?? defaults.roleArn,
    'arn:aws:iam::123456789012:role/scheduler-invoke',
  );
  const groupName = requireMember(
    'GroupName',
    'groupName',
    optionalString(fields, 'groupName') ?? defaults.groupName,
  );
  const deadLetterArn = optionalString(fields, 'deadLetterArn');
  if (deadLetterArn !== undefined) {
    requireMember(
      'Target.DeadLetterConfig.Arn',
      'deadLetterArn',
      deadLetterArn,
      'arn:aws:sqs:us-east-1:123456789012:my-dlq',
    );
  }
  const serializedInput = serializeInput(fields);
  const flexibleWindowMinutes = optionalMember(
    fields,
    'flexibleWindowMinutes',
    'FlexibleTimeWindow.MaximumWindowInMinutes',
  );
  const retry = readRetry(fields);
  const description = optionalString(fields, 'description');
  if (description !== undefined) requireMember('Description', 'description', description);
  const idempotencyKey = optionalString(fields, 'idempotencyKey');
  if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > 256)) {
    throw new InputError('idempotencyKey', 'a string of 1-256 characters', idempotencyKey);
  }
  const name = requireMember('Name', 'name', buildName(fields, idempotencyKey));
  const request: CreateScheduleCommandInput = {
    Name: name,
    GroupName: groupName,
    ScheduleExpression: timing.scheduleExpression,
    ScheduleExpressionTimezone: timing.timezone,
    FlexibleTimeWindow:
      flexibleWindowMinutes === undefined
        ? { Mode: 'OFF' }
        : { Mode: 'FLEXIBLE', MaximumWindowInMinutes: flexibleWindowMinutes },
    // The point of this path: the schedule removes itself after its last invocation.
    ActionAfterCompletion: 'DELETE',
    State: 'ENABLED',
    Target: {
      Arn: targetArn,
      RoleArn: roleArn,
      ...(serializedInput === undefined ? {} : { Input: serializedInput }),
      ...(retry ? { RetryPolicy: retry } : {}),
      ...(deadLetterArn ? { DeadLetterConfig: { Arn: deadLetterArn } } : {}),
    },
    ...(description === undefined ? {} : { Description: description }),
    ...(timing.startDate ? { StartDate: timing.startDate } : {}),
    ...(timing.endDate ? { EndDate: timing.endDate } : {}),
  };
  // The token covers the key and the request itself: an identical retry is idempotent, while the
  // same key with a different request conflicts on the name and is then compared and refused.
  const clientToken =
    idempotencyKey === undefined
      ? undefined
      : digest('client-token', `${idempotencyKey}\n${JSON.stringify(request)}`);
  if (clientToken !== undefined)
    request.ClientToken = requireMember('ClientToken', 'idempotencyKey', clientToken);
  return {
    name,
    groupName,
    scheduleExpression: timing.scheduleExpression,
    timezone: timing.timezone,
    ...(timing.runsAt ? { runsAt: timing.runsAt } : {}),
    ...(timing.endDate ? { endDate: timing.endDate } : {}),
    ...(clientToken === undefined ? {} : { clientToken }),
    request,
  };
}

function resolveRunTime(
  fields: Record<string, unknown>,
  now: Date,
): { expression: string; timezone: string; runsAt: Date } {
  const at = optionalString(fields, 'at');
  const runAt = optionalString(fields, 'runAt');
  if (at !== undefined && runAt !== undefined) {
    throw new InputError(
      'runAt',
      "either 'at' (a local date-time, with timezone) or 'runAt' (an instant), not both",
      runAt,
    );
  }
  if (runAt !== undefined) {
    if (fields.timezone !== undefined) {
      throw new InputError(
        'timezone',
        "no timezone with 'runAt' (an instant carries its own offset); use 'at' for a wall-clock time in a zone",
        fields.timezone,
      );
    }
    const instant = parseInstant(runAt);
    if (!instant) {
      throw new InputError('runAt', 'an ISO instant with Z or an offset, e.g. 2026-12-01T08:00:00Z', runAt);
    }
    // at() counts whole seconds; milliseconds are dropped.
    const runsAt = new Date(Math.floor(instant.getTime() / 1000) * 1000);
    requireLead('runAt', runAt, runsAt, now);
    return { expression: formatAtExpression(utcParts(runsAt)), timezone: 'UTC', runsAt };
  }
  if (at === undefined) {
    throw new InputError(
      'at',
      "a local date-time 'yyyy-mm-ddThh:mm:ss' (with an optional timezone), or 'runAt' with an ISO instant",
    );
  }
  const local = parseLocalDateTime(at);
  if (!local) {
    throw new InputError(
      'at',
      "a real local date-time of the form 'yyyy-mm-ddThh:mm:ss', e.g. 2026-12-01T09:00:00",
      at,
    );
  }
  const { zone, timezone } = resolveTimezone(fields);
  const resolved = resolveLocalTime(local, zone);
  if (resolved.kind === 'gap') {
    const gapMinutes = Math.round((resolved.after.getTime() - resolved.before.getTime()) / 60_000);
    throw new InputError(
      'at',
      `a wall-clock time that exists in ${timezone}: ${at} falls in the ${gapMinutes}-minute daylight-saving gap of ${at.slice(0, 10)} (clocks spring forward over it), so Scheduler would never fire it`,
      at,
    );
  }
  // An ambiguous (fall-back) time fires once; the earlier instant is the conservative one to check.
  const runsAt = resolved.kind === 'exact' ? resolved.instant : resolved.earlier;
  requireLead('at', at, runsAt, now);
  return { expression: formatAtExpression(local), timezone, runsAt };
}

function resolveTimezone(fields: Record<string, unknown>) {
  const timezone = optionalString(fields, 'timezone');
  if (timezone !== undefined && timezone !== '')
    requireMember('ScheduleExpressionTimezone', 'timezone', timezone);
  const resolved = resolveZone(timezone);
  if (!resolved.ok) {
    throw new InputError(
      'timezone',
      `an IANA time zone such as Europe/Berlin, or UTC+hh:mm / UTC-hh:mm (${resolved.reason})`,
      timezone,
    );
  }
  return { zone: resolved.zone, timezone: resolved.zone };
}

function requireLead(field: string, text: string, instant: Date, now: Date): void {
  const lead = instant.getTime() - now.getTime();
  if (lead >= MIN_LEAD_MS) return;
  const relation =
    lead < 0
      ? `${text} is ${instant.toISOString()}, in the past`
      : `${text} is ${instant.toISOString()}, less than one minute ahead`;
  throw new InputError(
    field,
    `a time at least one minute after now (${now.toISOString()}); ${relation}`,
    text,
  );
}

/** Parses an absolute ISO instant (Z or ±hh:mm required), exactly as written; see parseIsoInstant. */
export const parseInstant = parseIsoInstant;

function utcParts(instant: Date): LocalDateTime {
  return {
    year: instant.getUTCFullYear(),
    month: instant.getUTCMonth() + 1,
    day: instant.getUTCDate(),
    hour: instant.getUTCHours(),
    minute: instant.getUTCMinutes(),
    second: instant.getUTCSeconds(),
  };
}

const NAME_PART = /^[0-9a-zA-Z\-_.]+$/;

/**
 * `<prefix>-<suffix>`. A prefix that does not fit is rejected rather than trimmed or rewritten:
 * mangling could map two business ids to one name and hide the caller's mistake.
 */
function buildName(fields: Record<string, unknown>, idempotencyKey: string | undefined): string {
  const namePrefix = optionalString(fields, 'namePrefix');
  const businessId = optionalString(fields, 'businessId');
  if (namePrefix !== undefined && businessId !== undefined) {
    throw new InputError('businessId', 'either namePrefix or businessId, not both', businessId);
  }
  const field = namePrefix !== undefined ? 'namePrefix' : 'businessId';
  const prefix = namePrefix ?? businessId;
  if (prefix !== undefined && (prefix.length > MAX_PREFIX_LENGTH || !NAME_PART.test(prefix))) {
    throw new InputError(
      field,
      `1-${MAX_PREFIX_LENGTH} characters of 0-9 a-z A-Z - _ . (the schedule name is <${field}>-<${SUFFIX_LENGTH}-character suffix>, ${MAX_NAME_LENGTH} characters at most)`,
      prefix,
    );
  }
  const suffix =
    idempotencyKey === undefined
      ? randomBytes(SUFFIX_LENGTH / 2).toString('hex')
      : digest('name', idempotencyKey).slice(0, SUFFIX_LENGTH);
  return prefix === undefined ? suffix : `${prefix}-${suffix}`;
}

function digest(purpose: string, key: string): string {
  return createHash('sha256').update(`${purpose}\n${key}`).digest('hex');
}

function serializeInput(fields: Record<string, unknown>): string | undefined {
  if (!('input' in fields) || fields.input === undefined) return undefined;
  let text: string | undefined;
  try {
    text = JSON.stringify(fields.input);
  } catch {
    text = undefined;
  }
  if (text === undefined) {
    throw new InputError('input', 'a JSON value (object, array, string, number, boolean or null)');
  }
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_INPUT_BYTES) {
    throw new InputError(
      'input',
      `a JSON value that serializes to at most ${MAX_INPUT_BYTES} bytes (this one is ${bytes})`,
    );
  }
  return text;
}

function readRetry(fields: Record<string, unknown>) {
  if (fields.retry === undefined) return undefined;
  const retry = requireObject(fields.retry, 'retry', RETRY_FIELDS);
  // An empty retry object would quietly mean Scheduler's defaults (185 attempts over 24 hours).
  if (Object.keys(retry).length === 0) {
    throw new InputError(
      'retry',
      `at least one of ${RETRY_FIELDS.join(', ')} (leave retry out for Scheduler's defaults)`,
      retry,
    );
  }
  const maximumEventAge = optionalMember(
    retry,
    'maximumEventAgeSeconds',
    'Target.RetryPolicy.MaximumEventAgeInSeconds',
    'retry.',
  );
  const maximumAttempts = optionalMember(
    retry,
    'maximumRetryAttempts',
    'Target.RetryPolicy.MaximumRetryAttempts',
    'retry.',
  );
  return {
    ...(maximumEventAge === undefined ? {} : { MaximumEventAgeInSeconds: maximumEventAge }),
    ...(maximumAttempts === undefined ? {} : { MaximumRetryAttempts: maximumAttempts }),
  };
}

/** An object whose keys are all known; an unknown key (a typo) is an error naming that key. */
export function requireObject(
  value: unknown,
  field: string,
  known: readonly string[],
  path = field === 'payload' ? '' : `${field}.`,
): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InputError(field, `an object with the fields ${known.join(', ')}`, value);
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new InputError(
        `${path}${key}`,
        `no such field${suggestion(key, known)}; the known fields are ${known.join(', ')}`,
      );
    }
  }
  return value as Record<string, unknown>;
}

function optionalString(fields: Record<string, unknown>, key: string): string | undefined {
  const value = fields[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new InputError(key, 'a string', value);
  // Read exactly as written: ' Europe/Berlin' is refused by the field's own rule, not trimmed.
  return value;
}

/** A whole-number field held to the range of the model member it becomes. */
function optionalMember(
  fields: Record<string, unknown>,
  key: string,
  member:
    | 'FlexibleTimeWindow.MaximumWindowInMinutes'
    | 'Target.RetryPolicy.MaximumEventAgeInSeconds'
    | 'Target.RetryPolicy.MaximumRetryAttempts',
  path = '',
): number | undefined {
  const value = fields[key];
  if (value === undefined) return undefined;
  return requireMember(member, `${path}${key}`, value) as number;
}
