// The organization report: for every (account, Region) cell, the schedule count against the quota,
// the finished schedules still present (what a sweep would delete), and growth, read-only.
//
// Per cell it runs the project's own cores: a DRY-RUN sweep (src/sweep/sweep.ts; ListSchedules, then
// GetSchedule per schedule, deciding with src/schedule/decide.ts) that counts every schedule and every
// finished one and deletes nothing, writes nothing and publishes nothing; the census's quota lookup
// (src/census/quota.ts, Service Quotas); and the census's growth (src/census/growth.ts, the
// ScheduleCount points a deployed census published in the cell's CloudWatch). The sweep streams
// page by page, so memory stays flat however many schedules a cell holds; a cell's result is a few
// numbers. No schedule's name, target or input reaches the result.
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import pLimit from 'p-limit';
import { CensusMetric } from '../census/census.ts';
import { computeGrowth, readPreviousCounts } from '../census/growth.ts';
import { type QuotaSource, readFromServiceQuotas } from '../census/quota.ts';
import type { Logger } from '../log.ts';
import { SkipReason } from '../schedule/decide.ts';
import { SWEEP_DEFAULTS } from '../sweep/config.ts';
import { sweep } from '../sweep/sweep.ts';

/** The default request rates per cell: modest shares of Scheduler's default quotas (ListSchedules 50/s, GetSchedule 1,000/s). */
export const REPORT_DEFAULTS = {
  listPerSecond: 5,
  getPerSecond: 20,
  /** GetSchedule requests in flight per cell. */
  concurrency: 8,
  /** Cells worked on at once. */
  parallelCells: 4,
  namespace: SWEEP_DEFAULTS.namespace,
} as const;

export interface Cell {
  accountId: string;
  region: string;
}

/** The clients one cell's work uses, signed with the account's assumed-role credentials for the cell's Region. */
export interface CellClients {
  scheduler: SchedulerClient;
  serviceQuotas: ServiceQuotasClient;
  cloudwatch: CloudWatchClient;
  /** For the producers view's CloudFormation ownership (src/report/producers.ts). */
  cloudformation?: CloudFormationClient;
}

export interface ReportDeps {
  /**
   * Assumes the report role in the account once; what it returns builds a cell's clients. A failure
   * (AccessDenied, ...) fails every cell of that account, each naming the error.
   */
  assume(accountId: string): Promise<(region: string) => CellClients>;
  clock: () => Date;
  log: Logger;
}

export interface ReportOptions {
  accounts: readonly string[];
  regions: readonly string[];
  listPerSecond: number;
  getPerSecond: number;
  concurrency: number;
  parallelCells: number;
  /** Where the deployed census publishes ScheduleCount (growth is read from there). */
  namespace: string;
  /** The sweeper's decision settings the dry run uses (its defaults: grace 60 minutes, DISABLED schedules not kept). */
  graceMinutes: number;
  keepDisabled: boolean;
  /** Told when a cell starts and ends, for progress. */
  onProgress?: (event: ProgressEvent) => void;
}

export type ProgressEvent =
  | { kind: 'cellStarted'; cell: Cell }
  | { kind: 'cellFinished'; result: CellResult };

export interface CellResult extends Cell {
  ok: boolean;
  /** The error's name (AccessDenied, ThrottlingException, ...) when the cell failed. */
  error?: string;
  scheduleCount?: number;
  quota?: number;
  /**
   * applied (Service Quotas) or default (the AWS default from Service Quotas). Never a configured
   * fallback: a quota Service Quotas does not state fails the cell (`QuotaUnknown(<error>)`).
   */
  quotaSource?: QuotaSource;
  /** scheduleCount / quota × 100. */
  utilizationPercent?: number;
  /** Finished one-time schedules still present: what a sweep with the given settings would delete. */
  finishedPresent?: number;
  /**
   * Schedules kept because the role may not decrypt them with their customer managed KMS key
   * (GetSchedule AccessDeniedException on kms:Decrypt): neither finished nor live is known, so
   * finished-but-present may be low by up to this many.
   */
  kmsAccessDenied?: number;
  /** Schedules per hour (least squares over the census's last 3 hours of ScheduleCount); undefined: not known. */
  growthPerHour?: number;
  /** Only while the count grows. */
  daysUntilFull?: number;
  /**
   * Why growth is not known: `no census data` (no points, or too short a span), or `error:<name>`
   * when GetMetricData failed (the cell then fails with `GrowthUnknown(<name>)`).
   */
  growthNote?: string;
  /** Requests the cell sent, by operation (for the cost). */
  requests?: { ListSchedules: number; GetSchedule: number };
}

/** Runs every cell, at most `parallelCells` at once; results in account, then Region order. */
export function runReport(deps: ReportDeps, options: ReportOptions): Promise<CellResult[]> {
  return runCells(deps, options, (clients, cell) => reportCell(clients, cell, deps, options));
}

/** What every view's cell result has: its cell, whether it succeeded, and the error's name if not. */
export interface CellOutcome extends Cell {
  ok: boolean;
  error?: string;
}

/**
 * Runs `read` for every cell, at most `parallelCells` at once, one AssumeRole per account; results
 * in account, then Region order. A cell whose role cannot be assumed, or whose `read` throws,
 * fails with the error's name.
 */
