// CloudFormation StackSets for the emulator, the subset `npm run stackset -- deploy` calls, spoken in
// the AWS Query protocol as @aws-sdk/client-cloudformation sends it (form-encoded `Action=...&
// Version=2010-05-15` with `Name.member.N` lists; XML answers `<XResponse><XResult>...`, errors as
// `<ErrorResponse><Error><Code>`): CreateStackSet, UpdateStackSet, DescribeStackSet,
// CreateStackInstances, UpdateStackInstances, DescribeStackInstance, DescribeStackSetOperation,
// ListStackInstances, ListStackSetOperationResults.
//
// Stacks: ListStacks and ListStackResources over stacks a test seeds (`seedStack`, or the control
// `stack`), per account and Region as the request's credentials and signing scope say, so the
// ownership reader (src/ownership/cloudformation.ts) meets what it meets in AWS. A test can make an
// operation answer AccessDenied (`denyOperations`), as IAM does when the caller's policy lacks it.
//
// StackSets: it simulates the orchestration only: which accounts an OU holds (seeded by a test), operations that
// move each account and Region PENDING -> RUNNING -> SUCCEEDED/FAILED over a few polls, per-Region
// concurrency and failure tolerance, and instances that a test makes fail. It never runs the template:
// no stack, resource or Lambda function is created anywhere.
import { randomUUID } from 'node:crypto';
import {
  AwsError,
  type EmulatedService,
  type EmulatorRequest,
  type EmulatorResponse,
  unknownControl,
} from './core.ts';
import { DEFAULT_ACCOUNT_ID, DEFAULT_REGION, type Scope, scopeKey } from './scopes.ts';

const XML_NAMESPACE = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';
const ACCOUNT = '123456789012';
const PAGE_SIZE = 100;
/** The core's generic errors under the codes CloudFormation's Query protocol gives them. */
const QUERY_ERROR_CODES: Record<string, string> = {
  ValidationException: 'ValidationError',
  ThrottlingException: 'Throttling',
  InternalServerException: 'InternalFailure',
};

interface StackSetRecord {
  name: string;
  id: string;
  templateBody: string;
  parameters: { ParameterKey: string; ParameterValue: string }[];
  capabilities: string[];
  permissionModel: string;
  autoDeployment?: { Enabled: boolean; RetainStacksOnAccountRemoval: boolean };
  organizationalUnitIds: string[];
  regions: string[];
}

interface InstanceRecord {
  account: string;
  region: string;
  organizationalUnitId: string;
  /** CURRENT, OUTDATED or INOPERABLE. */
  status: string;
  /** PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED. */
  detailedStatus: string;
  reason?: string;
  /** Values that differ from the StackSet's for this instance (CreateStackInstances/UpdateStackInstances). */
  parameterOverrides: { ParameterKey: string; ParameterValue: string }[];
}

interface ResultRecord {
  account: string;
  region: string;
  organizationalUnitId: string;
  status: 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  reason?: string;
}

interface OperationRecord {
  id: string;
  stackSetName: string;
  action: 'CREATE' | 'UPDATE';
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  preferences: Record<string, unknown>;
  created: Date;
  ended?: Date;
  results: ResultRecord[];
  /** Regions whose failure tolerance was exceeded. */
  stoppedRegions: Set<string>;
}

/** A stack as ListStacks and ListStackResources show it. */
export interface SeededStack {
  accountId?: string;
  region?: string;
  name: string;
  /** CREATE_COMPLETE unless given (DELETE_COMPLETE: a deleted stack, listed only when asked for). */
  status?: string;
  resources: { logicalId: string; type: string; physicalId?: string; status?: string }[];
}

interface StackRecord {
  name: string;
  id: string;
  status: string;
  created: Date;
  resources: SeededStack['resources'];
}

export interface CloudFormationService extends EmulatedService {
  /** Adds a stack (in the default account and Region unless given); returns its StackId. */
  seedStack(stack: SeededStack): string;
  /** These operations answer 403 AccessDenied until reset (an empty list allows every one again). */
  denyOperations(operations: string[]): void;
  /** OU id -> member account ids: what CreateStackInstances expands an OU into. */
  setOrganization(units: Record<string, string[]>): void;
  /** Makes every deployment to this account and Region fail with the reason given. */
  failInstance(account: string, region: string, reason: string): void;
  reset(): void;
}

