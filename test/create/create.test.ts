// The create path against the emulator through the real SDK: what a created schedule reads back as,
// idempotent retries, validation that creates nothing, and AWS errors mapped to actionable messages.
import { CreateScheduleCommand, GetScheduleCommand } from '@aws-sdk/client-scheduler';
import { beforeEach, describe, expect, it } from 'vitest';
import { createOneTimeSchedule, createRecurringSchedule } from '../../src/create/create.ts';
import { CreateFailure, CreateScheduleError, mapCreateError } from '../../src/create/errors.ts';
import {
  type CreateInput,
  MAX_INPUT_BYTES,
  planOneTimeSchedule,
  planRecurringSchedule,
} from '../../src/create/plan.ts';
import { InputError } from '../../src/errors.ts';
import { safeError } from '../../src/redact.ts';
import { ACCOUNT_ID, REGION, useTestEmulator } from '../support/emulator.ts';

const GROUP = 'schedule-hygiene-test';
const defaults = { groupName: GROUP, roleArn: `arn:aws:iam::${ACCOUNT_ID}:role/scheduler-execution` };
const targetArn = `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:schedule-hygiene-test-target`;

const test = useTestEmulator();

beforeEach(() => {
  test.emulator.services.scheduler.reset();
  test.emulator.plane.resetStats();
  test.emulator.services.scheduler.createGroup(GROUP);
});

const deps = () => ({ scheduler: test.scheduler, clock: () => test.emulator.plane.now() });
const count = () => test.emulator.services.scheduler.count();

/** A wall-clock time in UTC, `minutes` after the emulator's now, in the 'yyyy-mm-ddThh:mm:ss' form. */
function localAfter(minutes: number): string {
  return new Date(test.emulator.plane.now().getTime() + minutes * 60_000).toISOString().slice(0, 19);
}

