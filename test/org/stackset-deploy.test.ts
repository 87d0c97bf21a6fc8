// `npm run stackset -- deploy` against the emulator's CloudFormation StackSets, through the real
// @aws-sdk/client-cloudformation (Query protocol over HTTP): it creates a service-managed StackSet with
// automatic deployment, then updates it, follows each operation per account and Region, and exits
// non-zero when an instance fails. Flags are checked before any request.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudFormationClient,
  DescribeStackInstanceCommand,
  DescribeStackSetCommand,
  ListStackInstancesCommand,
} from '@aws-sdk/client-cloudformation';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runStacksetCli } from '../../scripts/stackset.ts';
import { planInstanceOperations } from '../../src/org/stackset-deploy.ts';
import { useTestEmulator } from '../support/emulator.ts';

const OU_A = 'ou-ab12-aaaaaaaa';
const OU_B = 'ou-ab12-bbbbbbbb';
const ORGANIZATION = { [OU_A]: ['111111111111', '222222222222'], [OU_B]: ['333333333333'] };

/** A small StackSet package: the parameters and a named IAM role, as `stackset package` writes them. */
const TEMPLATE = {
  AWSTemplateFormatVersion: '2010-09-09',
  Parameters: {
    sweepGraceMinutes: {
      Type: 'String',
      Default: '60',
      AllowedPattern: '^(0|[1-9][0-9]{0,4})$',
      Description: 'grace',
    },
    sweepMemorySize: {
      Type: 'Number',
      Default: '320',
      MinValue: 128,
      MaxValue: 10240,
      Description: 'memory',
    },
    alarmEmail: { Type: 'String', Default: '', Description: 'email' },
    MonitoringSinkArn: {
      Type: 'String',
      Default: '',
      AllowedPattern: '^(|arn:aws[a-z-]*:oam:[a-z0-9-]+:[0-9]{12}:sink/[A-Za-z0-9-]{1,64})$',
      Description: 'sink',
    },
  },
  Resources: {
    SchedulerExecutionRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        RoleName: 'schedule-hygiene-prod-scheduler',
        AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [] },
      },
    },
  },
};

const harness = useTestEmulator();
let dir: string;
let cloudformation: CloudFormationClient;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stackset-deploy-'));
  writeFileSync(join(dir, 'template.json'), JSON.stringify(TEMPLATE));
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({
      bucket: 'acme-hygiene',
      prefix: 'p',
      regions: ['us-east-1', 'eu-west-1', 'ap-southeast-2'],
    }),
  );
  cloudformation = new CloudFormationClient({ ...harness.clientOptions, maxAttempts: 1 });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeEach(() => {
  harness.emulator.services.cloudformation.reset();
  harness.emulator.services.cloudformation.setOrganization(ORGANIZATION);
});

async function deploy(...args: string[]) {
  let stdout = '';
  let stderr = '';
  let polls = 0;
  const waits = new Set<number>();
  const code = await runStacksetCli(['deploy', '--dir', dir, ...args], {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    cloudformation,
    sleep: async (ms) => {
      polls += 1;
      waits.add(ms);
    },
  });
  return { code, stdout, stderr, polls, waits };
}

async function instances(name = 'schedule-hygiene') {
  const listed = await cloudformation.send(new ListStackInstancesCommand({ StackSetName: name }));
  return (listed.Summaries ?? [])
    .map((summary) => `${summary.Account} ${summary.Region} ${summary.Status}`)
    .sort();
}

