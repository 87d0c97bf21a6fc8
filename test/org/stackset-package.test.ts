// `npm run stackset -- package`: the StackSet template keeps everything the ordinary package deploys,
// takes its code from the shared per-Region artifact bucket only (never a ServerlessDeploymentBucket),
// sets serverless.yml's parameters as CloudFormation Parameters, and passes cfn-lint.

import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { guardTemplate } from '../../scripts/guard.ts';
import { runStacksetCli } from '../../scripts/stackset.ts';
import { checkFunctionEnvironments, functionEnvironments } from '../../src/org/stackset-environment.ts';
import { PACKAGING_REGION, partitionOf, type Template } from '../../src/org/stackset-package.ts';
import { slsEnv } from '../support/global-setup.ts';

const BUCKET = 'acme-hygiene';
const PREFIX = 'builds/schedule-hygiene';
const ORG = 'o-a1b2c3d4e5';

let out: string;
let template: Template;
let stdout = '';
let stderr = '';

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'stackset-package-'));
  // Act: as a user runs it (a process, whose output is all a user sees), in the same stage as the
  // suite's ordinary package, so the two templates compare one to one.
  const run = await new Promise<{ code: number | null }>((done) => {
    const child = execFile(
      resolvePath('node_modules/.bin/tsx'),
      [
        '--import',
        resolvePath('scripts/node-support.ts'),
        resolvePath('scripts/stackset.ts'),
        'package',
        '--bucket',
        BUCKET,
        '--prefix',
        PREFIX,
        '--org-id',
        ORG,
        '--regions',
        'us-east-1,eu-west-1',
        '--stage',
        'dev',
        '--out',
        out,
      ],
      { cwd: inject('serviceDir'), env: slsEnv(), maxBuffer: 16 * 2 ** 20 },
      (error, printed, warned) => {
        stdout = printed;
        stderr = warned;
        done({ code: error ? ((error as { code?: number }).code ?? null) : 0 });
      },
    );
    child.stdin?.end();
  });
  expect(run.code, stderr).toBe(0);
  template = JSON.parse(readFileSync(join(out, 'template.json'), 'utf8')) as Template;
}, 180_000);

afterAll(() => {
  if (out) rmSync(out, { recursive: true, force: true });
});

function ordinaryTemplate(): Template {
  return JSON.parse(readFileSync(inject('templatePath'), 'utf8')) as Template;
}

describe('stackset package as a user runs it', () => {
  it('names only the Regions the user gave, never the Region it packages in', () => {
    expect(stderr).toContain('for us-east-1, eu-west-1');
    expect(`${stdout}${stderr}`).not.toContain(PACKAGING_REGION);
  });
});

