// Turns the offline Serverless package (`sls package`) into one CloudFormation template that a
// service-managed StackSet deploys to every account and Region of an organization:
// - every literal `params.default` of serverless.yml becomes a CloudFormation Parameter, set once for
//   the whole StackSet. The package is built with a unique placeholder ("sentinel") for each, and every
//   place a placeholder landed in the template becomes a `Ref` (a whole value) or a `${name}` inside
//   `Fn::Sub` (part of a string), so no use of a parameter is missed or hand-copied;
// - the per-stack ServerlessDeploymentBucket (and its policy and output) is removed: each function's
//   code comes from one shared artifact bucket per Region, `<bucket>-${AWS::Region}`, under a
//   content-addressed key `<prefix>/<sha256 of the zip>.zip`. Lambda reads code only from a bucket in
//   the function's own Region (Lambda API reference, FunctionCode.S3Bucket: "An Amazon S3 bucket in
//   the same AWS Region as your function. The bucket can be in a different AWS account.");
// - the Region the package was built for is replaced by `${AWS::Region}`, so names that carry it
//   (the scheduler role) are right in every Region.
// Pure functions: the CLI (scripts/stackset.ts) reads and writes the files.
import { InputError } from '../errors.ts';

/** A CloudFormation template as JSON (only the sections this module reads or writes are typed). */
export interface Template {
  AWSTemplateFormatVersion?: string;
  Description?: string;
  Parameters?: Record<string, TemplateParameter>;
  Conditions?: Record<string, unknown>;
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; [key: string]: unknown }>;
  Outputs?: Record<string, unknown>;
  [section: string]: unknown;
}

export interface TemplateParameter {
  Type: 'String' | 'Number';
  Default: string;
  Description: string;
  AllowedPattern?: string;
  /** A resources/ file's own parameter may list the values it allows (LogRetentionDays). */
  AllowedValues?: string[];
  MinValue?: number;
  MaxValue?: number;
}

/** One serverless.yml parameter exposed as a StackSet parameter, with the placeholder packaged for it. */
export interface ExposedParameter {
  /** The serverless.yml name, also the CloudFormation parameter name (`sweepGraceMinutes`). */
  name: string;
  /** The default from serverless.yml, as text. */
  defaultValue: string;
  type: 'String' | 'Number';
  /** What `sls package --param="<name>=<sentinel>"` is given; unique in the packaged template. */
  sentinel: string;
}

/**
 * The Region `sls package` is told to build for: a real Region (serverless validates it) that the
 * template then carries only where the Region belongs, each turned into `${AWS::Region}`.
 */
export const PACKAGING_REGION = 'ap-southeast-7';

/** S3 bucket base name: the per-Region bucket is `<base>-<region>`, at most 63 characters in all. */
export const BUCKET_BASE = /^[a-z0-9][a-z0-9-]{1,46}[a-z0-9]$/;
/** An S3 key prefix: path segments of letters, digits and `-_.`, no leading or trailing slash. */
export const KEY_PREFIX = /^[A-Za-z0-9_.-]{1,64}(\/[A-Za-z0-9_.-]{1,64}){0,7}$/;
/** An AWS Organizations id (Organizations API reference, Organization.Id). */
export const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;
/** A commercial, GovCloud or China Region name (us-east-1, ap-southeast-7, us-gov-west-1, cn-north-1). */
export const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/;

/**
 * The partition a Region belongs to, as ARNs spell it: `aws`, `aws-cn` (cn-*), `aws-us-gov`
 * (us-gov-*), and the isolated partitions `aws-iso` (*-iso-*), `aws-iso-b` (*-isob-*), `aws-iso-e`
 * (*-isoe-*), `aws-iso-f` (*-isof-*) (AWS General Reference, "Amazon Resource Names": partition).
 * Throws InputError naming `option` for an isolated Region letter it does not know.
 */
