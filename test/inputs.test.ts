// Input that is not exactly understood is refused with a short message naming the field (or the
// variable) and the expected form; it is never read toward a wider sweep or toward a default.
// One table per kind of input: environment variables, the scheduled event, payload sizes.
import { describe, expect, it } from 'vitest';
import { readCensusConfig } from '../src/census/config.ts';
import { parseCensusEvent } from '../src/census/payload.ts';
import { readCreateConfig } from '../src/create/config.ts';
import { planOneTimeSchedule, planRecurringSchedule } from '../src/create/plan.ts';
import { ConfigError, InputError } from '../src/errors.ts';
import { readProtectTag } from '../src/protect/protection.ts';
import { resolveZone } from '../src/schedule/timezone.ts';
import { readSweepConfig } from '../src/sweep/config.ts';
import { parseSweepEvent, parseSweepPayload } from '../src/sweep/payload.ts';
import { scheduledEvent } from './support/scheduled-event.ts';

/** Longest message any refusal may have, whatever the size of the input. */
const MAX_MESSAGE = 400;

function refusal(read: () => unknown): Error {
  try {
    read();
  } catch (error) {
    if (error instanceof ConfigError || error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected the input to be refused');
}

describe('environment variables', () => {
  it.each([
    ['SWEEP_GROUPS', ','],
    ['SWEEP_GROUPS', ' , '],
    ['SWEEP_GROUPS', ' '],
    ['SWEEP_GROUPS', 'orders,,billing'],
    ['SWEEP_GROUPS', 'orders,'],
    ['SWEEP_GROUPS', ',orders'],
  ])('refuses %s=%j instead of reading it as "every group"', (variable, value) => {
    const error = refusal(() => readSweepConfig({ [variable]: value }));

    expect(error.message).toMatch(
      new RegExp(`^Expected ${variable} to be a comma-separated list of schedule group names`),
    );
  });

  it.each([[','], [' , '], ['\t'], ['a,,b']])(
    'refuses CENSUS_GROUPS=%j instead of counting every group',
    (value) => {
      const error = refusal(() => readCensusConfig({ CENSUS_GROUPS: value }));

      expect(error.message).toMatch(
        /^Expected CENSUS_GROUPS to be a comma-separated list of schedule group names/,
      );
    },
  );

  it('reads unset and exactly empty group lists as every group (serverless passes empty parameters as "")', () => {
    expect(readSweepConfig({}).groups).toEqual([]);
    expect(readSweepConfig({ SWEEP_GROUPS: '' }).groups).toEqual([]);
    expect(readCensusConfig({ CENSUS_GROUPS: '' }).groups).toEqual([]);
  });

  it.each([
    '1e3',
    '0x10',
    ' 5',
    '5 ',
    '5.0',
    '+5',
    '1_000',
    '05',
    '-0',
    '0b1',
    '0o7',
    '.5',
    '5.',
    'Infinity',
    '١٢',
  ])('refuses the number %j written in another notation than plain decimal digits', (value) => {
    for (const [read, variable] of [
      [readSweepConfig, 'SWEEP_GET_TPS'],
      [readSweepConfig, 'SWEEP_GRACE_MINUTES'],
      [readSweepConfig, 'SWEEP_CONCURRENCY'],
      [readCensusConfig, 'SCHEDULE_QUOTA'],
      [readCensusConfig, 'CENSUS_LIST_TPS'],
    ] as const) {
      const error = refusal(() => read({ [variable]: value }));

      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toMatch(new RegExp(`^Expected ${variable} to be a whole number from `));
    }
  });

  it('still reads plain decimal numbers, including 0 and the bounds', () => {
    expect(readSweepConfig({ SWEEP_GRACE_MINUTES: '0', SWEEP_GET_TPS: '10000' })).toMatchObject({
      graceMinutes: 0,
      budgets: { get: 10_000 },
    });
  });

  it.each(['TRUE', 'True', '1', '0', ' true', 'false ', 'yes', 'no'])(
    'refuses the boolean %j: only true and false are read',
    (value) => {
      const error = refusal(() => readSweepConfig({ SWEEP_KEEP_DISABLED: value }));

      expect(error.message).toBe(`Expected SWEEP_KEEP_DISABLED to be 'true' or 'false', got '${value}'`);
    },
  );

  it.each([
    ['SWEEP_STATE_TABLE', ' ', readSweepConfig],
    ['SWEEP_STATE_TABLE', ' my-table', readSweepConfig],
    ['CENSUS_STATE_TABLE', '  ', readCensusConfig],
    ['METRICS_NAMESPACE', ' ', readSweepConfig],
    ['METRICS_NAMESPACE', ' ', readCensusConfig],
  ] as const)('refuses %s=%j rather than reading blanks as unset', (variable, value, read) => {
    const error = refusal(() => read({ [variable]: value }));

    expect(error.message).toMatch(new RegExp(`^Expected ${variable} to be `));
  });

  it.each([
    ['CREATE_SCHEDULE_GROUP', ' '],
    ['CREATE_SCHEDULE_GROUP', ''],
    ['SCHEDULER_ROLE_ARN', ' '],
  ])('refuses the create path variable %s=%j', (variable, value) => {
    const env = {
      CREATE_SCHEDULE_GROUP: 'schedule-hygiene-dev',
      SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/scheduler',
      [variable]: value,
    };

    expect(() => readCreateConfig(env)).toThrow(new RegExp(`^Expected ${variable} to be `));
  });

  it.each([
    ['SWEEP_GROUPS', `${'g'.repeat(70)},${'x'.repeat(1_000_000)}`],
    ['SWEEP_GET_TPS', '9'.repeat(1_000_000)],
    ['SWEEP_STATE_TABLE', 't'.repeat(1_000_000)],
    ['METRICS_NAMESPACE', 'n'.repeat(1_000_000)],
  ])('keeps the message short for a huge %s', (variable, value) => {
    const error = refusal(() => readSweepConfig({ [variable]: value }));

    expect(error.message.length).toBeLessThan(MAX_MESSAGE);
    expect(error.message).toContain(variable);
  });
});

describe('the scheduled event', () => {
  it('is read as "the configured defaults" by the sweep and the census when it matches in every field', () => {
    expect(parseSweepPayload(scheduledEvent())).toEqual({});
    expect(parseCensusEvent(scheduledEvent())).toEqual({ kind: 'start' });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['another source', { source: 'aws.event' }, 'source'],
    ['another detail-type', { 'detail-type': 'Scheduled event' }, 'detail-type'],
    ['version as a number', { version: 0 }, 'version'],
    ['another version', { version: '1' }, 'version'],
    ['an id that is no UUID', { id: 'run-now' }, 'id'],
    ['an account of 11 digits', { account: '12345678901' }, 'account'],
    ['an account as a number', { account: 123456789012 }, 'account'],
    ['a time that is no instant', { time: 'yesterday' }, 'time'],
    ['a time Date.parse would take', { time: '1' }, 'time'],
    ['a time that does not exist', { time: '2025-02-30T16:53:06Z' }, 'time'],
    ['a time with an offset', { time: '2025-10-08T16:53:06+02:00' }, 'time'],
    ['a region that is none', { region: 'mars' }, 'region'],
    ['no resources', { resources: [] }, 'resources'],
    [
      'two resources',
      {
        resources: [
          'arn:aws:events:us-east-1:123456789012:rule/a',
          'arn:aws:events:us-east-1:123456789012:rule/b',
        ],
      },
      'resources',
    ],
    [
      'a resource that is no rule',
      { resources: ['arn:aws:sqs:us-east-1:123456789012:queue'] },
      'resources[0]',
    ],
    ['resources as a string', { resources: 'arn:aws:events:us-east-1:123456789012:rule/a' }, 'resources'],
    ['a sweep field in detail', { detail: { dryRun: true } }, 'detail.dryRun'],
    ['detail as null', { detail: null }, 'detail'],
    ['detail missing', { detail: undefined }, 'detail'],
    ['time missing', { time: undefined }, 'time'],
  ])('refuses a look-alike with %s, naming the field', (_label, overrides, field) => {
    const event = JSON.parse(JSON.stringify(scheduledEvent(overrides)));

    for (const parse of [parseSweepPayload, parseCensusEvent] as const) {
      const error = refusal(() => parse(event));

      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).field).toBe(`scheduled event.${field}`);
    }
  });

  it.each<[string, Record<string, unknown>]>([
    ['a Region other than its rule ARN', { region: 'eu-west-1' }],
    ['an account other than its rule ARN', { account: '210987654321' }],
    ['a rule ARN in another Region', { resources: ['arn:aws:events:eu-west-1:123456789012:rule/sweep'] }],
    ['a rule ARN in another account', { resources: ['arn:aws:events:us-east-1:210987654321:rule/sweep'] }],
  ])('refuses a look-alike with %s, naming its rule ARN', (_label, overrides) => {
    const event = JSON.parse(JSON.stringify(scheduledEvent(overrides)));

    for (const parse of [parseSweepPayload, parseCensusEvent] as const) {
      const error = refusal(() => parse(event));

      expect((error as InputError).field).toBe('scheduled event.resources[0]');
      expect(error.message).toContain("in the event's own Region and account");
    }
  });

  it('says detail must be an empty object when it refuses a field in it', () => {
    const event = JSON.parse(JSON.stringify(scheduledEvent({ detail: { dryRun: true } })));

    const error = refusal(() => parseSweepPayload(event));

    expect((error as Error).message).toContain('no such field (an empty object, {}, is expected)');
    expect((error as Error).message).not.toContain('allowed: )');
  });

  it('refuses the scheduled event with any other field beside it, naming that field', () => {
    const event = scheduledEvent({ dryRun: false });

    expect(() => parseSweepPayload(event)).toThrow(
      /^Unknown fields 'version', 'id', .* and \d+ more in sweep payload/,
    );
    expect(() => parseCensusEvent(event)).toThrow(/^Unknown fields .* in census payload/);
  });
});

