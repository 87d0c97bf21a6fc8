// The Scheduler emulator holds every request member to the API model's constraints (botocore
// scheduler/2021-06-30): each accepted at its edge and refused just past it, through the real SDK.
import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  CreateScheduleGroupCommand,
  DeleteScheduleCommand,
  DeleteScheduleGroupCommand,
  GetScheduleCommand,
  ListScheduleGroupsCommand,
  ListSchedulesCommand,
  type ListSchedulesCommandInput,
  UpdateScheduleCommand,
  ValidationException,
} from '@aws-sdk/client-scheduler';
import { beforeEach, describe, expect, it } from 'vitest';
import { ControlPlane } from '../../scripts/emulator/core.ts';
import { createSchedulerService, partitionOf } from '../../scripts/emulator/scheduler.ts';
import { Shape } from '../../scripts/emulator/scheduler-constraints.ts';
import { resolveZone } from '../../src/schedule/timezone.ts';
import { ACCOUNT_ID, REGION, useTestEmulator } from '../support/emulator.ts';

const ROLE = `arn:aws:iam::${ACCOUNT_ID}:role/scheduler-invoke`;
const TARGET = `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:remind`;
const QUEUE = `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:dead-letters`;

type Target = NonNullable<CreateScheduleCommandInput['Target']>;

function request(overrides: Partial<CreateScheduleCommandInput> = {}): CreateScheduleCommandInput {
  return {
    Name: 'edge',
    ScheduleExpression: 'at(2031-05-04T10:00:00)',
    FlexibleTimeWindow: { Mode: 'OFF' },
    Target: { Arn: TARGET, RoleArn: ROLE },
    ...overrides,
  };
}

const withTarget = (target: Partial<Target>) => ({ Target: { Arn: TARGET, RoleArn: ROLE, ...target } });
const padded = (prefix: string, length: number, fill = 'a') => prefix + fill.repeat(length - prefix.length);

const emulator = useTestEmulator();
const scheduler = () => emulator.emulator.services.scheduler;
beforeEach(() => {
  scheduler().reset();
  emulator.emulator.plane.controls.clockOffsetMs = 0;
});

async function refusal(sending: Promise<unknown>): Promise<ValidationException> {
  const error = await sending.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ValidationException);
  return error as ValidationException;
}