export function partitionOf(region: string, option = '--regions'): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  const iso = /^[a-z]{2}-iso([a-z]?)-/.exec(region);
  if (!iso) return 'aws';
  const known: Record<string, string> = { '': 'aws-iso', b: 'aws-iso-b', e: 'aws-iso-e', f: 'aws-iso-f' };
  const partition = known[iso[1] ?? ''];
  if (partition === undefined) throw new InputError(option, 'a Region of a known partition', region);
  return partition;
}

/**
 * The one partition all `regions` share: a StackSet and its organization live in one partition
 * (a StackSet cannot deploy across partitions). Throws InputError naming `option` when they differ.
 */
export function sharedPartition(regions: readonly string[], option = '--regions'): string {
  const partitions = new Set(regions.map((region) => partitionOf(region, option)));
  if (partitions.size > 1) {
    throw new InputError(
      option,
      `Regions of one partition (one StackSet cannot span partitions; these are in ${[...partitions].join(', ')})`,
      regions.join(','),
    );
  }
  return [...partitions][0] ?? 'aws';
}

/** Rates: the EventBridge rule schedule expressions serverless accepts (osls schedule event). */
const SCHEDULE_EXPRESSION =
  '^(rate\\((1 (minute|hour|day)|([2-9]|[1-9][0-9]+) (minutes|hours|days))\\)|cron\\(.+\\))$';

/** Parameters serverless's own schema checks as integers (osls: awsLambdaMemorySize, 128-10240). */
const SCHEMA_INTEGERS = new Set(['sweepMemorySize']);

/**
 * '' or comma-separated schedule group names or name prefixes (1-64 of 0-9 a-z A-Z - _ .). Stricter
 * than the functions' readers (which allow spaces around an item): never wider. Repeats are refused
 * by `deploy`, which runs the readers themselves (src/org/stackset-environment.ts).
 */
const NAME_LIST = '^([0-9a-zA-Z._-]{1,64}(,[0-9a-zA-Z._-]{1,64})*)?$';

/**
 * Descriptions and bounds for the parameters docs/sweep.md documents; others get a generic description.
 * Each is never wider than what the function reading the variable accepts at cold start; `deploy`
 * also runs those readers over every value (src/org/stackset-environment.ts).
 */
const KNOWN: Record<string, Partial<TemplateParameter>> = {
  sweepRate: { Description: 'Sweep trigger (rate() or cron())', AllowedPattern: SCHEDULE_EXPRESSION },
  censusRate: { Description: 'Census trigger (rate() or cron())', AllowedPattern: SCHEDULE_EXPRESSION },
  namespace: {
    Description: 'CloudWatch namespace of every metric',
    AllowedPattern: '^[A-Za-z0-9./#:_-]{1,255}$',
  },
  quotaWarningPercent: { Description: 'Quota warning alarm threshold (percent)', MinValue: 1, MaxValue: 100 },
  quotaCriticalPercent: {
    Description: 'Quota critical alarm threshold (percent)',
    MinValue: 1,
    MaxValue: 100,
  },
  alarmEmail: { Description: "Email address subscribed to the alarm topic ('' for none)" },
  targetArns: { Description: "Comma-separated ARNs the scheduler execution role may invoke ('' for none)" },
  sweepGraceMinutes: {
    Description: 'SWEEP_GRACE_MINUTES (0-10080)',
    AllowedPattern: '^(0|[1-9][0-9]{0,3}|10[0-7][0-9]{2}|10080)$',
  },
  sweepKeepDisabled: { Description: 'SWEEP_KEEP_DISABLED (true or false)', AllowedPattern: '^(true|false)$' },
  sweepGroups: {
    Description: "SWEEP_GROUPS: comma-separated groups ('' sweeps every group)",
    AllowedPattern: NAME_LIST,
  },
  sweepListTps: {
    Description: 'SWEEP_LIST_TPS (ListSchedules requests/s, 1-1000)',
    AllowedPattern: '^([1-9][0-9]{0,2}|1000)$',
  },
  sweepGetTps: {
    Description: 'SWEEP_GET_TPS (GetSchedule requests/s, 1-10000)',
    AllowedPattern: '^([1-9][0-9]{0,3}|10000)$',
  },
  sweepDeleteTps: {
    Description: 'SWEEP_DELETE_TPS (DeleteSchedule requests/s, 1-10000)',
    AllowedPattern: '^([1-9][0-9]{0,3}|10000)$',
  },
  sweepConcurrency: {
    Description: "SWEEP_CONCURRENCY (1-200, '' derives it)",
    AllowedPattern: '^([1-9][0-9]?|1[0-9]{2}|200)?$',
  },
  sweepMemorySize: { Description: 'Sweep function memory (MB)', MinValue: 128, MaxValue: 10240 },
  scheduleQuota: {
    Description: 'Fallback schedule quota (1-1000000000)',
    AllowedPattern: '^([1-9][0-9]{0,8}|1000000000)$',
  },
  censusListTps: {
    Description: 'CENSUS_LIST_TPS (ListSchedules requests/s, 1-1000)',
    AllowedPattern: '^([1-9][0-9]{0,2}|1000)$',
  },
  censusGroups: { Description: "CENSUS_GROUPS ('' for every group seen)", AllowedPattern: NAME_LIST },
  tombstoneKmsKeyArn: {
    Description: "Customer managed KMS key ARN for the tombstone table ('' for aws/dynamodb)",
  },
  tombstoneRetentionDays: {
    Description: 'Days each tombstone is kept (1-3650)',
    AllowedPattern: '^([1-9][0-9]{0,2}|[12][0-9]{3}|3[0-5][0-9]{2}|36[0-4][0-9]|3650)$',
  },
  sweepProtectPrefixes: {
    Description: "Comma-separated name prefixes never deleted ('' for none)",
    AllowedPattern: NAME_LIST,
  },
};

