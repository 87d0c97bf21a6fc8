// `npm run report -- --view producers` end to end: the real CLI, STS, Scheduler and CloudFormation
// clients against the emulator serving two accounts. Each cell names its top producers with exact
// counts, and lists per stack the finished schedules CloudFormation declares, in table, JSON and
// CSV; a cell whose ownership cannot be read fails and says why.
import type { CreateScheduleInput } from '@aws-sdk/client-scheduler';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../scripts/report.ts';
import { SCHEDULE_RESOURCE_TYPE } from '../../src/ownership/cloudformation.ts';
import type { ProducersCellResult } from '../../src/report/producers.ts';
import { useTestEmulator } from '../support/emulator.ts';

const harness = useTestEmulator();
const ROLE = 'ScheduleHygieneReport';
const REGION = 'us-east-1';
const FIRST = '111111111111';
const SECOND = '222222222222';
const lambda = (account: string, name: string) => `arn:aws:lambda:${REGION}:${account}:function:${name}`;
const SEND_MESSAGE = 'arn:aws:scheduler:::aws-sdk:sqs:sendMessage';

function definition(name: string, group: string, target: string, expression: string): CreateScheduleInput {
  return {
    Name: name,
    GroupName: group,
    ScheduleExpression: expression,
    FlexibleTimeWindow: { Mode: 'OFF' },
    ActionAfterCompletion: 'NONE',
    Target: { Arn: target, RoleArn: `arn:aws:iam::${FIRST}:role/scheduler-invoke` },
  };
}

const atTime = (offsetMs: number) => `at(${new Date(Date.now() + offsetMs).toISOString().slice(0, 19)})`;
const DAY_MS = 86_400_000;

beforeAll(() => {
  const { services } = harness.emulator;
  for (const account of [FIRST, SECOND]) services.sts.createRole(account, ROLE);

  const first = services.scope(FIRST, REGION).scheduler;
  first.createGroup('orders');
  first.seed([
    ...Array.from({ length: 30 }, (_, index) =>
      definition(`order-${index}`, 'orders', lambda(FIRST, 'orders'), 'rate(1 hour)'),
    ),
    ...Array.from({ length: 12 }, (_, index) =>
      definition(`queue-${index}`, 'default', SEND_MESSAGE, 'rate(1 day)'),
    ),
    // Declared by a stack: three fired 3 days ago (finished), one is due tomorrow.
    ...[1, 2, 3].map((index) =>
      definition(`cfn-reminder-${index}`, 'default', lambda(FIRST, 'reminders'), atTime(-3 * DAY_MS)),
    ),
    definition('cfn-reminder-4', 'default', lambda(FIRST, 'reminders'), atTime(DAY_MS)),
  ]);
  services.cloudformation.seedStack({
    accountId: FIRST,
    region: REGION,
    name: 'reminders-stack',
    resources: [1, 2, 3, 4].map((index) => ({
      logicalId: `Reminder${index}`,
      type: SCHEDULE_RESOURCE_TYPE,
      physicalId: `cfn-reminder-${index}`,
    })),
  });
  services.cloudformation.seedStack({
    accountId: FIRST,
    region: REGION,
    name: 'nightly-stack',
    resources: [{ logicalId: 'Nightly', type: SCHEDULE_RESOURCE_TYPE, physicalId: 'nightly-report' }],
  });

  services
    .scope(SECOND, REGION)
    .scheduler.seed(
      Array.from({ length: 7 }, (_, index) =>
        definition(`b-${index}`, 'default', lambda(SECOND, 'billing'), 'rate(2 hours)'),
      ),
    );
});

afterEach(() => {
  harness.emulator.services.cloudformation.denyOperations([]);
});

async function report(format: 'table' | 'json' | 'csv') {
  let stdout = '';
  const stderr: string[] = [];
  const code = await main(
    [
      '--accounts',
      `${FIRST},${SECOND}`,
      '--regions',
      REGION,
      '--role',
      ROLE,
      '--view',
      'producers',
      '--format',
      format,
    ],
    {
      endpoint: harness.emulator.url,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      progressBar: false,
      stdout: (text) => {
        stdout += text;
      },
      stderr: (text) => stderr.push(text),
    },
  );
  return { code, stdout, stderr };
}