// [member, accepted at the edge, refused past it, what the refusal says]
const createCases: [
  string,
  Partial<CreateScheduleCommandInput>,
  Partial<CreateScheduleCommandInput>,
  RegExp,
][] = [
  ['Name (64)', { Name: 'n'.repeat(64) }, { Name: 'n'.repeat(65) }, /'Name'.*less than or equal to 64/],
  ['Name (pattern)', { Name: 'a-b_c.d' }, { Name: 'a b' }, /'Name'.*pattern/],
  ['ClientToken (64)', { ClientToken: 't'.repeat(64) }, { ClientToken: 't'.repeat(65) }, /'ClientToken'.*64/],
  [
    'ClientToken (empty)',
    { ClientToken: 'a' },
    { ClientToken: '' },
    /'ClientToken'.*greater than or equal to 1/,
  ],
  ['ClientToken (pattern)', { ClientToken: 'a-b_C9' }, { ClientToken: 'a.b' }, /'ClientToken'.*pattern/],
  [
    'ScheduleExpression (256)',
    { ScheduleExpression: `cron(${' '.repeat(256 - 17)}0 9 * * ? *)` },
    { ScheduleExpression: `cron(${' '.repeat(257 - 17)}0 9 * * ? *)` },
    /'ScheduleExpression'.*less than or equal to 256/,
  ],
  [
    'ScheduleExpressionTimezone (51)',
    { ScheduleExpressionTimezone: 'America/Argentina/ComodRivadavia' },
    { ScheduleExpressionTimezone: 'z'.repeat(51) },
    /'ScheduleExpressionTimezone'.*less than or equal to 50/,
  ],
  [
    'Description (512)',
    { Description: 'd'.repeat(512) },
    { Description: 'd'.repeat(513) },
    /'Description'.*512/,
  ],
  ['Description (empty allowed)', { Description: '' }, { Description: 'd'.repeat(600) }, /'Description'/],
  ['State (enum)', { State: 'DISABLED' }, { State: 'disabled' as 'DISABLED' }, /'State'.*ENABLED, DISABLED/],
  [
    'ActionAfterCompletion (enum)',
    { ActionAfterCompletion: 'DELETE' },
    { ActionAfterCompletion: 'Delete' as 'DELETE' },
    /'ActionAfterCompletion'.*NONE, DELETE/,
  ],
  [
    'FlexibleTimeWindow.Mode (enum)',
    { FlexibleTimeWindow: { Mode: 'OFF' } },
    { FlexibleTimeWindow: { Mode: 'off' as 'OFF' } },
    /'FlexibleTimeWindow.Mode'/,
  ],
  [
    'MaximumWindowInMinutes (1)',
    { FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 1 } },
    { FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 0 } },
    /'FlexibleTimeWindow.MaximumWindowInMinutes'.*greater than or equal to 1/,
  ],
  [
    'MaximumWindowInMinutes (1440)',
    { FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 1440 } },
    { FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 1441 } },
    /less than or equal to 1440/,
  ],
  [
    'KmsKeyArn (pattern)',
    { KmsKeyArn: `arn:aws:kms:${REGION}:${ACCOUNT_ID}:alias/my-key` },
    { KmsKeyArn: `arn:aws:kms:${REGION}:${ACCOUNT_ID}:secret/my-key` },
    /'KmsKeyArn'.*pattern/,
  ],
  [
    'KmsKeyArn (2048)',
    { KmsKeyArn: padded(`arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/`, 2048) },
    { KmsKeyArn: padded(`arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/`, 2049) },
    /'KmsKeyArn'.*2048/,
  ],
  [
    'Target.Arn (1600)',
    withTarget({ Arn: padded(TARGET, 1600) }),
    withTarget({ Arn: padded(TARGET, 1601) }),
    /'Target.Arn'.*1600/,
  ],
  [
    'Target.Arn (empty)',
    withTarget({ Arn: 'x' }),
    withTarget({ Arn: '' }),
    /'Target.Arn'.*greater than or equal to 1/,
  ],
  [
    'Target.RoleArn (1600)',
    withTarget({ RoleArn: padded(ROLE, 1600) }),
    withTarget({ RoleArn: padded(ROLE, 1601) }),
    /'Target.RoleArn'.*1600/,
  ],
  [
    'Target.RoleArn (partition)',
    withTarget({ RoleArn: `arn:aws-cn:iam::${ACCOUNT_ID}:role/invoke` }),
    withTarget({ RoleArn: `arn:azure:iam::${ACCOUNT_ID}:role/invoke` }),
    /'Target.RoleArn'.*pattern/,
  ],
  [
    'Target.Input (1)',
    withTarget({ Input: '1' }),
    withTarget({ Input: '' }),
    /'Target.Input'.*greater than or equal to 1/,
  ],
  [
    'Target.Input (256 KB)',
    withTarget({ Input: 'i'.repeat(262_144) }),
    withTarget({ Input: 'i'.repeat(262_145) }),
    /'Target.Input'.*262144/,
  ],
  [
    'MaximumEventAgeInSeconds (60)',
    withTarget({ RetryPolicy: { MaximumEventAgeInSeconds: 60 } }),
    withTarget({ RetryPolicy: { MaximumEventAgeInSeconds: 59 } }),
    /'Target.RetryPolicy.MaximumEventAgeInSeconds'.*greater than or equal to 60/,
  ],
  [
    'MaximumEventAgeInSeconds (86400)',
    withTarget({ RetryPolicy: { MaximumEventAgeInSeconds: 86_400 } }),
    withTarget({ RetryPolicy: { MaximumEventAgeInSeconds: 86_401 } }),
    /less than or equal to 86400/,
  ],
  [
    'MaximumRetryAttempts (0)',
    withTarget({ RetryPolicy: { MaximumRetryAttempts: 0 } }),
    withTarget({ RetryPolicy: { MaximumRetryAttempts: -1 } }),
    /'Target.RetryPolicy.MaximumRetryAttempts'.*greater than or equal to 0/,
  ],
  [
    'MaximumRetryAttempts (185)',
    withTarget({ RetryPolicy: { MaximumRetryAttempts: 185 } }),
    withTarget({ RetryPolicy: { MaximumRetryAttempts: 186 } }),
    /less than or equal to 185/,
  ],
  [
    'DeadLetterConfig.Arn (no .fifo)',
    withTarget({ DeadLetterConfig: { Arn: QUEUE } }),
    withTarget({ DeadLetterConfig: { Arn: `${QUEUE}.fifo` } }),
    /'Target.DeadLetterConfig.Arn'.*pattern/,
  ],
  [
    'DeadLetterConfig.Arn (1600)',
    withTarget({ DeadLetterConfig: { Arn: padded(QUEUE, 1600) } }),
    withTarget({ DeadLetterConfig: { Arn: padded(QUEUE, 1601) } }),
    /'Target.DeadLetterConfig.Arn'.*1600/,
  ],
  [
    'SqsParameters.MessageGroupId (128)',
    withTarget({ SqsParameters: { MessageGroupId: 'g'.repeat(128) } }),
    withTarget({ SqsParameters: { MessageGroupId: 'g'.repeat(129) } }),
    /'Target.SqsParameters.MessageGroupId'.*128/,
  ],
  [
    'EventBridgeParameters.DetailType (128)',
    withTarget({ EventBridgeParameters: { DetailType: 't'.repeat(128), Source: 'my.app' } }),
    withTarget({ EventBridgeParameters: { DetailType: 't'.repeat(129), Source: 'my.app' } }),
    /'Target.EventBridgeParameters.DetailType'.*128/,
  ],
  [
    'EventBridgeParameters.Source (no aws. prefix)',
    withTarget({ EventBridgeParameters: { DetailType: 'reminder', Source: 'my.app' } }),
    withTarget({ EventBridgeParameters: { DetailType: 'reminder', Source: 'aws.events' } }),
    /'Target.EventBridgeParameters.Source'.*pattern/,
  ],
  [
    'KinesisParameters.PartitionKey (256)',
    withTarget({ KinesisParameters: { PartitionKey: 'k'.repeat(256) } }),
    withTarget({ KinesisParameters: { PartitionKey: 'k'.repeat(257) } }),
    /'Target.KinesisParameters.PartitionKey'.*256/,
  ],
  [
    'EcsParameters.TaskCount (10)',
    withTarget({
      EcsParameters: {
        TaskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/t',
        TaskCount: 10,
      },
    }),
    withTarget({
      EcsParameters: {
        TaskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/t',
        TaskCount: 11,
      },
    }),
    /'Target.EcsParameters.TaskCount'.*10/,
  ],
];

