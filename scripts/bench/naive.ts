// The loop a typical cleanup script runs, kept as the benchmark's baseline: page through
// ListSchedules with the SDK paginator, then GetSchedule and DeleteSchedule one schedule at a time,
// with the SDK's default retries and no rate budget. The decision itself is the project's, so the
// comparison is about the request pattern only.
import {
  DeleteScheduleCommand,
  GetScheduleCommand,
  paginateListSchedules,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { decide } from '../../src/schedule/decide.ts';

export interface NaiveResult {
  /** Schedules looked up (each one GetSchedule). */
  inspected: number;
  deleted: number;
  /** Items whose lookup or deletion failed even after the SDK's retries. */
  failed: number;
  seconds: number;
  /** False when the time limit stopped the loop before the last page. */
  complete: boolean;
}

export async function naiveSweep(
  deps: { scheduler: SchedulerClient; clock: () => Date },
  options: { graceMinutes: number; maxSeconds?: number },
): Promise<NaiveResult> {
  const started = performance.now();
  const deadline =
    options.maxSeconds === undefined ? Number.POSITIVE_INFINITY : started + options.maxSeconds * 1000;
  const decideOptions = { graceMs: options.graceMinutes * 60_000, keepDisabled: false };
  const result: NaiveResult = { inspected: 0, deleted: 0, failed: 0, seconds: 0, complete: false };
  const finish = (complete: boolean) => {
    result.complete = complete;
    result.seconds = (performance.now() - started) / 1000;
    return result;
  };

  for await (const page of paginateListSchedules({ client: deps.scheduler, pageSize: 100 }, {})) {
    for (const summary of page.Schedules ?? []) {
      if (performance.now() >= deadline) return finish(false);
      const key = { Name: summary.Name, GroupName: summary.GroupName };
      try {
        const schedule = await deps.scheduler.send(new GetScheduleCommand(key));
        result.inspected += 1;
        if (decide(schedule, deps.clock(), decideOptions).outcome !== 'finished') continue;
        await deps.scheduler.send(new DeleteScheduleCommand(key));
        result.deleted += 1;
      } catch {
        // Scripts like this usually crash here; counting instead keeps the baseline's timing comparable.
        result.failed += 1;
      }
    }
  }
  return finish(true);
}