export async function runCells<R extends CellOutcome>(
  deps: ReportDeps,
  options: Pick<ReportOptions, 'accounts' | 'regions' | 'parallelCells'> & {
    onProgress?: (event: { kind: 'cellStarted'; cell: Cell } | { kind: 'cellFinished'; result: R }) => void;
  },
  read: (clients: CellClients, cell: Cell) => Promise<R>,
): Promise<R[]> {
  const limit = pLimit(options.parallelCells);
  const perAccount = options.accounts.map((accountId) => {
    // One AssumeRole per account, shared by its Regions; started lazily by the first cell to run.
    let assumed: Promise<(region: string) => CellClients> | undefined;
    const clientsFor = () => {
      assumed ??= deps.assume(accountId);
      return assumed;
    };
    return options.regions.map((region) =>
      limit(async () => {
        const cell = { accountId, region };
        options.onProgress?.({ kind: 'cellStarted', cell });
        let result: R;
        try {
          const clients = (await clientsFor())(region);
          result = await read(clients, cell);
        } catch (error) {
          result = { ...cell, ok: false, error: errorName(error) } as R;
        }
        options.onProgress?.({ kind: 'cellFinished', result });
        return result;
      }),
    );
  });
  return Promise.all(perAccount.flat());
}

/** One cell: a dry-run sweep for the counts, then the quota and growth. Throws when the count is not whole. */
export async function reportCell(
  clients: CellClients,
  cell: Cell,
  deps: Pick<ReportDeps, 'clock' | 'log'>,
  options: Omit<ReportOptions, 'accounts' | 'regions' | 'parallelCells' | 'onProgress'>,
): Promise<CellResult> {
  const summary = await sweep(
    { scheduler: clients.scheduler, cloudwatch: clients.cloudwatch, clock: deps.clock, log: deps.log },
    {
      dryRun: true,
      groups: [],
      graceMinutes: options.graceMinutes,
      keepDisabled: options.keepDisabled,
      budgets: { list: options.listPerSecond, get: options.getPerSecond, delete: 1 },
      concurrency: options.concurrency,
      namespace: options.namespace,
      // The report publishes nothing: the summary comes back here instead of going to CloudWatch.
      report: async () => {},
    },
  );
  const requests = {
    ListSchedules: summary.requests.ListSchedules,
    GetSchedule: summary.requests.GetSchedule,
  };
  const total = summary.scheduleCounts.total;
  if (!summary.complete || total === undefined) {
    return { ...cell, ok: false, error: 'IncompleteListing', requests };
  }
  if (summary.failed > 0) {
    // A lookup that failed after the budget's retries leaves that schedule undecided: the count of
    // finished schedules would be a guess, so the cell says so instead.
    return { ...cell, ok: false, error: `LookupsFailed(${summary.failed})`, scheduleCount: total, requests };
  }
  const counts = {
    scheduleCount: total,
    finishedPresent: summary.wouldDelete,
    kmsAccessDenied: summary.skipped[SkipReason.kmsAccessDenied] ?? 0,
  };
  // Read every time, with no cache and no fallback: a number the report did not read is not shown.
  let quota: Awaited<ReturnType<typeof readFromServiceQuotas>>;
  try {
    quota = await readFromServiceQuotas(clients.serviceQuotas);
  } catch (error) {
    return { ...cell, ok: false, error: `QuotaUnknown(${errorName(error)})`, ...counts, requests };
  }
  if (!quota) return { ...cell, ok: false, error: 'QuotaUnknown(NotListed)', ...counts, requests };
  const at = deps.clock();
  const growth = await readGrowth(clients.cloudwatch, options.namespace, at, total, quota.value);
  const growthFailed = growth.growthNote?.startsWith(GROWTH_ERROR_PREFIX) === true;
  return {
    ...cell,
    ok: !growthFailed,
    ...(growthFailed
      ? { error: `GrowthUnknown(${growth.growthNote!.slice(GROWTH_ERROR_PREFIX.length)})` }
      : {}),
    scheduleCount: total,
    quota: quota.value,
    quotaSource: quota.source,
    utilizationPercent: Number(((total / quota.value) * 100).toPrecision(12)),
    finishedPresent: counts.finishedPresent,
    kmsAccessDenied: counts.kmsAccessDenied,
    ...growth,
    requests,
  };
}

/** Prefix of `growthNote` when GetMetricData failed (as against `no census data`). */
export const GROWTH_ERROR_PREFIX = 'error:';

async function readGrowth(
  cloudwatch: CloudWatchClient,
  namespace: string,
  at: Date,
  count: number,
  quota: number,
): Promise<Pick<CellResult, 'growthPerHour' | 'daysUntilFull' | 'growthNote'>> {
  try {
    const previous = await readPreviousCounts(cloudwatch, namespace, CensusMetric.scheduleCount, at);
    const growth = computeGrowth(previous, { at, count }, quota);
    if (!growth) return { growthNote: 'no census data' };
    return {
      growthPerHour: growth.perHour,
      ...(growth.daysUntilFull === undefined ? {} : { daysUntilFull: growth.daysUntilFull }),
    };
  } catch (error) {
    return { growthNote: `${GROWTH_ERROR_PREFIX}${errorName(error)}` };
  }
}

/** An error's name only (AccessDenied, ThrottlingException): never its message's details or the SDK's raw response. */
export function errorName(error: unknown): string {
  if (error instanceof Error && error.name && error.name !== 'Error') return error.name;
  return 'Error';
}