describe('CreateSchedule members', () => {
  it.each(createCases)('%s: accepted at the edge, refused past it', async (_, edge, past, message) => {
    await emulator.scheduler.send(new CreateScheduleCommand(request(edge)));
    expect(scheduler().count()).toBe(1);
    scheduler().reset();

    const error = await refusal(emulator.scheduler.send(new CreateScheduleCommand(request(past))));

    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.message).toMatch(message);
    expect(scheduler().count()).toBe(0);
  });

  it('GroupName: a 64-character group is accepted, 65 characters refused', async () => {
    const longest = 'g'.repeat(64);
    await emulator.scheduler.send(new CreateScheduleGroupCommand({ Name: longest }));
    await emulator.scheduler.send(new CreateScheduleCommand(request({ GroupName: longest })));

    const error = await refusal(
      emulator.scheduler.send(new CreateScheduleCommand(request({ GroupName: 'g'.repeat(65) }))),
    );

    expect(error.message).toMatch(/'GroupName'.*less than or equal to 64/);
    expect(scheduler().count()).toBe(1);
  });

  it('UpdateSchedule holds its members to the same table', async () => {
    await emulator.scheduler.send(new CreateScheduleCommand(request()));

    const error = await refusal(
      emulator.scheduler.send(new UpdateScheduleCommand({ ...request(), ClientToken: 'x'.repeat(65) })),
    );

    expect(error.message).toMatch(/'ClientToken'/);
  });

  it('accepts a create whose body carries no ClientToken at all (the service generates one)', async () => {
    // The SDK always fills ClientToken, so only a hand-made request can leave it out.
    const response = await fetch(`${emulator.emulator.url}/schedules/untokened`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...request(), Name: undefined }),
    });

    expect(response.status).toBe(200);
    expect(scheduler().has('default', 'untokened')).toBe(true);
  });

  it('measures a ScheduleExpressionTimezone of exactly 50 characters as within the model (seeding, unknown zones allowed)', () => {
    const seeded = scheduler().seed([{ ...request(), ScheduleExpressionTimezone: 'z'.repeat(50) }], {
      allowUnknownZones: true,
    });
    expect(seeded.created).toBe(1);

    expect(() =>
      scheduler().seed([{ ...request({ Name: 'other' }), ScheduleExpressionTimezone: 'z'.repeat(51) }], {
        allowUnknownZones: true,
      }),
    ).toThrow(/less than or equal to 50/);
  });

  it('accepts universal targets and templated targets, whose ARNs the model does not constrain', async () => {
    const universal = 'arn:aws:scheduler:::aws-sdk:sqs:sendMessage';
    await emulator.scheduler.send(
      new CreateScheduleCommand(
        request({ Name: 'universal', ...withTarget({ Arn: universal, Input: '{}' }) }),
      ),
    );

    const got = await emulator.scheduler.send(new GetScheduleCommand({ Name: 'universal' }));
    expect(got.Target?.Arn).toBe(universal);
  });
});

