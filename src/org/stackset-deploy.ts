// Creates or updates the service-managed StackSet that rolls the packaged template
// (src/org/stackset-package.ts) out to every account of the given organizational units, in the given
// Regions, and follows each StackSet operation until it ends. CloudFormation does the orchestration
// (concurrency, failure tolerance, automatic deployment to accounts that join an OU); this module only
// asks for it and reports what each account and Region did.
//
// AWS facts (CloudFormation API reference): CreateStackSet creates no instances (CreateStackInstances
// does); UpdateStackSet without DeploymentTargets/Regions updates every instance; one operation runs at
// a time per StackSet (OperationInProgressException); StackSetOperationPreferences are ignored by
// automatic deployments; with ConcurrencyMode SOFT_FAILURE_TOLERANCE the concurrency stays at
// MaxConcurrentPercentage whatever the failures, and FailureTolerancePercentage is per Region.
import { randomUUID } from 'node:crypto';
import {
  type CallAs,
  type CloudFormationClient,
  CreateStackInstancesCommand,
  CreateStackSetCommand,
  DescribeStackSetCommand,
  DescribeStackSetOperationCommand,
  type Parameter,
  paginateListStackInstances,
  paginateListStackSetOperationResults,
  type StackSet,
  type StackSetOperationPreferences,
  UpdateStackInstancesCommand,
  UpdateStackSetCommand,
} from '@aws-sdk/client-cloudformation';

export interface DeployOptions {
  stackSetName: string;
  /** The packaged template as JSON text (TemplateBody, at most 51,200 bytes). */
  templateBody: string;
  /** Names of the template's Parameters. */
  templateParameters: readonly string[];
  /** Values set on this deploy; the others keep their previous value (or the template default). */
  parameters: Readonly<Record<string, string>>;
  /**
   * Values for the instances of one Region only (ParameterOverrides), by Region: for what differs
   * per Region, such as the monitoring sink of each Region (MonitoringSinkArn).
   */
  regionParameters: Readonly<Record<string, Readonly<Record<string, string>>>>;
  organizationalUnitIds: readonly string[];
  regions: readonly string[];
  callAs: CallAs;
  /** Per Region, the share of accounts that may fail before CloudFormation stops there (0-100). */
  failureTolerancePercentage: number;
  /** The share of accounts deployed at once in each Region (1-100). */
  maxConcurrentPercentage: number;
  /** Keep a member account's stacks when it leaves the OU (false: they are deleted with it). */
  retainStacksOnAccountRemoval: boolean;
  /** Between two polls of an operation. */
  pollSeconds: number;
  /** How long to follow one operation before giving up on it (it goes on in CloudFormation). */
  timeoutSeconds: number;
}

export interface DeployDeps {
  cloudformation: CloudFormationClient;
  sleep: (ms: number) => Promise<void>;
  /** One progress line (stderr in the CLI). */
  progress: (line: string) => void;
}

export interface OperationReport {
  operationId: string;
  action: 'CREATE' | 'UPDATE';
  /** SUCCEEDED, FAILED, STOPPED, ... or TIMED_OUT when it was still running after timeoutSeconds. */
  status: string;
  /** Per account and Region: PENDING, RUNNING, SUCCEEDED, FAILED or CANCELLED, with the reason. */
  results: { account: string; region: string; status: string; reason?: string }[];
}

export interface DeployReport {
  stackSetName: string;
  created: boolean;
  operations: OperationReport[];
  /** Every stack instance after the last operation. */
  instances: {
    account: string;
    region: string;
    organizationalUnitId?: string;
    status: string;
    detailedStatus?: string;
    reason?: string;
  }[];
  /** True when every operation succeeded and no account or Region failed or was cancelled. */
  ok: boolean;
}

const TEMPLATE_BODY_LIMIT = 51_200;
const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'STOPPED', 'QUEUED_FAILED']);

