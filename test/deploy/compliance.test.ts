// What an organization's compliance scanner sees: cfn-guard with the AWS Control Tower proactive rules
// (npm run guard, scripts/guard.ts) on the packaged templates, and each fix behind it: log retention
// and an optional log key as parameters, the deployment bucket locked down, the alarm topic's
// optional key, and every deliberate finding suppressed on its resource with its reason.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { findingsOf, guardTemplate, judge, runGuardCli, suppressionsOf } from '../../scripts/guard.ts';
import { copyService, slsEnv } from '../support/global-setup.ts';
import { type Bindings, Evaluator, type Value, withDefaults } from '../support/intrinsics.ts';
import { type CfnTemplate, loadTemplate, resourcesOfType } from '../support/template.ts';

const KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

const scratch = mkdtempSync(join(tmpdir(), 'guard-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Writes a template into the scratch directory and returns its path. */
function templateFile(name: string, template: unknown): string {
  const path = join(scratch, name);
  writeFileSync(path, JSON.stringify(template));
  return path;
}

/** A resource's properties as CloudFormation would create them with `bindings` (else the defaults). */
function created(template: CfnTemplate, logicalId: string, bindings: Bindings = {}): Record<string, unknown> {
  const properties = template.Resources[logicalId]?.Properties as Value;
  return new Evaluator(template, withDefaults(template, bindings)).evaluate(properties) as Record<
    string,
    unknown
  >;
}

const BARE_BUCKET = { Type: 'AWS::S3::Bucket', Properties: {} };

describe('npm run guard', () => {
  it('fails on a finding not suppressed, naming the control, the rule and the resource', () => {
    const path = templateFile('bare-bucket.json', { Resources: { Artifacts: BARE_BUCKET } });
    let output = '';

    const code = runGuardCli([path], (text) => {
      output += text;
    });

    expect(code).toBe(1);
    expect(output).toContain(
      'FAIL CT.S3.PR.1 s3_bucket_level_public_access_prohibited_check on Artifacts: Require an Amazon S3 bucket to have block public access settings configured',
    );
  });

  it('passes a finding suppressed on its resource with a reason, and only that one', () => {
    const path = templateFile('suppressed.json', {
      Resources: {
        Artifacts: {
          ...BARE_BUCKET,
          Metadata: {
            guard: {
              SuppressedRules: ['s3_bucket_level_public_access_prohibited_check'],
              Reasons: { s3_bucket_level_public_access_prohibited_check: 'a test bucket' },
            },
          },
        },
        Other: BARE_BUCKET,
      },
    });

    const verdict = guardTemplate(path);

    const publicAccess = (entry: { finding: { rule: string } }) =>
      entry.finding.rule === 's3_bucket_level_public_access_prohibited_check';
    expect(verdict.suppressed.filter(publicAccess).map((entry) => entry.resource)).toEqual(['Artifacts']);
    expect(verdict.failed.filter(publicAccess).map((entry) => entry.resource)).toEqual(['Other']);
  });

  it('refuses a suppression without its reason', () => {
    const template = {
      Resources: { Artifacts: { ...BARE_BUCKET, Metadata: { guard: { SuppressedRules: ['x_check'] } } } },
    };

    expect(() => suppressionsOf(template)).toThrow(
      'Artifacts: suppresses x_check with no reason (Metadata.guard.Reasons.x_check)',
    );
  });

  it('notes a suppression that no finding used', () => {
    const finding = { rule: 'a_check', control: 'CT.X.PR.1', message: '', resources: ['A'] };
    const suppressions = new Map([['A', new Map([['b_check', 'reason']])]]);

    expect(judge([finding], suppressions)).toEqual({
      failed: [{ finding, resource: 'A' }],
      suppressed: [],
      unused: [{ resource: 'A', rule: 'b_check' }],
    });
  });

  it('reads a rule that names no resource as a finding on the template', () => {
    const findings = findingsOf([{ name: 't', status: 'FAIL', not_compliant: [{ Rule: { name: 'r' } }] }]);

    expect(findings).toEqual([{ rule: 'r', control: '', message: '', resources: [''] }]);
  });

  it('answers --help with exit 0 and bad usage with exit 2', () => {
    expect(runGuardCli(['--help'], () => {})).toBe(0);
    expect(
      runGuardCli(
        [],
        () => {},
        () => {},
      ),
    ).toBe(2);
    expect(
      runGuardCli(
        ['--strict'],
        () => {},
        () => {},
      ),
    ).toBe(2);
  });
});

describe('the Control Tower proactive rules', () => {
  it('find nothing in the monitoring-account template', () => {
    const verdict = guardTemplate('resources/org-monitoring.yml');

    expect(verdict.failed).toEqual([]);
  });

  it('find nothing unsuppressed in the packaged stack, and every suppression is used', () => {
    const verdict = guardTemplate(inject('templatePath'));

    expect(verdict.failed.map(({ finding, resource }) => `${finding.rule} on ${resource}`)).toEqual([]);
    expect(verdict.unused).toEqual([]);
  });

  it('npm run guard on the packaged stack and the monitoring-account template exits 0', () => {
    const output = execFileSync(
      'npm',
      ['run', '--silent', 'guard', '--', inject('templatePath'), 'resources/org-monitoring.yml'],
      { encoding: 'utf8' },
    );

    expect(output.trimEnd().split('\n').at(-1)).toBe('cfn-guard: no unsuppressed finding');
  });
});

describe('the log groups', () => {
  const logGroups = () => resourcesOfType(loadTemplate(), 'AWS::Logs::LogGroup');

  it('keep events for the LogRetentionDays parameter, 30 days by default, a value CloudWatch Logs allows', () => {
    const parameter = loadTemplate().Parameters?.LogRetentionDays as {
      Default: string;
      AllowedValues: string[];
    };

    expect(logGroups().length).toBe(4);
    for (const [logicalId, group] of logGroups()) {
      expect(group.Properties?.RetentionInDays, logicalId).toEqual({ Ref: 'LogRetentionDays' });
    }
    expect(parameter.Default).toBe('30');
    expect(parameter.AllowedValues).toContain('365');
    expect(parameter.AllowedValues).not.toContain('45');
  });

  it('use no customer managed key by default', () => {
    for (const [logicalId] of logGroups()) {
      expect(created(loadTemplate(), logicalId), logicalId).not.toHaveProperty('KmsKeyId');
    }
  });
});

describe('the DynamoDB tables', () => {
  it('are encrypted with KMS (the AWS managed key unless a customer managed key is named)', () => {
    const tables = resourcesOfType(loadTemplate(), 'AWS::DynamoDB::Table');

    expect(tables.length).toBeGreaterThanOrEqual(2);
    for (const [logicalId, table] of tables) {
      expect(table.Properties?.SSESpecification, logicalId).toMatchObject({ SSEEnabled: true });
    }
  });
});

describe('the tombstone MAC key', () => {
  it('denies every grant but one an AWS service makes for its own resources', () => {
    const policy = loadTemplate().Resources.TombstoneMacKey?.Properties?.KeyPolicy as {
      Statement: { Sid?: string }[];
    };

    expect(policy.Statement).toContainEqual({
      Sid: 'GrantsOnlyForAwsServices',
      Effect: 'Deny',
      Principal: '*',
      Action: ['kms:CreateGrant'],
      Resource: '*',
      Condition: {
        BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' },
      },
    });
  });
});

describe('the deployment bucket', () => {
  const bucket = () => loadTemplate().Resources.ServerlessDeploymentBucket?.Properties ?? {};

  it('blocks every kind of public access', () => {
    expect(bucket().PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
  });

  it('encrypts with KMS by default, versions objects and expires superseded versions', () => {
    expect(bucket().BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [
        { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' }, BucketKeyEnabled: true },
      ],
    });
    expect(bucket().VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket().LifecycleConfiguration).toMatchObject({
      Rules: [{ Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 30 } }],
    });
  });

  it('denies every request without TLS, to the bucket and its objects', () => {
    const policy = loadTemplate().Resources.ServerlessDeploymentBucketPolicy?.Properties?.PolicyDocument;

    expect(policy).toEqual({
      Statement: [
        {
          Effect: 'Deny',
          Action: ['s3:*'],
          Principal: '*',
          Resource: [
            { 'Fn::GetAtt': ['ServerlessDeploymentBucket', 'Arn'] },
            { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['ServerlessDeploymentBucket', 'Arn'] }, '/*']] },
          ],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ],
    });
  });
});