describe('the report’s producers view', () => {
  it('names each cell’s top producers with exact counts and CloudFormation’s finished schedules per stack (JSON)', async () => {
    const run = await report('json');
    expect(run.code).toBe(0);
    const cells = (JSON.parse(run.stdout) as { cells: ProducersCellResult[] }).cells;
    expect(cells.map((cell) => `${cell.accountId}/${cell.region}`)).toEqual([
      `${FIRST}/${REGION}`,
      `${SECOND}/${REGION}`,
    ]);
    const [first, second] = cells;
    expect(first?.scheduleCount).toBe(46);
    expect(
      first?.producers?.map(({ targetArn, count, uncertainty }) => [targetArn, count, uncertainty]),
    ).toEqual([
      [lambda(FIRST, 'orders'), 30, 0],
      [SEND_MESSAGE, 12, 0],
      [lambda(FIRST, 'reminders'), 4, 0],
    ]);
    expect(first?.otherTargets).toBe(0);
    expect(first?.cloudformation).toEqual({
      complete: true,
      stacks: [
        {
          stack: 'reminders-stack',
          declared: 4,
          present: 4,
          finished: [1, 2, 3].map((index) => ({
            name: `cfn-reminder-${index}`,
            group: 'default',
            logicalId: `Reminder${index}`,
          })),
          undecided: 0,
        },
        { stack: 'nightly-stack', declared: 1, present: 0, finished: [], undecided: 0 },
      ],
    });
    // Lookups only for the declared schedules present, never for the other 42.
    expect(first?.requests?.GetSchedule).toBe(4);
    expect(second?.producers).toEqual([
      { targetArn: lambda(SECOND, 'billing'), count: 7, uncertainty: 0, percent: 100 },
    ]);
    expect(second?.cloudformation).toEqual({ complete: true, stacks: [] });
  });

  it('prints the top producers and each stack’s finished logical IDs as a table', async () => {
    const run = await report('table');
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(/^account\s+region\s+rank\s+target\s+schedules\s+% of cell\s+exact\s+error$/);
    expect(lines).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^${FIRST}\\s+${REGION}\\s+1\\s+arn:aws:lambda:us-east-1:${FIRST}:function:orders\\s+30\\s+65\\.22\\s+yes$`,
        ),
      ),
    );
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${SECOND}\\s+${REGION}\\s+Other\\s+0$`)));
    expect(lines).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^${FIRST}\\s+${REGION}\\s+reminders-stack\\s+4\\s+4\\s+3\\s+0\\s+Reminder1 Reminder2 Reminder3$`,
        ),
      ),
    );
  });

  it('writes one CSV with a row per producer, pair and stack', async () => {
    const run = await report('csv');
    expect(run.code).toBe(0);
    const [header, ...rows] = run.stdout.split('\n');
    expect(header).toBe(
      'account,region,kind,rank,group,target,schedules,uncertainty,percentOfCell,stack,declared,present,finished,undecided,finishedLogicalIds,finishedSchedules,ok,error',
    );
    expect(rows).toContain(
      `${FIRST},${REGION},producer,1,,${lambda(FIRST, 'orders')},30,0,65.2174,,,,,,,,true,`,
    );
    expect(rows).toContain(
      `${FIRST},${REGION},pair,1,orders,${lambda(FIRST, 'orders')},30,0,65.2174,,,,,,,,true,`,
    );
    expect(rows).toContain(
      `${FIRST},${REGION},stack,,,,,,,reminders-stack,4,4,3,0,Reminder1 Reminder2 Reminder3,default/cfn-reminder-1 default/cfn-reminder-2 default/cfn-reminder-3,true,`,
    );
    expect(rows).toContain(`${SECOND},${REGION},producer,,,Other,0,,,,,,,,,,true,`);
  });

  it('fails a cell whose ownership cannot be read, and still names its producers', async () => {
    harness.emulator.services.cloudformation.denyOperations(['ListStacks']);
    const run = await report('json');
    expect(run.code).toBe(1);
    const cells = (JSON.parse(run.stdout) as { cells: ProducersCellResult[] }).cells;
    for (const cell of cells) {
      expect(cell.ok).toBe(false);
      expect(cell.error).toBe('OwnershipUnknown(AccessDenied)');
      expect(cell.cloudformation).toEqual({ complete: false, incompleteBecause: 'AccessDenied', stacks: [] });
    }
    expect(cells[0]?.producers?.[0]).toMatchObject({ targetArn: lambda(FIRST, 'orders'), count: 30 });
    expect(run.stderr).toContain('2 of 2 cells failed; their rows name the error');
  });

  it('refuses a view it does not know, naming the flag', async () => {
    const stderr: string[] = [];
    const code = await main(['--accounts', FIRST, '--regions', REGION, '--role', ROLE, '--view', 'owners'], {
      stderr: (text) => stderr.push(text),
      stdout: () => {},
    });
    expect(code).toBe(2);
    expect(stderr[0]).toMatch(/Invalid --view: expected one of quota, producers, got 'owners'/);
  });
});