describe('payload numbers', () => {
  it.each(['graceMinutes', 'maxDeletes'])('refuses %s as -0 (0 in another notation)', (field) => {
    const error = refusal(() => parseSweepPayload(JSON.parse(`{"${field}": -0}`)));

    expect((error as InputError).field).toBe(field);
  });
});

describe('payload sizes', () => {
  const huge = 'x'.repeat(1_000_000);
  const manyKeys = Object.fromEntries(Array.from({ length: 10_000 }, (_, index) => [`key${index}`, index]));

  it.each<[string, unknown]>([
    ['an unknown key of a million characters', { [huge]: true }],
    ['ten thousand unknown keys', manyKeys],
    ['a name prefix of a million characters', { namePrefix: huge }],
    ['a group name of a million characters', { groups: [huge] }],
    ['a hundred thousand groups', { groups: Array.from({ length: 100_000 }, (_, index) => `g${index}`) }],
    ['a payload string of a million characters', huge],
    ['a continuation with a huge unknown key', { continuation: { [huge]: 1 } }],
    ['a continuation beside a huge key', { continuation: {}, [huge]: 1 }],
  ])('refuses %s with a short message', (_label, payload) => {
    for (const parse of [parseSweepEvent, parseCensusEvent] as const) {
      const error = refusal(() => parse(payload));

      expect(error.message.length).toBeLessThan(MAX_MESSAGE);
    }
  });

  it('names only the first few of many unknown keys and counts the rest', () => {
    const error = refusal(() => parseSweepPayload(manyKeys));

    expect(error.message).toMatch(
      /^Unknown fields 'key0', 'key1', 'key2', 'key3', 'key4' and 9995 more in sweep payload/,
    );
  });

  it('escapes control characters it echoes, so a refusal cannot forge a log line', () => {
    const error = refusal(() => parseSweepPayload({ namePrefix: 'a\n{"level":"info"}' }));

    expect(error.message).not.toContain('\n');
    expect(error.message).toContain('\\n');
  });
});

