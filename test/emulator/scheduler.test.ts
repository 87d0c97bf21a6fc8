// The Scheduler emulator as the real SDK sees it over HTTP: shapes, paging, errors and lifecycle.
import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  CreateScheduleGroupCommand,
  DeleteScheduleCommand,
  DeleteScheduleGroupCommand,
  GetScheduleCommand,
  GetScheduleGroupCommand,
  ListScheduleGroupsCommand,
  ListSchedulesCommand,
  paginateListSchedules,
  ResourceNotFoundException,
  type ScheduleSummary,
  ServiceQuotaExceededException,
  ThrottlingException,
  UpdateScheduleCommand,
  ValidationException,
} from '@aws-sdk/client-scheduler';
import { beforeEach, describe, expect, it } from 'vitest';
import type { SeedDefinition } from '../../scripts/emulator/scheduler.ts';
import { ACCOUNT_ID, REGION, type TestEmulator, useTestEmulator } from '../support/emulator.ts';

const ROLE = `arn:aws:iam::${ACCOUNT_ID}:role/scheduler-invoke`;
const TARGET = `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:remind`;

function oneTime(
  name: string,
  overrides: Partial<CreateScheduleCommandInput> = {},
): CreateScheduleCommandInput {
  return {
    Name: name,
    ScheduleExpression: 'at(2031-05-04T10:00:00)',
    FlexibleTimeWindow: { Mode: 'OFF' },
    Target: { Arn: TARGET, RoleArn: ROLE },
    ...overrides,
  };
}

function seedDefinitions(count: number, make: (index: number) => Partial<SeedDefinition>): SeedDefinition[] {
  return Array.from({ length: count }, (_, index) => ({ ...oneTime(`s-${index}`), ...make(index) }));
}

async function listAll(
  emulator: TestEmulator,
  input: Parameters<typeof paginateListSchedules>[1],
  pageSize: number,
) {
  const pages: ScheduleSummary[][] = [];
  for await (const page of paginateListSchedules({ client: emulator.scheduler, pageSize }, input)) {
    pages.push(page.Schedules ?? []);
  }
  return pages;
}

const scheduler = () => emulator.emulator.services.scheduler;

const emulator = useTestEmulator();
beforeEach(() => {
  scheduler().reset();
  emulator.emulator.plane.controls.rateLimits = {};
  emulator.emulator.plane.controls.clockOffsetMs = 0;
});