export function createCloudFormationService(
  now: () => Date,
  scopeOf: (request: EmulatorRequest) => Scope = () => ({
    accountId: DEFAULT_ACCOUNT_ID,
    region: DEFAULT_REGION,
  }),
): CloudFormationService {
  let stacks = new Map<string, StackRecord[]>();
  let denied = new Set<string>();
  /** The stacks of the request's account and Region, oldest first. */
  let currentScope: Scope = { accountId: DEFAULT_ACCOUNT_ID, region: DEFAULT_REGION };
  const scopedStacks = () => stacks.get(scopeKey(currentScope)) ?? [];
  let units = new Map<string, string[]>();
  let failures = new Map<string, string>();
  let stackSets = new Map<string, StackSetRecord>();
  let instances = new Map<string, Map<string, InstanceRecord>>();
  let operations = new Map<string, OperationRecord>();

  const stackSet = (name: string): StackSetRecord => {
    const found = stackSets.get(name);
    if (!found) throw new AwsError('StackSetNotFoundException', 404, `StackSet ${name} not found`);
    return found;
  };
  /** The operation `id` of the StackSet `name`, or OperationNotFoundException. */
  const operationOf = (name: string, id: string): OperationRecord => {
    const operation = operations.get(id);
    if (!operation || operation.stackSetName !== name) {
      throw new AwsError('OperationNotFoundException', 404, `Operation ${id} not found`);
    }
    return operation;
  };
  const running = (name: string) =>
    [...operations.values()].find(
      (operation) => operation.stackSetName === name && operation.status === 'RUNNING',
    );

  /** Starts an operation over these accounts and Regions; one runs at a time per StackSet. */
  function startOperation(
    name: string,
    action: OperationRecord['action'],
    targets: { account: string; region: string; organizationalUnitId: string }[],
    form: Form,
    overrides?: InstanceRecord['parameterOverrides'],
  ): string {
    if (running(name))
      throw new AwsError('OperationInProgressException', 409, `Another operation is in progress on ${name}`);
    const id = form.string('OperationId') ?? randomUUID();
    if (operations.has(id))
      throw new AwsError('OperationIdAlreadyExistsException', 409, `Operation ${id} already exists`);
    const preferences = form.object('OperationPreferences');
    operations.set(id, {
      id,
      stackSetName: name,
      action,
      status: 'RUNNING',
      preferences,
      created: now(),
      results: targets.map((target) => ({ ...target, status: 'PENDING' })),
      stoppedRegions: new Set(),
    });
    const byKey = instances.get(name) ?? new Map<string, InstanceRecord>();
    instances.set(name, byKey);
    for (const target of targets) {
      const key = `${target.account} ${target.region}`;
      const instance = byKey.get(key) ?? {
        ...target,
        status: 'OUTDATED',
        detailedStatus: 'PENDING',
        parameterOverrides: [],
      };
      if (overrides) instance.parameterOverrides = overrides;
      instance.status = 'OUTDATED';
      instance.detailedStatus = 'PENDING';
      delete instance.reason;
      byKey.set(key, instance);
    }
    return id;
  }

  /** One step of an operation, taken on each DescribeStackSetOperation: what ran ends, more starts. */
  function advance(operation: OperationRecord): void {
    if (operation.status !== 'RUNNING') return;
    const byKey = instances.get(operation.stackSetName) ?? new Map<string, InstanceRecord>();
    const settle = (result: ResultRecord, status: ResultRecord['status'], reason?: string) => {
      result.status = status;
      if (reason) result.reason = reason;
      const instance = byKey.get(`${result.account} ${result.region}`);
      if (!instance) return;
      instance.detailedStatus = status;
      instance.status = status === 'SUCCEEDED' ? 'CURRENT' : 'OUTDATED';
      if (reason) instance.reason = reason;
    };
    for (const result of operation.results) {
      if (result.status !== 'RUNNING') continue;
      const failure = failures.get(`${result.account} ${result.region}`);
      settle(result, failure === undefined ? 'SUCCEEDED' : 'FAILED', failure);
    }
    const preferences = operation.preferences;
    const parallel = preferences.RegionConcurrencyType === 'PARALLEL';
    const regions = [...new Set(operation.results.map((result) => result.region))];
    for (const region of regions) {
      const inRegion = operation.results.filter((result) => result.region === region);
      const failed = inRegion.filter((result) => result.status === 'FAILED').length;
      const tolerance = amount(preferences, 'FailureTolerance', inRegion.length, 0);
      if (failed > tolerance) {
        operation.stoppedRegions.add(region);
        for (const result of inRegion) {
          if (result.status === 'PENDING')
            settle(result, 'CANCELLED', 'Cancelled since failure tolerance has exceeded');
        }
        continue;
      }
      let slots = Math.max(1, amount(preferences, 'MaxConcurrent', inRegion.length, 1));
      for (const result of inRegion) {
        if (slots === 0) break;
        if (result.status !== 'PENDING') continue;
        settle(result, 'RUNNING');
        slots -= 1;
      }
      // SEQUENTIAL: the next Region starts only when this one is done.
      if (!parallel && inRegion.some((result) => result.status === 'RUNNING' || result.status === 'PENDING'))
        break;
    }
    if (operation.results.some((result) => result.status === 'PENDING' || result.status === 'RUNNING'))
      return;
    operation.status = operation.stoppedRegions.size > 0 ? 'FAILED' : 'SUCCEEDED';
    operation.ended = now();
  }

  const handlers: Record<string, (form: Form) => unknown> = {
    ListStacks(form) {
      const filter = form.list('StackStatusFilter');
      const all = scopedStacks()
        .filter((stack) => (filter.length === 0 ? true : filter.includes(stack.status)))
        .map((stack) => ({
          StackId: stack.id,
          StackName: stack.name,
          StackStatus: stack.status,
          CreationTime: stack.created.toISOString(),
        }));
      return pageOf(all, form, 'StackSummaries', STACKS_PAGE_SIZE);
    },
    ListStackResources(form) {
      const wanted = form.required('StackName');
      // A name finds the live stack of that name; an id finds that stack, deleted or not (as AWS).
      const stack = scopedStacks().find((candidate) =>
        wanted.startsWith('arn:')
          ? candidate.id === wanted
          : candidate.name === wanted && candidate.status !== 'DELETE_COMPLETE',
      );
      if (!stack) throw validationError(`Stack with id ${wanted} does not exist`);
      const all = stack.resources.map((resource) => ({
        LogicalResourceId: resource.logicalId,
        ...(resource.physicalId ? { PhysicalResourceId: resource.physicalId } : {}),
        ResourceType: resource.type,
        LastUpdatedTimestamp: stack.created.toISOString(),
        ResourceStatus: resource.status ?? 'CREATE_COMPLETE',
        DriftInformation: { StackResourceDriftStatus: 'NOT_CHECKED' },
      }));
      return pageOf(all, form, 'StackResourceSummaries', RESOURCES_PAGE_SIZE);
    },
    CreateStackSet(form) {
      const name = form.required('StackSetName');
      if (stackSets.has(name))
        throw new AwsError('NameAlreadyExistsException', 409, `StackSet ${name} already exists`);
      const templateBody = form.required('TemplateBody');
      const record: StackSetRecord = {
        name,
        id: `${name}:${randomUUID()}`,
        templateBody,
        parameters: [],
        capabilities: form.list('Capabilities'),
        permissionModel: form.string('PermissionModel') ?? 'SELF_MANAGED',
        organizationalUnitIds: [],
        regions: [],
      };
      applyTemplate(record, templateBody, form, undefined);
      if (record.permissionModel === 'SERVICE_MANAGED') record.autoDeployment = autoDeployment(form);
      stackSets.set(name, record);
      return { StackSetId: record.id };
    },
    UpdateStackSet(form) {
      const record = stackSet(form.required('StackSetName'));
      if (running(record.name)) {
        throw new AwsError(
          'OperationInProgressException',
          409,
          `Another operation is in progress on ${record.name}`,
        );
      }
      const updated = { ...record, capabilities: form.list('Capabilities') };
      applyTemplate(updated, form.string('TemplateBody') ?? record.templateBody, form, record);
      if (form.has('AutoDeployment')) updated.autoDeployment = autoDeployment(form);
      const ous = form.list('DeploymentTargets.OrganizationalUnitIds');
      const regions = form.list('Regions');
      const targets = [...(instances.get(record.name)?.values() ?? [])].filter(
        (instance) =>
          (ous.length === 0 || ous.includes(instance.organizationalUnitId)) &&
          (regions.length === 0 || regions.includes(instance.region)),
      );
      const operationId = startOperation(record.name, 'UPDATE', targets, form);
      stackSets.set(record.name, updated);
      return { OperationId: operationId };
    },
    DescribeStackSet(form) {
      const record = stackSet(form.required('StackSetName'));
      return {
        StackSet: {
          StackSetName: record.name,
          StackSetId: record.id,
          Status: 'ACTIVE',
          TemplateBody: record.templateBody,
          Parameters: record.parameters,
          Capabilities: record.capabilities,
          PermissionModel: record.permissionModel,
          AutoDeployment: record.autoDeployment,
          OrganizationalUnitIds: record.organizationalUnitIds,
          Regions: record.regions,
          StackSetARN: `arn:aws:cloudformation:us-east-1:${ACCOUNT}:stackset/${record.id}`,
        },
      };
    },
    CreateStackInstances(form) {
      const record = stackSet(form.required('StackSetName'));
      const regions = form.list('Regions');
      if (regions.length === 0) throw validationError('Regions must not be empty');
      if (record.permissionModel !== 'SERVICE_MANAGED')
        throw validationError('This emulator deploys SERVICE_MANAGED StackSets only');
      const ous = form.list('DeploymentTargets.OrganizationalUnitIds');
      if (ous.length === 0)
        throw validationError('DeploymentTargets.OrganizationalUnitIds must not be empty');
      const targets: { account: string; region: string; organizationalUnitId: string }[] = [];
      for (const ou of ous) {
        const accounts = units.get(ou);
        if (!accounts) throw validationError(`OrganizationalUnitId ${ou} is not in the organization`);
        for (const region of regions) {
          for (const account of accounts) targets.push({ account, region, organizationalUnitId: ou });
        }
      }
      const operationId = startOperation(record.name, 'CREATE', targets, form, overridesOf(record, form));
      record.organizationalUnitIds = [...new Set([...record.organizationalUnitIds, ...ous])];
      record.regions = [...new Set([...record.regions, ...regions])];
      return { OperationId: operationId };
    },
    UpdateStackInstances(form) {
      const record = stackSet(form.required('StackSetName'));
      const regions = form.list('Regions');
      const ous = form.list('DeploymentTargets.OrganizationalUnitIds');
      if (regions.length === 0 || ous.length === 0) {
        throw validationError('Regions and DeploymentTargets.OrganizationalUnitIds must not be empty');
      }
      const byKey = instances.get(record.name) ?? new Map<string, InstanceRecord>();
      const targets = [...byKey.values()].filter(
        (instance) => regions.includes(instance.region) && ous.includes(instance.organizationalUnitId),
      );
      for (const ou of ous) {
        for (const region of regions) {
          if (
            !targets.some((instance) => instance.organizationalUnitId === ou && instance.region === region)
          ) {
            throw new AwsError(
              'StackInstanceNotFoundException',
              404,
              `No stack instance of ${ou} in ${region}`,
            );
          }
        }
      }
      return { OperationId: startOperation(record.name, 'UPDATE', targets, form, overridesOf(record, form)) };
    },
    DescribeStackInstance(form) {
      const record = stackSet(form.required('StackSetName'));
      const key = `${form.required('StackInstanceAccount')} ${form.required('StackInstanceRegion')}`;
      const instance = instances.get(record.name)?.get(key);
      if (!instance) throw new AwsError('StackInstanceNotFoundException', 404, `No stack instance ${key}`);
      return {
        StackInstance: {
          StackSetId: record.id,
          Region: instance.region,
          Account: instance.account,
          ParameterOverrides: instance.parameterOverrides,
          Status: instance.status,
          StackInstanceStatus: { DetailedStatus: instance.detailedStatus },
          OrganizationalUnitId: instance.organizationalUnitId,
        },
      };
    },
    DescribeStackSetOperation(form) {
      const record = stackSet(form.required('StackSetName'));
      const operation = operationOf(record.name, form.required('OperationId'));
      advance(operation);
      return {
        StackSetOperation: {
          OperationId: operation.id,
          StackSetId: record.id,
          Action: operation.action,
          Status: operation.status,
          OperationPreferences: operation.preferences,
          CreationTimestamp: operation.created.toISOString(),
          ...(operation.ended ? { EndTimestamp: operation.ended.toISOString() } : {}),
          ...(operation.status === 'FAILED'
            ? { StatusReason: `Failure tolerance exceeded in ${[...operation.stoppedRegions].join(', ')}` }
            : {}),
        },
      };
    },
    ListStackInstances(form) {
      const record = stackSet(form.required('StackSetName'));
      const all = [...(instances.get(record.name)?.values() ?? [])].map((instance) => ({
        StackSetId: record.id,
        Region: instance.region,
        Account: instance.account,
        Status: instance.status,
        ...(instance.reason ? { StatusReason: instance.reason } : {}),
        StackInstanceStatus: { DetailedStatus: instance.detailedStatus },
        OrganizationalUnitId: instance.organizationalUnitId,
        DriftStatus: 'NOT_CHECKED',
      }));
      return page(all, form);
    },
    ListStackSetOperationResults(form) {
      const record = stackSet(form.required('StackSetName'));
      const operation = operationOf(record.name, form.required('OperationId'));
      const all = operation.results.map((result) => ({
        Account: result.account,
        Region: result.region,
        Status: result.status,
        ...(result.reason ? { StatusReason: result.reason } : {}),
        OrganizationalUnitId: result.organizationalUnitId,
      }));
      return page(all, form);
    },
  };

  const service: CloudFormationService = {
    name: 'cloudformation',
    identify(request) {
      const type = String(request.headers['content-type'] ?? '');
      if (!type.startsWith('application/x-www-form-urlencoded') || request.method !== 'POST')
        return undefined;
      const form = new URLSearchParams(request.body.toString('utf8'));
      if (form.get('Version') !== '2010-05-15') return undefined;
      return form.get('Action') ?? undefined;
    },
    handle(operation, request): EmulatorResponse {
      const handler = handlers[operation];
      if (!handler)
        throw new AwsError(
          'InvalidAction',
          400,
          `The emulator does not implement CloudFormation ${operation}`,
        );
      if (denied.has(operation)) {
        const scope = scopeOf(request);
        throw new AwsError(
          'AccessDenied',
          403,
          `User: arn:aws:sts::${scope.accountId}:assumed-role/emulated/session is not authorized to perform: cloudformation:${operation} because no identity-based policy allows the cloudformation:${operation} action`,
        );
      }
      currentScope = scopeOf(request);
      const form = new Form(new URLSearchParams(request.body.toString('utf8')));
      const callAs = form.string('CallAs');
      if (callAs !== undefined && callAs !== 'SELF' && callAs !== 'DELEGATED_ADMIN') {
        throw validationError(`CallAs must be SELF or DELEGATED_ADMIN, got ${callAs}`);
      }
      const result = handler(form);
      const body = `<${operation}Response xmlns="${XML_NAMESPACE}"><${operation}Result>${toXml(result)}</${operation}Result><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${operation}Response>`;
      return { status: 200, headers: { 'content-type': 'text/xml' }, body: Buffer.from(body) };
    },
    renderError(error) {
      const code = QUERY_ERROR_CODES[error.type] ?? error.type;
      const type = error.status >= 500 ? 'Receiver' : 'Sender';
      const body = `<ErrorResponse xmlns="${XML_NAMESPACE}"><Error><Type>${type}</Type><Code>${escapeXml(code)}</Code><Message>${escapeXml(error.message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
      return { status: error.status, headers: { 'content-type': 'text/xml' }, body: Buffer.from(body) };
    },
    control(action, body) {
      if (action === 'stack') {
        return { stackId: service.seedStack(body as unknown as SeededStack) };
      }
      if (action === 'deny') {
        service.denyOperations((body.operations as string[] | undefined) ?? []);
        return { denied: [...denied] };
      }
      if (action === 'organization') {
        service.setOrganization(body.units as Record<string, string[]>);
      } else if (action === 'failInstance') {
        service.failInstance(
          String(body.account),
          String(body.region),
          String(body.reason ?? 'Injected failure'),
        );
      } else if (action === 'reset') {
        service.reset();
      } else {
        throw unknownControl(`Unknown cloudformation control ${action}`);
      }
      return { units: Object.fromEntries(units), failures: Object.fromEntries(failures) };
    },
    seedStack(stack) {
      const scope = {
        accountId: stack.accountId ?? DEFAULT_ACCOUNT_ID,
        region: stack.region ?? DEFAULT_REGION,
      };
      const record: StackRecord = {
        name: stack.name,
        id: `arn:aws:cloudformation:${scope.region}:${scope.accountId}:stack/${stack.name}/${randomUUID()}`,
        status: stack.status ?? 'CREATE_COMPLETE',
        created: now(),
        resources: stack.resources.map((resource) => ({ ...resource })),
      };
      const key = scopeKey(scope);
      stacks.set(key, [...(stacks.get(key) ?? []), record]);
      return record.id;
    },
    denyOperations(operations) {
      denied = new Set(operations);
    },
    setOrganization(next) {
      units = new Map(Object.entries(next));
    },
    failInstance(account, region, reason) {
      failures.set(`${account} ${region}`, reason);
    },
    reset() {
      stacks = new Map();
      denied = new Set();
      units = new Map();
      failures = new Map();
      stackSets = new Map();
      instances = new Map();
      operations = new Map();
    },
  };
  return service;
}

/** A count from `<name>Count` or `<name>Percentage` of `total` (percentages round down), or the fallback. */
function amount(preferences: Record<string, unknown>, name: string, total: number, fallback: number): number {
  const count = preferences[`${name}Count`];
  if (count !== undefined) return Number(count);
  const percentage = preferences[`${name}Percentage`];
  if (percentage !== undefined) return Math.floor((Number(percentage) * total) / 100);
  return fallback;
}

function validationError(message: string): AwsError {
  return new AwsError('ValidationException', 400, message);
}

function autoDeployment(form: Form): { Enabled: boolean; RetainStacksOnAccountRemoval: boolean } {
  const enabled = form.string('AutoDeployment.Enabled') === 'true';
  return {
    Enabled: enabled,
    RetainStacksOnAccountRemoval: form.string('AutoDeployment.RetainStacksOnAccountRemoval') === 'true',
  };
}

/**
 * Checks the template as CloudFormation does before an operation: JSON, capabilities for named IAM
 * resources, every parameter given exists, every parameter without a default has a value.
 */
function applyTemplate(
  record: StackSetRecord,
  templateBody: string,
  form: Form,
  previous: StackSetRecord | undefined,
): void {
  let template: {
    Parameters?: Record<string, { Default?: string }>;
    Resources?: Record<string, { Type?: string; Properties?: Record<string, unknown> }>;
  };
  try {
    template = JSON.parse(templateBody);
  } catch {
    throw validationError('Template format error: the emulator reads JSON templates only');
  }
  const namedIam = Object.values(template.Resources ?? {}).some(
    (resource) => resource.Type === 'AWS::IAM::Role' && resource.Properties?.RoleName !== undefined,
  );
  if (namedIam && !record.capabilities.includes('CAPABILITY_NAMED_IAM')) {
    throw new AwsError(
      'InsufficientCapabilitiesException',
      400,
      'Requires capabilities : [CAPABILITY_NAMED_IAM]',
    );
  }
  const declared = template.Parameters ?? {};
  const given = form.objects('Parameters');
  const parameters: StackSetRecord['parameters'] = [];
  for (const parameter of given) {
    const key = String(parameter.ParameterKey);
    if (!(key in declared)) throw validationError(`Parameters: [${key}] do not exist in the template`);
    if (parameter.UsePreviousValue === 'true') {
      const before = previous?.parameters.find((item) => item.ParameterKey === key);
      if (!before) throw validationError(`Parameter ${key}: UsePreviousValue, but it has no previous value`);
      parameters.push(before);
    } else {
      parameters.push({ ParameterKey: key, ParameterValue: String(parameter.ParameterValue ?? '') });
    }
  }
  const missing = Object.entries(declared)
    .filter(
      ([key, definition]) =>
        definition.Default === undefined && !parameters.some((item) => item.ParameterKey === key),
    )
    .map(([key]) => key);
  if (missing.length > 0) throw validationError(`Parameters: [${missing.join(', ')}] must have values`);
  record.templateBody = templateBody;
  record.parameters = parameters;
}

/** The request's ParameterOverrides, each a parameter of the StackSet's template; undefined when none sent. */
function overridesOf(record: StackSetRecord, form: Form): InstanceRecord['parameterOverrides'] | undefined {
  if (!form.has('ParameterOverrides')) return undefined;
  const declared =
    (JSON.parse(record.templateBody) as { Parameters?: Record<string, unknown> }).Parameters ?? {};
  return form.objects('ParameterOverrides').map((parameter) => {
    const key = String(parameter.ParameterKey);
    if (!(key in declared))
      throw validationError(`ParameterOverrides: [${key}] do not exist in the template`);
    return { ParameterKey: key, ParameterValue: String(parameter.ParameterValue ?? '') };
  });
}

/** ListStacks and ListStackResources page sizes (AWS does not document them; it answers about 100). */
const STACKS_PAGE_SIZE = 100;
const RESOURCES_PAGE_SIZE = 100;

/** A page of `all` under `key`, the NextToken an offset (ListStacks and ListStackResources take no MaxResults). */
function pageOf(
  all: Record<string, unknown>[],
  form: Form,
  key: string,
  size: number,
): Record<string, unknown> {
  const token = form.string('NextToken');
  const start = token === undefined ? 0 : Number(token);
  if (!Number.isInteger(start) || start < 0 || start > all.length) throw validationError('Invalid NextToken');
  const next = start + size;
  return { [key]: all.slice(start, next), ...(next < all.length ? { NextToken: String(next) } : {}) };
}

function page(all: Record<string, unknown>[], form: Form): Record<string, unknown> {
  const size = Number(form.string('MaxResults') ?? PAGE_SIZE);
  const start = Number(form.string('NextToken') ?? 0);
  const next = start + size;
  return { Summaries: all.slice(start, next), ...(next < all.length ? { NextToken: String(next) } : {}) };
}

/** The Query protocol's flattened form: `A.B=1`, lists as `A.member.1`, list of structs `A.member.1.Key`. */
class Form {
  constructor(private readonly values: URLSearchParams) {}

  string(key: string): string | undefined {
    return this.values.get(key) ?? undefined;
  }

  required(key: string): string {
    const value = this.string(key);
    if (value === undefined || value === '') throw validationError(`${key} is required`);
    return value;
  }

  has(prefix: string): boolean {
    return [...this.values.keys()].some((key) => key === prefix || key.startsWith(`${prefix}.`));
  }

  list(key: string): string[] {
    const items: string[] = [];
    for (let index = 1; this.values.has(`${key}.member.${index}`); index += 1) {
      items.push(this.values.get(`${key}.member.${index}`) ?? '');
    }
    return items;
  }

  objects(key: string): Record<string, string>[] {
    const items: Record<string, string>[] = [];
    for (let index = 1; this.has(`${key}.member.${index}`); index += 1)
      items.push(this.object(`${key}.member.${index}`));
    return items;
  }

  /** The scalar members directly under `prefix` (`prefix.Name=value`). */
  object(prefix: string): Record<string, string> {
    const result: Record<string, string> = {};
    for (const [key, value] of this.values) {
      if (!key.startsWith(`${prefix}.`)) continue;
      const rest = key.slice(prefix.length + 1);
      if (!rest.includes('.')) result[rest] = value;
    }
    return result;
  }
}

/** Query-protocol XML for a result: arrays as `<member>` items, nested objects as elements. */
function toXml(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map((item) => `<member>${toXml(item)}</member>`).join('');
  if (typeof value === 'object') {
    return Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .map(([key, item]) => `<${key}>${toXml(item)}</${key}>`)
      .join('');
  }
  return escapeXml(String(value));
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (character) => `&#${character.charCodeAt(0)};`);
}