describe('create path fields', () => {
  const now = new Date('2026-06-01T12:00:00Z');
  const defaults = {
    groupName: 'schedule-hygiene-test',
    roleArn: 'arn:aws:iam::123456789012:role/scheduler',
  };
  const targetArn = 'arn:aws:lambda:us-east-1:123456789012:function:target';

  it.each<[string, Record<string, unknown>, string]>([
    ['an empty timezone (not UTC)', { timezone: '' }, 'timezone'],
    ['a blank timezone', { timezone: ' ' }, 'timezone'],
    ['a timezone with spaces around it', { timezone: ' Europe/Berlin ' }, 'timezone'],
    ['an empty group (not the default group)', { groupName: '' }, 'groupName'],
    ['a group with a space before it', { groupName: ' orders' }, 'groupName'],
    ['an empty role (not the default role)', { roleArn: '' }, 'roleArn'],
    ['an at-time with a space after it', { at: '2026-12-01T09:00:00 ' }, 'at'],
    ['a flexible window as text', { flexibleWindowMinutes: '5' }, 'flexibleWindowMinutes'],
    ['a flexible window of 5.5', { flexibleWindowMinutes: 5.5 }, 'flexibleWindowMinutes'],
    ['a huge name prefix', { namePrefix: 'p'.repeat(1_000_000) }, 'namePrefix'],
    ['a flexible window of -0', { flexibleWindowMinutes: -0 }, 'flexibleWindowMinutes'],
    ['retry attempts of -0', { retry: { maximumRetryAttempts: -0 } }, 'retry.maximumRetryAttempts'],
    ["an empty retry (Scheduler's defaults by accident)", { retry: {} }, 'retry'],
    [
      'a runAt with a space before it',
      { at: undefined, timezone: undefined, runAt: ' 2026-12-01T08:00:00Z' },
      'runAt',
    ],
    [
      'a runAt with a newline after it',
      { at: undefined, timezone: undefined, runAt: '2026-12-01T08:00:00Z\n' },
      'runAt',
    ],
    [
      'a runAt on a day that does not exist',
      { at: undefined, timezone: undefined, runAt: '2026-11-31T08:00:00Z' },
      'runAt',
    ],
  ])('refuses %s, naming the field', (_label, overrides, field) => {
    const request = { at: '2026-12-01T09:00:00', timezone: 'Europe/Berlin', targetArn, ...overrides };

    const error = refusal(() => planOneTimeSchedule(request, defaults, now));

    expect((error as InputError).field).toBe(field);
    expect(error.message.length).toBeLessThan(MAX_MESSAGE);
  });

  it('refuses a recurring endDate with a space before it', () => {
    const request = { expression: 'rate(1 day)', endDate: ' 2026-12-01T08:00:00Z', targetArn };

    const error = refusal(() => planRecurringSchedule(request, defaults, now));

    expect((error as InputError).field).toBe('endDate');
  });

  it('refuses an empty ScheduleExpressionTimezone instead of reading it as UTC', () => {
    expect(resolveZone('')).toMatchObject({ ok: false });
    expect(resolveZone(undefined)).toEqual({ ok: true, zone: 'UTC' });
  });
});