describe('CreateSchedule and GetSchedule', () => {
  it('returns the full definition, with timestamps the SDK parses into the creation instant', async () => {
    // Prepare
    const start = new Date(emulator.emulator.plane.now().getTime() + 3_600_000);
    const end = new Date(start.getTime() + 86_400_000);
    const input: CreateScheduleCommandInput = {
      Name: 'nightly.report_1',
      GroupName: 'default',
      ScheduleExpression: 'cron(0 2 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      StartDate: start,
      EndDate: end,
      Description: 'nightly report',
      State: 'DISABLED',
      KmsKeyArn: `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/abc-123`,
      FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 },
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: TARGET,
        RoleArn: ROLE,
        Input: '{"report":"nightly"}',
        RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 5 },
        DeadLetterConfig: { Arn: `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:dead-letters` },
        SqsParameters: { MessageGroupId: 'reports' },
      },
    };

    // Act
    const before = emulator.emulator.plane.now().getTime();
    const created = await emulator.scheduler.send(new CreateScheduleCommand(input));
    const after = emulator.emulator.plane.now().getTime();
    const { $metadata, ...got } = await emulator.scheduler.send(
      new GetScheduleCommand({ Name: 'nightly.report_1' }),
    );

    // Assess
    expect(created.ScheduleArn).toBe(
      `arn:aws:scheduler:${REGION}:${ACCOUNT_ID}:schedule/default/nightly.report_1`,
    );
    expect(got).toEqual({
      Arn: created.ScheduleArn,
      Name: input.Name,
      GroupName: 'default',
      ScheduleExpression: input.ScheduleExpression,
      ScheduleExpressionTimezone: input.ScheduleExpressionTimezone,
      StartDate: start,
      EndDate: end,
      Description: input.Description,
      State: 'DISABLED',
      KmsKeyArn: input.KmsKeyArn,
      FlexibleTimeWindow: input.FlexibleTimeWindow,
      ActionAfterCompletion: 'DELETE',
      Target: input.Target,
      CreationDate: expect.any(Date),
      LastModificationDate: expect.any(Date),
    });
    expect(got.CreationDate!.getTime()).toBeGreaterThanOrEqual(before);
    expect(got.CreationDate!.getTime()).toBeLessThanOrEqual(after);
    expect(got.LastModificationDate).toEqual(got.CreationDate);
  });

  it('reports the defaults AWS fills in for omitted state, retry policy and action after completion', async () => {
    await emulator.scheduler.send(new CreateScheduleCommand(oneTime('defaults')));

    const got = await emulator.scheduler.send(
      new GetScheduleCommand({ Name: 'defaults', GroupName: 'default' }),
    );

    expect(got.State).toBe('ENABLED');
    expect(got.ActionAfterCompletion).toBe('NONE');
    expect(got.Target?.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 });
    expect(got).not.toHaveProperty('ScheduleExpressionTimezone');
    expect(got).not.toHaveProperty('Description');
    expect(got.Target).not.toHaveProperty('Input');
  });

  it('answers a duplicate name in the same group with ConflictException, but accepts it in another group', async () => {
    await emulator.scheduler.send(new CreateScheduleCommand(oneTime('twice')));
    scheduler().createGroup('other');

    const duplicate = emulator.scheduler.send(new CreateScheduleCommand(oneTime('twice')));
    await expect(duplicate).rejects.toBeInstanceOf(ConflictException);
    await emulator.scheduler.send(new CreateScheduleCommand(oneTime('twice', { GroupName: 'other' })));

    expect(scheduler().count()).toBe(2);
  });

  it('treats a repeated create with the same ClientToken as the same request and returns the existing ARN', async () => {
    const input = oneTime('idempotent', { ClientToken: 'token-1' });
    const first = await emulator.scheduler.send(new CreateScheduleCommand(input));

    const retried = await emulator.scheduler.send(new CreateScheduleCommand(input));
    const otherToken = emulator.scheduler.send(
      new CreateScheduleCommand({ ...input, ClientToken: 'token-2' }),
    );

    expect(retried.ScheduleArn).toBe(first.ScheduleArn);
    await expect(otherToken).rejects.toBeInstanceOf(ConflictException);
    expect(scheduler().count()).toBe(1);
  });

  it('answers a create beyond the schedule quota with ServiceQuotaExceededException (402)', async () => {
    scheduler().setScheduleQuota(2);
    await emulator.scheduler.send(new CreateScheduleCommand(oneTime('one')));
    await emulator.scheduler.send(new CreateScheduleCommand(oneTime('two')));

    const third = await emulator.scheduler
      .send(new CreateScheduleCommand(oneTime('three')))
      .catch((error) => error);

    expect(third).toBeInstanceOf(ServiceQuotaExceededException);
    expect(third.$metadata.httpStatusCode).toBe(402);
    expect(scheduler().has('default', 'three')).toBe(false);
  });

  it('answers a create in a missing group with ResourceNotFoundException', async () => {
    const create = emulator.scheduler.send(
      new CreateScheduleCommand(oneTime('orphan', { GroupName: 'missing' })),
    );

    await expect(create).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});