describe('stackset deploy', () => {
  it('creates a service-managed StackSet with automatic deployment and reports every account and Region', async () => {
    // Act
    const run = await deploy(
      '--ou',
      `${OU_A},${OU_B}`,
      '--regions',
      'us-east-1,eu-west-1',
      '--parameter',
      'sweepGraceMinutes=120',
      '--poll-seconds',
      '1',
    );

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const { StackSet } = await cloudformation.send(
      new DescribeStackSetCommand({ StackSetName: 'schedule-hygiene' }),
    );
    expect(StackSet).toMatchObject({
      PermissionModel: 'SERVICE_MANAGED',
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
      Capabilities: ['CAPABILITY_NAMED_IAM'],
      Parameters: [{ ParameterKey: 'sweepGraceMinutes', ParameterValue: '120' }],
    });
    expect(await instances()).toEqual([
      '111111111111 eu-west-1 CURRENT',
      '111111111111 us-east-1 CURRENT',
      '222222222222 eu-west-1 CURRENT',
      '222222222222 us-east-1 CURRENT',
      '333333333333 eu-west-1 CURRENT',
      '333333333333 us-east-1 CURRENT',
    ]);
    // Progress over several polls: each account and Region seen running, then succeeded.
    expect(run.polls).toBeGreaterThanOrEqual(2);
    expect([...run.waits]).toEqual([1000]);
    for (const account of ['111111111111', '222222222222', '333333333333']) {
      for (const region of ['us-east-1', 'eu-west-1']) {
        expect(run.stderr).toContain(`${account} ${region} RUNNING`);
        expect(run.stderr).toContain(`${account} ${region} SUCCEEDED`);
      }
    }
    expect(run.stdout).toContain('StackSet schedule-hygiene created: every account and Region succeeded');
    expect(run.stdout).toMatch(/CREATE \S+: SUCCEEDED, 6\/6 succeeded/);
  });

  it('updates it: new values set, the others kept, and only missing Regions get new instances', async () => {
    // Prepare
    expect(
      (await deploy('--ou', OU_A, '--regions', 'us-east-1', '--parameter', 'sweepGraceMinutes=120')).code,
    ).toBe(0);

    // Act: a new value for one parameter, a new OU and a new Region.
    const run = await deploy(
      '--ou',
      `${OU_A},${OU_B}`,
      '--regions',
      'us-east-1,ap-southeast-2',
      '--parameter',
      'sweepMemorySize=1769',
    );

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const { StackSet } = await cloudformation.send(
      new DescribeStackSetCommand({ StackSetName: 'schedule-hygiene' }),
    );
    expect(StackSet?.Parameters).toEqual(
      expect.arrayContaining([
        { ParameterKey: 'sweepGraceMinutes', ParameterValue: '120' },
        { ParameterKey: 'sweepMemorySize', ParameterValue: '1769' },
      ]),
    );
    expect(await instances()).toEqual([
      '111111111111 ap-southeast-2 CURRENT',
      '111111111111 us-east-1 CURRENT',
      '222222222222 ap-southeast-2 CURRENT',
      '222222222222 us-east-1 CURRENT',
      '333333333333 ap-southeast-2 CURRENT',
      '333333333333 us-east-1 CURRENT',
    ]);
    expect(run.stdout).toContain('StackSet schedule-hygiene updated');
    // The update reaches the two existing instances; the creations cover exactly what was missing.
    expect(run.stdout).toMatch(/UPDATE \S+: SUCCEEDED, 2\/2 succeeded/);
    expect(run.stdout).toMatch(/CREATE \S+: SUCCEEDED, 3\/3 succeeded/);
    expect(run.stdout).toMatch(/CREATE \S+: SUCCEEDED, 1\/1 succeeded/);
  });

  it("sets per-Region values as the instances' parameter overrides, on new and existing instances", async () => {
    const sink = (region: string) => `arn:aws:oam:${region}:999988887777:sink/sink-${region}`;
    const overrides = async (account: string, region: string) =>
      (
        await cloudformation.send(
          new DescribeStackInstanceCommand({
            StackSetName: 'schedule-hygiene',
            StackInstanceAccount: account,
            StackInstanceRegion: region,
          }),
        )
      ).StackInstance?.ParameterOverrides ?? [];

    // Act: created with eu-west-1's sink, then given us-east-1's.
    const first = await deploy(
      '--ou',
      OU_A,
      '--regions',
      'us-east-1,eu-west-1',
      '--region-parameter',
      `eu-west-1:MonitoringSinkArn=${sink('eu-west-1')}`,
    );
    const eastBefore = await overrides('111111111111', 'us-east-1');
    const second = await deploy(
      '--ou',
      OU_A,
      '--regions',
      'us-east-1,eu-west-1',
      '--region-parameter',
      `us-east-1:MonitoringSinkArn=${sink('us-east-1')}`,
    );

    // Assess
    expect([first.code, second.code], second.stderr).toEqual([0, 0]);
    expect(eastBefore).toEqual([]);
    for (const account of ['111111111111', '222222222222']) {
      for (const region of ['us-east-1', 'eu-west-1']) {
        expect(await overrides(account, region)).toEqual([
          { ParameterKey: 'MonitoringSinkArn', ParameterValue: sink(region) },
        ]);
      }
    }
    expect(second.stderr).toContain('setting MonitoringSinkArn for the instances in us-east-1');
    expect(await instances()).toEqual([
      '111111111111 eu-west-1 CURRENT',
      '111111111111 us-east-1 CURRENT',
      '222222222222 eu-west-1 CURRENT',
      '222222222222 us-east-1 CURRENT',
    ]);
  });

  it('exits 1 and names the account and Region when an instance fails', async () => {
    // Prepare
    expect((await deploy('--ou', `${OU_A},${OU_B}`, '--regions', 'us-east-1,eu-west-1')).code).toBe(0);
    harness.emulator.services.cloudformation.failInstance(
      '333333333333',
      'eu-west-1',
      'Resource handler returned message: AccessDenied',
    );

    // Act
    const run = await deploy(
      '--ou',
      `${OU_A},${OU_B}`,
      '--regions',
      'us-east-1,eu-west-1',
      '--parameter',
      'alarmEmail=oncall@example.com',
    );

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('FAILED in some accounts or Regions');
    expect(run.stdout).toContain(
      '333333333333 eu-west-1 FAILED: Resource handler returned message: AccessDenied',
    );
    expect(run.stderr).toContain('333333333333 eu-west-1 FAILED');
    expect(await instances()).toContain('333333333333 eu-west-1 OUTDATED');
    expect(await instances()).toContain('333333333333 us-east-1 CURRENT');
  });
});

