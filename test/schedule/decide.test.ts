import type { GetScheduleOutput } from '@aws-sdk/client-scheduler';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { type Decision, decide, finishedAtOf, SkipReason } from '../../src/schedule/decide.ts';
import { formatAtExpression } from '../../src/schedule/expression.ts';
import { createRandom, instantsReading, localText, oneTimeSchedule, pick, wallClockIn } from './support.ts';

const minuteMs = 60_000;
const hourMs = 3_600_000;
const dayMs = 86_400_000;
/** Scheduler's documented invocation spread: a schedule for 1:00 runs between 1:00:00 and 1:00:59. */
const spreadMs = 60_000;
const keepNothing = { graceMs: 0, keepDisabled: false };

const at = (iso: string) => new Date(iso);
const plus = (date: Date, ms: number) => new Date(date.getTime() + ms);

describe('decide: when an at() schedule is finished', () => {
  // The at-time 2026-06-01T12:00:00 UTC, plus the 60 s spread, flexible window, retry window and grace.
  const windowCases = [];
  for (const flexibleMinutes of [undefined, 1, 1440]) {
    for (const eventAgeSeconds of [60, 86_400, undefined]) {
      for (const graceMs of [0, hourMs]) windowCases.push({ flexibleMinutes, eventAgeSeconds, graceMs });
    }
  }

  it.each(windowCases)(
    'adds the 60 s spread, flexible window $flexibleMinutes min, event age $eventAgeSeconds s (unset = 86400) and grace $graceMs ms',
    ({ flexibleMinutes, eventAgeSeconds, graceMs }) => {
      // Prepare
      const schedule = oneTimeSchedule({
        FlexibleTimeWindow:
          flexibleMinutes === undefined
            ? { Mode: 'OFF' }
            : { Mode: 'FLEXIBLE', MaximumWindowInMinutes: flexibleMinutes },
        Target: {
          Arn: 'arn:aws:lambda:us-east-1:123456789012:function:target',
          RetryPolicy:
            eventAgeSeconds === undefined ? undefined : { MaximumEventAgeInSeconds: eventAgeSeconds },
        },
      });
      const finishedAt = plus(
        at('2026-06-01T12:00:00Z'),
        spreadMs + (flexibleMinutes ?? 0) * minuteMs + (eventAgeSeconds ?? 86_400) * 1000 + graceMs,
      );
      const options = { graceMs, keepDisabled: false };

      // Act
      const justBefore = decide(schedule, plus(finishedAt, -1), options);
      const exactly = decide(schedule, finishedAt, options);
      const wellAfter = decide(schedule, plus(finishedAt, 30 * dayMs), options);

      // Assess
      expect(justBefore).toEqual({ outcome: 'pending', finishedAt });
      expect(exactly).toEqual({ outcome: 'finished', finishedAt, stuck: false });
      expect(wellAfter).toEqual({ outcome: 'finished', finishedAt, stuck: false });
    },
  );

  it.each([
    // [expression, zone, the instant the at-time names (the later one when ambiguous, past the gap when skipped)]
    ['at(2026-06-01T12:00:00)', undefined, '2026-06-01T12:00:00Z'],
    ['at(2026-06-01T12:00:00)', undefined, '2026-06-01T12:00:00Z'],
    ['at(2026-06-01T12:00:00)', 'UTC', '2026-06-01T12:00:00Z'],
    ['at(2026-06-01T12:00:00)', 'America/New_York', '2026-06-01T16:00:00Z'],
    ['at(2026-01-15T12:00:00)', 'America/New_York', '2026-01-15T17:00:00Z'],
    ['at(2026-03-08T02:30:00)', 'America/New_York', '2026-03-08T07:30:00Z'],
    ['at(2026-11-01T01:30:00)', 'America/New_York', '2026-11-01T06:30:00Z'],
    ['at(2026-06-01T12:00:00)', 'Europe/London', '2026-06-01T11:00:00Z'],
    ['at(2026-03-29T01:30:00)', 'Europe/London', '2026-03-29T01:30:00Z'],
    ['at(2026-10-25T01:30:00)', 'Europe/London', '2026-10-25T01:30:00Z'],
    ['at(2026-06-01T12:00:00)', 'Australia/Lord_Howe', '2026-06-01T01:30:00Z'],
    ['at(2026-10-04T02:15:00)', 'Australia/Lord_Howe', '2026-10-03T15:45:00Z'],
    ['at(2026-04-05T01:45:00)', 'Australia/Lord_Howe', '2026-04-04T15:15:00Z'],
    ['at(2026-06-01T12:00:00)', 'Asia/Kolkata', '2026-06-01T06:30:00Z'],
    ['at(2026-06-01T12:00:00)', 'Pacific/Chatham', '2026-05-31T23:15:00Z'],
    ['at(2026-09-27T03:00:00)', 'Pacific/Chatham', '2026-09-26T14:15:00Z'],
    ['at(2026-04-05T03:00:00)', 'Pacific/Chatham', '2026-04-04T14:15:00Z'],
    ['at(2026-06-01T12:00:00)', 'UTC+05:30', '2026-06-01T06:30:00Z'],
    ['at(2026-06-01T12:00:00)', 'UTC-04:00', '2026-06-01T16:00:00Z'],
    ['at(2024-02-29T23:59:59)', 'America/New_York', '2024-03-01T04:59:59Z'],
    ['at(2024-02-29T00:00:30)', 'Asia/Kolkata', '2024-02-28T18:30:30Z'],
  ])('reads %s in zone %j as due at %s, then adds the windows', (expression, zone, dueAt) => {
    // Prepare: 60 s event age, no flexible window, 1 h grace.
    const schedule = oneTimeSchedule({ ScheduleExpression: expression, ScheduleExpressionTimezone: zone });
    const finishedAt = plus(at(dueAt), spreadMs + 60_000 + hourMs);
    const options = { graceMs: hourMs, keepDisabled: false };

    // Act
    const justBefore = decide(schedule, plus(finishedAt, -1), options);
    const exactly = decide(schedule, finishedAt, options);

    // Assess
    expect(justBefore).toEqual({ outcome: 'pending', finishedAt });
    expect(exactly).toEqual({ outcome: 'finished', finishedAt, stuck: false });
  });

  it('regression: with grace 0 and a 60 s event age, at(12:00:00) is still pending at 12:01:00 (the first attempt may start at 12:00:59)', () => {
    // Prepare: the example from the fault review, where the rule left the invocation spread out
    const schedule = oneTimeSchedule({
      ScheduleExpression: 'at(2026-06-01T12:00:00)',
      Target: { RetryPolicy: { MaximumEventAgeInSeconds: 60, MaximumRetryAttempts: 185 } },
    });

    // Act
    const atOneMinute = decide(schedule, at('2026-06-01T12:01:00Z'), keepNothing);
    const justBeforeTwo = decide(schedule, at('2026-06-01T12:01:59.999Z'), keepNothing);
    const atTwoMinutes = decide(schedule, at('2026-06-01T12:02:00Z'), keepNothing);

    // Assess
    expect(atOneMinute).toEqual({ outcome: 'pending', finishedAt: at('2026-06-01T12:02:00Z') });
    expect(justBeforeTwo.outcome).toBe('pending');
    expect(atTwoMinutes.outcome).toBe('finished');
  });

  it('adds the grace on top of the spread, never in place of it', () => {
    // Prepare
    const schedule = oneTimeSchedule();

    // Act
    const withGrace = finishedAtOf(schedule, { graceMs: minuteMs });

    // Assess: 12:00 + 60 s spread + 60 s event age + 1 min grace
    expect(withGrace).toEqual(at('2026-06-01T12:03:00Z'));
  });

  it('ignores StartDate and EndDate for at(), as AWS does', () => {
    // Prepare
    const plain = oneTimeSchedule();
    const bounded = oneTimeSchedule({
      StartDate: at('2030-01-01T00:00:00Z'),
      EndDate: at('2020-01-01T00:00:00Z'),
    });
    const now = at('2026-06-02T00:00:00Z');

    // Act / Assess
    expect(decide(bounded, now, keepNothing)).toEqual(decide(plain, now, keepNothing));
    expect(decide(bounded, now, keepNothing).outcome).toBe('finished');
  });

  it('ignores MaximumWindowInMinutes when Mode is OFF', () => {
    // Prepare
    const schedule = oneTimeSchedule({ FlexibleTimeWindow: { Mode: 'OFF', MaximumWindowInMinutes: 1440 } });

    // Act
    const decision = decide(schedule, at('2026-06-01T12:02:00Z'), keepNothing);

    // Assess
    expect(decision).toEqual({ outcome: 'finished', finishedAt: at('2026-06-01T12:02:00Z'), stuck: false });
  });

  it('keeps the full event age even when no retries are allowed', () => {
    // Prepare
    const schedule = oneTimeSchedule({
      Target: { RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 0 } },
    });

    // Act
    const decision = decide(schedule, at('2026-06-01T12:30:00Z'), keepNothing);

    // Assess
    expect(decision).toEqual({ outcome: 'pending', finishedAt: at('2026-06-01T13:01:00Z') });
  });

  it('accepts a GetScheduleOutput from the SDK as it is', () => {
    // Prepare
    const output: GetScheduleOutput = {
      Name: 'invoice-7',
      GroupName: 'billing',
      ScheduleExpression: 'at(2026-06-01T12:00:00)',
      ScheduleExpressionTimezone: 'Europe/London',
      State: 'ENABLED',
      ActionAfterCompletion: 'NONE',
      FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 },
      Target: {
        Arn: 'arn:aws:sqs:us-east-1:123456789012:queue',
        RoleArn: 'arn:aws:iam::123456789012:role/scheduler',
        RetryPolicy: { MaximumEventAgeInSeconds: 600, MaximumRetryAttempts: 3 },
      },
      CreationDate: at('2026-05-01T00:00:00Z'),
      LastModificationDate: at('2026-05-01T00:00:00Z'),
    };

    // Act
    const decision = decide(output, at('2026-06-01T11:24:59Z'), keepNothing);

    // Assess: 11:00Z (BST) + 1 min spread + 15 min + 10 min.
    expect(decision).toEqual({ outcome: 'pending', finishedAt: at('2026-06-01T11:26:00Z') });
  });
});