describe('validation', () => {
  const invalid: [string, Partial<CreateScheduleCommandInput>, RegExp][] = [
    ['a name with a space', { Name: 'bad name' }, /name/],
    ['a name longer than 64 characters', { Name: 'n'.repeat(65) }, /Name/],
    ['an at() without seconds', { ScheduleExpression: 'at(2031-05-04T10:00)' }, /at\(yyyy-mm-ddThh:mm:ss\)/],
    ['an at() on 30 February', { ScheduleExpression: 'at(2031-02-30T10:00:00)' }, /real date/],
    ['a rate of zero', { ScheduleExpression: 'rate(0 minutes)' }, /rate\(value unit\)/],
    ['a rate in seconds', { ScheduleExpression: 'rate(5 seconds)' }, /minute\|minutes\|hour\|hours/],
    ['a cron with five fields', { ScheduleExpression: 'cron(0 9 * * ?)' }, /6 fields/],
    ['a cron with both days given', { ScheduleExpression: 'cron(0 9 1 * MON *)' }, /\?/],
    ['a cron with minute 61', { ScheduleExpression: 'cron(61 9 * * ? *)' }, /minutes/],
    ['an unknown expression type', { ScheduleExpression: 'every(5 minutes)' }, /at\(/],
    [
      'a made-up time zone',
      { ScheduleExpressionTimezone: 'Mars/Olympus_Mons' },
      /ScheduleExpressionTimezone/,
    ],
    ['FLEXIBLE without a window', { FlexibleTimeWindow: { Mode: 'FLEXIBLE' } }, /MaximumWindowInMinutes/],
    [
      'a window of 1441 minutes',
      { FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 1441 } },
      /less than or equal to 1440/,
    ],
    [
      'a maximum event age under 60 seconds',
      { Target: { Arn: TARGET, RoleArn: ROLE, RetryPolicy: { MaximumEventAgeInSeconds: 59 } } },
      /MaximumEventAgeInSeconds/,
    ],
    [
      'more than 185 retry attempts',
      { Target: { Arn: TARGET, RoleArn: ROLE, RetryPolicy: { MaximumRetryAttempts: 186 } } },
      /MaximumRetryAttempts/,
    ],
    ['a role that is not an IAM role ARN', { Target: { Arn: TARGET, RoleArn: 'scheduler-role' } }, /RoleArn/],
    [
      'an unknown action after completion',
      { ActionAfterCompletion: 'ARCHIVE' as 'NONE' },
      /ActionAfterCompletion/,
    ],
    ['an unknown state', { State: 'PAUSED' as 'ENABLED' }, /State/],
    [
      'an end date before the start date',
      { StartDate: new Date(Date.now() + 7_200_000), EndDate: new Date(Date.now() + 3_600_000) },
      /EndDate/,
    ],
  ];

  it.each(invalid)(
    'rejects %s with ValidationException naming the field, and creates nothing',
    async (_, overrides, message) => {
      const create = emulator.scheduler.send(new CreateScheduleCommand(oneTime('candidate', overrides)));

      const error = await create.catch((caught) => caught);
      expect(error).toBeInstanceOf(ValidationException);
      expect(error.$metadata.httpStatusCode).toBe(400);
      expect(error.message).toMatch(message);
      expect(scheduler().count()).toBe(0);
    },
  );

  it.each([
    ['IANA name', 'America/New_York'],
    ['UTC', 'UTC'],
    ['fixed offset', 'UTC-04:00'],
  ])('accepts a time zone given as %s', async (_, zone) => {
    await emulator.scheduler.send(
      new CreateScheduleCommand(oneTime('zoned', { ScheduleExpressionTimezone: zone })),
    );

    expect(scheduler().get('default', 'zoned')?.ScheduleExpressionTimezone).toBe(zone);
  });

  it.each([
    'cron(0 9 ? * MON-FRI *)',
    'cron(*/15 * * * ? *)',
    'cron(0 0 L * ? *)',
    'cron(0 12 ? * 6#3 2030-2035)',
    'rate(1 minute)',
    'rate(12 hours)',
    // No value/unit agreement rule in Scheduler: every combination is a valid rate().
    'rate(1 hours)',
    'rate(1 minutes)',
    'rate(5 minute)',
    'rate(2 day)',
  ])('accepts the recurring expression %s', async (expression) => {
    await emulator.scheduler.send(
      new CreateScheduleCommand(oneTime('recurring', { ScheduleExpression: expression })),
    );

    expect(scheduler().has('default', 'recurring')).toBe(true);
  });

  it('rejects a malformed NextToken with ValidationException', async () => {
    const list = emulator.scheduler.send(new ListSchedulesCommand({ NextToken: 'not-a-token' }));

    await expect(list).rejects.toBeInstanceOf(ValidationException);
  });

  it('rejects MaxResults above 100 with ValidationException', async () => {
    const list = emulator.scheduler.send(new ListSchedulesCommand({ MaxResults: 101 }));

    await expect(list).rejects.toBeInstanceOf(ValidationException);
  });
});

