// Organization-wide rollout on CloudFormation StackSets (docs/organization.md).
//   npm run stackset -- package --bucket <base name> --org-id o-... --regions us-east-1,eu-west-1 [--prefix p] [--stage prod] [--out .stackset]
//   npm run stackset -- deploy --ou ou-abcd-12345678[,...] --regions us-east-1,eu-west-1 [--parameter name=value ...]
// `package` builds the Serverless package offline and turns it into a StackSet template whose code
// lives in one artifact bucket per Region (src/org/stackset-package.ts); `deploy` creates or updates
// the service-managed StackSet and follows each operation per account and Region
// (src/org/stackset-deploy.ts). Exit codes: 0 done, 1 an operation or instance failed (or any other
// failure, one line on stderr), 2 a command line not understood (one line naming the option).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type CallAs, CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { parse as parseYaml } from 'yaml';
import { InputError } from '../src/errors.ts';
import { type DeployReport, deployStackSet } from '../src/org/stackset-deploy.ts';
import { checkFunctionEnvironments } from '../src/org/stackset-environment.ts';
import {
  artifactKey,
  BUCKET_BASE,
  bucketPolicy,
  exposedParameters,
  KEY_PREFIX,
  ORGANIZATION_ID,
  PACKAGING_REGION,
  REGION,
  sharedPartition,
  type Template,
  toStackSetTemplate,
  uploadScript,
} from '../src/org/stackset-package.ts';
import { ExitCode, HELP_OPTION, parseCommandLine, readWholeNumber, runTool, usageErrorLine } from './cli.ts';
import { PLACEHOLDERS_VARIABLE } from './serverless/parameter-check.ts';

const usage = `Usage:
  npm run stackset -- package --bucket <base name> --org-id <o-...> --regions <r1,r2,...> [--prefix <key prefix>] [--stage <stage>] [--out <dir>]
  npm run stackset -- deploy --ou <ou-...,...> --regions <r1,r2,...> [--stack-set-name <name>] [--parameter <name>=<value> ...]
                             [--region-parameter <region>:<name>=<value> ...]
                             [--call-as SELF|DELEGATED_ADMIN] [--dir <package dir>] [--failure-tolerance-percent 10]
                             [--max-concurrent-percent 25] [--retain-stacks] [--poll-seconds 10] [--timeout-minutes 60]`;

/** AWS Organizations OU id (Organizations API reference, OrganizationalUnit.Id). */
const OU_ID = /^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/;
/** CloudFormation StackSet name (CreateStackSet: a letter, then letters, digits and hyphens, 128 at most). */
const STACK_SET_NAME = /^[a-zA-Z][-a-zA-Z0-9]{0,127}$/;
const STAGE = /^[a-zA-Z0-9-]{1,16}$/;
/** What `package` writes into its directory, and replaces on the next run. */
const PACKAGE_OUTPUTS = [
  'sls',
  'artifacts',
  'bucket-policies',
  'template.json',
  'upload.sh',
  'manifest.json',
];

export interface StacksetCliIo {
  /** Where the service lives (serverless.yml); the current directory by default. */
  cwd?: string;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  cloudformation?: CloudFormationClient;
  sleep?: (ms: number) => Promise<void>;
  /** Builds the Serverless package into `dir` with these arguments (tests may reuse a package). */
  slsPackage?: (dir: string, args: string[]) => void;
}

export interface PackageManifest {
  bucket: string;
  prefix: string;
  organizationId: string;
  regions: string[];
  stage: string;
  /** Each function zip's content-addressed key. */
  artifacts: Record<string, string>;
  parameters: string[];
}

