// The constraints of the Scheduler API model on every CreateSchedule member the create path sends,
// in one table: length, pattern, range and enum from botocore scheduler/2021-06-30/service-2.json (the
// model @aws-sdk/client-scheduler is generated from). plan.ts checks each caller field against the
// member it becomes, so a request the service would refuse is refused here first, naming the field.
import { InputError } from '../errors.ts';

export type MemberConstraint =
  | { kind: 'string'; min: number; max: number; pattern?: RegExp; expected: string }
  | { kind: 'integer'; min: number; max: number; expected: string };

/** The model's partition pattern in its ARN shapes, `aws(-[a-z]+)?`: aws, aws-cn, and the like. */
const MODEL_PARTITION = 'aws(-[a-z]+)?';

export const CreateScheduleMember = {
  Name: {
    kind: 'string',
    min: 1,
    max: 64,
    pattern: /^[0-9a-zA-Z\-_.]+$/,
    expected: '1-64 characters of 0-9 a-z A-Z - _ .',
  },
  GroupName: {
    kind: 'string',
    min: 1,
    max: 64,
    pattern: /^[0-9a-zA-Z\-_.]+$/,
    expected: '1-64 characters of 0-9 a-z A-Z - _ .',
  },
  ClientToken: {
    kind: 'string',
    min: 1,
    max: 64,
    pattern: /^[a-zA-Z0-9\-_]+$/,
    expected: '1-64 characters of a-z A-Z 0-9 - _',
  },
  ScheduleExpression: { kind: 'string', min: 1, max: 256, expected: 'at most 256 characters' },
  ScheduleExpressionTimezone: { kind: 'string', min: 1, max: 50, expected: 'a zone name of 1-50 characters' },
  Description: { kind: 'string', min: 0, max: 512, expected: 'at most 512 characters' },
  /** No pattern in the model: templated targets and universal targets (arn:aws:scheduler:::aws-sdk:...) alike. */
  'Target.Arn': { kind: 'string', min: 1, max: 1600, expected: 'an ARN of 1-1600 characters' },
  'Target.RoleArn': {
    kind: 'string',
    min: 1,
    max: 1600,
    pattern: new RegExp(`^arn:${MODEL_PARTITION}:iam::\\d{12}:role\\/[\\w+=,.@\\/-]+$`),
    expected:
      'an IAM role ARN of the form arn:<partition>:iam::<12-digit account>:role/<name>, at most 1600 characters',
  },
  /**
   * The model sets only a minimum of 1; 262,144 is the 256 KB payload limit on the Scheduler quotas
   * page. plan.ts counts it in UTF-8 bytes, the stricter reading.
   */
  'Target.Input': { kind: 'string', min: 1, max: 262_144, expected: 'at most 262144 bytes serialized' },
  'Target.DeadLetterConfig.Arn': {
    kind: 'string',
    min: 1,
    max: 1600,
    // No '.' in the queue name: the model excludes FIFO queues (name.fifo) as dead-letter queues.
    pattern: new RegExp(`^arn:${MODEL_PARTITION}:sqs:[a-z0-9\\-]+:\\d{12}:[a-zA-Z0-9\\-_]+$`),
    expected:
      'a standard (not FIFO) SQS queue ARN of the form arn:<partition>:sqs:<region>:<12-digit account>:<queue-name>, the name of a-z A-Z 0-9 - _',
  },
  'FlexibleTimeWindow.MaximumWindowInMinutes': {
    kind: 'integer',
    min: 1,
    max: 1440,
    expected: 'a whole number of minutes from 1 to 1440',
  },
  'Target.RetryPolicy.MaximumEventAgeInSeconds': {
    kind: 'integer',
    min: 60,
    max: 86_400,
    expected: 'a whole number of seconds from 60 to 86400',
  },
  'Target.RetryPolicy.MaximumRetryAttempts': {
    kind: 'integer',
    min: 0,
    max: 185,
    expected: 'a whole number of attempts from 0 to 185',
  },
} as const satisfies Record<string, MemberConstraint>;

export type CreateScheduleMemberName = keyof typeof CreateScheduleMember;

/** Whether `value` satisfies the member's constraint (type, length, pattern, range). */
export function satisfies(member: CreateScheduleMemberName, value: unknown): boolean {
  const constraint: MemberConstraint = CreateScheduleMember[member];
  if (constraint.kind === 'integer') {
    return (
      typeof value === 'number' &&
      Number.isInteger(value) &&
      // -0 is 0 in another notation: refused like '5.0' or '1e3' would be as text.
      !Object.is(value, -0) &&
      value >= constraint.min &&
      value <= constraint.max
    );
  }
  return (
    typeof value === 'string' &&
    value.length >= constraint.min &&
    value.length <= constraint.max &&
    (constraint.pattern === undefined || constraint.pattern.test(value))
  );
}

/**
 * Returns `value` when it satisfies the member's constraint; otherwise throws InputError naming the
 * caller's `field` (which may differ from the member, e.g. deadLetterArn → Target.DeadLetterConfig.Arn)
 * and the expected form, with `example` appended when given.
 */
export function requireMember<T>(
  member: CreateScheduleMemberName,
  field: string,
  value: T | undefined,
  example?: string,
): T {
  if (satisfies(member, value)) return value as T;
  const { expected } = CreateScheduleMember[member];
  throw new InputError(
    field,
    example === undefined ? expected : `${expected}, e.g. ${example}`,
    shown(value),
  );
}

// A string far over its limit is reported by its length, not echoed whole.
function shown(value: unknown): unknown {
  return typeof value === 'string' && value.length > 200 ? `${value.length} characters` : value;
}
