// The organization view (docs/organization.md): the monitoring account's template
// (resources/org-monitoring.yml) read as CloudFormation would create it for given parameters, and
// the member stack's optional link (resources/org-link.yml) in the packaged template, off by default
// and on with the monitoringSinkArn param. What needs a real organization (the queries' results, the
// alarm's contributors) is listed in docs/organization.md; these tests check what a template can promise.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CensusMetric, census } from '../../src/census/census.ts';
import { createQuotaMemory } from '../../src/census/quota.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { seedGroup } from '../census/fixtures.ts';
import { startTestEmulator } from '../support/emulator.ts';
import { copyService, slsEnv } from '../support/global-setup.ts';
import { type Bindings, Evaluator, loadYamlTemplate, withDefaults } from '../support/intrinsics.ts';
import { type CfnTemplate, loadTemplate } from '../support/template.ts';

const MONITORING_TEMPLATE = 'resources/org-monitoring.yml';
const REGIONS = ['eu-west-1', 'us-east-1', 'ap-southeast-2'];
const SINK_ARN = 'arn:aws:oam:eu-west-1:111122223333:sink/f3c1e0a4-7d2b-4c55-9a57-2b7f0f1f9e10';

const monitoring = loadYamlTemplate(MONITORING_TEMPLATE);

function monitoringStack(overrides: Bindings = {}): Evaluator {
  return new Evaluator(
    monitoring,
    withDefaults(monitoring, {
      OrganizationId: 'o-a1b2c3d4e5',
      Regions: REGIONS,
      'AWS::Region': 'eu-west-1',
      'AWS::AccountId': '999988887777',
      AlarmTopic: 'arn:aws:sns:eu-west-1:999988887777:schedule-hygiene-org-alarms',
      ...overrides,
    }),
  );
}

function resource(template: CfnTemplate, logicalId: string) {
  const found = template.Resources[logicalId];
  if (!found) throw new Error(`no resource ${logicalId}`);
  return found;
}

function parameter(template: CfnTemplate, name: string): { Default: string; AllowedPattern: string } {
  const found = template.Parameters?.[name];
  if (!found) throw new Error(`no parameter ${name}`);
  return found as { Default: string; AllowedPattern: string };
}

// The dynamic label that names a line's Region (CloudWatch user guide, "Use dynamic labels").
const REGION_LABEL = ['$', "{PROP('Region')}"].join('');

interface Widget {
  type: string;
  properties: {
    title?: string;
    region?: string;
    markdown?: string;
    metrics?: [{ id: string; expression: string; label: string }][];
  };
}

interface DashboardBody {
  variables: { type: string; pattern: string; defaultValue: string }[];
  widgets: Widget[];
}

function dashboard(overrides: Bindings = {}): DashboardBody {
  const stack = monitoringStack(overrides);
  const body = stack.evaluate(resource(monitoring, 'Dashboard').Properties?.DashboardBody as never);
  return JSON.parse(String(body)) as DashboardBody;
}

const expressions = (widget: Widget) => (widget.properties.metrics ?? []).map(([query]) => query.expression);
const byTitle = (body: DashboardBody, start: string) =>
  body.widgets.filter((widget) => widget.properties.title?.startsWith(start));

describe('the monitoring account: sink', () => {
  it('lets any account of the organization link, and only its CloudWatch metrics', () => {
    const policy = monitoringStack().evaluate(resource(monitoring, 'Sink').Properties?.Policy as never) as {
      Statement: Record<string, unknown>[];
    };

    expect(policy.Statement).toEqual([
      {
        Sid: 'OrganizationLinksMetricsOnly',
        Effect: 'Allow',
        Principal: '*',
        Action: ['oam:CreateLink', 'oam:UpdateLink'],
        Resource: '*',
        Condition: {
          StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' },
          'ForAllValues:StringEquals': { 'oam:ResourceTypes': ['AWS::CloudWatch::Metric'] },
        },
      },
    ]);
  });

  it('refuses an organization ID that is not one, so the policy can never be left open', () => {
    const pattern = new RegExp(parameter(monitoring, 'OrganizationId').AllowedPattern);

    expect(pattern.test('o-a1b2c3d4e5')).toBe(true);
    for (const bad of ['', '*', 'o-', 'o-short', '111122223333', 'o-a1b2c3d4e5 ', 'r-a1b2']) {
      expect(pattern.test(bad), bad).toBe(false);
    }
  });
});