describe('decide: ActionAfterCompletion and State', () => {
  const past = at('2026-06-03T00:00:00Z');
  const future = at('2026-06-01T11:00:00Z');
  const finishedAt = at('2026-06-01T12:02:00Z');

  it.each([
    ['ENABLED', 'DELETE', false, past, { outcome: 'finished', finishedAt, stuck: true }],
    ['ENABLED', 'NONE', false, past, { outcome: 'finished', finishedAt, stuck: false }],
    ['ENABLED', undefined, false, past, { outcome: 'finished', finishedAt, stuck: false }],
    ['ENABLED', 'DELETE', true, past, { outcome: 'finished', finishedAt, stuck: true }],
    ['ENABLED', 'DELETE', false, future, { outcome: 'pending', finishedAt }],
    ['ENABLED', 'NONE', true, future, { outcome: 'pending', finishedAt }],
    // A DISABLED at() never fires, so AWS never removes it: finished once past, but not stuck.
    ['DISABLED', 'NONE', false, past, { outcome: 'finished', finishedAt, stuck: false }],
    ['DISABLED', 'DELETE', false, past, { outcome: 'finished', finishedAt, stuck: false }],
    ['DISABLED', 'NONE', false, future, { outcome: 'pending', finishedAt }],
    ['DISABLED', 'DELETE', false, future, { outcome: 'pending', finishedAt }],
    ['DISABLED', 'NONE', true, past, { outcome: 'skipped', reason: SkipReason.disabledKept }],
    ['DISABLED', 'DELETE', true, past, { outcome: 'skipped', reason: SkipReason.disabledKept }],
    ['DISABLED', 'NONE', true, future, { outcome: 'skipped', reason: SkipReason.disabledKept }],
  ] as const)('%s with %s, keepDisabled %s, at %s → %o', (state, action, keepDisabled, now, expected) => {
    // Prepare
    const schedule = oneTimeSchedule({ State: state, ActionAfterCompletion: action });

    // Act
    const decision = decide(schedule, now, { graceMs: 0, keepDisabled });

    // Assess
    expect(decision).toMatchObject(expected);
    if (decision.outcome === 'skipped') expect(decision.detail).toContain('DISABLED');
  });
});