describe('the StackSet template', () => {
  it('references only the shared artifact bucket: no ServerlessDeploymentBucket anywhere', () => {
    const text = JSON.stringify(template);

    expect(text).not.toContain('ServerlessDeploymentBucket');
    expect(text).not.toContain('stackset0param');
    expect(text).not.toContain('ap-southeast-7');
    expect(
      Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::S3::Bucket'),
    ).toEqual([]);
  });

  it("takes each function's code from <bucket>-<Region> under the sha256 of its zip", () => {
    const functions = Object.entries(template.Resources).filter(
      ([, resource]) => resource.Type === 'AWS::Lambda::Function',
    );

    expect(functions.map(([id]) => id).sort()).toEqual([
      'CensusLambdaFunction',
      'CreateLambdaFunction',
      'SweepLambdaFunction',
      'TargetLambdaFunction',
    ]);
    for (const [id, resource] of functions) {
      const code = resource.Properties?.Code as { S3Bucket: unknown; S3Key: string };
      expect(code.S3Bucket, id).toEqual({ 'Fn::Sub': `${BUCKET}-\${AWS::Region}` });
      const sha256 = /^builds\/schedule-hygiene\/([0-9a-f]{64})\.zip$/.exec(code.S3Key)?.[1];
      expect(sha256, id).toBeDefined();
      const artifact = readFileSync(join(out, 'artifacts', `${sha256}.zip`));
      expect(createHash('sha256').update(artifact).digest('hex'), id).toBe(sha256);
      // The artifact is the function's own package, byte for byte.
      const name = id.replace('LambdaFunction', '').toLowerCase();
      expect(artifact.equals(readFileSync(join(out, 'sls', `${name}.zip`))), id).toBe(true);
    }
  });

  it("exposes every literal default of serverless.yml's params as a Parameter with that default", () => {
    const config = parseYaml(readFileSync(join(inject('serviceDir'), 'serverless.yml'), 'utf8')) as {
      params: { default: Record<string, unknown> };
    };
    const literal = Object.entries(config.params.default).filter(
      ([, value]) =>
        (typeof value === 'string' || typeof value === 'number') && !String(value).includes('${'),
    );

    expect(literal.length).toBeGreaterThanOrEqual(15);
    for (const [name, value] of literal) {
      // Or the default of a Parameter a resources/ file declares itself (monitoringSinkArn).
      const parameter =
        template.Parameters?.[name] ?? template.Parameters?.[`${name[0]?.toUpperCase()}${name.slice(1)}`];
      expect(parameter?.Default, name).toBe(String(value));
    }
    expect(template.Parameters?.sweepMemorySize).toMatchObject({
      Type: 'Number',
      MinValue: 128,
      MaxValue: 10240,
    });
    expect(template.Parameters?.sweepRate?.AllowedPattern).toBeDefined();
  });

  it('has no cfn-guard finding of the Control Tower proactive rules that it does not suppress with a reason', () => {
    const verdict = guardTemplate(join(out, 'template.json'));

    expect(verdict.failed.map(({ finding, resource }) => `${finding.rule} on ${resource}`)).toEqual([]);
  });

  it("keeps the template's own MonitoringSinkArn parameter, empty, for a per-Region override", () => {
    // Each Region has its own monitoring sink (resources/org-link.yml): a stack instance override sets it.
    expect(template.Parameters?.MonitoringSinkArn).toMatchObject({ Type: 'String', Default: '' });
    expect(template.Resources.MonitoringLink?.Condition).toBe('LinksToMonitoringAccount');
  });

  it('with every parameter at its default, is the ordinary package in every resource but code and versions', () => {
    // Prepare: resolve both templates the same way (parameters at their defaults, us-east-1).
    const defaults = Object.fromEntries(
      Object.entries(template.Parameters ?? {}).map(([name, parameter]) => [name, parameter.Default]),
    );
    const comparable = (source: Template) =>
      Object.fromEntries(
        Object.entries(source.Resources)
          .filter(
            ([id, resource]) =>
              resource.Type !== 'AWS::Lambda::Version' && !id.startsWith('ServerlessDeploymentBucket'),
          )
          .map(([id, resource]) => {
            const copy = structuredClone(resource);
            if (copy.Properties) delete copy.Properties.Code;
            return [id, resolve(copy, defaults)];
          }),
      );

    // Assess
    expect(comparable(template)).toEqual(comparable(ordinaryTemplate()));
    expect(resolve(template.Conditions, defaults)).toEqual(resolve(ordinaryTemplate().Conditions, defaults));
  });

  it('writes one bucket policy per Region that lets only the organization read the artifacts', () => {
    const policy = JSON.parse(readFileSync(join(out, 'bucket-policies', 'eu-west-1.json'), 'utf8'));

    expect(policy.Statement[0]).toEqual({
      Sid: 'OrganizationReadsArtifacts',
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: `arn:aws:s3:::${BUCKET}-eu-west-1/${PREFIX}/*`,
      Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG } },
    });
    const upload = readFileSync(join(out, 'upload.sh'), 'utf8');
    for (const key of Object.values(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).artifacts)) {
      expect(upload).toContain(`s3://${BUCKET}-us-east-1/${key}`);
      expect(upload).toContain(`s3://${BUCKET}-eu-west-1/${key}`);
    }
    expect(stdout).toContain('upload.sh');
  });

  // cfn-lint is a Python tool: present on the development machines and in CI (.ci/run runs it too).
  it.runIf(spawnSync('cfn-lint', ['--version']).status === 0)('passes cfn-lint', () => {
    const result = spawnSync('cfn-lint', [join(out, 'template.json')], { encoding: 'utf8' });

    // cfn-lint exits with a bit mask: 2 = errors, 4 = warnings, 8 = informational.
    expect(result.status ?? 0, result.stdout).not.toBe(1);
    expect((result.status ?? 0) & 2, result.stdout).toBe(0);
  });
});

