// What a log line may say about a schedule or an error. A schedule's Target.Input (and every other
// target parameter) may hold customer secrets, and Scheduler keeps it encrypted; it must never reach
// a log. Every function builds its log fields through these two helpers, so the rule holds whichever
// logger writes the line.
import { createHash } from 'node:crypto';

/** The fields of a schedule a log line may carry. Never Target, Description or KmsKeyArn contents. */
export interface ScheduleRef {
  arn?: string;
  group: string;
  name: string;
  expression?: string;
  zone?: string;
}

/** A schedule as GetSchedule/ListSchedules return it: only the identifying fields are read. */
export interface ScheduleLike {
  Arn?: string | undefined;
  GroupName?: string | undefined;
  Name?: string | undefined;
  ScheduleExpression?: string | undefined;
  ScheduleExpressionTimezone?: string | undefined;
}

export function scheduleRef(schedule: ScheduleLike): ScheduleRef {
  return {
    ...(schedule.Arn ? { arn: schedule.Arn } : {}),
    group: schedule.GroupName ?? 'default',
    name: schedule.Name ?? '',
    ...(schedule.ScheduleExpression ? { expression: schedule.ScheduleExpression } : {}),
    ...(schedule.ScheduleExpressionTimezone ? { zone: schedule.ScheduleExpressionTimezone } : {}),
  };
}

/** What a log line may say about an error: its name, code, HTTP status and a bounded message. */
export interface SafeError {
  name: string;
  message: string;
  code?: string;
  status?: number;
}

const MESSAGE_LIMIT = 300;
/**
 * Fields and members whose value is, or may hold, a schedule's target content or a whole event
 * (`input`, `Target.Input`, `targetArn`, `deadLetterArn`, an invoke `payload`, a scheduled `event`):
 * an error or log line never echoes their value. Shared with src/errors.ts (InputError).
 */
export const SENSITIVE_FIELD = /input|target|payload|event|deadletter/i;
/** A member AWS's validation wording names: "... Value '<value>' at 'target.input' failed ...". */
const NAMED_MEMBER = / at '([^']*)'/g;

/**
 * Serializes any thrown value for a log line. SDK errors carry the raw response ($response) and
 * sometimes request parameters; only name, code, status and message are kept. The message of our own
 * InputError about a target field is rebuilt without the offending value, and a value AWS's
 * ValidationException echoes for a target member ("Value '...' at 'target.input'") is cut out.
 */
export function safeError(error: unknown): SafeError {
  if (!(error instanceof Error)) return { name: 'NonError', message: truncate(String(error)) };
  const fields = error as Error & {
    field?: unknown;
    expected?: unknown;
    got?: unknown;
    Code?: unknown;
    code?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  let message = error.message;
  if (
    typeof fields.field === 'string' &&
    typeof fields.expected === 'string' &&
    SENSITIVE_FIELD.test(fields.field)
  ) {
    message = `Invalid ${fields.field}: expected ${fields.expected}`;
  }
  message = cutEchoedValues(message);
  const code =
    typeof fields.Code === 'string' ? fields.Code : typeof fields.code === 'string' ? fields.code : undefined;
  const status = fields.$metadata?.httpStatusCode;
  return {
    name: error.name,
    message: truncate(message),
    ...(code ? { code } : {}),
    ...(status ? { status } : {}),
  };
}

/** A fingerprint of a value that may be customer data: its size and SHA-256, never the value. */
export function fingerprint(value: unknown): { bytes: number; sha256: string } {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? 'undefined');
  return { bytes: Buffer.byteLength(text), sha256: createHash('sha256').update(text).digest('hex') };
}

function truncate(text: string): string {
  return text.length > MESSAGE_LIMIT ? `${text.slice(0, MESSAGE_LIMIT - 3)}...` : text;
}

/**
 * AWS's validation wording echoes the offending value ("1 validation error detected: Value '<value>'
 * at 'target.input' failed to satisfy constraint: ..."), and the value itself may contain `' at '`.
 * So when any member the message names is sensitive, everything from the first `Value ` to the last
 * sensitive member named is cut, whatever it holds.
 */
function cutEchoedValues(message: string): string {
  let last: { end: number; member: string } | undefined;
  for (const match of message.matchAll(NAMED_MEMBER)) {
    const member = match[1] ?? '';
    if (SENSITIVE_FIELD.test(member)) last = { end: (match.index ?? 0) + match[0].length, member };
  }
  if (last === undefined) return message;
  const start = message.indexOf('Value ');
  const from = start >= 0 && start < last.end ? start : 0;
  return `${message.slice(0, from)}Value [redacted] at '${last.member}'${message.slice(last.end)}`;
}
