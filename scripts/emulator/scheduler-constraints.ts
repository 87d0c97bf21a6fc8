// The input constraints of the EventBridge Scheduler API model, as one table the emulator checks every
// request member against: length, pattern, range and enum, transcribed from botocore's
// scheduler/2021-06-30/service-2.json (the model @aws-sdk/client-scheduler is generated from).
// Grammar that the model leaves to the user guide (expressions, zone names, dates) is checked in
// scheduler-model.ts; this file only holds what the model states.
import { validation } from './core.ts';

/** A model shape's traits. Strings count UTF-16 code units, as the model's length trait does for JSON. */
export type Constraint =
  | { type: 'string'; min?: number; max?: number; pattern?: RegExp }
  | { type: 'integer'; min: number; max: number }
  | { type: 'enum'; values: readonly string[] };

const NAME = { type: 'string', min: 1, max: 64, pattern: /^[0-9a-zA-Z\-_.]+$/ } as const;

/** Shapes by their model name. */
export const Shape = {
  Name: NAME,
  NamePrefix: NAME,
  ScheduleGroupName: NAME,
  ScheduleGroupNamePrefix: NAME,
  /** idempotencyToken: optional on the wire (the SDK fills a uuid, and the service generates one if absent). */
  ClientToken: { type: 'string', min: 1, max: 64, pattern: /^[a-zA-Z0-9\-_]+$/ },
  ScheduleExpression: { type: 'string', min: 1, max: 256 },
  ScheduleExpressionTimezone: { type: 'string', min: 1, max: 50 },
  Description: { type: 'string', min: 0, max: 512 },
  MaxResults: { type: 'integer', min: 1, max: 100 },
  NextToken: { type: 'string', min: 1, max: 2048 },
  TargetArn: { type: 'string', min: 1, max: 1600 },
  RoleArn: {
    type: 'string',
    min: 1,
    max: 1600,
    pattern: /^arn:aws(-[a-z]+)?:iam::\d{12}:role\/[\w+=,.@/-]+$/,
  },
  /**
   * The model sets only a minimum; 262,144 is the 256 KB payload limit on the Scheduler quotas page
   * (a documented service limit, not a model trait).
   */
  TargetInput: { type: 'string', min: 1, max: 262_144 },
  DeadLetterConfigArnString: {
    type: 'string',
    min: 1,
    max: 1600,
    pattern: /^arn:aws(-[a-z]+)?:sqs:[a-z0-9-]+:\d{12}:[a-zA-Z0-9\-_]+$/,
  },
  KmsKeyArn: {
    type: 'string',
    min: 1,
    max: 2048,
    pattern: /^arn:aws(-[a-z]+)?:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[0-9a-zA-Z\-_]*$/,
  },
  MaximumWindowInMinutes: { type: 'integer', min: 1, max: 1440 },
  MaximumEventAgeInSeconds: { type: 'integer', min: 60, max: 86_400 },
  MaximumRetryAttempts: { type: 'integer', min: 0, max: 185 },
  ScheduleState: { type: 'enum', values: ['ENABLED', 'DISABLED'] },
  ActionAfterCompletion: { type: 'enum', values: ['NONE', 'DELETE'] },
  FlexibleTimeWindowMode: { type: 'enum', values: ['OFF', 'FLEXIBLE'] },
  TagKey: { type: 'string', min: 1, max: 128 },
  TagValue: { type: 'string', min: 1, max: 256 },
  /** TagList (CreateScheduleGroup, TagResource): 0-200 tags. */
  TagListLength: { type: 'integer', min: 0, max: 200 },
  // Templated-target parameters.
  DetailType: { type: 'string', min: 1, max: 128 },
  Source: {
    type: 'string',
    min: 1,
    max: 256,
    pattern: /^(?=[/.\-_A-Za-z0-9]+)((?!aws\.).*)|(\$(\.[\w_-]+(\[(\d+|\*)\])*)*)$/,
  },
  TargetPartitionKey: { type: 'string', min: 1, max: 256 },
  MessageGroupId: { type: 'string', min: 1, max: 128 },
  TaskDefinitionArn: { type: 'string', min: 1, max: 1600 },
  TaskCount: { type: 'integer', min: 1, max: 10 },
  SageMakerPipelineParameterName: { type: 'string', min: 1, max: 256, pattern: /^[A-Za-z0-9\-_]*$/ },
  SageMakerPipelineParameterValue: { type: 'string', min: 1, max: 1024 },
  SageMakerPipelineParameterListLength: { type: 'integer', min: 0, max: 200 },
} as const satisfies Record<string, Constraint>;

/**
 * The first constraint `value` breaks, worded as AWS words it ("Member must have length less than or
 * equal to 64"), or undefined when it satisfies the shape. Types are checked too: a number where a
 * string belongs breaks the shape.
 */
export function constraintProblem(value: unknown, constraint: Constraint): string | undefined {
  switch (constraint.type) {
    case 'string': {
      if (typeof value !== 'string') return 'Member must be a string';
      if (constraint.min !== undefined && value.length < constraint.min) {
        return `Member must have length greater than or equal to ${constraint.min}`;
      }
      if (constraint.max !== undefined && value.length > constraint.max) {
        return `Member must have length less than or equal to ${constraint.max}`;
      }
      if (constraint.pattern && !constraint.pattern.test(value)) {
        return `Member must satisfy regular expression pattern: ${constraint.pattern.source}`;
      }
      return undefined;
    }
    case 'integer': {
      if (typeof value !== 'number' || !Number.isInteger(value)) return 'Member must be an integer';
      if (value < constraint.min) return `Member must have value greater than or equal to ${constraint.min}`;
      if (value > constraint.max) return `Member must have value less than or equal to ${constraint.max}`;
      return undefined;
    }
    case 'enum': {
      if (typeof value !== 'string' || !constraint.values.includes(value)) {
        return `Member must satisfy enum value set: [${constraint.values.join(', ')}]`;
      }
      return undefined;
    }
  }
}

/**
 * Checks a present member against its shape, or throws ValidationException in AWS's wording:
 * "1 validation error detected: Value 'x' at 'clientToken' failed to satisfy constraint: ...".
 * `member` is the member's path as AWS reports it. Returns the value, typed.
 */
export function checkMember<T extends Constraint>(
  value: unknown,
  member: string,
  constraint: T,
): T extends { type: 'integer' } ? number : string {
  const problem = constraintProblem(value, constraint);
  if (problem !== undefined) {
    throw validation(
      `1 validation error detected: Value ${quote(value)} at '${member}' failed to satisfy constraint: ${problem}`,
    );
  }
  return value as T extends { type: 'integer' } ? number : string;
}

/** Like checkMember, but null and undefined (an absent member) pass as undefined. */
export function checkOptionalMember<T extends Constraint>(
  value: unknown,
  member: string,
  constraint: T,
): (T extends { type: 'integer' } ? number : string) | undefined {
  if (value === undefined || value === null) return undefined;
  return checkMember(value, member, constraint);
}

function quote(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > 80 ? `${value.slice(0, 77)}...` : value;
    return `'${shown}'`;
  }
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
