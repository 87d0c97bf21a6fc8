// Planning a schedule: the CreateSchedule input built from a caller's request, without AWS.
import { describe, expect, it } from 'vitest';
import {
  type CreateInput,
  MAX_NAME_LENGTH,
  MAX_PREFIX_LENGTH,
  planOneTimeSchedule,
  planRecurringSchedule,
} from '../../src/create/plan.ts';
import { InputError } from '../../src/errors.ts';

const now = new Date('2026-06-01T12:00:00Z');
const defaults = {
  groupName: 'schedule-hygiene-test',
  roleArn: 'arn:aws:iam::123456789012:role/scheduler-execution',
};
const targetArn = 'arn:aws:lambda:us-east-1:123456789012:function:schedule-hygiene-test-target';

function request(overrides: Partial<CreateInput> = {}): CreateInput {
  return { at: '2026-12-01T09:00:00', timezone: 'Europe/Berlin', targetArn, ...overrides };
}

function inputErrorOf(action: () => unknown): InputError {
  try {
    action();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

describe('planOneTimeSchedule', () => {
  it('builds an at() schedule in the given zone that deletes itself after it runs', () => {
    // Act
    const plan = planOneTimeSchedule(
      request({
        input: { orderId: '42' },
        flexibleWindowMinutes: 15,
        retry: { maximumEventAgeSeconds: 3600, maximumRetryAttempts: 3 },
        deadLetterArn: 'arn:aws:sqs:us-east-1:123456789012:schedule-dlq',
        description: 'order 42 reminder',
      }),
      defaults,
      now,
    );

    // Assess
    expect(plan.request).toMatchObject({
      Name: plan.name,
      GroupName: defaults.groupName,
      ScheduleExpression: 'at(2026-12-01T09:00:00)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      ActionAfterCompletion: 'DELETE',
      FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 },
      Description: 'order 42 reminder',
      Target: {
        Arn: targetArn,
        RoleArn: defaults.roleArn,
        Input: '{"orderId":"42"}',
        RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 3 },
        DeadLetterConfig: { Arn: 'arn:aws:sqs:us-east-1:123456789012:schedule-dlq' },
      },
    });
    // Berlin is UTC+1 in December.
    expect(plan.runsAt?.toISOString()).toBe('2026-12-01T08:00:00.000Z');
  });

  it('defaults to UTC, no flexible window and no Input when none are given', () => {
    // Act
    const plan = planOneTimeSchedule({ at: '2026-07-01T00:00:00', targetArn }, defaults, now);

    // Assess
    expect(plan.request.ScheduleExpressionTimezone).toBe('UTC');
    expect(plan.request.FlexibleTimeWindow).toEqual({ Mode: 'OFF' });
    expect(plan.request.Target?.Input).toBeUndefined();
    expect(plan.runsAt?.toISOString()).toBe('2026-07-01T00:00:00.000Z');
  });

  it('converts an absolute runAt instant to at() in UTC', () => {
    // Act
    const plan = planOneTimeSchedule({ runAt: '2026-12-01T09:30:15.750+02:00', targetArn }, defaults, now);

    // Assess
    expect(plan.request.ScheduleExpression).toBe('at(2026-12-01T07:30:15)');
    expect(plan.request.ScheduleExpressionTimezone).toBe('UTC');
  });

  it('checks the lead time of an ambiguous fall-back time against its earlier instant', () => {
    // Prepare: 02:30 happens twice in Berlin on 2026-10-25 (00:30Z and 01:30Z).
    const justBefore = new Date('2026-10-25T00:00:00Z');

    // Act
    const plan = planOneTimeSchedule(
      { at: '2026-10-25T02:30:00', timezone: 'Europe/Berlin', targetArn },
      defaults,
      justBefore,
    );
    const tooLate = inputErrorOf(() =>
      planOneTimeSchedule(
        { at: '2026-10-25T02:30:00', timezone: 'Europe/Berlin', targetArn },
        defaults,
        new Date('2026-10-25T00:30:00Z'),
      ),
    );

    // Assess
    expect(plan.runsAt?.toISOString()).toBe('2026-10-25T00:30:00.000Z');
    expect(tooLate.field).toBe('at');
  });

  it('names the DST gap when the local time does not exist', () => {
    // Act: Berlin springs forward from 02:00 to 03:00 on 2027-03-28.
    const error = inputErrorOf(() =>
      planOneTimeSchedule(request({ at: '2027-03-28T02:30:00' }), defaults, now),
    );

    // Assess
    expect(error.field).toBe('at');
    expect(error.message).toContain('60-minute daylight-saving gap of 2027-03-28');
  });

  it('maps the same idempotency key and request to the same name and ClientToken', () => {
    // Act
    const first = planOneTimeSchedule(
      request({ businessId: 'order-42', idempotencyKey: 'order-42-reminder' }),
      defaults,
      now,
    );
    const retry = planOneTimeSchedule(
      request({ businessId: 'order-42', idempotencyKey: 'order-42-reminder' }),
      defaults,
      now,
    );
    const otherKey = planOneTimeSchedule(
      request({ businessId: 'order-42', idempotencyKey: 'order-43-reminder' }),
      defaults,
      now,
    );

    // Assess
    expect(retry.name).toBe(first.name);
    expect(retry.clientToken).toBe(first.clientToken);
    expect(first.clientToken).toMatch(/^[0-9a-f]{64}$/);
    expect(otherKey.name).not.toBe(first.name);
    expect(first.name).toMatch(/^order-42-[0-9a-f]{24}$/);
  });

  it('gives the same key with a different request a different ClientToken, so the service cannot mistake it for a retry', () => {
    // Act
    const first = planOneTimeSchedule(request({ idempotencyKey: 'k', input: { v: 1 } }), defaults, now);
    const changed = planOneTimeSchedule(request({ idempotencyKey: 'k', input: { v: 2 } }), defaults, now);

    // Assess
    expect(changed.name).toBe(first.name);
    expect(changed.clientToken).not.toBe(first.clientToken);
  });

  it('gives every call without an idempotency key a fresh random name and leaves the ClientToken to the SDK', () => {
    // Act
    const plans = Array.from({ length: 50 }, () =>
      planOneTimeSchedule(request({ namePrefix: 'reminder' }), defaults, now),
    );

    // Assess
    expect(new Set(plans.map((plan) => plan.name)).size).toBe(50);
    expect(plans.every((plan) => plan.request.ClientToken === undefined)).toBe(true);
  });

  it('keeps the longest allowed prefix within the 64-character name limit', () => {
    // Act
    const plan = planOneTimeSchedule(request({ namePrefix: 'p'.repeat(MAX_PREFIX_LENGTH) }), defaults, now);

    // Assess
    expect(plan.name).toHaveLength(MAX_NAME_LENGTH);
    expect(plan.name).toMatch(/^[0-9a-zA-Z\-_.]{1,64}$/);
  });

  it('rejects a prefix that does not fit, or has characters a name cannot hold, rather than mangling it', () => {
    // Act
    const tooLong = inputErrorOf(() =>
      planOneTimeSchedule(request({ namePrefix: 'p'.repeat(MAX_PREFIX_LENGTH + 1) }), defaults, now),
    );
    const badCharacters = inputErrorOf(() =>
      planOneTimeSchedule(request({ businessId: 'order/42' }), defaults, now),
    );

    // Assess
    expect(tooLong.field).toBe('namePrefix');
    expect(tooLong.message).toContain(`1-${MAX_PREFIX_LENGTH} characters`);
    expect(badCharacters.field).toBe('businessId');
  });
});

