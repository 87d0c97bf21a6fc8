// The packaged CloudFormation for quota monitoring: the alarms page on the right thresholds, on
// silence and on a census that never completes, every alarm notifies the topic, and the census role
// can only read, publish metrics, keep its own lease and hand itself on.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CensusMetric } from '../../src/census/census.ts';
import { ProducerDimension, ProducerMetric } from '../../src/census/producers.ts';
import { CENSUS_LEASE_KEY } from '../../src/census/run.ts';
import { USAGE_NAMESPACE } from '../../src/census/usage.ts';
import { type CfnResource, loadTemplate, resourcesOfType } from '../support/template.ts';

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** The defaults in serverless.yml's params, so a changed default changes what is expected. */
function defaultParam(name: string): string {
  const match = readFileSync('serverless.yml', 'utf8').match(new RegExp(`^\\s+${name}:\\s*(.+)$`, 'm'));
  if (!match?.[1]) throw new Error(`serverless.yml has no default for ${name}`);
  return match[1].trim();
}

function alarmsOn(metricName: string): Record<string, unknown>[] {
  return resourcesOfType(loadTemplate(), 'AWS::CloudWatch::Alarm')
    .map(([, alarm]) => alarm.Properties ?? {})
    .filter(
      (properties) =>
        properties.MetricName === metricName && properties.Namespace === defaultParam('namespace'),
    );
}

function property<T>(resource: CfnResource | undefined, name: string): T {
  const value = resource?.Properties?.[name];
  if (value === undefined) throw new Error(`resource has no ${name}`);
  return value as T;
}

function only<T>(items: T[]): T {
  expect(items).toHaveLength(1);
  return items[0] as T;
}

function topicLogicalId(): string {
  return only(resourcesOfType(loadTemplate(), 'AWS::SNS::Topic'))[0];
}