export async function deployStackSet(deps: DeployDeps, options: DeployOptions): Promise<DeployReport> {
  const bytes = Buffer.byteLength(options.templateBody);
  if (bytes > TEMPLATE_BODY_LIMIT) {
    throw new Error(`The template is ${bytes} bytes, over CloudFormation's TemplateBody limit of 51,200`);
  }
  const { cloudformation } = deps;
  const callAs = options.callAs;
  const existing = await describeStackSet(cloudformation, options.stackSetName, callAs);
  const preferences: StackSetOperationPreferences = {
    RegionConcurrencyType: 'PARALLEL',
    ConcurrencyMode: 'SOFT_FAILURE_TOLERANCE',
    FailureTolerancePercentage: options.failureTolerancePercentage,
    MaxConcurrentPercentage: options.maxConcurrentPercentage,
  };
  const common = {
    StackSetName: options.stackSetName,
    TemplateBody: options.templateBody,
    Capabilities: ['CAPABILITY_NAMED_IAM' as const],
    PermissionModel: 'SERVICE_MANAGED' as const,
    AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: options.retainStacksOnAccountRemoval },
    CallAs: callAs,
  };
  const operations: OperationReport[] = [];

  if (!existing) {
    deps.progress(`creating StackSet ${options.stackSetName}`);
    await cloudformation.send(
      new CreateStackSetCommand({
        ...common,
        Parameters: Object.entries(options.parameters).map(([key, value]) => ({
          ParameterKey: key,
          ParameterValue: value,
        })),
        ClientRequestToken: randomUUID(),
      }),
    );
  } else {
    if (existing.PermissionModel !== 'SERVICE_MANAGED') {
      throw new Error(
        `StackSet ${options.stackSetName} uses ${existing.PermissionModel ?? 'SELF_MANAGED'} permissions; this command updates only SERVICE_MANAGED StackSets`,
      );
    }
    deps.progress(`updating StackSet ${options.stackSetName} and its instances`);
    const operationId = randomUUID();
    await cloudformation.send(
      new UpdateStackSetCommand({
        ...common,
        Parameters: updateParameters(options, existing),
        OperationPreferences: preferences,
        OperationId: operationId,
      }),
    );
    operations.push(await follow(deps, options, operationId, 'UPDATE'));
  }

  const covered = new Set(
    (await listInstances(cloudformation, options.stackSetName, callAs)).map(
      (instance) => `${instance.organizationalUnitId} ${instance.region}`,
    ),
  );
  for (const step of planInstanceOperations(options, covered)) {
    const operationId = randomUUID();
    const request = {
      StackSetName: options.stackSetName,
      DeploymentTargets: { OrganizationalUnitIds: step.ous },
      Regions: step.regions,
      ...(step.overrides.length > 0 ? { ParameterOverrides: step.overrides } : {}),
      OperationPreferences: preferences,
      OperationId: operationId,
      CallAs: callAs,
    };
    if (step.action === 'UPDATE') {
      const names = step.overrides.map((item) => item.ParameterKey).join(', ');
      deps.progress(`setting ${names} for the instances in ${step.regions.join(', ')}`);
      await cloudformation.send(new UpdateStackInstancesCommand(request));
    } else {
      deps.progress(`creating stack instances: OUs ${step.ous.join(', ')} in ${step.regions.join(', ')}`);
      await cloudformation.send(new CreateStackInstancesCommand(request));
    }
    operations.push(await follow(deps, options, operationId, step.action));
  }

  const instances = await listInstances(cloudformation, options.stackSetName, callAs);
  const ok =
    operations.every((operation) => operation.status === 'SUCCEEDED') &&
    operations.every((operation) => operation.results.every((result) => result.status === 'SUCCEEDED'));
  return { stackSetName: options.stackSetName, created: !existing, operations, instances, ok };
}

/** One stack-instance operation: UpdateStackInstances (Region values) or CreateStackInstances. */
export interface InstanceStep {
  action: 'UPDATE' | 'CREATE';
  ous: string[];
  regions: string[];
  overrides: Parameter[];
}

/**
 * The instance operations a deploy needs after the StackSet itself is created or updated, given the
 * (OU, Region) pairs that already have instances (`covered`, as `<ou> <region>`):
 * - each Region with values of its own gets them on its existing instances (UpdateStackInstances;
 *   overrides persist across later StackSet updates);
 * - each (OU, Region) asked for that has no instance yet is created, grouped by the Regions that
 *   miss the same OUs with the same Region values, so the usual cases (new OUs, new Regions) take
 *   one operation.
 */
export function planInstanceOperations(
  options: Pick<DeployOptions, 'organizationalUnitIds' | 'regions' | 'regionParameters'>,
  covered: ReadonlySet<string>,
): InstanceStep[] {
  const overridesOf = (region: string): Parameter[] =>
    Object.entries(options.regionParameters[region] ?? {}).map(([key, value]) => ({
      ParameterKey: key,
      ParameterValue: value,
    }));
  const steps: InstanceStep[] = [];
  for (const region of options.regions) {
    const overrides = overridesOf(region);
    const ous = options.organizationalUnitIds.filter((ou) => covered.has(`${ou} ${region}`));
    if (overrides.length > 0 && ous.length > 0)
      steps.push({ action: 'UPDATE', ous, regions: [region], overrides });
  }
  const creations = new Map<string, InstanceStep>();
  for (const region of options.regions) {
    const ous = options.organizationalUnitIds.filter((ou) => !covered.has(`${ou} ${region}`));
    if (ous.length === 0) continue;
    const overrides = overridesOf(region);
    const key = JSON.stringify([ous, overrides]);
    const step = creations.get(key) ?? { action: 'CREATE', ous, regions: [], overrides };
    step.regions.push(region);
    creations.set(key, step);
  }
  return [...steps, ...creations.values()];
}