describe('not found', () => {
  it('answers Get, Update and Delete of a missing schedule, and a missing group, with ResourceNotFoundException', async () => {
    await emulator.scheduler.send(new CreateScheduleCommand(oneTime('present')));

    const attempts = [
      () => emulator.scheduler.send(new GetScheduleCommand({ Name: 'absent' })),
      () => emulator.scheduler.send(new GetScheduleCommand({ Name: 'present', GroupName: 'no-such-group' })),
      () => emulator.scheduler.send(new DeleteScheduleCommand({ Name: 'absent' })),
      () => emulator.scheduler.send(new UpdateScheduleCommand(oneTime('absent'))),
      () => emulator.scheduler.send(new ListSchedulesCommand({ GroupName: 'no-such-group' })),
      () => emulator.scheduler.send(new GetScheduleGroupCommand({ Name: 'no-such-group' })),
    ];

    for (const attempt of attempts) {
      const error = await attempt().catch((caught: unknown) => caught as ResourceNotFoundException);
      expect(error).toBeInstanceOf(ResourceNotFoundException);
      expect(error.$metadata.httpStatusCode).toBe(404);
    }
    expect(scheduler().has('default', 'present')).toBe(true);
  });
});

describe('ListSchedules', () => {
  it('returns only the seven summary fields AWS returns', async () => {
    scheduler().seed([
      {
        ...oneTime('summarised'),
        ScheduleExpressionTimezone: 'Asia/Tokyo',
        ActionAfterCompletion: 'DELETE',
        Description: 'not in summaries',
        Target: { Arn: TARGET, RoleArn: ROLE, Input: '{}' },
      },
    ]);

    const response = await fetch(`${emulator.emulator.url}/schedules`);
    const body = (await response.json()) as { Schedules: Record<string, unknown>[] };
    const viaSdk = await emulator.scheduler.send(new ListSchedulesCommand({}));

    expect(Object.keys(body.Schedules[0]!).sort()).toEqual(
      ['Arn', 'CreationDate', 'GroupName', 'LastModificationDate', 'Name', 'State', 'Target'].sort(),
    );
    expect(body.Schedules[0]!.Target).toEqual({ Arn: TARGET });
    expect(body).not.toHaveProperty('NextToken');
    expect(viaSdk.Schedules?.[0]?.CreationDate).toBeInstanceOf(Date);
  });

  it('pages through every group when no group is given, each schedule exactly once', async () => {
    scheduler().createGroup('billing');
    scheduler().createGroup('alerts');
    const groups = ['default', 'billing', 'alerts'];
    scheduler().seed(seedDefinitions(95, (index) => ({ GroupName: groups[index % 3] })));

    const pages = await listAll(emulator, {}, 10);

    const keys = pages.flat().map((summary) => `${summary.GroupName}/${summary.Name}`);
    expect(pages.length).toBe(10);
    expect(pages.slice(0, -1).every((page) => page.length === 10)).toBe(true);
    expect(new Set(keys).size).toBe(95);
    expect(new Set(pages.flat().map((summary) => summary.GroupName))).toEqual(new Set(groups));
  });

  it('honours ScheduleGroup, NamePrefix and State filters across at least three pages', async () => {
    scheduler().createGroup('billing');
    const definitions = seedDefinitions(300, (index) => ({
      Name: `${index % 2 === 0 ? 'invoice' : 'receipt'}-${index}`,
      GroupName: index % 3 === 0 ? 'default' : 'billing',
      State: index % 5 === 0 ? 'DISABLED' : 'ENABLED',
    }));
    scheduler().seed(definitions);
    const expected = definitions
      .filter((definition) => definition.GroupName === 'billing')
      .filter((definition) => definition.Name!.startsWith('invoice'))
      .filter((definition) => definition.State === 'ENABLED')
      .map((definition) => definition.Name);

    const pages = await listAll(
      emulator,
      { GroupName: 'billing', NamePrefix: 'invoice', State: 'ENABLED' },
      25,
    );

    expect(pages.length).toBeGreaterThanOrEqual(3);
    expect(
      pages
        .flat()
        .map((summary) => summary.Name)
        .sort(),
    ).toEqual(expected.sort());
    expect(
      pages.flat().every((summary) => summary.GroupName === 'billing' && summary.State === 'ENABLED'),
    ).toBe(true);
  });

  it('skips nothing and repeats nothing when schedules are deleted between pages', async () => {
    // Prepare: 250 schedules over two groups; while paging, delete each page's schedules and a few
    // schedules not yet seen, as a sweeper and a concurrent cleanup would.
    scheduler().createGroup('second');
    const definitions = seedDefinitions(250, (index) => ({
      GroupName: index % 2 === 0 ? 'default' : 'second',
    }));
    scheduler().seed(definitions);
    const deletedUnseen = new Set<string>();
    const seen: string[] = [];

    // Act
    let unseenCursor = 249;
    for await (const page of paginateListSchedules({ client: emulator.scheduler, pageSize: 20 }, {})) {
      for (const summary of page.Schedules ?? []) {
        seen.push(`${summary.GroupName}/${summary.Name}`);
        await emulator.scheduler.send(
          new DeleteScheduleCommand({ Name: summary.Name, GroupName: summary.GroupName }),
        );
      }
      for (let removed = 0; removed < 3 && unseenCursor >= 0; unseenCursor -= 1) {
        const definition = definitions[unseenCursor]!;
        const key = `${definition.GroupName}/${definition.Name}`;
        if (seen.includes(key) || !scheduler().has(definition.GroupName!, definition.Name!)) continue;
        await emulator.scheduler.send(
          new DeleteScheduleCommand({ Name: definition.Name, GroupName: definition.GroupName }),
        );
        deletedUnseen.add(key);
        removed += 1;
      }
    }

    // Assess
    const expected = definitions
      .map((definition) => `${definition.GroupName}/${definition.Name}`)
      .filter((key) => !deletedUnseen.has(key));
    expect(deletedUnseen.size).toBeGreaterThan(20);
    expect(seen.length).toBe(new Set(seen).size);
    expect([...seen].sort()).toEqual(expected.sort());
    expect(scheduler().count()).toBe(0);
    expect(scheduler().deletedNames().length).toBe(250);
  });

  it('ends with no NextToken when the last page is exactly full', async () => {
    scheduler().seed(seedDefinitions(20, () => ({})));

    const first = await emulator.scheduler.send(new ListSchedulesCommand({ MaxResults: 10 }));
    const second = await emulator.scheduler.send(
      new ListSchedulesCommand({ MaxResults: 10, NextToken: first.NextToken }),
    );

    expect(first.NextToken).toBeTruthy();
    expect(second.Schedules?.length).toBe(10);
    expect(second.NextToken).toBeUndefined();
  });
});

