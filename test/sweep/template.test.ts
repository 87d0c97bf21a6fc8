// The sweep's deployment as `sls package` generates it: the trigger, one run at a time, and a role
// that can touch nothing beyond what the sweep needs.
import { describe, expect, it } from 'vitest';
import {
  capacityShortfall,
  peakRequestRate,
  sustainableRequestsPerSecond,
} from '../../src/sweep/capacity.ts';
import { type CfnResource, loadTemplate } from '../support/template.ts';

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

function resource(name: string): CfnResource {
  const found = loadTemplate().Resources[name];
  if (!found) throw new Error(`the template has no ${name}`);
  return found;
}

function sweepStatements(): Statement[] {
  const policies = resource('SweepRole').Properties?.Policies as {
    PolicyDocument: { Statement: Statement[] };
  }[];
  return policies.flatMap((policy) => policy.PolicyDocument.Statement);
}

// CloudFormation substitutions, resolved at deploy time to this account and Region.
const OWN_LOG_STREAMS = {
  'Fn::Sub':
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub placeholders, not a template literal
    'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/schedule-hygiene-dev-sweep:*',
};
const ACCOUNT_SCHEDULES = {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub placeholders, not a template literal
  'Fn::Sub': 'arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/*/*',
};
const STATE_TABLE = { 'Fn::GetAtt': ['SweepStateTable', 'Arn'] };
const TOMBSTONE_TABLE = {
  'Fn::Sub':
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub placeholders, not a template literal
    'arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/schedule-hygiene-dev-tombstones',
};
const ACCOUNT_STACKS = {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub placeholders, not a template literal
  'Fn::Sub': 'arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/*/*',
};
const ACCOUNT_GROUPS = {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub placeholders, not a template literal
  'Fn::Sub': 'arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule-group/*',
};
const OWN_FUNCTION = {
  'Fn::Sub':
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub placeholders, not a template literal
    'arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:schedule-hygiene-dev-sweep',
};

const actionsOf = (statement: Statement) =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];
const resourcesOf = (statement: Statement) =>
  Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];

describe('sweep deployment', () => {
  it('runs the sweep on a schedule trigger', () => {
    const rules = Object.values(loadTemplate().Resources).filter(
      (candidate) =>
        candidate.Type === 'AWS::Events::Rule' &&
        JSON.stringify(candidate.Properties?.Targets ?? '').includes('SweepLambdaFunction'),
    );

    expect(rules).toHaveLength(1);
    expect(rules[0]?.Properties?.ScheduleExpression).toMatch(/^(rate|cron)\(/);
  });

  it('reserves no concurrency (the lease keeps one sweep at a time), with its own role and configuration', () => {
    const properties = resource('SweepLambdaFunction').Properties ?? {};

    expect(properties).not.toHaveProperty('ReservedConcurrentExecutions');
    expect(properties.Timeout).toBe(900);
    expect(JSON.stringify(properties.Role)).toContain('SweepRole');
    expect(properties.Environment).toMatchObject({
      Variables: expect.objectContaining({
        SWEEP_GRACE_MINUTES: expect.any(String),
        SWEEP_GET_TPS: expect.any(String),
        METRICS_NAMESPACE: expect.any(String),
      }),
    });
  });

  it('is assumable by Lambda only', () => {
    const trust = resource('SweepRole').Properties?.AssumeRolePolicyDocument as { Statement: Statement[] };

    expect(trust.Statement).toEqual([
      { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ]);
  });

  it('grants exactly the sweep actions, each on its narrowest resource', () => {
    const grants = sweepStatements()
      .flatMap((statement) =>
        actionsOf(statement).map((action) => ({
          action,
          effect: statement.Effect,
          resources: resourcesOf(statement),
        })),
      )
      .sort((left, right) => left.action.localeCompare(right.action));

    expect(grants).toEqual(
      [
        { action: 'cloudformation:ListStackResources', effect: 'Allow', resources: [ACCOUNT_STACKS] },
        { action: 'cloudformation:ListStacks', effect: 'Allow', resources: ['*'] },
        { action: 'cloudwatch:PutMetricData', effect: 'Allow', resources: ['*'] },
        ...['BatchGetItem', 'BatchWriteItem', 'DeleteItem', 'GetItem', 'PutItem', 'UpdateItem'].map(
          (name) => ({
            action: `dynamodb:${name}`,
            effect: 'Allow',
            resources: [STATE_TABLE],
          }),
        ),
        // Tombstones: written (outcomes too, as puts in the same batches), never read.
        { action: 'dynamodb:BatchWriteItem', effect: 'Allow', resources: [TOMBSTONE_TABLE] },
        { action: 'lambda:InvokeFunction', effect: 'Allow', resources: [OWN_FUNCTION] },
        {
          action: 'logs:CreateLogStream',
          effect: 'Allow',
          resources: [OWN_LOG_STREAMS],
        },
        {
          action: 'logs:PutLogEvents',
          effect: 'Allow',
          resources: [OWN_LOG_STREAMS],
        },
        {
          action: 'scheduler:DeleteSchedule',
          effect: 'Allow',
          resources: [ACCOUNT_SCHEDULES],
        },
        {
          action: 'scheduler:GetSchedule',
          effect: 'Allow',
          resources: [ACCOUNT_SCHEDULES],
        },
        { action: 'scheduler:ListSchedules', effect: 'Allow', resources: ['*'] },
        { action: 'scheduler:ListTagsForResource', effect: 'Allow', resources: [ACCOUNT_GROUPS] },
      ].sort((left, right) => left.action.localeCompare(right.action)),
    );
  });

  it('limits PutMetricData to the configured namespace', () => {
    const publish = sweepStatements().find((statement) =>
      actionsOf(statement).includes('cloudwatch:PutMetricData'),
    );
    const environment = resource('SweepLambdaFunction').Properties?.Environment as
      | { Variables: Record<string, string> }
      | undefined;
    const namespace = environment?.Variables.METRICS_NAMESPACE;

    expect(namespace).toBe('ScheduleHygiene');

    expect(publish?.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': namespace } });
  });

  it('uses "*" only where IAM offers no resource type', () => {
    const wildcards = sweepStatements()
      .filter((statement) => resourcesOf(statement).includes('*'))
      .flatMap(actionsOf)
      .sort();

    expect(wildcards).toEqual([
      'cloudformation:ListStacks',
      'cloudwatch:PutMetricData',
      'scheduler:ListSchedules',
    ]);
  });

  it('gives the sweep the memory its default budgets need, with headroom', () => {
    const properties = resource('SweepLambdaFunction').Properties as {
      MemorySize: number;
      Environment: { Variables: Record<string, string> };
    };
    const variables = properties.Environment.Variables;
    const budgets = {
      list: Number(variables.SWEEP_LIST_TPS),
      get: Number(variables.SWEEP_GET_TPS),
      delete: Number(variables.SWEEP_DELETE_TPS),
    };

    // Its CPU share sends the budgets' peak with 50% to spare at the measured cost per request.
    expect(properties.MemorySize).toBe(320);
    expect(capacityShortfall(budgets, properties.MemorySize)).toBeUndefined();
    expect(sustainableRequestsPerSecond(properties.MemorySize)).toBeGreaterThanOrEqual(
      1.5 * peakRequestRate(budgets),
    );
  });
});