/** The StackSet, or undefined when it does not exist. */
async function describeStackSet(
  cloudformation: CloudFormationClient,
  name: string,
  callAs: CallAs,
): Promise<StackSet | undefined> {
  try {
    return (await cloudformation.send(new DescribeStackSetCommand({ StackSetName: name, CallAs: callAs })))
      .StackSet;
  } catch (error) {
    if ((error as Error).name === 'StackSetNotFoundException') return undefined;
    throw error;
  }
}

/** Values given now; the previous value of the others the StackSet has; the default for new ones. */
function updateParameters(options: DeployOptions, existing: StackSet): Parameter[] {
  const previous = new Set((existing.Parameters ?? []).map((parameter) => parameter.ParameterKey));
  const parameters: Parameter[] = [];
  for (const name of options.templateParameters) {
    const value = options.parameters[name];
    if (value !== undefined) parameters.push({ ParameterKey: name, ParameterValue: value });
    else if (previous.has(name)) parameters.push({ ParameterKey: name, UsePreviousValue: true });
  }
  return parameters;
}

async function listInstances(cloudformation: CloudFormationClient, name: string, callAs: CallAs) {
  const instances: DeployReport['instances'] = [];
  for await (const page of paginateListStackInstances(
    { client: cloudformation },
    { StackSetName: name, CallAs: callAs },
  )) {
    for (const summary of page.Summaries ?? []) {
      instances.push({
        account: summary.Account ?? '?',
        region: summary.Region ?? '?',
        organizationalUnitId: summary.OrganizationalUnitId,
        status: summary.Status ?? '?',
        detailedStatus: summary.StackInstanceStatus?.DetailedStatus,
        reason: summary.StatusReason,
      });
    }
  }
  return instances;
}

/** Polls one operation until it ends, printing each account and Region whose status changed. */
async function follow(
  deps: DeployDeps,
  options: DeployOptions,
  operationId: string,
  action: OperationReport['action'],
): Promise<OperationReport> {
  const { cloudformation } = deps;
  const seen = new Map<string, string>();
  const polls = Math.max(1, Math.ceil(options.timeoutSeconds / options.pollSeconds));
  let status = 'RUNNING';
  let results: OperationReport['results'] = [];
  for (let poll = 0; ; poll += 1) {
    const described = await cloudformation.send(
      new DescribeStackSetOperationCommand({
        StackSetName: options.stackSetName,
        OperationId: operationId,
        CallAs: options.callAs,
      }),
    );
    status = described.StackSetOperation?.Status ?? 'UNKNOWN';
    results = [];
    for await (const page of paginateListStackSetOperationResults(
      { client: cloudformation },
      { StackSetName: options.stackSetName, OperationId: operationId, CallAs: options.callAs },
    )) {
      for (const summary of page.Summaries ?? []) {
        results.push({
          account: summary.Account ?? '?',
          region: summary.Region ?? '?',
          status: summary.Status ?? '?',
          ...(summary.StatusReason ? { reason: summary.StatusReason } : {}),
        });
      }
    }
    for (const result of results) {
      const key = `${result.account} ${result.region}`;
      if (seen.get(key) === result.status) continue;
      seen.set(key, result.status);
      deps.progress(`  ${key} ${result.status}${result.reason ? `: ${result.reason}` : ''}`);
    }
    const done = results.filter((result) => !['PENDING', 'RUNNING'].includes(result.status)).length;
    deps.progress(
      `${action} operation ${operationId}: ${status} (${done}/${results.length} accounts and Regions done)`,
    );
    if (TERMINAL.has(status)) break;
    if (poll + 1 >= polls) {
      deps.progress(
        `gave up following ${operationId} after ${options.timeoutSeconds} s; it goes on in CloudFormation`,
      );
      status = 'TIMED_OUT';
      break;
    }
    await deps.sleep(options.pollSeconds * 1000);
  }
  return { operationId, action, status, results };
}