/**
 * The serverless.yml parameters a StackSet sets once for all: every `params.default` entry whose
 * value is a literal. Defaults that derive from others (`${self:service}-${sls:stage}` names) stay
 * fixed by the package's stage. Numbers (memory, thresholds) are Number parameters; a number the
 * serverless schema validates gets a numeric placeholder in its allowed range, a schedule a valid
 * `rate()` one, and everything else a text placeholder.
 */
export function exposedParameters(defaults: Record<string, unknown>): ExposedParameter[] {
  const exposed: ExposedParameter[] = [];
  let index = 0;
  for (const [name, value] of Object.entries(defaults)) {
    if (!/^[A-Za-z][A-Za-z0-9]{0,254}$/.test(name)) {
      throw new InputError(
        `params.default.${name}`,
        'an alphanumeric parameter name (CloudFormation Parameters)',
      );
    }
    const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value : undefined;
    if (text === undefined || text.includes('${')) continue;
    index += 1;
    const type = typeof value === 'number' ? 'Number' : 'String';
    // Distinct, and unlike any number or word a template holds by itself. Text wherever serverless
    // lets it through; a number in its allowed range where its schema checks one (memorySize).
    const sentinel = SCHEMA_INTEGERS.has(name)
      ? String(10240 - index * 7)
      : /^(rate|cron)\(/.test(text)
        ? `rate(${99000 + index} minutes)`
        : `stackset0param0${name}0`;
    exposed.push({ name, defaultValue: text, type, sentinel });
  }
  return exposed;
}

/** The template's Parameters section for the exposed parameters. */
export function parametersSection(exposed: readonly ExposedParameter[]): Record<string, TemplateParameter> {
  const section: Record<string, TemplateParameter> = {};
  for (const parameter of exposed) {
    const known = KNOWN[parameter.name] ?? {};
    section[parameter.name] = {
      Type: parameter.type,
      Default: parameter.defaultValue,
      Description: known.Description ?? `serverless.yml parameter ${parameter.name}`,
      ...(known.AllowedPattern && parameter.type === 'String'
        ? { AllowedPattern: known.AllowedPattern }
        : {}),
      ...(known.MinValue !== undefined && parameter.type === 'Number' ? { MinValue: known.MinValue } : {}),
      ...(known.MaxValue !== undefined && parameter.type === 'Number' ? { MaxValue: known.MaxValue } : {}),
    };
  }
  return section;
}

export interface ArtifactLocation {
  /** Base name of the per-Region buckets (`<base>-<region>`). */
  bucket: string;
  /** The content-addressed key of each function's zip, by the zip's file name (`sweep.zip`). */
  keys: Record<string, string>;
}

/** `<prefix>/<sha256>.zip`: a new build of the same code lands on the same key. */
export function artifactKey(prefix: string, sha256: string): string {
  return `${prefix}/${sha256}.zip`;
}

/**
 * The StackSet template built from the template `sls package` wrote with the exposed parameters'
 * placeholders. Throws when a placeholder is left unplaced (a parameter the template never uses is
 * fine: it is left out), when a function's code names no packaged zip, or when the deployment bucket
 * is still referenced after its removal.
 */
export function toStackSetTemplate(
  packaged: Template,
  exposed: readonly ExposedParameter[],
  artifacts: ArtifactLocation,
): Template {
  const template = structuredClone(packaged);
  delete template.Resources.ServerlessDeploymentBucket;
  delete template.Resources.ServerlessDeploymentBucketPolicy;
  if (template.Outputs) delete template.Outputs.ServerlessDeploymentBucketName;

  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const code = resource.Properties?.Code as { S3Bucket?: unknown; S3Key?: unknown } | undefined;
    const zip = typeof code?.S3Key === 'string' ? code.S3Key.split('/').pop() : undefined;
    const key = zip === undefined ? undefined : artifacts.keys[zip];
    if (!resource.Properties || key === undefined) {
      throw new Error(`${logicalId}: its Code names no packaged zip (${JSON.stringify(code)})`);
    }
    resource.Properties.Code = { S3Bucket: { 'Fn::Sub': `${artifacts.bucket}-\${AWS::Region}` }, S3Key: key };
  }

  // The template's own Parameters (a resources/ file may declare some, with a serverless param as
  // the default) keep a literal default: the serverless.yml default the placeholder stands for.
  const own = template.Parameters ?? {};
  delete template.Parameters;
  for (const parameter of Object.values(own)) {
    const placeholder = exposed.find((candidate) => candidate.sentinel === String(parameter.Default));
    if (placeholder) parameter.Default = placeholder.defaultValue;
  }
  const used = new Set<string>();
  const replaced = replaceSentinels(template, exposed, used) as Template;
  const parameters = parametersSection(exposed.filter((parameter) => used.has(parameter.name)));
  for (const [name, parameter] of Object.entries(own)) {
    if (name in parameters)
      throw new Error(`Parameter ${name} is both in the template and in serverless.yml params`);
    parameters[name] = parameter;
  }
  const result: Template = {
    AWSTemplateFormatVersion: replaced.AWSTemplateFormatVersion ?? '2010-09-09',
    ...replaced,
    Description:
      'schedule-hygiene in one account and Region, rolled out by a service-managed StackSet (npm run stackset)',
    Parameters: parameters,
  };
  const text = JSON.stringify(result);
  if (text.includes('ServerlessDeploymentBucket')) {
    throw new Error('The StackSet template still references ServerlessDeploymentBucket');
  }
  for (const parameter of exposed) {
    // A numeric placeholder is replaced only as a whole value: left inside some text, it would
    // silently stand for the default.
    const left = /^\d+$/.test(parameter.sentinel)
      ? new RegExp(`\\b${parameter.sentinel}\\b`).test(text)
      : text.includes(parameter.sentinel);
    if (left) {
      throw new Error(`Parameter ${parameter.name}: its placeholder is left in the template`);
    }
  }
  return result;
}

