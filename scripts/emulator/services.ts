// The set of emulated services one server hosts, each reachable by name for test controls.
//
// Scheduler, Service Quotas and CloudWatch keep one state per (account, Region) (scopes.ts): a request
// acts in the account its access key maps to and the Region it was signed for. `scheduler`,
// `serviceQuotas` and `cloudwatch` below are the default scope's (123456789012, us-east-1), which is
// what every request signed with an unmapped key (e.g. `test`) for us-east-1 reaches, exactly as when
// the emulator had one account; `scope(accountId, region)` reaches any other. DynamoDB and Lambda stay
// one shared instance for every account and Region, and so is KMS (a key's ARN names its account).

import { type CloudFormationService, createCloudFormationService } from './cloudformation.ts';
import { type CloudWatchService, createCloudWatchService } from './cloudwatch.ts';
import type { ControlPlane, EmulatedService, EmulatorRequest } from './core.ts';
import { createDynamoDbService, type DynamoDbService } from './dynamodb.ts';
import { createKmsService, type KmsService } from './kms.ts';
import { createLambdaService, type LambdaService } from './lambda.ts';
import { createSchedulerService, type SchedulerService } from './scheduler.ts';
import { AccountDirectory, DEFAULT_ACCOUNT_ID, DEFAULT_REGION, type Scope, scopeKey } from './scopes.ts';
import { createServiceQuotasService, type ServiceQuotasService } from './service-quotas.ts';
import { createStsService, type StsService } from './sts.ts';

/** The services that hold state per account and Region. */
export interface ScopedServices {
  scope: Scope;
  scheduler: SchedulerService;
  cloudwatch: CloudWatchService;
  serviceQuotas: ServiceQuotasService;
}

export interface ServiceRegistry {
  /** The default scope's (123456789012, us-east-1). */
  scheduler: SchedulerService;
  cloudwatch: CloudWatchService;
  serviceQuotas: ServiceQuotasService;
  lambda: LambdaService;
  dynamodb: DynamoDbService;
  cloudformation: CloudFormationService;
  sts: StsService;
  /** HMAC keys (one service: a key's ARN names its account and Region). */
  kms: KmsService;
  /** Access key id → account. */
  accounts: AccountDirectory;
  /** The services of one account and Region, created on first use (empty, as a fresh account is). */
  scope(accountId: string, region: string): ScopedServices;
  /** The scopes created so far (the default one first). */
  scopes(): readonly ScopedServices[];
  all: EmulatedService[];
  byName(name: string): EmulatedService | undefined;
}

export function createServiceRegistry(plane: ControlPlane): ServiceRegistry {
  const accounts = new AccountDirectory();
  const scoped = new Map<string, ScopedServices>();
  const scope = (accountId: string, region: string): ScopedServices => {
    const key = scopeKey({ accountId, region });
    let services = scoped.get(key);
    if (!services) {
      services = {
        scope: { accountId, region },
        scheduler: createSchedulerService(plane, { accountId, region }),
        cloudwatch: createCloudWatchService(plane),
        serviceQuotas: createServiceQuotasService(plane, { accountId }),
      };
      scoped.set(key, services);
    }
    return services;
  };
  const home = scope(DEFAULT_ACCOUNT_ID, DEFAULT_REGION);
  const forRequest = (request: EmulatorRequest) => {
    const { accountId, region } = accounts.scopeOf(request);
    return scope(accountId, region);
  };

  const lambda = createLambdaService(plane);
  const dynamodb = createDynamoDbService();
  const cloudformation = createCloudFormationService(
    () => plane.now(),
    (request) => accounts.scopeOf(request),
  );
  const sts = createStsService(plane, accounts);
  const kms = createKmsService(plane, accounts);
  // Order matters only for identification: the JSON-protocol services claim requests by
  // x-amz-target, so they go first; CloudFormation and STS (Query protocol) claim form-encoded bodies
  // of their API versions; the REST services claim theirs by path.
  const all: EmulatedService[] = [
    routed(home.cloudwatch, (request) => forRequest(request).cloudwatch),
    routed(home.serviceQuotas, (request) => forRequest(request).serviceQuotas),
    dynamodb,
    kms,
    cloudformation,
    lambda,
    routed(home.scheduler, (request) => forRequest(request).scheduler),
    sts,
  ];
  return {
    scheduler: home.scheduler,
    cloudwatch: home.cloudwatch,
    serviceQuotas: home.serviceQuotas,
    lambda,
    dynamodb,
    cloudformation,
    sts,
    kms,
    accounts,
    scope,
    scopes: () => [...scoped.values()],
    all,
    byName: (name) => all.find((service) => service.name === name),
  };
}

/**
 * A service whose requests are handled by the instance of the request's scope. Identification and
 * error rendering depend on no state, so the default instance does them; its test controls act on
 * the default scope (the HTTP control routes pick another with ?account=&region=).
 */
function routed<S extends EmulatedService>(home: S, pick: (request: EmulatorRequest) => S): EmulatedService {
  return {
    name: home.name,
    identify: (request) => home.identify(request),
    handle: (operation, request) => pick(request).handle(operation, request),
    renderError: (error) => home.renderError(error),
    ...(home.control ? { control: (action, body) => home.control?.(action, body) } : {}),
    simulateApplication: (action, operation, request, draw) =>
      pick(request).simulateApplication?.(action, operation, request, draw),
  };
}