describe('the alarm topic', () => {
  it('has no key by default: CloudWatch cannot publish to a topic under the AWS managed aws/sns key', () => {
    expect(created(loadTemplate(), 'AlarmTopic')).not.toHaveProperty('KmsMasterKeyId');
  });

  it('refuses a key that is not a key ARN before anything is created', () => {
    for (const name of ['AlarmTopicKmsKeyArn', 'LogKmsKeyArn']) {
      const pattern = new RegExp(
        (loadTemplate().Parameters?.[name] as { AllowedPattern?: string } | undefined)?.AllowedPattern ??
          '(?!)',
      );
      for (const good of ['', KEY_ARN]) expect(pattern.test(good), `${name} ${good}`).toBe(true);
      for (const bad of ['alias/aws/sns', 'alias/aws/logs', '1234abcd-12ab-34cd-56ef-1234567890ab', ' ']) {
        expect(pattern.test(bad), `${name} ${bad}`).toBe(false);
      }
    }
  });
});

describe('with logRetentionDays, logKmsKeyArn and alarmTopicKmsKeyArn', () => {
  let service: string;
  let template: CfnTemplate;

  beforeAll(() => {
    service = copyService(resolve('.'));
    execFileSync(
      resolve('node_modules/.bin/sls'),
      [
        'package',
        '--package',
        '.package',
        '--param=logRetentionDays=365',
        `--param=logKmsKeyArn=${KEY_ARN}`,
        `--param=alarmTopicKmsKeyArn=${KEY_ARN}`,
      ],
      { cwd: service, env: slsEnv(), stdio: 'pipe' },
    );
    template = JSON.parse(
      readFileSync(join(service, '.package/cloudformation-template-update-stack.json'), 'utf8'),
    ) as CfnTemplate;
  }, 120_000);
  afterAll(() => rmSync(service, { recursive: true, force: true }));

  it('keeps log events for that many days and encrypts log groups and topic with those keys', () => {
    for (const [logicalId] of resourcesOfType(template, 'AWS::Logs::LogGroup')) {
      expect(created(template, logicalId), logicalId).toMatchObject({
        RetentionInDays: '365',
        KmsKeyId: KEY_ARN,
      });
    }
    expect(created(template, 'AlarmTopic')).toMatchObject({ KmsMasterKeyId: KEY_ARN });
  });
});
