// Service Quotas for the emulator (AWS JSON 1.1, target ServiceQuotasV20190624), holding the
// EventBridge Scheduler quotas. Like AWS, an account may have no applied value for a quota it never
// raised, and callers may be denied by IAM; both are settable so census code meets them in tests.
import {
  AwsError,
  badControl,
  type ControlPlane,
  type EmulatedService,
  type EmulatorRequest,
  type EmulatorResponse,
  parseJsonBody,
  renderRenamedError,
  targetOperation,
  unknownControl,
} from './core.ts';

const OWN_ERROR_NAMES = {
  ThrottlingException: 'TooManyRequestsException',
  InternalServerException: 'ServiceException',
};

const targetPrefix = 'ServiceQuotasV20190624.';

/** The name census code matches on; the quota's L- code below is invented (AWS does not document it). */
export const scheduleCountQuotaName = 'Number of schedules';

export interface QuotaDefinition {
  serviceCode: string;
  serviceName: string;
  quotaCode: string;
  quotaName: string;
  defaultValue: number;
  unit: string;
  adjustable: boolean;
  description: string;
  /** Rate quotas are per period. */
  period?: { PeriodValue: number; PeriodUnit: string };
}

export const schedulerQuotas: readonly QuotaDefinition[] = [
  {
    serviceCode: 'scheduler',
    serviceName: 'Amazon EventBridge Scheduler',
    quotaCode: 'L-7A3C9E15',
    quotaName: scheduleCountQuotaName,
    defaultValue: 10_000_000,
    unit: 'None',
    adjustable: true,
    description: 'The maximum number of schedules in this account in the current Region.',
  },
  {
    serviceCode: 'scheduler',
    serviceName: 'Amazon EventBridge Scheduler',
    quotaCode: 'L-4B2D8F60',
    quotaName: 'Number of schedule groups',
    defaultValue: 500,
    unit: 'None',
    adjustable: true,
    description: 'The maximum number of schedule groups in this account in the current Region.',
  },
  {
    serviceCode: 'scheduler',
    serviceName: 'Amazon EventBridge Scheduler',
    quotaCode: 'L-C1E6A2B7',
    quotaName: 'CreateSchedule API request rate',
    defaultValue: 5000,
    unit: 'None',
    adjustable: true,
    description: 'The maximum number of CreateSchedule requests per second.',
    period: { PeriodValue: 1, PeriodUnit: 'SECOND' },
  },
  {
    serviceCode: 'scheduler',
    serviceName: 'Amazon EventBridge Scheduler',
    quotaCode: 'L-9F04D3A8',
    quotaName: 'DeleteSchedule API request rate',
    defaultValue: 1000,
    unit: 'None',
    adjustable: true,
    description: 'The maximum number of DeleteSchedule requests per second.',
    period: { PeriodValue: 1, PeriodUnit: 'SECOND' },
  },
  {
    serviceCode: 'scheduler',
    serviceName: 'Amazon EventBridge Scheduler',
    quotaCode: 'L-2E8B5C94',
    quotaName: 'GetSchedule API request rate',
    defaultValue: 1000,
    unit: 'None',
    adjustable: true,
    description: 'The maximum number of GetSchedule requests per second.',
    period: { PeriodValue: 1, PeriodUnit: 'SECOND' },
  },
  {
    serviceCode: 'scheduler',
    serviceName: 'Amazon EventBridge Scheduler',
    quotaCode: 'L-65D1F7C3',
    quotaName: 'ListSchedules API request rate',
    defaultValue: 50,
    unit: 'None',
    adjustable: true,
    description: 'The maximum number of ListSchedules requests per second.',
    period: { PeriodValue: 1, PeriodUnit: 'SECOND' },
  },
];

export const serviceQuotasModes = ['normal', 'accessDenied', 'serviceError'] as const;
export type ServiceQuotasMode = (typeof serviceQuotasModes)[number];