describe('the instance operations a deploy plans', () => {
  const sink = [
    { ParameterKey: 'MonitoringSinkArn', ParameterValue: 'arn:aws:oam:eu-west-1:999988887777:sink/s' },
  ];

  it('creates only the missing (OU, Region) pairs, one operation per set of OUs and Region values', () => {
    const steps = planInstanceOperations(
      {
        organizationalUnitIds: [OU_A, OU_B],
        regions: ['us-east-1', 'eu-west-1', 'ap-southeast-2', 'us-west-2'],
        regionParameters: { 'eu-west-1': { MonitoringSinkArn: sink[0]?.ParameterValue ?? '' } },
      },
      new Set([`${OU_A} us-east-1`, `${OU_A} eu-west-1`, `${OU_B} eu-west-1`]),
    );

    expect(steps).toEqual([
      { action: 'UPDATE', ous: [OU_A, OU_B], regions: ['eu-west-1'], overrides: sink },
      { action: 'CREATE', ous: [OU_B], regions: ['us-east-1'], overrides: [] },
      { action: 'CREATE', ous: [OU_A, OU_B], regions: ['ap-southeast-2', 'us-west-2'], overrides: [] },
    ]);
  });

  it('plans nothing when every pair exists and no Region has values of its own', () => {
    expect(
      planInstanceOperations(
        { organizationalUnitIds: [OU_A], regions: ['us-east-1'], regionParameters: {} },
        new Set([`${OU_A} us-east-1`]),
      ),
    ).toEqual([]);
  });
});

describe('stackset deploy refuses what it does not exactly understand, before any request', () => {
  const untouchable = new Proxy({} as CloudFormationClient, {
    get() {
      throw new Error('no request may be sent');
    },
  });

  it.each([
    [['--ou', 'ou-AB12-aaaaaaaa', '--regions', 'us-east-1'], '--ou'],
    [['--ou', 'r-ab12', '--regions', 'us-east-1'], '--ou'],
    [['--regions', 'us-east-1'], '--ou'],
    [['--ou', OU_A, '--regions', 'us-east-1,useast2'], '--regions'],
    [['--ou', OU_A, '--regions', 'eu-central-1'], '--regions'],
    [['--ou', OU_A, '--regions', 'us-east-1', '--parameter', 'sweepgraceminutes=5'], '--parameter'],
    [
      ['--ou', OU_A, '--regions', 'us-east-1', '--parameter', 'sweepGraceMinutes=soon'],
      '--parameter sweepGraceMinutes',
    ],
    [
      ['--ou', OU_A, '--regions', 'us-east-1', '--parameter', 'sweepMemorySize=64'],
      '--parameter sweepMemorySize',
    ],
    [['--ou', OU_A, '--regions', 'us-east-1', '--parameter', 'sweepMemorySize'], '--parameter'],
    [['--ou', OU_A, '--regions', 'us-east-1', '--call-as', 'ADMIN'], '--call-as'],
    [
      ['--ou', OU_A, '--regions', 'us-east-1', '--region-parameter', 'eu-west-1:alarmEmail=a@b.c'],
      '--region-parameter',
    ],
    [
      ['--ou', OU_A, '--regions', 'us-east-1', '--region-parameter', 'us-east-1:MonitoringSinkArn=sink'],
      '--region-parameter MonitoringSinkArn',
    ],
    [
      ['--ou', OU_A, '--regions', 'us-east-1', '--region-parameter', 'us-east-1:Nope=1'],
      '--region-parameter',
    ],
    [
      ['--ou', OU_A, '--regions', 'us-east-1', '--failure-tolerance-percent', '101'],
      '--failure-tolerance-percent',
    ],
    [['--ou', OU_A, '--regions', 'us-east-1', '--stack-set-name', '9lives'], '--stack-set-name'],
  ])('%j: usage error naming %s', async (args, flag) => {
    let stderr = '';

    const code = await runStacksetCli(['deploy', '--dir', dir, ...args], {
      stderr: (text) => (stderr += text),
      cloudformation: untouchable,
    });

    expect(code).toBe(2);
    expect(stderr).toContain(`Invalid ${flag}`);
  });
});