export async function runStacksetCli(argv: readonly string[], io: StacksetCliIo = {}): Promise<number> {
  const stdout = io.stdout ?? ((text: string) => process.stdout.write(text));
  const stderr = io.stderr ?? ((text: string) => process.stderr.write(text));
  const [command, ...rest] = argv;
  try {
    if (command === '--help' || command === '-h') {
      stdout(`${usage}\n`);
      return ExitCode.ok;
    }
    if (command === 'package') return packageCommand(rest, io, stdout, stderr);
    if (command === 'deploy') return await deployCommand(rest, io, stdout, stderr);
    throw new InputError('command', "'package' or 'deploy' (or --help)", command ?? '');
  } catch (error) {
    if (error instanceof InputError) {
      stderr(`${usageErrorLine('stackset', error)}\n`);
      return ExitCode.usage;
    }
    throw error;
  }
}

function list(option: string, text: string | undefined, pattern: RegExp, form: string): string[] {
  if (text === undefined) throw new InputError(option, `${form}, comma-separated (required)`);
  const items = text.split(',');
  for (const item of items) if (!pattern.test(item)) throw new InputError(option, form, item);
  if (new Set(items).size !== items.length) throw new InputError(option, `${form} with no repeats`, text);
  return items;
}

function required(option: string, text: string | undefined, pattern: RegExp, form: string): string {
  if (text === undefined) throw new InputError(option, `${form} (required)`);
  if (!pattern.test(text)) throw new InputError(option, form, text);
  return text;
}

