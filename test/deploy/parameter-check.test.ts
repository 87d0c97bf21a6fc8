// `sls package` and `sls deploy` refuse a --param value a function would refuse at cold start, with
// the message `stackset deploy` gives for it (scripts/serverless/parameter-check.ts): the plugin
// builds each function's environment as packaged and runs the function's own reader.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkServiceParameters,
  checkTemplateParameters,
  cliParamValues,
  type ServiceView,
  serviceEnvironments,
} from '../../scripts/serverless/parameter-check.ts';
import { InputError } from '../../src/errors.ts';
import { copyService, slsEnv } from '../support/global-setup.ts';

/** A serverless.yml variable as written: `${param:name}`. */
const variable = (address: string) => `\${${address}}`;

/** A service as osls resolves it: the sweep with its variables written from parameters. */
function service(overrides: Partial<ServiceView> & { sweepEnv?: Record<string, unknown> } = {}): ServiceView {
  return {
    functions: {
      sweep: {
        handler: 'src/handlers/sweep.handler',
        environment: {
          SWEEP_GRACE_MINUTES: '60',
          SWEEP_GET_TPS: '100',
          SWEEP_STATE_TABLE: 'schedule-hygiene-dev-state',
          SWEEP_TOMBSTONE_TABLE: 'schedule-hygiene-dev-tombstones',
          SWEEP_TOMBSTONE_MAC_KEY: 'alias/schedule-hygiene-dev-tombstone-mac',
          ...overrides.sweepEnv,
        },
      },
      target: { handler: 'src/handlers/target.handler' },
    },
    providerEnvironment: { METRICS_NAMESPACE: 'ScheduleHygiene' },
    region: 'us-east-1',
    rawConfig: {
      provider: { environment: { METRICS_NAMESPACE: variable('param:namespace') } },
      functions: {
        sweep: {
          environment: {
            SWEEP_GRACE_MINUTES: variable('param:sweepGraceMinutes'),
            SWEEP_GET_TPS: variable('param:sweepGetTps, 100'),
            SWEEP_STATE_TABLE: `${variable('self:service')}-${variable('sls:stage')}-state`,
          },
        },
      },
    },
    cliParams: [],
    logicalId: (name) => `${name[0]?.toUpperCase()}${name.slice(1)}LambdaFunction`,
    ...overrides,
  };
}

describe('the environment as packaged', () => {
  it("merges the provider's variables under each function's own, with the parameters each is written from", () => {
    const view = service({ providerEnvironment: { METRICS_NAMESPACE: 'Shared', SWEEP_GET_TPS: '1' } });

    const [sweep, target] = serviceEnvironments(view);

    expect(sweep?.env).toMatchObject({ METRICS_NAMESPACE: 'Shared', SWEEP_GET_TPS: '100' });
    expect(sweep?.sources).toEqual({
      METRICS_NAMESPACE: ['namespace'],
      SWEEP_GRACE_MINUTES: ['sweepGraceMinutes'],
      SWEEP_GET_TPS: ['sweepGetTps'],
    });
    expect(sweep?.logicalId).toBe('SweepLambdaFunction');
    expect(target?.env).toEqual({ METRICS_NAMESPACE: 'Shared', SWEEP_GET_TPS: '1' });
  });

  it('leaves out a variable that resolved to nothing, as osls does', () => {
    const [sweep] = serviceEnvironments(service({ sweepEnv: { SWEEP_GROUPS: null } }));

    expect(sweep?.env).not.toHaveProperty('SWEEP_GROUPS');
  });

  it('reads --param values as osls does: the first = splits, the end is trimmed', () => {
    expect(cliParamValues(['a=b=c', 'sweepGetTps=fast  ', 'broken'])).toEqual({
      a: 'b=c',
      sweepGetTps: 'fast',
    });
  });
});

describe('checkServiceParameters', () => {
  it('accepts values every reader accepts', () => {
    expect(() => checkServiceParameters(service({ cliParams: ['sweepGraceMinutes=10080'] }))).not.toThrow();
  });

  it.each([
    [
      'sweepGraceMinutes',
      { SWEEP_GRACE_MINUTES: '20000' },
      "Invalid --param sweepGraceMinutes: expected a value the sweep function accepts as SWEEP_GRACE_MINUTES: a whole number from 0 to 10080, got '20000'",
    ],
    [
      'sweepGetTps',
      { SWEEP_GET_TPS: 'fast' },
      "Invalid --param sweepGetTps: expected a value the sweep function accepts as SWEEP_GET_TPS: a whole number from 1 to 10000, got 'fast'",
    ],
  ])(
    'refuses %s with the message stackset deploy gives, naming the parameter',
    (_name, sweepEnv, message) => {
      const check = () => checkServiceParameters(service({ sweepEnv }));

      expect(check).toThrow(InputError);
      expect(check).toThrow(message);
    },
  );

  it('names the value given on the command line', () => {
    const check = () =>
      checkServiceParameters(service({ sweepEnv: { SWEEP_GET_TPS: '0' }, cliParams: ['sweepGetTps=0'] }));

    expect(check).toThrow(
      "Invalid --param sweepGetTps: expected a value the sweep function accepts as SWEEP_GET_TPS: a whole number from 1 to 10000, got '0'",
    );
  });

  it('calls a refused value that no parameter sets a broken package, not a bad flag', () => {
    const check = () => checkServiceParameters(service({ sweepEnv: { SWEEP_SAFETY_MARGIN_SECONDS: 'x' } }));

    expect(check).toThrow(
      /^SweepLambdaFunction: Expected SWEEP_SAFETY_MARGIN_SECONDS .*\(set by no parameter\)$/,
    );
    expect(check).not.toThrow(InputError);
  });

  it('refuses a function whose handler has no known reader, so a new function cannot go unchecked', () => {
    const view = service();
    view.functions.report = { handler: 'src/handlers/report.handler' };

    expect(() => checkServiceParameters(view)).toThrow(
      "ReportLambdaFunction: no environment reader known for handler 'src/handlers/report.handler'",
    );
  });
});