export interface ServiceQuotasService extends EmulatedService {
  /** The account's applied value; undefined: never applied (absent from ListServiceQuotas). */
  setApplied(quotaName: string, value: number | undefined): void;
  setDefault(quotaName: string, value: number): void;
  /** accessDenied: every call is AccessDeniedException (IAM denies); serviceError: every call is a 500. */
  setMode(mode: ServiceQuotasMode): void;
  reset(): void;
}

interface QuotaState {
  definition: QuotaDefinition;
  defaultValue: number;
  applied: number | undefined;
}

export function createServiceQuotasService(
  _plane: ControlPlane,
  options: { accountId?: string } = {},
): ServiceQuotasService {
  const accountId = options.accountId ?? '123456789012';
  let quotas: QuotaState[] = [];
  let mode: ServiceQuotasMode = 'normal';

  function initialise() {
    quotas = schedulerQuotas.map((definition) => ({
      definition,
      defaultValue: definition.defaultValue,
      applied: definition.defaultValue,
    }));
    mode = 'normal';
  }
  initialise();

  function byName(quotaName: string): QuotaState {
    const found = quotas.find((quota) => quota.definition.quotaName === quotaName);
    if (!found) {
      const known = quotas.map((quota) => `"${quota.definition.quotaName}"`).join(', ');
      throw badControl(`No emulated quota named "${quotaName}"; known: ${known}`);
    }
    return found;
  }

  function serviceQuotas(serviceCode: unknown): QuotaState[] {
    if (typeof serviceCode !== 'string' || serviceCode === '') {
      throw new AwsError('IllegalArgumentException', 400, 'ServiceCode is required');
    }
    const found = quotas.filter((quota) => quota.definition.serviceCode === serviceCode);
    if (found.length === 0) {
      throw new AwsError(
        'NoSuchResourceException',
        404,
        `The service ${serviceCode} does not exist or has no quotas`,
      );
    }
    return found;
  }

  function findQuota(body: Record<string, unknown>): QuotaState {
    const candidates = serviceQuotas(body.ServiceCode);
    if (typeof body.QuotaCode !== 'string' || body.QuotaCode === '') {
      throw new AwsError('IllegalArgumentException', 400, 'QuotaCode is required');
    }
    const found = candidates.find((quota) => quota.definition.quotaCode === body.QuotaCode);
    if (!found) {
      throw new AwsError('NoSuchResourceException', 404, `The quota ${body.QuotaCode} does not exist`);
    }
    return found;
  }

  function render(quota: QuotaState, value: number, region: string) {
    const { definition } = quota;
    return {
      ServiceCode: definition.serviceCode,
      ServiceName: definition.serviceName,
      QuotaArn: `arn:aws:servicequotas:${region}:${accountId}:${definition.serviceCode}/${definition.quotaCode}`,
      QuotaCode: definition.quotaCode,
      QuotaName: definition.quotaName,
      Value: value,
      Unit: definition.unit,
      Adjustable: definition.adjustable,
      GlobalQuota: false,
      Description: definition.description,
      QuotaAppliedAtLevel: 'ACCOUNT',
      ...(definition.period ? { Period: definition.period } : {}),
    };
  }

  function page<T>(items: T[], body: Record<string, unknown>) {
    const maxResults = body.MaxResults ?? 100;
    if (
      typeof maxResults !== 'number' ||
      !Number.isInteger(maxResults) ||
      maxResults < 1 ||
      maxResults > 100
    ) {
      throw new AwsError('IllegalArgumentException', 400, 'MaxResults must be an integer from 1 to 100');
    }
    let offset = 0;
    if (body.NextToken !== undefined) {
      offset = Number.parseInt(Buffer.from(String(body.NextToken), 'base64').toString('utf8'), 10);
      if (!Number.isInteger(offset) || offset < 0 || offset > items.length) {
        throw new AwsError('InvalidPaginationTokenException', 400, 'Invalid pagination token');
      }
    }
    const slice = items.slice(offset, offset + maxResults);
    const next = offset + slice.length;
    return {
      Quotas: slice,
      ...(next < items.length ? { NextToken: Buffer.from(String(next), 'utf8').toString('base64') } : {}),
    };
  }

  const handlers: Record<string, (body: Record<string, unknown>, region: string) => unknown> = {
    ListServiceQuotas(body, region) {
      const listed = serviceQuotas(body.ServiceCode).filter(
        (quota) =>
          quota.applied !== undefined &&
          (body.QuotaCode === undefined || quota.definition.quotaCode === body.QuotaCode),
      );
      return page(
        listed.map((quota) => render(quota, quota.applied as number, region)),
        body,
      );
    },
    GetServiceQuota(body, region) {
      const quota = findQuota(body);
      if (quota.applied === undefined) {
        throw new AwsError(
          'NoSuchResourceException',
          404,
          `The request failed because the specified quota has no applied value: ${quota.definition.quotaCode}`,
        );
      }
      return { Quota: render(quota, quota.applied, region) };
    },
    GetAWSDefaultServiceQuota(body, region) {
      const quota = findQuota(body);
      return { Quota: render(quota, quota.defaultValue, region) };
    },
    ListAWSDefaultServiceQuotas(body, region) {
      return page(
        serviceQuotas(body.ServiceCode).map((quota) => render(quota, quota.defaultValue, region)),
        body,
      );
    },
  };

  const service: ServiceQuotasService = {
    name: 'servicequotas',
    identify: (request) => targetOperation(request, targetPrefix),
    handle(operation, request): EmulatorResponse {
      if (mode === 'accessDenied') {
        throw new AwsError(
          'AccessDeniedException',
          403,
          `User: arn:aws:sts::${accountId}:assumed-role/emulated is not authorized to perform: servicequotas:${operation}`,
        );
      }
      if (mode === 'serviceError') throw new AwsError('ServiceException', 500, 'Something went wrong');
      const handler = handlers[operation];
      if (!handler)
        throw new AwsError('UnknownOperationException', 400, `The emulator does not implement ${operation}`);
      return {
        status: 200,
        headers: { 'content-type': 'application/x-amz-json-1.1' },
        body: handler(parseJsonBody(request), regionOf(request)),
      };
    },
    // Service Quotas names throttling and internal failures its own way.
    renderError: (error) => renderRenamedError(error, OWN_ERROR_NAMES),
    control(action, body) {
      if (action === 'setApplied') {
        service.setApplied(String(body.quotaName), typeof body.value === 'number' ? body.value : undefined);
      } else if (action === 'setDefault') {
        service.setDefault(String(body.quotaName), Number(body.value));
      } else if (action === 'setMode') {
        service.setMode(body.mode as ServiceQuotasMode);
      } else if (action === 'reset') {
        service.reset();
      } else {
        throw unknownControl(`Unknown servicequotas control ${action}`);
      }
      return {
        mode,
        quotas: quotas.map(({ definition, defaultValue, applied }) => ({
          name: definition.quotaName,
          defaultValue,
          applied: applied ?? null,
        })),
      };
    },
    setApplied(quotaName, value) {
      byName(quotaName).applied = value;
    },
    setDefault(quotaName, value) {
      byName(quotaName).defaultValue = value;
    },
    setMode(next) {
      if (!serviceQuotasModes.includes(next)) throw badControl(`Unknown Service Quotas mode ${String(next)}`);
      mode = next;
    },
    reset: initialise,
  };
  return service;
}

/** The Region the client signed for (from the SigV4 credential scope), so ARNs look like the caller's. */
function regionOf(request: EmulatorRequest): string {
  const authorization = String(request.headers.authorization ?? '');
  const match = /Credential=[^/]+\/\d{8}\/([a-z0-9-]+)\//.exec(authorization);
  return match?.[1] ?? 'us-east-1';
}