/** Walks the template: a value that is a placeholder becomes a Ref; text holding one becomes Fn::Sub. */
function replaceSentinels(value: unknown, exposed: readonly ExposedParameter[], used: Set<string>): unknown {
  if (typeof value === 'number') {
    const parameter = exposed.find(
      (candidate) => candidate.type === 'Number' && candidate.sentinel === String(value),
    );
    if (!parameter) return value;
    used.add(parameter.name);
    return { Ref: parameter.name };
  }
  if (typeof value === 'string') {
    const whole = exposed.find((candidate) => candidate.sentinel === value);
    if (whole) {
      used.add(whole.name);
      return { Ref: whole.name };
    }
    if (value === PACKAGING_REGION) return { Ref: 'AWS::Region' };
    if (!holdsPlaceholder(value, exposed)) return value;
    // Part of a string: wrap it in Fn::Sub, escaping the `${` it already holds (`${!`).
    return { 'Fn::Sub': substitute(value.replaceAll('${', '${!'), exposed, used) };
  }
  if (Array.isArray(value)) return value.map((item) => replaceSentinels(item, exposed, used));
  if (value === null || typeof value !== 'object') return value;
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (holdsPlaceholder(key, exposed))
      throw new Error(`A template key holds a parameter placeholder: ${key}`);
    if (key === 'Fn::Sub') {
      // Already a substitution: the placeholder becomes `${name}` in place.
      if (typeof item === 'string') result[key] = substitute(item, exposed, used);
      else if (Array.isArray(item) && typeof item[0] === 'string') {
        result[key] = [substitute(item[0], exposed, used), replaceSentinels(item[1], exposed, used)];
      } else result[key] = replaceSentinels(item, exposed, used);
      continue;
    }
    result[key] = replaceSentinels(item, exposed, used);
  }
  return result;
}

