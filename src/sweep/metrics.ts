// What a sweep reports to CloudWatch at its end, whether it completed or not. The metric names are a
// contract: the alarms and dashboards in resources/monitoring.yml depend on them.
import type { CloudWatchClient, MetricDatum } from '@aws-sdk/client-cloudwatch';
import type { Logger } from '../log.ts';
import { datum, publishCountQuietly, publishMetrics } from '../metrics/publish.ts';
import { safeError } from '../redact.ts';
import type { SweepSummary } from './sweep.ts';

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
  sweepDurationSeconds: 'SweepDurationSeconds',
  /**
   * One per invocation, whatever it came to (finished, continuing, already running, failed): the
   * sweeper's heartbeat. A sweep of a large backlog spans many invocations and hours, so the totals
   * above, published once per whole sweep, cannot tell "alive" from "stopped".
   */
  sweepInvocations: 'SweepInvocations',
  /** 1 when a whole sweep covered everything in its scope, else 0: what the not-completing alarm watches. */
  sweepsCompleted: 'SweepsCompleted',
} as const;

export const SCHEDULE_GROUP_DIMENSION = 'ScheduleGroup';

/**
 * The datums for one sweep. ScheduleCount appears only where the sweep saw every schedule it
 * counts: a count cut short would under-report and silence the quota alarms.
 */
export function buildSweepDatums(summary: SweepSummary, timestamp: Date): MetricDatum[] {
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
    datum(SweepMetric.sweepDurationSeconds, summary.durationSeconds, 'Seconds', timestamp),
    datum(SweepMetric.sweepsCompleted, summary.complete ? 1 : 0, 'Count', timestamp),
  );
  return datums;
}

/** Publishes one heartbeat for this invocation. Never throws. */
export const publishSweepHeartbeat = (
  deps: { cloudwatch: CloudWatchClient; clock: () => Date; log: Logger },
  namespace: string,
): Promise<void> => publishCountQuietly(deps, namespace, SweepMetric.sweepInvocations);

/** Publishes the sweep's metrics. Never throws: a metrics outage must not hide the sweep's own result. */
export async function publishSweepMetrics(
  deps: { cloudwatch: CloudWatchClient; clock: () => Date; log: Logger },
  namespace: string,
  summary: SweepSummary,
): Promise<boolean> {
  try {
    await publishMetrics(deps.cloudwatch, namespace, buildSweepDatums(summary, deps.clock()));
    return true;
  } catch (error) {
    deps.log.error('publishing sweep metrics failed', { namespace, error: safeError(error) });
    return false;
  }
}