describe('decide: recurring schedules', () => {
  it.each([
    'rate(1 minute)',
    'rate(5 minutes)',
    'rate(1 day)',
    'rate(1 hours)',
    'rate(1 minutes)',
    'rate(5 hour)',
    'cron(0 12 * * ? *)',
    'cron(0 9 ? * MON-FRI 2020)',
    'cron(15 10 ? * 6L 2020-2021)',
  ])('never finishes %s, whatever its dates, state or other fields', (expression) => {
    // Prepare
    const withPastEnd = oneTimeSchedule({
      ScheduleExpression: expression,
      EndDate: at('2021-01-01T00:00:00Z'),
      ActionAfterCompletion: 'DELETE',
    });
    const withOddFields = oneTimeSchedule({
      ScheduleExpression: expression,
      State: 'DISABLED',
      ScheduleExpressionTimezone: 'Mars/Olympus',
      Target: undefined,
    });

    // Act
    const decisions = [
      decide(withPastEnd, at('2030-01-01T00:00:00Z'), keepNothing),
      decide(withOddFields, at('2030-01-01T00:00:00Z'), { graceMs: 0, keepDisabled: true }),
    ];

    // Assess
    expect(decisions).toEqual([{ outcome: 'recurring' }, { outcome: 'recurring' }]);
  });
});