describe('the monitoring account: dashboard', () => {
  it('is created once, by the stack in the first listed Region (dashboards are global)', () => {
    expect(monitoringStack({ 'AWS::Region': 'eu-west-1' }).condition('CreatesDashboard')).toBe(true);
    expect(monitoringStack({ 'AWS::Region': 'us-east-1' }).condition('CreatesDashboard')).toBe(false);
    expect(resource(monitoring, 'Dashboard').Condition).toBe('CreatesDashboard');
  });

  it('shows schedule count against quota for every account, one graph per listed Region', () => {
    const body = dashboard();

    const graphs = byTitle(body, 'Schedule count against quota');
    expect(graphs.map((widget) => widget.properties.region)).toEqual(REGIONS);
    for (const widget of graphs) {
      expect(expressions(widget)).toEqual([
        `SELECT MAX(${CensusMetric.scheduleCount}) FROM SCHEMA("ScheduleHygiene") GROUP BY AWS.AccountId ORDER BY MAX() DESC`,
        `SELECT MAX(${CensusMetric.scheduleQuota}) FROM SCHEMA("ScheduleHygiene") GROUP BY AWS.AccountId ORDER BY MAX() DESC`,
      ]);
      // Each line names its account (the default label of a GROUP BY AWS.AccountId series) and Region.
      for (const [query] of widget.properties.metrics ?? []) expect(query.label).toContain(REGION_LABEL);
    }
  });

  it('shows the ten accounts nearest their quota in each Region', () => {
    const body = dashboard();

    const graphs = byTitle(body, 'Top ten accounts by quota utilization');
    expect(graphs.map((widget) => widget.properties.region)).toEqual(REGIONS);
    for (const widget of graphs) {
      expect(expressions(widget)).toEqual([
        `SELECT MAX(${CensusMetric.quotaUtilization}) FROM SCHEMA("ScheduleHygiene") GROUP BY AWS.AccountId ORDER BY MAX() DESC LIMIT 10`,
      ]);
    }
  });

  it('names the Regions and the alarm threshold in its header', () => {
    const header = dashboard({ UtilizationThresholdPercent: '90' }).widgets[0]?.properties.markdown ?? '';

    expect(header).toContain('eu-west-1, us-east-1, ap-southeast-2');
    expect(header).toContain(
      'schedule-hygiene-org-quota-utilization-<Region> fires when an account reaches 90%',
    );
  });

  it('reads another namespace through its pattern variable, and parses for a single Region', () => {
    const body = dashboard({ Namespace: 'Platform/Schedules', Regions: ['us-west-2'] });

    // The pattern variable replaces the default namespace in every widget with the parameter.
    expect(body.variables).toEqual([
      expect.objectContaining({
        type: 'pattern',
        pattern: 'ScheduleHygiene',
        defaultValue: 'Platform/Schedules',
      }),
    ]);
    expect(body.widgets.filter((widget) => widget.type === 'metric').map((w) => w.properties.region)).toEqual(
      ['us-west-2', 'us-west-2'],
    );
  });
});

describe('the monitoring account: alarm', () => {
  const alarm = () =>
    monitoringStack({ 'AWS::Region': 'ap-southeast-2', UtilizationThresholdPercent: '85' }).evaluate(
      resource(monitoring, 'QuotaUtilizationAlarm').Properties as never,
    ) as Record<string, unknown>;

  it('names the Region, and evaluates each account as its own contributor', () => {
    const properties = alarm();

    expect(properties.AlarmName).toBe('schedule-hygiene-org-quota-utilization-ap-southeast-2');
    expect(properties.AlarmDescription).toContain('85% or more of its schedule quota in ap-southeast-2');
    expect(properties.AlarmDescription).toContain(
      'The contributors in ALARM are the accounts (AWS.AccountId)',
    );
    expect(properties.Metrics).toEqual([
      expect.objectContaining({
        Expression: `SELECT MAX(${CensusMetric.quotaUtilization}) FROM SCHEMA("ScheduleHygiene") GROUP BY AWS.AccountId ORDER BY MAX() DESC`,
        Period: 3600,
        ReturnData: true,
      }),
    ]);
    expect(properties).toMatchObject({
      Threshold: '85',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'ignore',
    });
  });

  it('notifies the given topic, or the one the stack creates', () => {
    expect(alarm().AlarmActions).toEqual(['arn:aws:sns:eu-west-1:999988887777:schedule-hygiene-org-alarms']);
    const mine = 'arn:aws:sns:ap-southeast-2:999988887777:oncall';
    const given = monitoringStack({ AlarmTopicArn: mine });
    expect(given.condition('CreatesAlarmTopic')).toBe(false);
    expect(
      given.evaluate(resource(monitoring, 'QuotaUtilizationAlarm').Properties?.OKActions as never),
    ).toEqual([mine]);
  });
});