describe('DeleteSchedule clientToken', () => {
  it.each([
    ['65 characters', 'x'.repeat(65), /less than or equal to 64/],
    ['empty', '', /greater than or equal to 1/],
    ['a character outside [a-zA-Z0-9-_]', 'token.1', /pattern/],
  ])('refuses a token of %s and deletes nothing', async (_, token, message) => {
    await emulator.scheduler.send(new CreateScheduleCommand(request()));

    const error = await refusal(
      emulator.scheduler.send(new DeleteScheduleCommand({ Name: 'edge', ClientToken: token })),
    );

    expect(error.message).toMatch(/'ClientToken'/);
    expect(error.message).toMatch(message);
    expect(scheduler().has('default', 'edge')).toBe(true);
  });

  it('accepts a token of 64 characters', async () => {
    await emulator.scheduler.send(new CreateScheduleCommand(request()));

    await emulator.scheduler.send(new DeleteScheduleCommand({ Name: 'edge', ClientToken: 'x'.repeat(64) }));

    expect(scheduler().has('default', 'edge')).toBe(false);
  });
});

describe('DeleteSchedule ConflictException', () => {
  it('answers ConflictException while a conflict is held, deletes nothing, then deletes once it clears', async () => {
    await emulator.scheduler.send(new CreateScheduleCommand(request()));
    scheduler().holdConflicts('default', 'edge', 2);

    for (let attempt = 0; attempt < 2; attempt += 1) {
      const error = await emulator.scheduler
        .send(new DeleteScheduleCommand({ Name: 'edge' }))
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ConflictException);
      expect((error as ConflictException).$metadata.httpStatusCode).toBe(409);
    }
    expect(scheduler().has('default', 'edge')).toBe(true);

    await emulator.scheduler.send(new DeleteScheduleCommand({ Name: 'edge' }));
    expect(scheduler().has('default', 'edge')).toBe(false);
  });

  it('can be held through the control API, as a separate emulator process is driven', async () => {
    await emulator.scheduler.send(new CreateScheduleCommand(request()));
    const held = await fetch(`${emulator.emulator.url}/_emulator/scheduler/conflict`, {
      method: 'POST',
      body: JSON.stringify({ group: 'default', name: 'edge' }),
    });
    expect(held.status).toBe(200);

    const first = emulator.scheduler.send(new DeleteScheduleCommand({ Name: 'edge' }));

    await expect(first).rejects.toBeInstanceOf(ConflictException);
    await emulator.scheduler.send(new DeleteScheduleCommand({ Name: 'edge' }));
    expect(scheduler().count()).toBe(0);
  });
});

