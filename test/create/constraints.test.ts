// The create path holds every CreateSchedule member it sends to the API model's constraints
// (src/create/constraints.ts): each accepted at its edge and refused just past it, naming the field.
import { describe, expect, it } from 'vitest';
import { Shape } from '../../scripts/emulator/scheduler-constraints.ts';
import {
  CreateScheduleMember,
  type CreateScheduleMemberName,
  satisfies,
} from '../../src/create/constraints.ts';
import {
  type CreateInput,
  MAX_INPUT_BYTES,
  planOneTimeSchedule,
  planRecurringSchedule,
  type RecurringInput,
} from '../../src/create/plan.ts';
import { InputError } from '../../src/errors.ts';

const now = new Date('2026-06-01T12:00:00Z');
const defaults = {
  groupName: 'schedule-hygiene-test',
  roleArn: 'arn:aws:iam::123456789012:role/scheduler-execution',
};
const targetArn = 'arn:aws:lambda:us-east-1:123456789012:function:schedule-hygiene-test-target';
const queue = 'arn:aws:sqs:us-east-1:123456789012:schedule-dlq';
const padded = (prefix: string, length: number) => prefix + 'a'.repeat(length - prefix.length);

const oneTime = (overrides: Partial<CreateInput> = {}): CreateInput => ({
  at: '2026-12-01T09:00:00',
  targetArn,
  ...overrides,
});