describe('UpdateSchedule', () => {
  it('replaces the whole definition: omitted optional fields reset, LastModificationDate moves, CreationDate stays', async () => {
    // Prepare
    await emulator.scheduler.send(
      new CreateScheduleCommand(
        oneTime('replaced', {
          Description: 'first version',
          ScheduleExpressionTimezone: 'Asia/Tokyo',
          ActionAfterCompletion: 'DELETE',
          Target: { Arn: TARGET, RoleArn: ROLE, Input: '{"v":1}', RetryPolicy: { MaximumRetryAttempts: 1 } },
        }),
      ),
    );
    const original = await emulator.scheduler.send(new GetScheduleCommand({ Name: 'replaced' }));
    emulator.emulator.plane.controls.clockOffsetMs = 60_000;

    // Act
    await emulator.scheduler.send(
      new UpdateScheduleCommand({
        Name: 'replaced',
        ScheduleExpression: 'rate(5 minutes)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: TARGET, RoleArn: ROLE },
      }),
    );
    const updated = await emulator.scheduler.send(new GetScheduleCommand({ Name: 'replaced' }));

    // Assess
    expect(updated.ScheduleExpression).toBe('rate(5 minutes)');
    expect(updated).not.toHaveProperty('Description');
    expect(updated).not.toHaveProperty('ScheduleExpressionTimezone');
    expect(updated.ActionAfterCompletion).toBe('NONE');
    expect(updated.Target).toEqual({
      Arn: TARGET,
      RoleArn: ROLE,
      RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 },
    });
    expect(updated.CreationDate).toEqual(original.CreationDate);
    expect(
      updated.LastModificationDate!.getTime() - original.LastModificationDate!.getTime(),
    ).toBeGreaterThanOrEqual(60_000);
  });
});