describe('ListSchedules and ListScheduleGroups members', () => {
  const listCases: [string, ListSchedulesCommandInput, ListSchedulesCommandInput, RegExp][] = [
    ['MaxResults (1)', { MaxResults: 1 }, { MaxResults: 0 }, /'MaxResults'.*greater than or equal to 1/],
    ['MaxResults (100)', { MaxResults: 100 }, { MaxResults: 101 }, /'MaxResults'.*less than or equal to 100/],
    ['NamePrefix (64)', { NamePrefix: 'p'.repeat(64) }, { NamePrefix: 'p'.repeat(65) }, /'NamePrefix'.*64/],
    ['NamePrefix (pattern)', { NamePrefix: 'a.b' }, { NamePrefix: 'a/b' }, /'NamePrefix'.*pattern/],
    ['State (enum)', { State: 'ENABLED' }, { State: 'PAUSED' as 'ENABLED' }, /'State'.*ENABLED, DISABLED/],
    ['GroupName (64)', { GroupName: 'default' }, { GroupName: 'g'.repeat(65) }, /'GroupName'.*64/],
    ['NextToken (2048)', {}, { NextToken: 't'.repeat(2049) }, /NextToken/],
  ];

  it.each(listCases)('%s: accepted at the edge, refused past it', async (_, edge, past, message) => {
    await emulator.scheduler.send(new ListSchedulesCommand(edge));

    const error = await refusal(emulator.scheduler.send(new ListSchedulesCommand(past)));

    expect(error.message).toMatch(message);
  });

  it('ListScheduleGroups holds MaxResults and NamePrefix to the same table', async () => {
    await emulator.scheduler.send(
      new ListScheduleGroupsCommand({ MaxResults: 100, NamePrefix: 'p'.repeat(64) }),
    );

    const error = await refusal(emulator.scheduler.send(new ListScheduleGroupsCommand({ MaxResults: 101 })));
    expect(error.message).toMatch(/'MaxResults'/);
  });
});

describe('members of the other operations', () => {
  it('GetSchedule: GroupName of 64 characters is looked up, 65 refused', async () => {
    const longest = 'g'.repeat(64);
    scheduler().createGroup(longest);
    await emulator.scheduler.send(new CreateScheduleCommand(request({ GroupName: longest })));

    const got = await emulator.scheduler.send(new GetScheduleCommand({ Name: 'edge', GroupName: longest }));
    const error = await refusal(
      emulator.scheduler.send(new GetScheduleCommand({ Name: 'edge', GroupName: 'g'.repeat(65) })),
    );

    expect(got.GroupName).toBe(longest);
    expect(error.message).toMatch(/'GroupName'.*64/);
  });

  it('DeleteScheduleGroup: a 64-character ClientToken is accepted, an empty one refused', async () => {
    scheduler().createGroup('doomed');
    scheduler().createGroup('kept');

    await emulator.scheduler.send(
      new DeleteScheduleGroupCommand({ Name: 'doomed', ClientToken: 'x'.repeat(64) }),
    );
    const error = await refusal(
      emulator.scheduler.send(new DeleteScheduleGroupCommand({ Name: 'kept', ClientToken: '' })),
    );

    expect(error.message).toMatch(/'ClientToken'.*greater than or equal to 1/);
    expect(scheduler().counters().groups).toBe(2);
  });

  it('ListSchedules: an empty NextToken is refused (1-2048 characters), not read as the first page', async () => {
    const error = await refusal(emulator.scheduler.send(new ListSchedulesCommand({ NextToken: '' })));

    expect(error.message).toMatch(/'NextToken'.*greater than or equal to 1/);
  });
});