describe('the census publishes what the organization view queries', () => {
  it('sends ScheduleCount, ScheduleQuota and QuotaUtilization without dimensions (what FROM SCHEMA(namespace) matches)', async () => {
    // Prepare
    const env = await startTestEmulator();
    try {
      seedGroup(env, 'default', 40, 4);
      // Act
      await census(
        {
          scheduler: env.scheduler,
          serviceQuotas: env.serviceQuotas,
          cloudwatch: env.cloudwatch,
          clock: () => new Date(),
          log: createMemoryLogger(),
          quotaMemory: createQuotaMemory(),
        },
        { namespace: 'ScheduleHygiene', fallbackQuota: 50_000, listTps: 200 },
      );
      // Assess
      for (const metricName of [
        CensusMetric.scheduleCount,
        CensusMetric.scheduleQuota,
        CensusMetric.quotaUtilization,
      ]) {
        const plain = env.emulator.services.cloudwatch
          .datums({ namespace: 'ScheduleHygiene', metricName })
          .filter((datum) => datum.dimensions.length === 0);
        expect(plain, metricName).toHaveLength(1);
      }
    } finally {
      await env.close();
    }
  });
});

// cfn-lint is a Python tool: present on the development machines and in CI (.ci/run runs it too).
const cfnLint = spawnSync('cfn-lint', ['--version']).status === 0;

function expectNoCfnLintError(path: string): void {
  // cfn-lint exits with a bit mask: 2 = errors, 4 = warnings, 8 = informational.
  const result = spawnSync('cfn-lint', [path], { encoding: 'utf8' });
  expect(result.status ?? 0, result.stdout).not.toBe(1);
  expect((result.status ?? 0) & 2, result.stdout).toBe(0);
}

describe.runIf(cfnLint)('cfn-lint', () => {
  it('finds no error in the monitoring template', () => {
    expectNoCfnLintError(MONITORING_TEMPLATE);
  });
});

describe('the member stack: link to the monitoring account', () => {
  const linkCondition = (template: CfnTemplate) => {
    const parameter = template.Parameters?.MonitoringSinkArn as { Default: string };
    return new Evaluator(template, { MonitoringSinkArn: parameter.Default }).condition(
      'LinksToMonitoringAccount',
    );
  };

  it('is absent by default', () => {
    const template = loadTemplate();

    expect(template.Resources.MonitoringLink?.Condition).toBe('LinksToMonitoringAccount');
    expect(linkCondition(template)).toBe(false);
    expect(template.Outputs?.MonitoringLinkArn).toMatchObject({ Condition: 'LinksToMonitoringAccount' });
  });

  it('refuses a sink ARN CloudFormation could not use, before anything is created', () => {
    const pattern = new RegExp(parameter(loadTemplate(), 'MonitoringSinkArn').AllowedPattern);

    for (const good of ['', SINK_ARN, 'arn:aws-us-gov:oam:us-gov-west-1:111122223333:sink/abc-123']) {
      expect(pattern.test(good), good).toBe(true);
    }
    for (const bad of [
      ' ',
      'f3c1e0a4-7d2b-4c55-9a57-2b7f0f1f9e10',
      'arn:aws:oam:eu-west-1:111122223333:link/f3c1e0a4',
      'arn:aws:oam::111122223333:sink/f3c1e0a4',
      `${SINK_ARN},${SINK_ARN}`,
    ]) {
      expect(pattern.test(bad), bad).toBe(false);
    }
  });

  describe('with monitoringSinkArn', () => {
    let service: string;
    let template: CfnTemplate;

    beforeAll(() => {
      service = copyService(resolve('.'));
      execFileSync(
        resolve('node_modules/.bin/sls'),
        ['package', '--package', '.package', `--param=monitoringSinkArn=${SINK_ARN}`],
        { cwd: service, env: slsEnv(), stdio: 'pipe' },
      );
      template = JSON.parse(
        readFileSync(join(service, '.package/cloudformation-template-update-stack.json'), 'utf8'),
      ) as CfnTemplate;
    }, 120_000);
    afterAll(() => rmSync(service, { recursive: true, force: true }));

    it('links this stack’s metrics, and only those of its namespace, labelled with the account name', () => {
      expect(linkCondition(template)).toBe(true);
      expect(template.Resources.MonitoringLink?.Properties).toEqual({
        SinkIdentifier: { Ref: 'MonitoringSinkArn' },
        ResourceTypes: ['AWS::CloudWatch::Metric'],
        LabelTemplate: '$AccountName',
        LinkConfiguration: { MetricConfiguration: { Filter: "Namespace IN ('ScheduleHygiene')" } },
      });
      expect(parameter(template, 'MonitoringSinkArn').Default).toBe(SINK_ARN);
    });

    it.runIf(cfnLint)('passes cfn-lint', () => {
      expectNoCfnLintError(join(service, '.package/cloudformation-template-update-stack.json'));
    });
  });
});