describe('planRecurringSchedule', () => {
  it.each(['rate(1 hours)', 'rate(1 minutes)', 'rate(5 minute)', 'rate(1 hour)'])(
    'accepts %s: Scheduler has no value/unit agreement rule',
    (expression) => {
      // Act
      const plan = planRecurringSchedule(
        { expression, endDate: '2026-09-01T00:00:00Z', targetArn },
        defaults,
        now,
      );

      // Assess
      expect(plan.request).toMatchObject({ ScheduleExpression: expression, ActionAfterCompletion: 'DELETE' });
    },
  );

  it('accepts rate() with an EndDate and still deletes after completion', () => {
    // Act
    const plan = planRecurringSchedule(
      {
        expression: 'rate(1 day)',
        endDate: '2026-09-01T00:00:00Z',
        startDate: '2026-06-02T00:00:00Z',
        targetArn,
      },
      defaults,
      now,
    );

    // Assess
    expect(plan.request).toMatchObject({
      ScheduleExpression: 'rate(1 day)',
      ActionAfterCompletion: 'DELETE',
      EndDate: new Date('2026-09-01T00:00:00Z'),
      StartDate: new Date('2026-06-02T00:00:00Z'),
    });
  });

  it.each([
    ['no endDate, so DELETE could never take effect', { expression: 'rate(1 day)' }, 'endDate'],
    ['an endDate in the past', { expression: 'rate(1 day)', endDate: '2026-05-01T00:00:00Z' }, 'endDate'],
    [
      'an at() expression',
      { expression: 'at(2026-12-01T09:00:00)', endDate: '2026-09-01T00:00:00Z' },
      'expression',
    ],
    [
      'a startDate after the endDate',
      { expression: 'cron(0 9 * * ? *)', endDate: '2026-09-01T00:00:00Z', startDate: '2026-10-01T00:00:00Z' },
      'startDate',
    ],
  ])('rejects %s', (_description, fields, field) => {
    // Act
    const error = inputErrorOf(() => planRecurringSchedule({ targetArn, ...fields }, defaults, now));

    // Assess
    expect(error.field).toBe(field);
  });
});