describe('decide: keeps what it is unsure about', () => {
  const now = at('2030-01-01T00:00:00Z');

  it.each([
    [
      'no ScheduleExpression',
      { ScheduleExpression: undefined },
      SkipReason.missingFields,
      'ScheduleExpression',
    ],
    [
      'an empty ScheduleExpression',
      { ScheduleExpression: '' },
      SkipReason.missingFields,
      'ScheduleExpression',
    ],
    [
      'a number as ScheduleExpression',
      { ScheduleExpression: 42 },
      SkipReason.invalidFields,
      'ScheduleExpression',
    ],
    [
      'at with a space',
      { ScheduleExpression: 'at(2026-01-01 00:00:00)' },
      SkipReason.unparseableExpression,
      'ScheduleExpression',
    ],
    ['empty at()', { ScheduleExpression: 'at()' }, SkipReason.unparseableExpression, 'ScheduleExpression'],
    [
      'a date that does not exist',
      { ScheduleExpression: 'at(2026-02-30T00:00:00)' },
      SkipReason.unparseableExpression,
      '2026-02-30',
    ],
    [
      'a five-field cron',
      { ScheduleExpression: 'cron(* * * * *)' },
      SkipReason.unparseableExpression,
      '6 fields',
    ],
    [
      'rate(0 minutes)',
      { ScheduleExpression: 'rate(0 minutes)' },
      SkipReason.unparseableExpression,
      'rate()',
    ],
    [
      'an unknown zone',
      { ScheduleExpressionTimezone: 'Mars/Olympus' },
      SkipReason.unknownTimezone,
      'Mars/Olympus',
    ],
    [
      'a zone in the wrong case',
      { ScheduleExpressionTimezone: 'america/new_york' },
      SkipReason.unknownTimezone,
      'ScheduleExpressionTimezone',
    ],
    ['a short offset', { ScheduleExpressionTimezone: 'UTC+4' }, SkipReason.unknownTimezone, 'UTC+4'],
    // The API model allows 1-50 characters: '' is no zone AWS writes, so it is not read as UTC.
    [
      'an empty zone',
      { ScheduleExpressionTimezone: '' },
      SkipReason.unknownTimezone,
      'ScheduleExpressionTimezone',
    ],
    [
      'a zone that is not a string',
      { ScheduleExpressionTimezone: 5 },
      SkipReason.invalidFields,
      'ScheduleExpressionTimezone',
    ],
    ['no State', { State: undefined }, SkipReason.missingFields, 'State'],
    ['an unknown State', { State: 'PAUSED' }, SkipReason.invalidFields, 'State'],
    ['no Target', { Target: undefined }, SkipReason.missingFields, 'Target'],
    [
      'no FlexibleTimeWindow',
      { FlexibleTimeWindow: undefined },
      SkipReason.missingFields,
      'FlexibleTimeWindow',
    ],
    ['no Mode', { FlexibleTimeWindow: {} }, SkipReason.missingFields, 'FlexibleTimeWindow.Mode'],
    [
      'an unknown Mode',
      { FlexibleTimeWindow: { Mode: 'LOOSE' } },
      SkipReason.invalidFields,
      'FlexibleTimeWindow.Mode',
    ],
    [
      'FLEXIBLE without a window',
      { FlexibleTimeWindow: { Mode: 'FLEXIBLE' } },
      SkipReason.invalidFields,
      'MaximumWindowInMinutes',
    ],
    [
      'FLEXIBLE with 0 minutes',
      { FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 0 } },
      SkipReason.invalidFields,
      'MaximumWindowInMinutes',
    ],
    [
      'FLEXIBLE with 1441 minutes',
      { FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 1441 } },
      SkipReason.invalidFields,
      'MaximumWindowInMinutes',
    ],
    [
      'FLEXIBLE with 1.5 minutes',
      { FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 1.5 } },
      SkipReason.invalidFields,
      'MaximumWindowInMinutes',
    ],
    [
      'FLEXIBLE with a text window',
      { FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: '15' } },
      SkipReason.invalidFields,
      'MaximumWindowInMinutes',
    ],
    [
      'a negative event age',
      { Target: { RetryPolicy: { MaximumEventAgeInSeconds: -1 } } },
      SkipReason.invalidFields,
      'MaximumEventAgeInSeconds',
    ],
    [
      'an event age of 59 s',
      { Target: { RetryPolicy: { MaximumEventAgeInSeconds: 59 } } },
      SkipReason.invalidFields,
      'MaximumEventAgeInSeconds',
    ],
    [
      'an event age of 86401 s',
      { Target: { RetryPolicy: { MaximumEventAgeInSeconds: 86_401 } } },
      SkipReason.invalidFields,
      'MaximumEventAgeInSeconds',
    ],
    [
      'a fractional event age',
      { Target: { RetryPolicy: { MaximumEventAgeInSeconds: 60.5 } } },
      SkipReason.invalidFields,
      'MaximumEventAgeInSeconds',
    ],
    [
      'a NaN event age',
      { Target: { RetryPolicy: { MaximumEventAgeInSeconds: Number.NaN } } },
      SkipReason.invalidFields,
      'MaximumEventAgeInSeconds',
    ],
    [
      'negative retry attempts',
      { Target: { RetryPolicy: { MaximumRetryAttempts: -1 } } },
      SkipReason.invalidFields,
      'MaximumRetryAttempts',
    ],
    [
      '186 retry attempts',
      { Target: { RetryPolicy: { MaximumRetryAttempts: 186 } } },
      SkipReason.invalidFields,
      'MaximumRetryAttempts',
    ],
    [
      'an unknown ActionAfterCompletion',
      { ActionAfterCompletion: 'KEEP' },
      SkipReason.invalidFields,
      'ActionAfterCompletion',
    ],
  ])('skips a schedule with %s, naming %s', (_label, overrides, reason, fieldInDetail) => {
    // Prepare
    const schedule = oneTimeSchedule(overrides);

    // Act
    const decision = decide(schedule as Parameters<typeof decide>[0], now, keepNothing);

    // Assess
    expect(decision).toEqual({ outcome: 'skipped', reason, detail: expect.stringContaining(fieldInDetail) });
  });

  it('states the expected form in the detail', () => {
    // Prepare
    const schedule = oneTimeSchedule({ Target: { RetryPolicy: { MaximumEventAgeInSeconds: -5 } } });

    // Act
    const decision = decide(schedule, now, keepNothing);

    // Assess
    expect(decision).toEqual({
      outcome: 'skipped',
      reason: SkipReason.invalidFields,
      detail: 'Target.RetryPolicy.MaximumEventAgeInSeconds: expected a whole number from 60 to 86400, got -5',
    });
  });

  it.each([
    [{ graceMs: -1, keepDisabled: false }, 'graceMs'],
    [{ graceMs: Number.NaN, keepDisabled: false }, 'graceMs'],
    [{ graceMs: Number.POSITIVE_INFINITY, keepDisabled: false }, 'graceMs'],
  ])('refuses options %o with an InputError naming %s', (options, field) => {
    // Act / Assess
    expect(() => decide(oneTimeSchedule(), now, options)).toThrow(InputError);
    expect(() => decide(oneTimeSchedule(), now, options)).toThrow(field);
  });

  it('refuses an invalid now with an InputError', () => {
    // Act / Assess
    expect(() => decide(oneTimeSchedule(), new Date(Number.NaN), keepNothing)).toThrow(/Invalid now/);
  });
});

