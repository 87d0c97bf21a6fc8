// The packaged CloudFormation for the create path: Scheduler may assume the execution role only for
// this account and this stack's group, and the create function may only create in that group and
// pass that one role, to Scheduler only. No statement of these roles grants "Resource": "*".
import { describe, expect, it } from 'vitest';
import { type CfnResource, loadTemplate } from '../support/template.ts';

interface Statement {
  Sid?: string;
  Effect: string;
  Principal?: { Service?: string | string[] };
  Action: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

// Fn::Sub placeholders, built so that no source string looks like a template literal by mistake.
const placeholder = (name: string) => ['$', `{${name}}`].join('');
const partition = placeholder('AWS::Partition');
const region = placeholder('AWS::Region');
const account = placeholder('AWS::AccountId');

function resource(logicalId: string): CfnResource {
  const found = loadTemplate().Resources[logicalId];
  if (!found) throw new Error(`the template has no ${logicalId}`);
  return found;
}

function property<T>(logicalId: string, name: string): T {
  const value = resource(logicalId).Properties?.[name];
  if (value === undefined) throw new Error(`${logicalId} has no ${name}`);
  return value as T;
}

function groupName(): string {
  return resource('ScheduleGroup').Properties?.Name as string;
}

function policyStatements(roleId: string): Statement[] {
  const policies = (resource(roleId).Properties?.Policies ?? []) as {
    PolicyDocument: { Statement: Statement[] };
  }[];
  return policies.flatMap((policy) => policy.PolicyDocument.Statement);
}

function trustStatements(roleId: string): Statement[] {
  return property<{ Statement: Statement[] }>(roleId, 'AssumeRolePolicyDocument').Statement;
}

function statement(roleId: string, sid: string): Statement {
  const found = policyStatements(roleId).find((candidate) => candidate.Sid === sid);
  if (!found) throw new Error(`${roleId} has no statement ${sid}`);
  return found;
}

const list = (value: unknown) => (Array.isArray(value) ? value : [value]);

/** Every Resource value in a role's statements, including those inside an Fn::If branch. */
function allResources(roleId: string): unknown[] {
  return policyStatements(roleId).flatMap((entry) => {
    const conditional = (entry as unknown as { 'Fn::If'?: [string, Statement, unknown] })['Fn::If'];
    const effective = conditional ? conditional[1] : entry;
    return list(effective.Resource);
  });
}

describe('the create path template', () => {
  it('creates the schedule group and points the create function at it and at the execution role', () => {
    // Act
    const environment = property<{ Variables: Record<string, unknown> }>(
      'CreateLambdaFunction',
      'Environment',
    ).Variables;

    // Assess
    expect(resource('ScheduleGroup').Type).toBe('AWS::Scheduler::ScheduleGroup');
    expect(environment.CREATE_SCHEDULE_GROUP).toBe(groupName());
    // Plain strings only (sls invoke local cannot resolve Fn::GetAtt): the execution role's fixed name.
    expect(environment.SCHEDULER_ROLE_ARN).toBeUndefined();
    expect(environment.SCHEDULER_ROLE_NAME).toBe(property('SchedulerExecutionRole', 'RoleName'));
    expect(environment.SCHEDULER_ROLE_NAME).toBe('schedule-hygiene-dev-us-east-1-scheduler');
    for (const value of Object.values(environment)) expect(typeof value).toBe('string');
  });

  it('lets only Scheduler acting for this account and this group assume the execution role', () => {
    // Act
    const [trust, ...others] = trustStatements('SchedulerExecutionRole');

    // Assess
    expect(others).toHaveLength(0);
    expect(trust?.Principal).toEqual({ Service: 'scheduler.amazonaws.com' });
    expect(trust?.Action).toBe('sts:AssumeRole');
    expect(trust?.Condition?.StringEquals?.['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
    expect(trust?.Condition?.ArnLike?.['aws:SourceArn']).toEqual({
      'Fn::Sub': `arn:${partition}:scheduler:${region}:${account}:schedule-group/${groupName()}`,
    });
  });

  it('lets the execution role invoke the example target, and further targets only when targetArns is set', () => {
    // Prepare
    const statements = policyStatements('SchedulerExecutionRole');
    const conditional = statements
      .map((entry) => (entry as unknown as { 'Fn::If'?: [string, Statement, unknown] })['Fn::If'])
      .find((branch) => branch !== undefined);

    // Act
    const example = statement('SchedulerExecutionRole', 'InvokeExampleTarget');

    // Assess
    expect(example.Action).toBe('lambda:InvokeFunction');
    expect(list(example.Resource)[0]).toEqual({ 'Fn::GetAtt': ['TargetLambdaFunction', 'Arn'] });
    expect(conditional?.[0]).toBe('HasExtraTargets');
    expect(conditional?.[1].Action).toBe('lambda:InvokeFunction');
    expect(conditional?.[2]).toEqual({ Ref: 'AWS::NoValue' });
    // With the default targetArns '' the condition is false, so no extra statement is deployed.
    expect(loadTemplate().Conditions?.HasExtraTargets).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
  });

  it('lets the create function create and read schedules in the stack group only', () => {
    // Act
    const scheduling = statement('CreateRole', 'CreateSchedulesInStackGroup');

    // Assess
    expect(list(scheduling.Action).sort()).toEqual(['scheduler:CreateSchedule', 'scheduler:GetSchedule']);
    expect(list(scheduling.Resource)).toEqual([
      { 'Fn::Sub': `arn:${partition}:scheduler:${region}:${account}:schedule/${groupName()}/*` },
    ]);
  });

  it('lets the create function pass the execution role only, and only to Scheduler', () => {
    // Act
    const passRole = policyStatements('CreateRole').filter((entry) =>
      list(entry.Action).includes('iam:PassRole'),
    );

    // Assess
    expect(passRole).toHaveLength(1);
    expect(list(passRole[0]?.Resource)).toEqual([{ 'Fn::GetAtt': ['SchedulerExecutionRole', 'Arn'] }]);
    expect(passRole[0]?.Condition).toEqual({
      StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' },
    });
  });

  it('grants the create function nothing beyond its logs, its group and the role it passes', () => {
    // Act
    const actions = policyStatements('CreateRole').flatMap((entry) => list(entry.Action));

    // Assess
    expect(actions.sort()).toEqual([
      'iam:PassRole',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'scheduler:CreateSchedule',
      'scheduler:GetSchedule',
    ]);
  });

  it.each([
    ['CreateRole', 'create'],
    ['TargetRole', 'target'],
  ])('lets %s write only to its own function log group', (roleId, functionKey) => {
    // Prepare
    const functionName = resource(`${functionKey[0]?.toUpperCase()}${functionKey.slice(1)}LambdaFunction`)
      .Properties?.FunctionName as string;

    // Act
    const logs = statement(roleId, 'OwnLogs');

    // Assess
    expect(list(logs.Resource)).toEqual([
      { 'Fn::Sub': `arn:${partition}:logs:${region}:${account}:log-group:/aws/lambda/${functionName}:*` },
    ]);
  });

  it.each(['SchedulerExecutionRole', 'CreateRole', 'TargetRole'])(
    'never grants %s "Resource": "*"',
    (roleId) => {
      // Act
      const resources = allResources(roleId);

      // Assess
      expect(resources.length).toBeGreaterThan(0);
      expect(resources).not.toContain('*');
      expect(resources.every((value) => value !== undefined)).toBe(true);
    },
  );

  it('outputs the group name, the execution role ARN and the create function name', () => {
    // Act
    const outputs = loadTemplate().Outputs ?? {};

    // Assess
    expect(outputs.ScheduleGroupName).toMatchObject({ Value: { Ref: 'ScheduleGroup' } });
    expect(outputs.SchedulerExecutionRoleArn).toMatchObject({
      Value: { 'Fn::GetAtt': ['SchedulerExecutionRole', 'Arn'] },
    });
    expect(outputs.CreateFunctionName).toMatchObject({ Value: { Ref: 'CreateLambdaFunction' } });
  });
});