describe('create path unknown fields', () => {
  const now = new Date('2026-06-01T12:00:00Z');
  const defaults = {
    groupName: 'schedule-hygiene-test',
    roleArn: 'arn:aws:iam::123456789012:role/scheduler',
  };
  const targetArn = 'arn:aws:lambda:us-east-1:123456789012:function:target';

  it.each([
    ['tmezone', 'timezone'],
    ['TargetArn', 'targetArn'],
    ['runat', 'runAt'],
  ])('refuses %s, suggesting %s', (typo, meant) => {
    const request = { at: '2026-12-01T09:00:00', targetArn, [typo]: 'x' };

    const error = refusal(() => planOneTimeSchedule(request, defaults, now));

    expect((error as InputError).field).toBe(typo);
    expect(error.message).toContain(`no such field (did you mean '${meant}'?)`);
  });

  it('keeps the message short for a huge unknown field', () => {
    const request = { at: '2026-12-01T09:00:00', targetArn, ['k'.repeat(1_000_000)]: 1 };

    const error = refusal(() => planOneTimeSchedule(request, defaults, now));

    expect(error.message.length).toBeLessThan(MAX_MESSAGE);
  });
});

describe('the group protection tag', () => {
  const tag = (Key: string, Value: string) => [{ Key, Value }];

  it.each<[string, { Key: string; Value: string }[], string]>([
    ['true', tag('schedule-hygiene:protect', 'true'), 'protected'],
    ['TRUE (any case)', tag('schedule-hygiene:protect', 'TRUE'), 'protected'],
    ['false', tag('schedule-hygiene:protect', 'false'), 'open'],
    ['no such tag', tag('team', 'billing'), 'open'],
    ['yes', tag('schedule-hygiene:protect', 'yes'), 'unclear'],
    ['1', tag('schedule-hygiene:protect', '1'), 'unclear'],
    ['an empty value', tag('schedule-hygiene:protect', ''), 'unclear'],
    ['" true"', tag('schedule-hygiene:protect', ' true'), 'unclear'],
    ['the key in another case', tag('Schedule-Hygiene:Protect', 'true'), 'unclear'],
    ['the key with a space', tag('schedule-hygiene:protect ', 'true'), 'unclear'],
    [
      'an unclear tag beside a protecting one',
      [...tag('Schedule-Hygiene:Protect', 'no'), ...tag('schedule-hygiene:protect', 'true')],
      'protected',
    ],
  ])('reads %s as %s, never an unclear tag as "not protected"', (_label, tags, kind) => {
    expect(readProtectTag(tags).kind).toBe(kind);
  });
});