function holdsPlaceholder(text: string, exposed: readonly ExposedParameter[]): boolean {
  return (
    text.includes(PACKAGING_REGION) ||
    exposed.some((parameter) => !/^\d+$/.test(parameter.sentinel) && text.includes(parameter.sentinel))
  );
}

function substitute(text: string, exposed: readonly ExposedParameter[], used: Set<string>): string {
  let result = text.replaceAll(PACKAGING_REGION, `\${AWS::Region}`);
  for (const parameter of exposed) {
    if (/^\d+$/.test(parameter.sentinel) || !result.includes(parameter.sentinel)) continue;
    used.add(parameter.name);
    result = result.replaceAll(parameter.sentinel, `\${${parameter.name}}`);
  }
  return result;
}

/**
 * The bucket policy of one Region's artifact bucket: principals of the organization (the StackSet's
 * execution roles in member accounts, through which Lambda reads the code) may read the artifacts;
 * nothing is readable over plain HTTP. `partition` is the Region's (partitionOf), `aws` by default.
 */
export function bucketPolicy(
  bucketName: string,
  prefix: string,
  organizationId: string,
  partition = 'aws',
): Record<string, unknown> {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'OrganizationReadsArtifacts',
        Effect: 'Allow',
        Principal: '*',
        Action: 's3:GetObject',
        Resource: `arn:${partition}:s3:::${bucketName}/${prefix}/*`,
        Condition: { StringEquals: { 'aws:PrincipalOrgID': organizationId } },
      },
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [`arn:${partition}:s3:::${bucketName}`, `arn:${partition}:s3:::${bucketName}/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ],
  };
}

/** A shell script that creates each Region's bucket if missing, sets its policy and uploads the zips. */
export function uploadScript(
  bucket: string,
  regions: readonly string[],
  keys: Record<string, string>,
): string {
  const lines = [
    '#!/usr/bin/env bash',
    '# Uploads the StackSet artifacts: run it with the management (or delegated administrator) account',
    '# credentials, from this directory. One bucket per Region: Lambda reads code only from its own Region.',
    'set -euo pipefail',
    'cd "$(dirname "$0")"',
  ];
  for (const region of regions) {
    const name = `${bucket}-${region}`;
    lines.push(
      '',
      `aws s3api head-bucket --bucket ${name} --region ${region} 2>/dev/null || aws s3 mb s3://${name} --region ${region}`,
      `aws s3api put-public-access-block --bucket ${name} --region ${region} --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true`,
      `aws s3api put-bucket-policy --bucket ${name} --region ${region} --policy file://bucket-policies/${region}.json`,
    );
    for (const key of [...new Set(Object.values(keys))].sort()) {
      lines.push(`aws s3 cp artifacts/${key.split('/').pop()} s3://${name}/${key} --region ${region}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