describe('finishedAtOf', () => {
  it('gives the instant decide() uses, and nothing for recurring or unsure schedules', () => {
    // Prepare
    const schedule = oneTimeSchedule({ ScheduleExpressionTimezone: 'Asia/Kolkata' });

    // Act
    const finishedAt = finishedAtOf(schedule, { graceMs: hourMs });
    const decision = decide(schedule, at('2020-01-01T00:00:00Z'), { graceMs: hourMs, keepDisabled: false });

    // Assess
    expect(finishedAt).toEqual(at('2026-06-01T07:32:00Z'));
    expect(decision).toEqual({ outcome: 'pending', finishedAt });
    expect(
      finishedAtOf(oneTimeSchedule({ ScheduleExpression: 'rate(5 minutes)' }), { graceMs: 0 }),
    ).toBeUndefined();
    expect(
      finishedAtOf(oneTimeSchedule({ ScheduleExpressionTimezone: 'Mars/Olympus' }), { graceMs: 0 }),
    ).toBeUndefined();
  });
});

describe('decide: generated schedules never finish early', () => {
  const zones = [
    undefined,
    'UTC',
    'America/New_York',
    'Europe/London',
    'Australia/Lord_Howe',
    'Asia/Kolkata',
    'Pacific/Chatham',
    'America/Sao_Paulo',
    'UTC+05:30',
    'UTC-09:30',
  ] as const;

  it('is never finished before every reading of the at-time plus its windows and grace (4,000 cases)', () => {
    // Prepare
    const random = createRandom(424242);
    const outcomes = new Map<string, number>();

    for (let index = 0; index < 4000; index += 1) {
      const zone = pick(random, zones);
      const effectiveZone = zone ?? 'UTC';
      // Half the cases land on DST-change Sundays of 2026 (within 03:00 of midnight–04:00), half anywhere.
      const onChangeDay = random.next() < 0.5;
      const localTime = onChangeDay
        ? {
            ...pick(random, [
              { year: 2026, month: 3, day: 8 },
              { year: 2026, month: 11, day: 1 },
              { year: 2026, month: 3, day: 29 },
              { year: 2026, month: 10, day: 25 },
              { year: 2026, month: 4, day: 5 },
              { year: 2026, month: 10, day: 4 },
              { year: 2026, month: 9, day: 27 },
            ]),
            hour: random.integer(0, 3),
            minute: random.integer(0, 59),
            second: random.integer(0, 59),
          }
        : {
            year: random.integer(1990, 2035),
            month: random.integer(1, 12),
            day: random.integer(1, 28),
            hour: random.integer(0, 23),
            minute: random.integer(0, 59),
            second: random.integer(0, 59),
          };
      const flexibleMinutes = pick(random, [undefined, 1, 15, 1440]);
      const eventAgeSeconds = pick(random, [undefined, 60, 3600, 86_400]);
      const graceMs = pick(random, [0, 1, hourMs]);
      const windowsMs =
        spreadMs + (flexibleMinutes ?? 0) * minuteMs + (eventAgeSeconds ?? 86_400) * 1000 + graceMs;
      const schedule = oneTimeSchedule({
        ScheduleExpression: formatAtExpression(localTime),
        ScheduleExpressionTimezone: zone,
        State: pick(random, ['ENABLED', 'DISABLED']),
        ActionAfterCompletion: pick(random, ['NONE', 'DELETE', undefined]),
        FlexibleTimeWindow:
          flexibleMinutes === undefined
            ? { Mode: 'OFF' }
            : { Mode: 'FLEXIBLE', MaximumWindowInMinutes: flexibleMinutes },
        Target: {
          RetryPolicy:
            eventAgeSeconds === undefined ? undefined : { MaximumEventAgeInSeconds: eventAgeSeconds },
        },
      });
      const text = localText(localTime);
      const naiveMs = Date.parse(`${text}Z`);
      const now = new Date(naiveMs + random.integer(-2 * dayMs, 3 * dayMs));

      // Act
      const decision: Decision = decide(schedule, now, { graceMs, keepDisabled: false });

      // Assess
      outcomes.set(decision.outcome, (outcomes.get(decision.outcome) ?? 0) + 1);
      expect(['finished', 'pending'], `${text} ${zone}`).toContain(decision.outcome);
      if (decision.outcome !== 'finished' && decision.outcome !== 'pending') continue;
      expect(decision.outcome === 'finished', `${text} ${zone}`).toBe(now >= decision.finishedAt);
      const readings = instantsReading(text, effectiveZone);
      for (const reading of readings) {
        expect(decision.finishedAt.getTime(), `${text} ${zone}`).toBeGreaterThanOrEqual(reading + windowsMs);
      }
      if (readings.length === 0) {
        // Never fires: finished no earlier than the windows after the clock has passed the at-time.
        const dueAt = decision.finishedAt.getTime() - windowsMs;
        expect(wallClockIn(dueAt, effectiveZone) > text, `${text} ${zone}`).toBe(true);
      }
    }
    expect(outcomes.get('finished') ?? 0).toBeGreaterThan(500);
    expect(outcomes.get('pending') ?? 0).toBeGreaterThan(500);
  });
});