function packageCommand(
  argv: readonly string[],
  io: StacksetCliIo,
  stdout: (text: string) => void,
  stderr: (text: string) => void,
): number {
  const values = parseCommandLine(argv, {
    bucket: { type: 'string' },
    prefix: { type: 'string' },
    'org-id': { type: 'string' },
    regions: { type: 'string' },
    stage: { type: 'string' },
    out: { type: 'string' },
    ...HELP_OPTION,
  });
  if (values.help) {
    stdout(`${usage}\n`);
    return ExitCode.ok;
  }
  const bucket = required(
    '--bucket',
    values.bucket,
    BUCKET_BASE,
    'an S3 bucket base name of 3-48 characters a-z 0-9 - (the bucket in each Region is <name>-<region>)',
  );
  const prefix =
    values.prefix === undefined
      ? 'schedule-hygiene'
      : required(
          '--prefix',
          values.prefix,
          KEY_PREFIX,
          'an S3 key prefix (segments of A-Z a-z 0-9 - _ . joined by /, no leading or trailing /)',
        );
  const organizationId = required(
    '--org-id',
    values['org-id'],
    ORGANIZATION_ID,
    'an AWS Organizations id (o- and 10-32 characters a-z 0-9)',
  );
  const regions = list('--regions', values.regions, REGION, 'a Region name such as us-east-1');
  const partition = sharedPartition(regions);
  const stage =
    values.stage === undefined
      ? 'prod'
      : required('--stage', values.stage, STAGE, 'a stage name of 1-16 characters a-z A-Z 0-9 -');
  const cwd = io.cwd ?? process.cwd();
  const out = resolve(cwd, values.out ?? '.stackset');

  const config = parseYaml(readFileSync(join(cwd, 'serverless.yml'), 'utf8')) as {
    params?: { default?: Record<string, unknown> };
  };
  const exposed = exposedParameters(config.params?.default ?? {});
  // Only what a package writes is replaced: never a directory that holds anything else.
  if (existsSync(out) && readdirSync(out).length > 0 && !existsSync(join(out, 'manifest.json'))) {
    throw new InputError(
      '--out',
      'a new or empty directory, or one an earlier package wrote (with its manifest.json)',
      values.out ?? '.stackset',
    );
  }
  for (const name of PACKAGE_OUTPUTS) rmSync(join(out, name), { recursive: true, force: true });
  const slsDir = join(out, 'sls');
  const args = [
    '--stage',
    stage,
    '--region',
    PACKAGING_REGION,
    ...exposed.map((parameter) => `--param=${parameter.name}=${parameter.sentinel}`),
  ];
  // sls builds for one placeholder Region (PACKAGING_REGION), which the template turns into
  // AWS::Region: its own output (naming that Region) is shown only when it fails.
  stderr(`sls package (stage ${stage}) into ${slsDir}, for ${regions.join(', ')}\n`);
  (io.slsPackage ?? ((dir, slsArgs) => runSlsPackage(cwd, dir, slsArgs)))(slsDir, args);

  const packaged = JSON.parse(
    readFileSync(join(slsDir, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as Template;
  mkdirSync(join(out, 'artifacts'), { recursive: true });
  const keys: Record<string, string> = {};
  for (const [, resource] of Object.entries(packaged.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const zip =
      String((resource.Properties?.Code as { S3Key?: unknown } | undefined)?.S3Key ?? '')
        .split('/')
        .pop() ?? '';
    if (keys[zip]) continue;
    const sha256 = createHash('sha256')
      .update(readFileSync(join(slsDir, zip)))
      .digest('hex');
    keys[zip] = artifactKey(prefix, sha256);
    copyFileSync(join(slsDir, zip), join(out, 'artifacts', `${sha256}.zip`));
  }
  const template = toStackSetTemplate(packaged, exposed, { bucket, keys });
  writeFileSync(join(out, 'template.json'), `${JSON.stringify(template, null, 2)}\n`);
  mkdirSync(join(out, 'bucket-policies'), { recursive: true });
  for (const region of regions) {
    const policy = bucketPolicy(`${bucket}-${region}`, prefix, organizationId, partition);
    writeFileSync(join(out, 'bucket-policies', `${region}.json`), `${JSON.stringify(policy, null, 2)}\n`);
  }
  writeFileSync(join(out, 'upload.sh'), uploadScript(bucket, regions, keys));
  chmodSync(join(out, 'upload.sh'), 0o755);
  const manifest: PackageManifest = {
    bucket,
    prefix,
    organizationId,
    regions,
    stage,
    artifacts: keys,
    parameters: Object.keys(template.Parameters ?? {}),
  };
  writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  stdout(
    [
      `StackSet template: ${join(out, 'template.json')} (${Object.keys(template.Parameters ?? {}).length} parameters, ${Object.keys(template.Resources).length} resources)`,
      `Artifacts: ${Object.values(keys).join(', ')} in s3://${bucket}-<region>/ for ${regions.join(', ')}`,
      `Bucket policies (read by aws:PrincipalOrgID ${organizationId}): ${join(out, 'bucket-policies')}/<region>.json`,
      `Next: ${join(out, 'upload.sh')} (management account credentials), then npm run stackset -- deploy --ou <ou ids> --regions ${regions.join(',')}`,
      '',
    ].join('\n'),
  );
  return 0;
}

/** Runs `sls package` with its output captured; when it fails, an Error carrying the end of that output. */
function runSlsPackage(cwd: string, dir: string, args: string[]): void {
  try {
    execFileSync(join(cwd, 'node_modules/.bin/sls'), ['package', '--package', dir, ...args], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 2 ** 20,
      env: {
        ...process.env,
        SLS_TELEMETRY_DISABLED: '1',
        SLS_NOTIFICATIONS_MODE: 'off',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        // Every parameter is a placeholder here; deploy checks each real value with the same readers.
        [PLACEHOLDERS_VARIABLE]: '1',
      },
    });
  } catch (error) {
    const failed = error as { status?: number | null; stdout?: Buffer; stderr?: Buffer };
    const output = `${failed.stdout?.toString() ?? ''}${failed.stderr?.toString() ?? ''}`.trim();
    throw new Error(
      `sls package failed (exit ${failed.status ?? 'none'}): ${output.split('\n').slice(-20).join('\n')}`,
    );
  }
}

async function deployCommand(
  argv: readonly string[],
  io: StacksetCliIo,
  stdout: (text: string) => void,
  stderr: (text: string) => void,
): Promise<number> {
  const values = parseCommandLine(argv, {
    ou: { type: 'string' },
    regions: { type: 'string' },
    'stack-set-name': { type: 'string' },
    parameter: { type: 'string', multiple: true },
    'region-parameter': { type: 'string', multiple: true },
    'call-as': { type: 'string' },
    dir: { type: 'string' },
    'failure-tolerance-percent': { type: 'string' },
    'max-concurrent-percent': { type: 'string' },
    'retain-stacks': { type: 'boolean' },
    'poll-seconds': { type: 'string' },
    'timeout-minutes': { type: 'string' },
    ...HELP_OPTION,
  });
  if (values.help) {
    stdout(`${usage}\n`);
    return ExitCode.ok;
  }
  const organizationalUnitIds = list(
    '--ou',
    values.ou,
    OU_ID,
    'an organizational unit id ou-<4-32 a-z 0-9>-<8-32 a-z 0-9>',
  );
  const regions = list('--regions', values.regions, REGION, 'a Region name such as us-east-1');
  const stackSetName =
    values['stack-set-name'] === undefined
      ? 'schedule-hygiene'
      : required(
          '--stack-set-name',
          values['stack-set-name'],
          STACK_SET_NAME,
          'a StackSet name: a letter, then up to 127 letters, digits and hyphens',
        );
  const callAsText = values['call-as'] ?? 'SELF';
  if (callAsText !== 'SELF' && callAsText !== 'DELEGATED_ADMIN')
    throw new InputError('--call-as', "'SELF' or 'DELEGATED_ADMIN'", callAsText);
  const failureTolerancePercentage = readWholeNumber(
    '--failure-tolerance-percent',
    values['failure-tolerance-percent'] ?? '10',
    0,
    100,
  );
  const maxConcurrentPercentage = readWholeNumber(
    '--max-concurrent-percent',
    values['max-concurrent-percent'] ?? '25',
    1,
    100,
  );
  const pollSeconds = readWholeNumber('--poll-seconds', values['poll-seconds'] ?? '10', 1, 300, 'seconds');
  const timeoutMinutes = readWholeNumber(
    '--timeout-minutes',
    values['timeout-minutes'] ?? '60',
    1,
    1440,
    'minutes',
  );

  const dir = resolve(io.cwd ?? process.cwd(), values.dir ?? '.stackset');
  let template: Template;
  let manifest: PackageManifest;
  try {
    template = JSON.parse(readFileSync(join(dir, 'template.json'), 'utf8')) as Template;
    manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as PackageManifest;
  } catch {
    throw new InputError(
      '--dir',
      `a directory written by 'npm run stackset -- package' (template.json, manifest.json)`,
      dir,
    );
  }
  for (const region of regions) {
    if (!manifest.regions.includes(region)) {
      throw new InputError(
        '--regions',
        `a Region the package was made for (${manifest.regions.join(', ')}): package again with this Region`,
        region,
      );
    }
  }
  const declared = template.Parameters ?? {};
  const parameters: Record<string, string> = {};
  for (const assignment of values.parameter ?? []) {
    const [name, value] = readAssignment('--parameter', assignment, template, regions[0] ?? 'us-east-1');
    if (name in parameters) throw new InputError('--parameter', 'each parameter once', name);
    parameters[name] = value;
  }
  const regionParameters: Record<string, Record<string, string>> = {};
  for (const assignment of values['region-parameter'] ?? []) {
    const match = /^([a-z0-9-]+):(.*)$/s.exec(assignment);
    const region = match?.[1] ?? '';
    if (!match || !regions.includes(region)) {
      throw new InputError(
        '--region-parameter',
        `<region>:<name>=<value> with a Region of --regions (${regions.join(', ')})`,
        assignment,
      );
    }
    const [name, value] = readAssignment('--region-parameter', match[2] ?? '', template, region);
    const forRegion = regionParameters[region] ?? {};
    if (name in forRegion)
      throw new InputError('--region-parameter', 'each parameter once per Region', assignment);
    forRegion[name] = value;
    regionParameters[region] = forRegion;
  }
  // Together, as each Region's functions get them (a value alone was checked as it was read).
  for (const region of regions) {
    checkFunctionEnvironments(
      template,
      { ...parameters, ...regionParameters[region] },
      region,
      regionParameters[region] ? '--parameter/--region-parameter' : '--parameter',
    );
  }

  const stderrLine = (line: string) => stderr(`${line}\n`);
  const report = await deployStackSet(
    {
      cloudformation: io.cloudformation ?? new CloudFormationClient({}),
      sleep: io.sleep ?? ((ms) => new Promise((done) => setTimeout(done, ms))),
      progress: stderrLine,
    },
    {
      stackSetName,
      templateBody: JSON.stringify(template),
      templateParameters: Object.keys(declared),
      parameters,
      regionParameters,
      organizationalUnitIds,
      regions,
      callAs: callAsText as CallAs,
      failureTolerancePercentage,
      maxConcurrentPercentage,
      retainStacksOnAccountRemoval: values['retain-stacks'] ?? false,
      pollSeconds,
      timeoutSeconds: timeoutMinutes * 60,
    },
  );
  stdout(renderReport(report));
  return report.ok ? 0 : 1;
}

/**
 * `<name>=<value>` for a parameter of the template, its value checked first by the cold-start reader
 * of every function whose environment it sets (src/org/stackset-environment.ts), then by the
 * template's AllowedPattern or bounds; an InputError naming `option` and the parameter.
 */
function readAssignment(
  option: string,
  assignment: string,
  template: Template,
  region: string,
): [string, string] {
  const declared = template.Parameters ?? {};
  const match = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/s.exec(assignment);
  const name = match?.[1];
  if (!match || !name) throw new InputError(option, '<name>=<value>', assignment);
  const value = match[2] ?? '';
  const definition = declared[name];
  if (!definition)
    throw new InputError(
      option,
      `one of the template's parameters (${Object.keys(declared).join(', ')})`,
      name,
    );
  checkFunctionEnvironments(template, { [name]: value }, region, option);
  checkParameterValue(name, value, definition, option);
  return [name, value];
}

/** Checks a value against the parameter's AllowedValues, AllowedPattern or bounds, naming the flag. */
function checkParameterValue(
  name: string,
  value: string,
  definition: NonNullable<Template['Parameters']>[string],
  option: string,
): void {
  const allowed = definition.AllowedValues?.map(String);
  if (allowed && !allowed.includes(value)) {
    throw new InputError(`${option} ${name}`, `one of ${allowed.join(', ')}`, value);
  }
  if (definition.Type === 'Number') {
    const number = Number(value);
    const low = definition.MinValue ?? Number.NEGATIVE_INFINITY;
    const high = definition.MaxValue ?? Number.POSITIVE_INFINITY;
    if (!/^\d+$/.test(value) || number < low || number > high) {
      throw new InputError(
        `${option} ${name}`,
        `a whole number${Number.isFinite(low) ? ` from ${low} to ${high}` : ''}`,
        value,
      );
    }
    return;
  }
  if (definition.AllowedPattern && !new RegExp(definition.AllowedPattern).test(value)) {
    throw new InputError(`${option} ${name}`, `a value matching ${definition.AllowedPattern}`, value);
  }
}

function renderReport(report: DeployReport): string {
  const lines = [
    `StackSet ${report.stackSetName} ${report.created ? 'created' : 'updated'}: ${report.ok ? 'every account and Region succeeded' : 'FAILED in some accounts or Regions'}`,
  ];
  for (const operation of report.operations) {
    const failed = operation.results.filter((result) => result.status !== 'SUCCEEDED');
    lines.push(
      `${operation.action} ${operation.operationId}: ${operation.status}, ${operation.results.length - failed.length}/${operation.results.length} succeeded`,
    );
    for (const result of failed)
      lines.push(
        `  ${result.account} ${result.region} ${result.status}${result.reason ? `: ${result.reason}` : ''}`,
      );
  }
  lines.push('account       region          status      detail');
  for (const instance of [...report.instances].sort((a, b) =>
    `${a.account}${a.region}`.localeCompare(`${b.account}${b.region}`),
  )) {
    lines.push(
      `${instance.account.padEnd(13)} ${instance.region.padEnd(15)} ${instance.status.padEnd(11)} ${instance.detailedStatus ?? ''}${instance.reason ? ` ${instance.reason}` : ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runTool('stackset', (argv) => runStacksetCli(argv));
}