describe('checkTemplateParameters: a param that is the default of a CloudFormation parameter', () => {
  const RETENTION = {
    AllowedValues: ['1', '30', '365'],
  };
  const KEY = {
    AllowedPattern: '^(|arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]{1,64})$',
    ConstraintDescription: 'empty, or a KMS key ARN',
  };
  const rawResources = [
    {
      Parameters: {
        LogRetentionDays: { Default: variable('param:logRetentionDays') },
        LogKmsKeyArn: { Default: variable("param:logKmsKeyArn, ''") },
        Fixed: { Default: '5' },
      },
    },
  ];
  const check = (parameters: Record<string, object>) =>
    checkTemplateParameters(service({ rawResources, templateParameters: parameters }));

  it('accepts the values CloudFormation allows', () => {
    expect(() =>
      check({
        LogRetentionDays: { ...RETENTION, Default: '365' },
        LogKmsKeyArn: { ...KEY, Default: '' },
        Fixed: { MinValue: 1, MaxValue: 10, Default: '5' },
      }),
    ).not.toThrow();
  });

  it.each([
    [
      { LogRetentionDays: { ...RETENTION, Default: '45' } },
      "Invalid --param logRetentionDays: expected one of 1, 30, 365 (CloudFormation parameter LogRetentionDays), got '45'",
    ],
    [
      { LogKmsKeyArn: { ...KEY, Default: 'alias/aws/logs' } },
      "Invalid --param logKmsKeyArn: expected empty, or a KMS key ARN (CloudFormation parameter LogKmsKeyArn), got 'alias/aws/logs'",
    ],
  ])('refuses a value CloudFormation would refuse, naming the param', (parameters, message) => {
    expect(() => check(parameters)).toThrow(message);
  });

  it('matches AllowedPattern whole, as CloudFormation does', () => {
    expect(() => check({ LogKmsKeyArn: { AllowedPattern: 'key/[a-z]+', Default: 'x key/abc y' } })).toThrow(
      InputError,
    );
  });

  it('checks MinValue and MaxValue as numbers', () => {
    const raw = [{ Parameters: { Percent: { Default: variable('param:percent') } } }];
    const percent = (value: string) =>
      checkTemplateParameters(
        service({
          rawResources: raw,
          templateParameters: { Percent: { MinValue: 1, MaxValue: 100, Default: value } },
        }),
      );

    expect(() => percent('100')).not.toThrow();
    expect(() => percent('101')).toThrow('Invalid --param percent: expected a number from 1 to 100');
    expect(() => percent('ten')).toThrow(InputError);
  });
});

describe('sls on a copy of the service', () => {
  const copies: string[] = [];
  afterAll(() => {
    for (const copy of copies) rmSync(copy, { recursive: true, force: true });
  });

  function sls(...args: string[]) {
    const cwd = copyService(resolve('.'));
    copies.push(cwd);
    // No real account: placeholder credentials and an endpoint nothing listens on.
    const env = {
      ...slsEnv(),
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    };
    const result = spawnSync(resolve('node_modules/.bin/sls'), args, { cwd, env, encoding: 'utf8' });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  }

  it('sls package --param="sweepGraceMinutes=20000" fails naming the parameter', () => {
    const out = mkdtempSync(join(tmpdir(), 'parameter-check-'));
    copies.push(out);

    const { status, output } = sls('package', '--package', out, '--param', 'sweepGraceMinutes=20000');

    expect(status).not.toBe(0);
    expect(output).toContain(
      "Invalid --param sweepGraceMinutes: expected a value the sweep function accepts as SWEEP_GRACE_MINUTES: a whole number from 0 to 10080, got '20000'",
    );
    // Refused before anything was built, and without a stack trace.
    expect(output).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  }, 120_000);

  it('sls package --param="logRetentionDays=45" fails: CloudFormation allows no such retention', () => {
    const out = mkdtempSync(join(tmpdir(), 'parameter-check-'));
    copies.push(out);

    const { status, output } = sls('package', '--package', out, '--param', 'logRetentionDays=45');

    expect(status).not.toBe(0);
    expect(output).toContain('Invalid --param logRetentionDays: expected one of 1, 3, 5, 7, 14, 30,');
    expect(output).toContain("(CloudFormation parameter LogRetentionDays), got '45'");
  }, 120_000);

  it('sls deploy --param="sweepGetTps=fast" fails naming the parameter before any AWS request', () => {
    const { status, output } = sls('deploy', '--param', 'sweepGetTps=fast');

    expect(status).not.toBe(0);
    expect(output).toContain(
      "Invalid --param sweepGetTps: expected a value the sweep function accepts as SWEEP_GET_TPS: a whole number from 1 to 10000, got 'fast'",
    );
  }, 120_000);
});