describe('ActionAfterCompletion DELETE', () => {
  it('removes a one-time schedule once the emulator clock passes its time in its zone and window', async () => {
    // Prepare: 12:00 in New York on 1 July 2031 is 16:00 UTC; a 10-minute window makes it 16:10 UTC.
    await emulator.scheduler.send(
      new CreateScheduleCommand(
        oneTime('self-cleaning', {
          ScheduleExpression: 'at(2031-07-01T12:00:00)',
          ScheduleExpressionTimezone: 'America/New_York',
          FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 10 },
          ActionAfterCompletion: 'DELETE',
        }),
      ),
    );
    await emulator.scheduler.send(
      new CreateScheduleCommand(
        oneTime('disabled', {
          ScheduleExpression: 'at(2031-07-01T12:00:00)',
          ScheduleExpressionTimezone: 'America/New_York',
          ActionAfterCompletion: 'DELETE',
          State: 'DISABLED',
        }),
      ),
    );
    await emulator.scheduler.send(
      new CreateScheduleCommand(
        oneTime('kept', { ScheduleExpression: 'at(2031-07-01T12:00:00)', ActionAfterCompletion: 'NONE' }),
      ),
    );

    // Act
    emulator.emulator.plane.setNow(new Date('2031-07-01T16:09:00Z'));
    const beforeDue = await emulator.scheduler.send(new GetScheduleCommand({ Name: 'self-cleaning' }));
    emulator.emulator.plane.setNow(new Date('2031-07-01T16:11:00Z'));
    const afterDue = emulator.scheduler.send(new GetScheduleCommand({ Name: 'self-cleaning' }));

    // Assess
    expect(beforeDue.Name).toBe('self-cleaning');
    await expect(afterDue).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect(scheduler().has('default', 'disabled')).toBe(true);
    expect(scheduler().has('default', 'kept')).toBe(true);
    expect(scheduler().counters().autoDeleted).toBe(1);
    expect(scheduler().deletedNames()).toEqual([]);
    expect(emulator.emulator.plane.statsFor('AutoDeleteSchedule').calls).toBe(1);
  });

  it('removes a recurring schedule once its EndDate passes, and never one without EndDate', async () => {
    const now = emulator.emulator.plane.now().getTime();
    await emulator.scheduler.send(
      new CreateScheduleCommand(
        oneTime('bounded', {
          ScheduleExpression: 'rate(1 hour)',
          EndDate: new Date(now + 7_200_000),
          ActionAfterCompletion: 'DELETE',
        }),
      ),
    );
    await emulator.scheduler.send(
      new CreateScheduleCommand(
        oneTime('unbounded', { ScheduleExpression: 'rate(1 hour)', ActionAfterCompletion: 'DELETE' }),
      ),
    );

    emulator.emulator.plane.setNow(new Date(now + 7_300_000));
    const listed = await emulator.scheduler.send(new ListSchedulesCommand({}));

    expect(listed.Schedules?.map((summary) => summary.Name)).toEqual(['unbounded']);
  });

  it('never removes an at() that falls in a spring-forward gap, since it never fires', async () => {
    scheduler().seed([
      {
        ...oneTime('gap'),
        ScheduleExpression: 'at(2031-03-09T02:30:00)',
        ScheduleExpressionTimezone: 'America/New_York',
        ActionAfterCompletion: 'DELETE',
      },
    ]);

    emulator.emulator.plane.setNow(new Date('2031-04-01T00:00:00Z'));

    expect(scheduler().has('default', 'gap')).toBe(true);
  });
});