describe('stackset package refuses what it does not exactly understand', () => {
  it('never empties an --out directory that holds anything but an earlier package', async () => {
    // Prepare: a directory with someone's file in it.
    const dir = mkdtempSync(join(tmpdir(), 'stackset-not-ours-'));
    writeFileSync(join(dir, 'notes.txt'), 'keep me');
    let stderr = '';

    // Act
    const code = await runStacksetCli(
      ['package', '--bucket', BUCKET, '--org-id', ORG, '--regions', 'us-east-1', '--out', dir],
      {
        stderr: (text) => (stderr += text),
        slsPackage: () => {
          throw new Error('must not package');
        },
      },
    );

    // Assess
    expect(code).toBe(2);
    expect(stderr).toContain('Invalid --out');
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('keep me');
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    [['--bucket', 'Acme_Bucket', '--org-id', ORG, '--regions', 'us-east-1'], '--bucket'],
    [['--bucket', BUCKET, '--org-id', 'o-short', '--regions', 'us-east-1'], '--org-id'],
    [['--bucket', BUCKET, '--org-id', ORG, '--regions', 'us-east-1,US-WEST-2'], '--regions'],
    [['--bucket', BUCKET, '--org-id', ORG, '--regions', 'us-east-1,us-east-1'], '--regions'],
    [['--bucket', BUCKET, '--org-id', ORG], '--regions'],
    [['--bucket', BUCKET, '--org-id', ORG, '--regions', 'us-east-1,cn-north-1,us-gov-west-1'], '--regions'],
    [['--bucket', BUCKET, '--org-id', ORG, '--regions', 'us-east-1,cn-north-1'], '--regions'],
    [['--bucket', BUCKET, '--org-id', ORG, '--regions', 'us-gov-west-1,us-east-1'], '--regions'],
    [['--bucket', BUCKET, '--org-id', ORG, '--regions', 'us-east-1', '--prefix', '/lead'], '--prefix'],
    [['--bucket', BUCKET, '--org-id', ORG, '--regions', 'us-east-1', '--bukket', 'x'], '--bukket'],
  ])('%j: usage error naming %s, nothing written', async (args, flag) => {
    const dir = join(tmpdir(), `stackset-refused-${Date.now()}`);
    let stderr = '';

    const code = await runStacksetCli(['package', ...args, '--out', dir], {
      stderr: (text) => (stderr += text),
      slsPackage: () => {
        throw new Error('must not package');
      },
    });

    expect(code).toBe(2);
    expect(stderr).toContain(flag);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('stackset package in the China and GovCloud partitions', () => {
  it.each([
    ['cn-north-1,cn-northwest-1', 'aws-cn'],
    ['us-gov-west-1,us-gov-east-1', 'aws-us-gov'],
  ])('%s: every bucket policy ARN is in the %s partition', async (regions, partition) => {
    // Prepare: the suite's package stands in for `sls package` (same sources, same stage).
    const dir = mkdtempSync(join(tmpdir(), 'stackset-partition-'));

    // Act
    const code = await runStacksetCli(
      [
        'package',
        '--bucket',
        BUCKET,
        '--prefix',
        PREFIX,
        '--org-id',
        ORG,
        '--regions',
        regions,
        '--out',
        dir,
      ],
      {
        stdout: () => {},
        stderr: () => {},
        slsPackage: (slsDir) => cpSync(join(out, 'sls'), slsDir, { recursive: true }),
      },
    );

    // Assess
    expect(code).toBe(0);
    for (const region of regions.split(',')) {
      const policy = JSON.parse(readFileSync(join(dir, 'bucket-policies', `${region}.json`), 'utf8'));
      expect(policy.Statement[0].Resource).toBe(`arn:${partition}:s3:::${BUCKET}-${region}/${PREFIX}/*`);
      expect(policy.Statement[1].Resource).toEqual([
        `arn:${partition}:s3:::${BUCKET}-${region}`,
        `arn:${partition}:s3:::${BUCKET}-${region}/*`,
      ]);
      expect(JSON.stringify(policy)).not.toContain('arn:aws:');
    }
    rmSync(dir, { recursive: true, force: true });
  });
});

/** Replaces Refs to parameters and Fn::Sub with their values at the defaults, in us-east-1. */
function resolve(value: unknown, defaults: Record<string, string>): unknown {
  const substitute = (text: string) =>
    text
      .replace(/\$\{([A-Za-z0-9:]+)\}/g, (whole, name: string) =>
        name === 'AWS::Region' ? 'us-east-1' : (defaults[name] ?? whole),
      )
      .replaceAll('${!', '${');
  if (Array.isArray(value)) return value.map((item) => resolve(item, defaults));
  if (typeof value === 'number') return String(value);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  if (entries.length === 1 && entries[0]?.[0] === 'Ref' && typeof entries[0][1] === 'string') {
    const name = entries[0][1];
    if (name === 'AWS::Region') return 'us-east-1';
    if (name in defaults) return defaults[name];
  }
  if (entries.length === 1 && entries[0]?.[0] === 'Fn::Sub' && typeof entries[0][1] === 'string') {
    const text = substitute(entries[0][1]);
    return text.includes('${') ? { 'Fn::Sub': text } : text;
  }
  return Object.fromEntries(entries.map(([key, item]) => [key, resolve(item, defaults)]));
}

describe('stackset deploy refuses a value the functions would refuse at cold start', () => {
  /** No request may be made: the values are refused before any. */
  const noRequests = {
    send: () => {
      throw new Error('must not send a request');
    },
  } as unknown as CloudFormationClient;

  async function deploy(...args: string[]): Promise<{ code: number; stderr: string }> {
    let stderr = '';
    const code = await runStacksetCli(
      ['deploy', '--ou', 'ou-ab12-aaaaaaaa', '--regions', 'us-east-1,eu-west-1', '--dir', out, ...args],
      { cloudformation: noRequests, stdout: () => {}, stderr: (text) => (stderr += text) },
    );
    return { code, stderr };
  }

  const refused: [string, string, string][] = [
    ['sweepGraceMinutes', '20000', 'SWEEP_GRACE_MINUTES'],
    ['sweepGetTps', '50000', 'SWEEP_GET_TPS'],
    ['sweepConcurrency', '999', 'SWEEP_CONCURRENCY'],
    ['sweepGroups', ',', 'SWEEP_GROUPS'],
    ['sweepProtectPrefixes', 'a b', 'SWEEP_PROTECT_PREFIXES'],
    ['scheduleQuota', '9999999999', 'SCHEDULE_QUOTA'],
    ['tombstoneRetentionDays', '9999', 'SWEEP_TOMBSTONE_RETENTION_DAYS'],
    ['censusGroups', ' ', 'CENSUS_GROUPS'],
    ['sweepGroups', 'a,a', 'SWEEP_GROUPS'],
  ];

  it.each(refused)('--parameter %s=%j: exit 2 naming the parameter and %s', async (name, value, variable) => {
    const { code, stderr } = await deploy('--parameter', `${name}=${value}`);

    expect(code).toBe(2);
    expect(stderr).toContain(`Invalid --parameter ${name}:`);
    // The function's own reader refused it: its message names the variable and the form.
    expect(stderr).toContain(variable);
  });

  it("--parameter LogRetentionDays=45: exit 2, a value the template's AllowedValues do not list", async () => {
    const { code, stderr } = await deploy('--parameter', 'LogRetentionDays=45');

    expect(code).toBe(2);
    expect(stderr).toContain('Invalid --parameter LogRetentionDays: expected one of 1, 3, 5, 7, 14, 30,');
    expect(stderr).toContain("3653, got '45'");
  });

  it.each(refused)('--region-parameter eu-west-1:%s=%j: exit 2 naming the parameter', async (name, value) => {
    const { code, stderr } = await deploy('--region-parameter', `eu-west-1:${name}=${value}`);

    expect(code).toBe(2);
    expect(stderr).toContain(`Invalid --region-parameter ${name}:`);
  });

  // Repeats ('a,a') are left to the readers: a pattern cannot say "each once".
  it.each(refused.filter(([, value]) => value !== 'a,a'))(
    "the template's AllowedPattern refuses %s=%j too",
    (name, value) => {
      const pattern = template.Parameters?.[name]?.AllowedPattern;

      expect(pattern).toBeDefined();
      expect(new RegExp(pattern ?? '').test(value)).toBe(false);
    },
  );

  it.each([
    ['sweepGraceMinutes', '10080'],
    ['sweepGraceMinutes', '0'],
    ['sweepListTps', '1000'],
    ['sweepGetTps', '10000'],
    ['sweepDeleteTps', '10000'],
    ['sweepConcurrency', '200'],
    ['sweepConcurrency', ''],
    ['sweepGroups', 'orders,billing.v2'],
    ['sweepProtectPrefixes', 'keep-'],
    ['scheduleQuota', '1000000000'],
    ['censusListTps', '1000'],
    ['censusGroups', ''],
    ['tombstoneRetentionDays', '3650'],
  ])('accepts %s=%j, the bound the function accepts, in the template and the readers', (name, value) => {
    expect(new RegExp(template.Parameters?.[name]?.AllowedPattern ?? '').test(value)).toBe(true);
    expect(() =>
      checkFunctionEnvironments(template, { [name]: value }, 'us-east-1', '--parameter'),
    ).not.toThrow();
  });

  it('maps each parameter to the variable serverless.yml gives it, in the function that reads it', () => {
    const environments = functionEnvironments(
      template,
      { sweepGraceMinutes: '7', censusGroups: 'orders' },
      'eu-west-1',
    );
    const sweep = environments.find((fn) => fn.handler === 'src/handlers/sweep.handler');
    const census = environments.find((fn) => fn.handler === 'src/handlers/census.handler');

    expect(sweep?.env.SWEEP_GRACE_MINUTES).toBe('7');
    expect(sweep?.sources.SWEEP_GRACE_MINUTES).toEqual(['sweepGraceMinutes']);
    expect(census?.env.CENSUS_GROUPS).toBe('orders');
    // Every function's reader accepts the defaults, and every handler has a known reader.
    expect(() => checkFunctionEnvironments(template, {}, 'eu-west-1', '--parameter')).not.toThrow();
  });
});

describe('the partition of a Region', () => {
  it.each([
    ['us-east-1', 'aws'],
    ['ap-southeast-7', 'aws'],
    ['cn-north-1', 'aws-cn'],
    ['us-gov-west-1', 'aws-us-gov'],
    ['us-iso-east-1', 'aws-iso'],
    ['us-isob-east-1', 'aws-iso-b'],
    ['eu-isoe-west-1', 'aws-iso-e'],
    ['us-isof-south-1', 'aws-iso-f'],
  ])('%s is in %s', (region, partition) => {
    expect(partitionOf(region)).toBe(partition);
  });

  it('refuses an isolated Region letter it does not know, naming the option', () => {
    expect(() => partitionOf('us-isoz-east-1')).toThrow('Invalid --regions');
  });

  it('every function accepts the defaults in a China Region', () => {
    expect(() => checkFunctionEnvironments(template, {}, 'cn-north-1', '--parameter')).not.toThrow();
  });
});
