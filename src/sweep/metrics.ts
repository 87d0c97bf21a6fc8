// What a sweep reports to CloudWatch at its end, whether it completed or not. The metric names are a
// contract: the alarms and dashboards in resources/monitoring.yml depend on them. A dry run publishes
// none of them (its summary is returned and logged): it changed nothing, and its counts must not read
// as the account's.
import type { CloudWatchClient, MetricDatum } from '@aws-sdk/client-cloudwatch';
import type { Logger } from '../log.ts';
import { datum, publishCountQuietly, publishMetrics } from '../metrics/publish.ts';
import { safeError } from '../redact.ts';
import type { SweepSummary } from './model.ts';

export const SweepMetric = {
  /** Schedules present after the sweep; without dimensions and per ScheduleGroup. */
  scheduleCount: 'ScheduleCount',
  finishedSchedulesFound: 'FinishedSchedulesFound',
  schedulesDeleted: 'SchedulesDeleted',
  stuckSchedules: 'StuckSchedules',
  skippedSchedules: 'SkippedSchedules',
  deleteFailures: 'DeleteFailures',
  /** Schedules operators marked never to delete (group tag, name prefix, restored with --keep). */
  protectedSchedules: 'ProtectedSchedules',
  /** Schedules whose KMS key the sweeper may not use: kept, never judged. Alarm-able. */
  kmsAccessDenied: 'KmsAccessDenied',
  /** Finished schedules kept because a CloudFormation stack declares them (skipped.cloudFormationOwned). */
  cloudFormationOwned: 'CloudFormationOwnedSchedules',
  /**
   * Finished schedules kept because their CloudFormation ownership could not be read (denied,
   * throttled): while it stays above 0 those schedules are never deleted. Alarm-able.
   */
  ownershipUnknown: 'OwnershipUnknown',
  sweepDurationSeconds: 'SweepDurationSeconds',
  /**
   * One per invocation, whatever it came to (finished, continuing, already running, failed): the
   * sweeper's heartbeat. A sweep of a large backlog spans many invocations and hours, so the totals
   * above, published once per whole sweep, cannot tell "alive" from "stopped".
   */
  sweepInvocations: 'SweepInvocations',
  /**
   * 1 when a real sweep of the configured scope (SweepScope.configured) covered every schedule in it,
   * else 0: what the sweep-not-completing alarm ("no sweep covered the whole account") watches.
   */
  sweepsCompleted: 'SweepsCompleted',
} as const;

/**
 * What a sweep covered: the scope the function is configured for (SWEEP_GROUPS, every name), or a
 * narrower one a manual request asked for (other groups, or a name prefix). A narrowed sweep says
 * nothing about the rest of the account, so it never counts as completed.
 */
export const SweepScope = {
  configured: 'configured',
  narrowed: 'narrowed',
} as const;
export type SweepScope = (typeof SweepScope)[keyof typeof SweepScope];

/**
 * The scope a request gives a sweep: configured unless it names a name prefix, or groups other than
 * the configured ones (the same names in any order are the configured scope).
 */
export function scopeOf(
  request: { groups?: readonly string[]; namePrefix?: string },
  configuredGroups: readonly string[],
): SweepScope {
  if (request.namePrefix !== undefined) return SweepScope.narrowed;
  if (request.groups === undefined) return SweepScope.configured;
  const configured = new Set(configuredGroups);
  const same =
    request.groups.length === configured.size && request.groups.every((group) => configured.has(group));
  return same ? SweepScope.configured : SweepScope.narrowed;
}

export const SCHEDULE_GROUP_DIMENSION = 'ScheduleGroup';

/**
 * The datums for one sweep: none for a dry run. ScheduleCount appears only where the sweep saw every
 * schedule it counts: a count cut short would under-report and silence the quota alarms.
 * SweepsCompleted is 1 only for a complete sweep of the configured scope.
 */
export function buildSweepDatums(
  summary: SweepSummary,
  timestamp: Date,
  scope: SweepScope = SweepScope.narrowed,
): MetricDatum[] {
  if (summary.dryRun) return [];
  const datums: MetricDatum[] = [];
  const { total, byGroup } = summary.scheduleCounts;
  if (total !== undefined) datums.push(datum(SweepMetric.scheduleCount, total, 'Count', timestamp));
  for (const [group, count] of Object.entries(byGroup)) {
    datums.push(
      datum(SweepMetric.scheduleCount, count, 'Count', timestamp, [
        { Name: SCHEDULE_GROUP_DIMENSION, Value: group },
      ]),
    );
  }
  datums.push(
    datum(SweepMetric.finishedSchedulesFound, summary.finished, 'Count', timestamp),
    datum(SweepMetric.schedulesDeleted, summary.deleted, 'Count', timestamp),
    datum(SweepMetric.stuckSchedules, summary.stuck, 'Count', timestamp),
    datum(SweepMetric.skippedSchedules, summary.skippedTotal, 'Count', timestamp),
    // A failed lookup can hide a finished schedule as surely as a failed delete: both count.
    datum(SweepMetric.deleteFailures, summary.failed, 'Count', timestamp),
    datum(SweepMetric.protectedSchedules, summary.protected, 'Count', timestamp),
    datum(SweepMetric.kmsAccessDenied, summary.skipped.kmsAccessDenied ?? 0, 'Count', timestamp),
    datum(SweepMetric.cloudFormationOwned, summary.skipped.cloudFormationOwned ?? 0, 'Count', timestamp),
    datum(SweepMetric.ownershipUnknown, summary.skipped.ownershipUnknown ?? 0, 'Count', timestamp),
    datum(SweepMetric.sweepDurationSeconds, summary.durationSeconds, 'Seconds', timestamp),
    datum(
      SweepMetric.sweepsCompleted,
      summary.complete && scope === SweepScope.configured ? 1 : 0,
      'Count',
      timestamp,
    ),
  );
  return datums;
}

/** Publishes one heartbeat for this invocation. Never throws. */
export const publishSweepHeartbeat = (
  deps: { cloudwatch: CloudWatchClient; clock: () => Date; log: Logger },
  namespace: string,
): Promise<void> => publishCountQuietly(deps, namespace, SweepMetric.sweepInvocations);

/**
 * Publishes the sweep's metrics (none for a dry run; `scope` as buildSweepDatums, narrowed unless
 * said). Never throws: a metrics outage must not hide the sweep's own result. False when it failed.
 */
export async function publishSweepMetrics(
  deps: { cloudwatch: CloudWatchClient; clock: () => Date; log: Logger },
  namespace: string,
  summary: SweepSummary,
  scope: SweepScope = SweepScope.narrowed,
): Promise<boolean> {
  const datums = buildSweepDatums(summary, deps.clock(), scope);
  if (datums.length === 0) return true;
  try {
    await publishMetrics(deps.cloudwatch, namespace, datums);
    return true;
  } catch (error) {
    deps.log.error('publishing sweep metrics failed', { namespace, error: safeError(error) });
    return false;
  }
}