function refusal(action: () => unknown): InputError {
  try {
    action();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

// [member, accepted at the edge, refused past it, the field the refusal names, what it says]
const cases: [string, Partial<CreateInput>, Partial<CreateInput>, string, string][] = [
  ['GroupName (64)', { groupName: 'g'.repeat(64) }, { groupName: 'g'.repeat(65) }, 'groupName', '1-64'],
  ['GroupName (pattern)', { groupName: 'a-b_c.d' }, { groupName: 'a/b' }, 'groupName', '0-9 a-z A-Z - _ .'],
  [
    'Target.RoleArn (1600)',
    { roleArn: padded('arn:aws:iam::123456789012:role/', 1600) },
    { roleArn: padded('arn:aws:iam::123456789012:role/', 1601) },
    'roleArn',
    'at most 1600 characters',
  ],
  [
    'Target.RoleArn (partition)',
    { roleArn: 'arn:aws-cn:iam::123456789012:role/invoke' },
    { roleArn: 'arn:aws:iam::12345678901:role/invoke' },
    'roleArn',
    'arn:<partition>:iam::<12-digit account>:role/<name>',
  ],
  [
    'Target.Arn (1600)',
    { targetArn: padded(targetArn, 1600) },
    { targetArn: padded(targetArn, 1601) },
    'targetArn',
    '1-1600 characters',
  ],
  [
    'Target.DeadLetterConfig.Arn (no .fifo)',
    { deadLetterArn: queue },
    { deadLetterArn: `${queue}.fifo` },
    'deadLetterArn',
    'standard (not FIFO) SQS queue ARN',
  ],
  [
    'Target.DeadLetterConfig.Arn (1600)',
    { deadLetterArn: padded(queue, 1600) },
    { deadLetterArn: padded(queue, 1601) },
    'deadLetterArn',
    'SQS queue ARN',
  ],
  [
    'Description (512)',
    { description: 'd'.repeat(512) },
    { description: 'd'.repeat(513) },
    'description',
    '512',
  ],
  [
    'ScheduleExpressionTimezone (50)',
    { timezone: 'UTC' },
    { timezone: 'z'.repeat(51) },
    'timezone',
    '1-50 characters',
  ],
  [
    'MaximumWindowInMinutes (1)',
    { flexibleWindowMinutes: 1 },
    { flexibleWindowMinutes: 0 },
    'flexibleWindowMinutes',
    'from 1 to 1440',
  ],
  [
    'MaximumWindowInMinutes (1440)',
    { flexibleWindowMinutes: 1440 },
    { flexibleWindowMinutes: 1441 },
    'flexibleWindowMinutes',
    'from 1 to 1440',
  ],
  [
    'MaximumEventAgeInSeconds (60)',
    { retry: { maximumEventAgeSeconds: 60 } },
    { retry: { maximumEventAgeSeconds: 59 } },
    'retry.maximumEventAgeSeconds',
    'from 60 to 86400',
  ],
  [
    'MaximumEventAgeInSeconds (86400)',
    { retry: { maximumEventAgeSeconds: 86_400 } },
    { retry: { maximumEventAgeSeconds: 86_401 } },
    'retry.maximumEventAgeSeconds',
    'from 60 to 86400',
  ],
  [
    'MaximumRetryAttempts (0)',
    { retry: { maximumRetryAttempts: 0 } },
    { retry: { maximumRetryAttempts: -1 } },
    'retry.maximumRetryAttempts',
    'from 0 to 185',
  ],
  [
    'MaximumRetryAttempts (185)',
    { retry: { maximumRetryAttempts: 185 } },
    { retry: { maximumRetryAttempts: 186 } },
    'retry.maximumRetryAttempts',
    'from 0 to 185',
  ],
  [
    'Target.Input (256 KB, in UTF-8 bytes)',
    { input: 'x'.repeat(MAX_INPUT_BYTES - 2) },
    { input: 'x'.repeat(MAX_INPUT_BYTES - 1) },
    'input',
    `at most ${MAX_INPUT_BYTES} bytes`,
  ],
];

describe('the create path holds each member to the model', () => {
  it.each(cases)('%s: accepted at the edge, refused past it', (_, edge, past, field, expected) => {
    const plan = planOneTimeSchedule(oneTime(edge), defaults, now);
    expect(plan.request.ActionAfterCompletion).toBe('DELETE');

    const error = refusal(() => planOneTimeSchedule(oneTime(past), defaults, now));

    expect(error.field).toBe(field);
    expect(error.message).toContain(expected);
  });

  it('ScheduleExpression: a 256-character cron() is accepted, 257 characters refused', () => {
    const minutes = Array.from({ length: 60 }, (_, index) => index).join(',');
    const hours = Array.from({ length: 24 }, (_, index) => index).join(',');
    const longest = `cron(${minutes} ${hours} 1-31 * ? 2030-2035)`;
    const tooLong = `cron(${minutes} ${hours} 1,2,3 * ? 2030-2035)`;
    const recurring = (expression: string): RecurringInput => ({
      expression,
      endDate: '2036-01-01T00:00:00Z',
      targetArn,
    });
    expect([longest.length, tooLong.length]).toEqual([256, 257]);

    expect(planRecurringSchedule(recurring(longest), defaults, now).request.ScheduleExpression).toBe(longest);
    const error = refusal(() => planRecurringSchedule(recurring(tooLong), defaults, now));

    expect(error.field).toBe('expression');
    expect(error.message).toContain('at most 256 characters');
  });

  it('sends a ClientToken the model accepts (64 characters of [a-zA-Z0-9-_]) for an idempotency key', () => {
    const plan = planOneTimeSchedule(oneTime({ idempotencyKey: 'k'.repeat(256) }), defaults, now);

    expect(plan.request.ClientToken).toHaveLength(64);
    expect(satisfies('ClientToken', plan.request.ClientToken)).toBe(true);
  });
});

describe('targets AWS accepts', () => {
  it.each([
    ['a universal target', 'arn:aws:scheduler:::aws-sdk:sqs:sendMessage'],
    ['a universal target in another partition', 'arn:aws-cn:scheduler:::aws-sdk:dynamodb:putItem'],
    [
      'a universal target of a dotted service name',
      'arn:aws:scheduler:::aws-sdk:elasticloadbalancingv2:describeLoadBalancers',
    ],
    ['a templated Lambda target', targetArn],
    ['a templated SQS target', 'arn:aws:sqs:us-east-1:123456789012:orders'],
    ['a templated SQS FIFO target', 'arn:aws:sqs:us-east-1:123456789012:orders.fifo'],
    ['a templated EventBridge target', 'arn:aws:events:us-east-1:123456789012:event-bus/default'],
    ['a templated Step Functions target', 'arn:aws:states:us-east-1:123456789012:stateMachine:flow'],
    ['a templated ECS target', 'arn:aws:ecs:us-east-1:123456789012:cluster/main'],
    ['a GovCloud Lambda target', 'arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f'],
  ])('accepts %s', (_, arn) => {
    const plan = planOneTimeSchedule(oneTime({ targetArn: arn }), defaults, now);

    expect(plan.request.Target?.Arn).toBe(arn);
  });

  it.each([
    ['a bare function name', 'my-function'],
    ['a universal target without its action', 'arn:aws:scheduler:::aws-sdk:sqs'],
    ['a templated target without an account', 'arn:aws:lambda:us-east-1::function:x'],
    ['an empty string', ''],
  ])('refuses %s, naming both forms', (_, arn) => {
    const error = refusal(() => planOneTimeSchedule(oneTime({ targetArn: arn }), defaults, now));

    expect(error.field).toBe('targetArn');
    expect(error.message).toContain('arn:aws:scheduler:::aws-sdk:sqs:sendMessage');
  });
});

describe('the create path table and the emulator table', () => {
  // Transcribed separately (one table per side, so the emulator checks the product independently);
  // a typo on either side shows here.
  const pairs: [CreateScheduleMemberName, { min: number; max: number }][] = [
    ['Name', Shape.Name],
    ['GroupName', Shape.ScheduleGroupName],
    ['ClientToken', Shape.ClientToken],
    ['ScheduleExpression', Shape.ScheduleExpression],
    ['ScheduleExpressionTimezone', Shape.ScheduleExpressionTimezone],
    ['Description', Shape.Description],
    ['Target.Arn', Shape.TargetArn],
    ['Target.RoleArn', Shape.RoleArn],
    ['Target.Input', Shape.TargetInput],
    ['Target.DeadLetterConfig.Arn', Shape.DeadLetterConfigArnString],
    ['FlexibleTimeWindow.MaximumWindowInMinutes', Shape.MaximumWindowInMinutes],
    ['Target.RetryPolicy.MaximumEventAgeInSeconds', Shape.MaximumEventAgeInSeconds],
    ['Target.RetryPolicy.MaximumRetryAttempts', Shape.MaximumRetryAttempts],
  ];

  it.each(pairs)('agree on %s', (member, shape) => {
    const constraint = CreateScheduleMember[member];
    expect({ min: constraint.min, max: constraint.max }).toEqual({ min: shape.min, max: shape.max });
    const samples = [
      'arn:aws:iam::123456789012:role/r',
      'arn:aws-cn:iam::123456789012:role/a/b',
      'arn:aws-us-gov:iam::123456789012:role/r',
      'arn:aws:sqs:us-east-1:123456789012:q',
      'arn:aws:sqs:us-east-1:123456789012:q.fifo',
      'a-b_c.d',
      'a b',
      'token_1-x',
    ];
    const createPattern = 'pattern' in constraint ? constraint.pattern : undefined;
    const emulatorPattern = 'pattern' in shape ? (shape as { pattern: RegExp }).pattern : undefined;
    for (const sample of samples) {
      expect(createPattern?.test(sample) ?? true).toBe(emulatorPattern?.test(sample) ?? true);
    }
  });
});