function oneTime(overrides: Partial<CreateInput> = {}): CreateInput {
  return { at: '2099-12-01T09:00:00', timezone: 'Europe/Berlin', targetArn, ...overrides };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe('createOneTimeSchedule', () => {
  it('creates a schedule that reads back with ActionAfterCompletion DELETE, its expression, zone, window and retry policy', async () => {
    // Act
    const created = await createOneTimeSchedule(
      deps(),
      oneTime({
        businessId: 'order-42',
        input: { orderId: '42' },
        flexibleWindowMinutes: 10,
        retry: { maximumEventAgeSeconds: 600, maximumRetryAttempts: 2 },
        deadLetterArn: `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:schedule-dlq`,
      }),
      defaults,
    );
    const readBack = await test.scheduler.send(
      new GetScheduleCommand({ Name: created.name, GroupName: GROUP }),
    );

    // Assess
    expect(created).toMatchObject({
      groupName: GROUP,
      scheduleExpression: 'at(2099-12-01T09:00:00)',
      timezone: 'Europe/Berlin',
      runsAt: '2099-12-01T08:00:00.000Z',
    });
    expect(created.name).toMatch(/^order-42-[0-9a-f]{24}$/);
    expect(readBack).toMatchObject({
      Arn: created.arn,
      ActionAfterCompletion: 'DELETE',
      ScheduleExpression: 'at(2099-12-01T09:00:00)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 10 },
      Target: {
        Arn: targetArn,
        RoleArn: defaults.roleArn,
        Input: '{"orderId":"42"}',
        RetryPolicy: { MaximumEventAgeInSeconds: 600, MaximumRetryAttempts: 2 },
        DeadLetterConfig: { Arn: `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:schedule-dlq` },
      },
    });
    expect(count()).toBe(1);
  });

  it('makes one schedule when called twice with the same idempotency key', async () => {
    // Prepare
    const input = oneTime({ businessId: 'order-7', idempotencyKey: 'order-7-reminder' });

    // Act
    const first = await createOneTimeSchedule(deps(), input, defaults);
    const retry = await createOneTimeSchedule(deps(), input, defaults);

    // Assess
    expect(retry).toEqual(first);
    expect(count()).toBe(1);
  });

  it('returns the existing schedule when a retry conflicts on the name and the service no longer knows the token', async () => {
    // Prepare: an earlier attempt got through under another ClientToken (its answer lost).
    const input = oneTime({ idempotencyKey: 'lost-answer', input: { step: 1 } });
    const plan = planOneTimeSchedule(input, defaults, test.emulator.plane.now());
    const earlier = await test.scheduler.send(
      new CreateScheduleCommand({ ...plan.request, ClientToken: 'an-earlier-attempt' }),
    );

    // Act
    const retry = await createOneTimeSchedule(deps(), input, defaults);

    // Assess
    expect(retry.name).toBe(plan.name);
    expect(retry.arn).toBe(earlier.ScheduleArn);
    expect(count()).toBe(1);
  });

  it('refuses an idempotency key reused for a different schedule, and leaves the first one alone', async () => {
    // Prepare
    const first = await createOneTimeSchedule(
      deps(),
      oneTime({ idempotencyKey: 'reused', input: { v: 1 } }),
      defaults,
    );

    // Act
    const error = await rejection(
      createOneTimeSchedule(deps(), oneTime({ idempotencyKey: 'reused', input: { v: 2 } }), defaults),
    );

    // Assess
    expect(error).toBeInstanceOf(CreateScheduleError);
    expect((error as CreateScheduleError).reason).toBe(CreateFailure.idempotencyMismatch);
    expect((error as Error).message).toContain('differing: Target.Input; values not shown');
    expect((error as Error).message).not.toContain('"v"');
    expect(test.emulator.services.scheduler.get(GROUP, first.name)?.Target?.Input).toBe('{"v":1}');
    expect(count()).toBe(1);
  });

  it('refuses a retry under the same key whose window, retry policy, dead-letter queue or description differ, naming those fields only', async () => {
    // Prepare
    const first = await createOneTimeSchedule(
      deps(),
      oneTime({ idempotencyKey: 'settings', input: { secret: 's3cr3t' } }),
      defaults,
    );

    // Act
    const error = await rejection(
      createOneTimeSchedule(
        deps(),
        oneTime({
          idempotencyKey: 'settings',
          input: { secret: 's3cr3t' },
          flexibleWindowMinutes: 15,
          retry: { maximumEventAgeSeconds: 600, maximumRetryAttempts: 1 },
          deadLetterArn: `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:schedule-dlq`,
          description: 'second attempt',
        }),
        defaults,
      ),
    );

    // Assess
    expect((error as CreateScheduleError).reason).toBe(CreateFailure.idempotencyMismatch);
    expect((error as Error).message).toContain(
      'differing: Target.RetryPolicy, Target.DeadLetterConfig, FlexibleTimeWindow, Description; values not shown',
    );
    expect((error as Error).message).not.toMatch(/s3cr3t|second attempt|schedule-dlq|600/);
    expect(test.emulator.services.scheduler.get(GROUP, first.name)?.FlexibleTimeWindow).toEqual({
      Mode: 'OFF',
    });
    expect(count()).toBe(1);
  });

  it('refuses to adopt a schedule under the key that was made DISABLED or under a KMS key', async () => {
    // Prepare: the first attempt's schedule, as it would be had it been created with other members.
    const input = oneTime({ idempotencyKey: 'changed-state', input: { secret: 's3cr3t' } });
    const plan = planOneTimeSchedule(input, defaults, test.emulator.plane.now());
    await test.scheduler.send(
      new CreateScheduleCommand({
        ...plan.request,
        State: 'DISABLED',
        KmsKeyArn: `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
        ClientToken: 'an-earlier-attempt',
      }),
    );

    // Act
    const error = await rejection(createOneTimeSchedule(deps(), input, defaults));

    // Assess
    expect((error as CreateScheduleError).reason).toBe(CreateFailure.idempotencyMismatch);
    expect((error as Error).message).toContain('differing: State, KmsKeyArn; values not shown');
    expect((error as Error).message).not.toMatch(/s3cr3t|1234abcd/);
    expect(count()).toBe(1);
  });

  it('is removed by the service once the emulator clock passes its time, because it was made with DELETE', async () => {
    // Prepare
    const created = await createOneTimeSchedule(deps(), { at: localAfter(5), targetArn }, defaults);
    const before = test.emulator.services.scheduler.has(GROUP, created.name);

    // Act
    test.emulator.plane.setNow(new Date(test.emulator.plane.now().getTime() + 6 * 60_000));

    // Assess
    expect(before).toBe(true);
    expect(test.emulator.services.scheduler.has(GROUP, created.name)).toBe(false);
    expect(count()).toBe(0);
  });

  describe('rejects bad input, naming the field, with nothing created', () => {
    const cases: [string, () => Partial<CreateInput> & Record<string, unknown>, string, string][] = [
      ['a time in the past', () => ({ at: localAfter(-10), timezone: 'UTC' }), 'at', 'in the past'],
      [
        'a time less than one minute ahead',
        () => ({ at: undefined, runAt: `${localAfter(0.5)}Z`, timezone: undefined }),
        'runAt',
        'less than one minute ahead',
      ],
      ['no time at all', () => ({ at: undefined }), 'at', 'yyyy-mm-ddThh:mm:ss'],
      ['an impossible date', () => ({ at: '2099-02-30T09:00:00' }), 'at', 'real local date-time'],
      ['an unknown zone', () => ({ timezone: 'Mars/Olympus_Mons' }), 'timezone', 'IANA time zone'],
      ['a local time in the DST gap', () => ({ at: '2099-03-29T02:30:00' }), 'at', 'daylight-saving gap'],
      ['both at and runAt', () => ({ runAt: '2099-12-01T08:00:00Z' }), 'runAt', 'not both'],
      [
        'a malformed target ARN',
        () => ({ targetArn: 'my-function' }),
        'targetArn',
        'arn:<partition>:<service>',
      ],
      [
        'a target ARN without an account',
        () => ({ targetArn: 'arn:aws:lambda:us-east-1::function:x' }),
        'targetArn',
        'arn:aws',
      ],
      ['a malformed role ARN', () => ({ roleArn: 'arn:aws:iam::123:role/x' }), 'roleArn', 'role/<name>'],
      [
        'a dead-letter ARN that is not a queue',
        () => ({ deadLetterArn: `arn:aws:sns:${REGION}:${ACCOUNT_ID}:topic` }),
        'deadLetterArn',
        'SQS queue ARN',
      ],
      [
        'a FIFO dead-letter queue, which the API model excludes',
        () => ({ deadLetterArn: `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:schedule-dlq.fifo` }),
        'deadLetterArn',
        'standard (not FIFO) SQS queue ARN',
      ],
      [
        'an input over the size limit',
        () => ({ input: 'x'.repeat(MAX_INPUT_BYTES) }),
        'input',
        `at most ${MAX_INPUT_BYTES} bytes`,
      ],
      ['an input that is not JSON', () => ({ input: 10n }), 'input', 'a JSON value'],
      [
        'a flexible window out of range',
        () => ({ flexibleWindowMinutes: 1441 }),
        'flexibleWindowMinutes',
        '1 to 1440',
      ],
      [
        'a retry age out of range',
        () => ({ retry: { maximumEventAgeSeconds: 30 } }),
        'retry.maximumEventAgeSeconds',
        '60 to 86400',
      ],
      [
        'retry attempts out of range',
        () => ({ retry: { maximumRetryAttempts: 186 } }),
        'retry.maximumRetryAttempts',
        '0 to 185',
      ],
      [
        'an unknown retry key',
        () => ({ retry: { maxAttempts: 3 } as never }),
        'retry.maxAttempts',
        'no such field',
      ],
      [
        'a name that cannot fit',
        () => ({ namePrefix: 'x'.repeat(40) }),
        'namePrefix',
        '64 characters at most',
      ],
      ['an unknown key', () => ({ actionAfterCompletion: 'NONE' }), 'actionAfterCompletion', 'no such field'],
    ];

    it.each(cases)('%s', async (_description, overrides, field, expected) => {
      // Act
      const error = await rejection(
        createOneTimeSchedule(deps(), oneTime(overrides()) as CreateInput, defaults),
      );

      // Assess
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).field).toBe(field);
      expect((error as Error).message).toContain(expected);
      expect(count()).toBe(0);
      expect(test.emulator.plane.statsFor('CreateSchedule').calls).toBe(0);
    });
  });

  it.each([
    ['a universal target', 'arn:aws:scheduler:::aws-sdk:sqs:sendMessage'],
    ['a templated SQS target', `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:orders`],
  ])('creates a schedule with %s, as AWS accepts it', async (_, arn) => {
    // Act
    const created = await createOneTimeSchedule(
      deps(),
      oneTime({ targetArn: arn, input: { QueueUrl: 'https://sqs.example/orders', MessageBody: 'hi' } }),
      defaults,
    );

    // Assess
    expect(test.emulator.services.scheduler.get(GROUP, created.name)).toMatchObject({
      ActionAfterCompletion: 'DELETE',
      Target: { Arn: arn },
    });
  });

  it('says the quota is full and points at the sweeper and the alarms', async () => {
    // Prepare
    test.emulator.services.scheduler.setScheduleQuota(1);
    await createOneTimeSchedule(deps(), oneTime(), defaults);

    // Act
    const error = await rejection(createOneTimeSchedule(deps(), oneTime(), defaults));

    // Assess
    expect((error as CreateScheduleError).reason).toBe(CreateFailure.quotaFull);
    expect((error as Error).message).toContain('sls invoke -f sweep');
    expect((error as Error).message).toContain('QuotaUtilization');
    expect(count()).toBe(1);
  });

  it('says the group does not exist when it was never created', async () => {
    // Act
    const error = await rejection(
      createOneTimeSchedule(deps(), oneTime({ groupName: 'no-such-group' }), defaults),
    );

    // Assess
    expect((error as CreateScheduleError).reason).toBe(CreateFailure.groupMissing);
    expect((error as Error).message).toContain("group 'no-such-group'");
  });
});

describe('createRecurringSchedule', () => {
  it('creates a rate() schedule with its EndDate and ActionAfterCompletion DELETE', async () => {
    // Act
    const created = await createRecurringSchedule(
      deps(),
      { expression: 'rate(1 day)', endDate: '2099-01-01T00:00:00Z', targetArn },
      defaults,
    );

    // Assess
    expect(test.emulator.services.scheduler.get(GROUP, created.name)).toMatchObject({
      ScheduleExpression: 'rate(1 day)',
      ActionAfterCompletion: 'DELETE',
      EndDate: new Date('2099-01-01T00:00:00Z'),
    });
  });
});

describe('createRecurringSchedule: idempotency', () => {
  it('returns the existing schedule when a retry with the same StartDate and EndDate conflicts on the name', async () => {
    // Prepare: an earlier attempt got through under another ClientToken (its answer lost).
    const input = {
      expression: 'rate(1 day)',
      startDate: '2099-01-01T00:00:00Z',
      endDate: '2099-02-01T00:00:00Z',
      targetArn,
      idempotencyKey: 'recurring-lost-answer',
    };
    const plan = planRecurringSchedule(input, defaults, test.emulator.plane.now());
    const earlier = await test.scheduler.send(
      new CreateScheduleCommand({ ...plan.request, ClientToken: 'an-earlier-attempt' }),
    );

    // Act
    const retry = await createRecurringSchedule(deps(), input, defaults);
    const changed = await rejection(
      createRecurringSchedule(deps(), { ...input, endDate: '2099-03-01T00:00:00Z' }, defaults),
    );

    // Assess
    expect(retry.arn).toBe(earlier.ScheduleArn);
    expect((changed as Error).message).toContain('differing: EndDate; values not shown');
    expect(count()).toBe(1);
  });
});

describe('createRecurringSchedule: rate() forms', () => {
  // Scheduler documents no value/unit agreement rule; the create path and the emulator accept both.
  it('creates rate(1 hours) through the SDK', async () => {
    // Act
    const created = await createRecurringSchedule(
      deps(),
      { expression: 'rate(1 hours)', endDate: '2099-01-01T00:00:00Z', targetArn },
      defaults,
    );

    // Assess
    expect(test.emulator.services.scheduler.get(GROUP, created.name)).toMatchObject({
      ScheduleExpression: 'rate(1 hours)',
      ActionAfterCompletion: 'DELETE',
    });
  });
});

describe('mapCreateError', () => {
  const context = { name: 'order-42-abc', groupName: GROUP, roleArn: defaults.roleArn };

  it('maps the SDK ConflictException to name-taken', async () => {
    // Prepare: a duplicate create straight through the SDK.
    const plan = planOneTimeSchedule(oneTime(), defaults, test.emulator.plane.now());
    await test.scheduler.send(new CreateScheduleCommand(plan.request));
    const conflict = await rejection(test.scheduler.send(new CreateScheduleCommand(plan.request)));

    // Act
    const mapped = mapCreateError(conflict, { ...context, name: plan.name });

    // Assess
    expect(mapped.reason).toBe(CreateFailure.nameTaken);
    expect(mapped.message).toContain('the name is taken');
    // What a log line may say of the SDK error, never the error itself (test/errors.test.ts).
    expect(mapped.cause).toEqual(safeError(conflict));
    expect(mapped.cause).toMatchObject({ name: 'ConflictException', status: 409 });
  });

  it('passes a ValidationException through with its message', () => {
    // Act
    const mapped = mapCreateError(
      Object.assign(new Error('Invalid Schedule Expression'), { name: 'ValidationException' }),
      context,
    );

    // Assess
    expect(mapped.reason).toBe(CreateFailure.invalid);
    expect(mapped.message).toContain('Invalid Schedule Expression');
  });

  it('explains access denied in terms of iam:PassRole on the execution role', () => {
    // Act
    const mapped = mapCreateError(
      Object.assign(new Error('not authorized to perform: iam:PassRole'), { name: 'AccessDeniedException' }),
      context,
    );

    // Assess
    expect(mapped.reason).toBe(CreateFailure.accessDenied);
    expect(mapped.message).toContain(`iam:PassRole on '${defaults.roleArn}'`);
    expect(mapped.message).toContain('iam:PassedToService scheduler.amazonaws.com');
  });
});