describe('schedule groups', () => {
  it('creates, lists, reads and deletes groups; deleting a group deletes its schedules', async () => {
    const created = await emulator.scheduler.send(new CreateScheduleGroupCommand({ Name: 'campaign' }));
    await emulator.scheduler.send(new CreateScheduleCommand(oneTime('mail', { GroupName: 'campaign' })));
    await emulator.scheduler.send(new CreateScheduleCommand(oneTime('mail')));

    const listed = await emulator.scheduler.send(new ListScheduleGroupsCommand({}));
    const read = await emulator.scheduler.send(new GetScheduleGroupCommand({ Name: 'campaign' }));
    await emulator.scheduler.send(new DeleteScheduleGroupCommand({ Name: 'campaign' }));

    expect(created.ScheduleGroupArn).toBe(
      `arn:aws:scheduler:${REGION}:${ACCOUNT_ID}:schedule-group/campaign`,
    );
    expect(listed.ScheduleGroups?.map((group) => group.Name).sort()).toEqual(['campaign', 'default']);
    expect(read.State).toBe('ACTIVE');
    expect(read.CreationDate).toBeInstanceOf(Date);
    expect(scheduler().has('campaign', 'mail')).toBe(false);
    expect(scheduler().has('default', 'mail')).toBe(true);
    await expect(
      emulator.scheduler.send(new ListSchedulesCommand({ GroupName: 'campaign' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('refuses to delete the default group or create a group twice', async () => {
    await emulator.scheduler.send(new CreateScheduleGroupCommand({ Name: 'once' }));

    await expect(
      emulator.scheduler.send(new DeleteScheduleGroupCommand({ Name: 'default' })),
    ).rejects.toBeInstanceOf(ValidationException);
    await expect(
      emulator.scheduler.send(new CreateScheduleGroupCommand({ Name: 'once' })),
    ).rejects.toBeInstanceOf(ConflictException);
  });
});

describe('throttling', () => {
  it('answers requests over the per-operation rate cap with ThrottlingException', async () => {
    await emulator.scheduler.send(new CreateScheduleCommand(oneTime('hot')));
    emulator.emulator.plane.controls.rateLimits = { GetSchedule: 2 };

    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => emulator.scheduler.send(new GetScheduleCommand({ Name: 'hot' }))),
    );

    const rejected = results.filter((result) => result.status === 'rejected');
    // Ten requests may straddle a second boundary: at most two per second get through.
    expect(results.length - rejected.length).toBeLessThanOrEqual(4);
    expect(rejected.every((result) => result.reason instanceof ThrottlingException)).toBe(true);
    expect(rejected.length).toBeGreaterThanOrEqual(6);
    expect((rejected[0] as PromiseRejectedResult).reason.$metadata.httpStatusCode).toBe(429);
  });
});