function censusStatements(): Statement[] {
  const role = loadTemplate().Resources.CensusRole as CfnResource;
  const policies = (role.Properties?.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[];
  return policies.flatMap((policy) => policy.PolicyDocument.Statement);
}

// The pseudo parameter Fn::Sub fills in at deploy time.
const REGION_REFERENCE = ['$', '{AWS::Region}'].join('');

const actionsOf = (statement: Statement) =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

describe('quota alarms', () => {
  it('warns at the configured warning percent (80 by default) on the highest utilization in an hour', () => {
    // Prepare
    const warning = Number(defaultParam('quotaWarningPercent'));
    // Act
    const alarm = only(alarmsOn(CensusMetric.quotaUtilization).filter((a) => a.Threshold === warning));
    // Assess
    expect(warning).toBe(80);
    expect(alarm).toMatchObject({
      Statistic: 'Maximum',
      Period: 3600,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'ignore',
    });
  });

  it('pages at the configured critical percent (95 by default)', () => {
    const critical = Number(defaultParam('quotaCriticalPercent'));

    const alarm = only(alarmsOn(CensusMetric.quotaUtilization).filter((a) => a.Threshold === critical));

    expect(critical).toBe(95);
    expect(alarm).toMatchObject({
      Statistic: 'Maximum',
      Period: 3600,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'ignore',
    });
  });

  // The silence conditions below page through composite alarms, once a gate has opened
  // (test/deploy/alarms.test.ts): a fresh deploy pages nobody.
  const conditions = (metricName: string) =>
    alarmsOn(metricName).filter((alarm) => alarm.TreatMissingData === 'breaching');

  it('fires when the census function has sent no heartbeat for an hour, counting silence as breaching', () => {
    const alarm = only(conditions(CensusMetric.censusInvocations));

    expect(alarm).toMatchObject({
      AlarmName: 'schedule-hygiene-dev-census-stopped-condition',
      Statistic: 'SampleCount',
      Period: 3600,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
  });

  it('fires when no census has completed for six hours, counting silence as breaching', () => {
    const alarm = only(conditions(CensusMetric.quotaUtilization));

    expect(alarm).toMatchObject({
      AlarmName: 'schedule-hygiene-dev-census-not-completing-condition',
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    expect(Number(alarm.Period) * Number(alarm.EvaluationPeriods)).toBe(6 * 3600);
  });

  it('fires when the sweeper has sent no heartbeat for three hours, counting silence as breaching', () => {
    const alarm = only(conditions('SweepInvocations'));

    expect(alarm).toMatchObject({
      Statistic: 'SampleCount',
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      TreatMissingData: 'breaching',
    });
    expect(Number(alarm.Period) * Number(alarm.EvaluationPeriods)).toBe(3 * 3600);
    expect(alarm.DatapointsToAlarm).toBe(alarm.EvaluationPeriods);
  });

  it('fires when no sweep has covered the whole account for a day, counting silence as breaching', () => {
    const alarm = only(conditions('SweepsCompleted'));

    expect(alarm).toMatchObject({
      Statistic: 'Sum',
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      TreatMissingData: 'breaching',
    });
    expect(Number(alarm.Period) * Number(alarm.EvaluationPeriods)).toBe(24 * 3600);
  });

  it('fires when the sweep function itself ends in an error', () => {
    const alarm = only(
      resourcesOfType(loadTemplate(), 'AWS::CloudWatch::Alarm')
        .map(([, resource]) => resource.Properties ?? {})
        .filter((properties) => properties.MetricName === 'Errors'),
    );

    expect(alarm).toMatchObject({
      Namespace: 'AWS/Lambda',
      Dimensions: [{ Name: 'FunctionName', Value: 'schedule-hygiene-dev-sweep' }],
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('fires on any delete failure within an hour, and stays quiet when no sweep ran', () => {
    const alarm = only(alarmsOn('DeleteFailures'));

    expect(alarm).toMatchObject({
      Statistic: 'Sum',
      Period: 3600,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('notifies the alarm topic on alarm and on recovery, every alarm that pages', () => {
    const topic = topicLogicalId();
    // Conditions and gates have no actions (ActionsEnabled false); composites page for them.
    const alarms = [
      ...resourcesOfType(loadTemplate(), 'AWS::CloudWatch::Alarm'),
      ...resourcesOfType(loadTemplate(), 'AWS::CloudWatch::CompositeAlarm'),
    ].filter(([, alarm]) => alarm.Properties?.ActionsEnabled !== false);

    expect(alarms.length).toBe(8);
    for (const [, alarm] of alarms) {
      expect(alarm.Properties?.AlarmActions).toEqual([{ Ref: topic }]);
      expect(alarm.Properties?.OKActions).toEqual([{ Ref: topic }]);
    }
  });

  it('subscribes an email address only when one is configured', () => {
    const template = loadTemplate();
    const [, subscription] = only(resourcesOfType(template, 'AWS::SNS::Subscription'));

    expect(subscription.Condition).toBeDefined();
    expect(template.Conditions?.[subscription.Condition as string]).toEqual({
      'Fn::Not': [{ 'Fn::Equals': ['', ''] }],
    });
    expect(subscription.Properties).toMatchObject({ Protocol: 'email', TopicArn: { Ref: topicLogicalId() } });
  });

  it('outputs the topic ARN and the dashboard name', () => {
    const outputs = loadTemplate().Outputs as Record<string, { Value: unknown }>;

    expect(outputs.AlarmTopicArn?.Value).toEqual({ Ref: topicLogicalId() });
    const [dashboard] = only(resourcesOfType(loadTemplate(), 'AWS::CloudWatch::Dashboard'));
    expect(outputs.DashboardName?.Value).toEqual({ Ref: dashboard });
  });
});

describe('dashboard', () => {
  it('shows counts, utilization with both threshold lines, deletions, skipped schedules and growth', () => {
    // Prepare
    const [, dashboard] = only(resourcesOfType(loadTemplate(), 'AWS::CloudWatch::Dashboard'));
    const source = property<{ 'Fn::Sub': string }>(dashboard, 'DashboardBody');
    // Act
    const body = JSON.parse(source['Fn::Sub'].replaceAll(REGION_REFERENCE, 'us-east-1')) as {
      widgets: { properties: { metrics: unknown[][]; annotations?: { horizontal: { value: number }[] } } }[];
    };
    const metricNames = body.widgets.flatMap((widget) =>
      widget.properties.metrics.map((metric) => metric[1]),
    );
    const lines = body.widgets.flatMap((widget) => widget.properties.annotations?.horizontal ?? []);
    // Assess
    expect(metricNames).toEqual(
      expect.arrayContaining([
        CensusMetric.scheduleCount,
        CensusMetric.quotaUtilization,
        CensusMetric.scheduleGrowthPerHour,
        CensusMetric.daysUntilFull,
        'SchedulesDeleted',
        'SkippedSchedules',
      ]),
    );
    expect(lines.map((line) => line.value)).toEqual([
      Number(defaultParam('quotaWarningPercent')),
      Number(defaultParam('quotaCriticalPercent')),
    ]);
  });
});

describe('dashboard: producers', () => {
  it('shows the top producers, their quota share, the fastest growing targets and groups, and AWS’s count', () => {
    // Prepare
    const [, dashboard] = only(resourcesOfType(loadTemplate(), 'AWS::CloudWatch::Dashboard'));
    const source = property<{ 'Fn::Sub': string }>(dashboard, 'DashboardBody');
    // Act
    const body = JSON.parse(source['Fn::Sub'].replaceAll(REGION_REFERENCE, 'us-east-1')) as {
      widgets: { properties: { title: string; metrics: unknown[][] } }[];
    };
    const expressions = (start: string) =>
      body.widgets
        .find((widget) => widget.properties.title.startsWith(start))
        ?.properties.metrics.flatMap((line) =>
          line.flatMap((item) =>
            typeof item === 'object' && item && 'expression' in item ? [String(item.expression)] : [],
          ),
        ) ?? [];
    const namespace = 'ScheduleHygiene';
    // Assess: every query reads exactly the metric and dimension the census publishes.
    const byTarget = (metric: string) =>
      `{${namespace},${ProducerDimension.targetArn}} MetricName="${metric}"`;
    expect(expressions('Top producers')).toEqual([
      `SEARCH('${byTarget(ProducerMetric.scheduleCount)}', 'Maximum', 900)`,
    ]);
    expect(expressions('Quota held per producer')).toEqual([
      `SEARCH('${byTarget(ProducerMetric.scheduleCount)}', 'Maximum', 900)`,
      '100 * held / quota',
    ]);
    expect(expressions('Fastest growing')).toEqual([
      `SEARCH('${byTarget(ProducerMetric.scheduleGrowthPerHour)}', 'Average', 900)`,
      `SEARCH('{${namespace},${ProducerDimension.scheduleGroup}} MetricName="${ProducerMetric.scheduleGrowthPerHour}"', 'Average', 900)`,
    ]);
    expect(expressions('Largest groups')).toEqual([
      `SELECT MAX(ScheduleCount) FROM SCHEMA("${namespace}", ScheduleGroup) GROUP BY ScheduleGroup ORDER BY MAX() DESC LIMIT 10`,
    ]);
    expect(expressions('Schedule count: the census')).toEqual([
      `SEARCH('{${USAGE_NAMESPACE},Class,Resource,Service,Type} Service="Scheduler" Type="Resource"', 'Maximum', 900)`,
    ]);
    const named = body.widgets.flatMap((widget) => widget.properties.metrics.map((line) => line[1]));
    expect(named).toContain(ProducerMetric.usageCountDifference);
  });
});

describe('census role', () => {
  it('is assumable by Lambda only', () => {
    const role = loadTemplate().Resources.CensusRole as CfnResource;

    expect(role.Properties?.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ],
    });
  });

  it('grants only reads, its own logs, metrics in its own namespace, its lease and its own hand-off', () => {
    const actions = censusStatements().flatMap(actionsOf).sort();

    expect(censusStatements().every((statement) => statement.Effect === 'Allow')).toBe(true);
    expect(actions).toEqual(
      [
        'cloudwatch:GetMetricData',
        'cloudwatch:ListMetrics',
        'cloudwatch:PutMetricData',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'lambda:InvokeFunction',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'scheduler:ListSchedules',
        'servicequotas:GetAWSDefaultServiceQuota',
        'servicequotas:GetServiceQuota',
        'servicequotas:ListAWSDefaultServiceQuotas',
        'servicequotas:ListServiceQuotas',
      ].sort(),
    );
  });

  it('lists schedules on "*", since ListSchedules has no resource type and a scoped ARN is always denied', () => {
    const statement = only(
      censusStatements().filter((s) => actionsOf(s).includes('scheduler:ListSchedules')),
    );

    expect(statement.Resource).toBe('*');
  });

  it('publishes metrics only in the namespace the census function writes to', () => {
    const template = loadTemplate();
    const statement = only(
      censusStatements().filter((s) => actionsOf(s).includes('cloudwatch:PutMetricData')),
    );
    const environment = property<{ Variables: Record<string, string> }>(
      template.Resources.CensusLambdaFunction,
      'Environment',
    ).Variables;

    expect(actionsOf(statement)).toEqual(['cloudwatch:PutMetricData']);
    expect(statement.Condition).toEqual({
      StringEquals: { 'cloudwatch:namespace': environment.METRICS_NAMESPACE },
    });
  });

  it('writes logs to the census log group only', () => {
    const statement = only(censusStatements().filter((s) => actionsOf(s).includes('logs:PutLogEvents')));

    expect(statement.Resource).toEqual([{ 'Fn::GetAtt': ['CensusLogGroup', 'Arn'] }]);
    expect(loadTemplate().Resources.CensusLogGroup?.Type).toBe('AWS::Logs::LogGroup');
  });

  it("touches only its own lease item in the state table, never the sweep's items", () => {
    const statement = only(
      censusStatements().filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:'))),
    );
    const environment = property<{ Variables: Record<string, string> }>(
      loadTemplate().Resources.CensusLambdaFunction,
      'Environment',
    ).Variables;

    expect(statement.Resource).toEqual([{ 'Fn::GetAtt': ['SweepStateTable', 'Arn'] }]);
    expect(statement.Condition).toEqual({
      'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [CENSUS_LEASE_KEY] },
    });
    expect(environment.CENSUS_STATE_TABLE).toBe(
      property(loadTemplate().Resources.SweepStateTable, 'TableName'),
    );
  });

  it('may invoke only its own function, named without a reference back to it', () => {
    const statement = only(censusStatements().filter((s) => actionsOf(s).includes('lambda:InvokeFunction')));

    expect(actionsOf(statement)).toEqual(['lambda:InvokeFunction']);
    expect(statement.Resource).toEqual([
      {
        'Fn::Sub':
          // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub placeholders, not a template literal
          'arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:schedule-hygiene-dev-census',
      },
    ]);
    expect(property(loadTemplate().Resources.CensusLambdaFunction, 'FunctionName')).toBe(
      'schedule-hygiene-dev-census',
    );
  });
});

describe('census function', () => {
  it('never retries an asynchronous invocation of the census', () => {
    const configs = resourcesOfType(loadTemplate(), 'AWS::Lambda::EventInvokeConfig').filter(
      ([, config]) =>
        JSON.stringify(config.Properties?.FunctionName) === JSON.stringify({ Ref: 'CensusLambdaFunction' }),
    );

    expect(configs).toHaveLength(1);
    expect(configs[0]?.[1].Properties?.MaximumRetryAttempts).toBe(0);
  });

  it('reserves no concurrency (its lease keeps one census at a time), with a safety margin well inside its timeout', () => {
    const census = loadTemplate().Resources.CensusLambdaFunction;
    const environment = property<{ Variables: Record<string, string> }>(census, 'Environment').Variables;
    const margin = Number(environment.CENSUS_SAFETY_MARGIN_SECONDS);

    expect(census?.Properties).not.toHaveProperty('ReservedConcurrentExecutions');
    expect(margin).toBeGreaterThanOrEqual(10);
    expect(margin).toBeLessThan(property<number>(census, 'Timeout') / 10);
  });
});
