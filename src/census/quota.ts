// Finds the schedule quota that applies to this account and Region: the applied value from Service
// Quotas, else the AWS default, else the configured SCHEDULE_QUOTA. The census must never fail, or
// go quiet, because Service Quotas is denied or down, so every failure here ends in the fallback.
import {
  GetAWSDefaultServiceQuotaCommand,
  paginateListAWSDefaultServiceQuotas,
  paginateListServiceQuotas,
  type ServiceQuota,
  type ServiceQuotasClient,
} from '@aws-sdk/client-service-quotas';
import type { Logger } from '../log.ts';
import { safeError } from '../redact.ts';

export const SCHEDULER_SERVICE_CODE = 'scheduler';
/** Matched by name because the quota's L- code is not documented. */
export const SCHEDULE_QUOTA_NAME = 'Number of schedules';
/**
 * The fallback when Service Quotas cannot answer: AWS's default "Number of schedules" per account
 * and Region, 10,000,000 since August 2024 (it was 1,000,000 before; Scheduler user guide, "Quotas").
 * An older, lower value here would make utilization read ten times too high and page falsely.
 */
export const DEFAULT_SCHEDULE_QUOTA = 10_000_000;
/** How long a value read from Service Quotas is trusted before it is read again. */
export const QUOTA_CACHE_MS = 60 * 60 * 1000;

export const QuotaSource = {
  applied: 'applied',
  default: 'default',
  configured: 'configured',
} as const;
export type QuotaSource = (typeof QuotaSource)[keyof typeof QuotaSource];

export interface ScheduleQuota {
  value: number;
  source: QuotaSource;
}

/**
 * What a container remembers between invocations: the last value read from Service Quotas, and
 * whether it has already warned that Service Quotas is unavailable (one warning per container, so
 * a census every 15 minutes does not fill the log with the same complaint).
 */
export interface QuotaMemory {
  cached?: { quota: ScheduleQuota; readAt: number };
  warned: boolean;
}

export const createQuotaMemory = (): QuotaMemory => ({ warned: false });

const containerMemory = createQuotaMemory();

export interface ResolveQuotaOptions {
  /** Defaults to one memory per container (module scope). Tests pass their own. */
  memory?: QuotaMemory;
  now?: () => number;
  cacheMs?: number;
}

export async function resolveScheduleQuota(
  serviceQuotas: ServiceQuotasClient,
  fallback: number,
  log: Logger,
  options: ResolveQuotaOptions = {},
): Promise<ScheduleQuota> {
  const memory = options.memory ?? containerMemory;
  const now = options.now ?? Date.now;
  const cacheMs = options.cacheMs ?? QUOTA_CACHE_MS;
  const cached = memory.cached;
  if (cached && now() - cached.readAt < cacheMs) return cached.quota;

  let quota: ScheduleQuota | undefined;
  try {
    quota = await readFromServiceQuotas(serviceQuotas);
  } catch (error) {
    // Denied, throttled past the SDK's retries, or down: all mean "ask again next time".
    memory.cached = undefined;
    if (!memory.warned) {
      memory.warned = true;
      log.warn('Service Quotas unavailable; using the configured schedule quota', {
        error: safeError(error),
        fallbackQuota: fallback,
      });
    }
    return { value: fallback, source: QuotaSource.configured };
  }
  memory.warned = false;
  if (!quota) {
    memory.cached = undefined;
    log.info('Service Quotas has no schedule quota; using the configured schedule quota', {
      fallbackQuota: fallback,
    });
    return { value: fallback, source: QuotaSource.configured };
  }
  memory.cached = { quota, readAt: now() };
  return quota;
}

/**
 * The quota as Service Quotas states it (applied, else the AWS default), with no fallback: undefined
 * when Service Quotas lists no "Number of schedules" quota with a usable value; throws the Service
 * Quotas error (AccessDeniedException, ServiceException, ...) when it cannot be read. The report
 * uses this directly, since it must not print a number it did not read.
 */
export async function readFromServiceQuotas(client: ServiceQuotasClient): Promise<ScheduleQuota | undefined> {
  const applied = await findByName(
    paginateListServiceQuotas({ client, pageSize: 100 }, { ServiceCode: SCHEDULER_SERVICE_CODE }),
  );
  if (applied && usable(applied.Value)) return { value: applied.Value, source: QuotaSource.applied };

  const listed =
    applied?.QuotaCode !== undefined
      ? applied
      : await findByName(
          paginateListAWSDefaultServiceQuotas(
            { client, pageSize: 100 },
            { ServiceCode: SCHEDULER_SERVICE_CODE },
          ),
        );
  if (!listed?.QuotaCode) return undefined;
  const answer = await client.send(
    new GetAWSDefaultServiceQuotaCommand({
      ServiceCode: SCHEDULER_SERVICE_CODE,
      QuotaCode: listed.QuotaCode,
    }),
  );
  const value = answer.Quota?.Value ?? listed.Value;
  return usable(value) ? { value, source: QuotaSource.default } : undefined;
}

async function findByName(
  pages: AsyncIterable<{ Quotas?: ServiceQuota[] | undefined }>,
): Promise<ServiceQuota | undefined> {
  for await (const page of pages) {
    const match = page.Quotas?.find((quota) => matchesScheduleQuota(quota.QuotaName));
    if (match) return match;
  }
  return undefined;
}

export function matchesScheduleQuota(name: string | undefined): boolean {
  return name?.trim().toLowerCase() === SCHEDULE_QUOTA_NAME.toLowerCase();
}

/** A quota of zero or less would make utilization meaningless (or infinite); treat it as absent. */
function usable(value: number | undefined): value is number {
  return value !== undefined && Number.isFinite(value) && value > 0;
}