describe('CreateScheduleGroup tags', () => {
  it('accepts a 128-character key and a 256-character value, and refuses one character more', async () => {
    await emulator.scheduler.send(
      new CreateScheduleGroupCommand({
        Name: 'tagged',
        Tags: [{ Key: 'k'.repeat(128), Value: 'v'.repeat(256) }],
      }),
    );

    const longKey = await refusal(
      emulator.scheduler.send(
        new CreateScheduleGroupCommand({ Name: 'tagged-2', Tags: [{ Key: 'k'.repeat(129), Value: 'v' }] }),
      ),
    );
    const longValue = await refusal(
      emulator.scheduler.send(
        new CreateScheduleGroupCommand({ Name: 'tagged-3', Tags: [{ Key: 'k', Value: 'v'.repeat(257) }] }),
      ),
    );

    expect(longKey.message).toMatch(/'Tags.1.Key'.*128/);
    expect(longValue.message).toMatch(/'Tags.1.Value'.*256/);
  });
});

describe('the constraint table', () => {
  it('holds the model values this project relies on (botocore scheduler/2021-06-30)', () => {
    expect(Shape.ClientToken).toMatchObject({ min: 1, max: 64 });
    expect(Shape.ClientToken.pattern.source).toBe('^[a-zA-Z0-9\\-_]+$');
    expect(Shape.DeadLetterConfigArnString.pattern.test(`${QUEUE}.fifo`)).toBe(false);
    expect(Shape.MaxResults).toMatchObject({ min: 1, max: 100 });
  });
});

describe('ARNs carry the partition of the region', () => {
  it.each([
    ['us-east-1', 'aws'],
    ['cn-north-1', 'aws-cn'],
    ['us-gov-west-1', 'aws-us-gov'],
  ])('%s → %s', (region, partition) => {
    expect(partitionOf(region)).toBe(partition);
    const service = createSchedulerService(new ControlPlane(), { region });

    service.seed([request({ Name: 'p' })]);

    expect(service.get('default', 'p')?.Arn).toBe(
      `arn:${partition}:scheduler:${region}:123456789012:schedule/default/p`,
    );
  });
});

// Which zone names AWS accepts is not documented (the model says only 1-50 characters). The product
// (src/schedule/timezone.ts) and the emulator make one documented choice: both answer the same here.
const zoneCases: [string, boolean][] = [
  ['America/New_York', true],
  ['US/Eastern', true],
  ['EST5EDT', true],
  ['UTC', true],
  ['UTC-04:00', true],
  ['UTC+14:00', true],
  ['UTC-14:00', true],
  ['UTC+14:01', false],
  ['UTC+99:99', false],
  ['UTC+05:60', false],
  ['UTC+4', false],
  ['GMT+04:00', false],
  ['+05:00', false],
  ['america/new_york', false],
  ['AMERICA/NEW_YORK', false],
  ['Mars/Olympus_Mons', false],
];

describe('time-zone names: the emulator and the product make the same choice', () => {
  it.each(zoneCases)('%s accepted: %s', async (zone, accepted) => {
    expect(resolveZone(zone).ok).toBe(accepted);

    const create = emulator.scheduler.send(
      new CreateScheduleCommand(request({ ScheduleExpressionTimezone: zone })),
    );

    if (accepted) await create;
    else await refusal(create);
    expect(scheduler().count()).toBe(accepted ? 1 : 0);
  });

  it('never applies a zone the product treats as unknown when auto-deleting (seeded as a stand-in)', () => {
    // A DELETE at() schedule in a lowercase zone: the product keeps it as unknown, so the emulator must
    // not remove it either, or a test would show the sweeper a world AWS never makes.
    const now = emulator.emulator.plane.now().getTime();
    scheduler().seed(
      [
        request({
          Name: 'lowercase',
          ActionAfterCompletion: 'DELETE',
          ScheduleExpressionTimezone: 'america/new_york',
        }),
        request({
          Name: 'canonical',
          ActionAfterCompletion: 'DELETE',
          ScheduleExpressionTimezone: 'America/New_York',
        }),
      ].map((definition) => ({ ...definition, ScheduleExpression: 'at(2031-05-04T10:00:00)' })),
      { allowUnknownZones: true },
    );

    emulator.emulator.plane.setNow(new Date('2031-05-05T00:00:00Z'));

    expect(scheduler().has('default', 'lowercase')).toBe(true);
    expect(scheduler().has('default', 'canonical')).toBe(false);
    expect(now).toBeLessThan(Date.parse('2031-05-04T00:00:00Z'));
  });
});
