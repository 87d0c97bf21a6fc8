// The request path's own cost, measured in the same run as the sweep it is set beside: GetSchedule
// alone, through the sweep's own Scheduler client (connection pool, lean path, undici handler) and a
// paced budget like the sweep's, with nothing else to do. What the sweep costs per request beyond it
// is at most its own work: deciding, tombstones and their DynamoDB requests, protection, logs, the
// gate (at most, since these requests share wake-ups more than the sweep's do).
import { GetScheduleCommand, ListSchedulesCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import pLimit from 'p-limit';
import { RequestBudget } from '../../src/aws/budget.ts';

export interface RequestPathFloor {
  /** GetSchedule calls made (the schedules left after the sweep, read round-robin). */
  requests: number;
  /** Of those, the ones answered with the schedule (the rest failed after the budget's retries). */
  answered: number;
  /** CPU of this process over them (user + system), in milliseconds per call. */
  cpuMsPerRequest: number;
  seconds: number;
}

export interface FloorOptions {
  /** GetSchedule requests to measure; fewer names than this are read more than once. */
  requests: number;
  /** The GetSchedule budget, requests per second (the emulator's cap, as the sweep's). */
  getTps: number;
  /** The ListSchedules budget, requests per second, for the pages the names come from. */
  listTps: number;
  /** Requests in flight (the sweep's concurrency). */
  concurrency: number;
}

/** Most ListSchedules pages read for names: the floor needs names, not the whole account. */
const MAX_PAGES = 20;

/**
 * Lists up to MAX_PAGES pages of the schedules still there (within a budget of `listTps`), then
 * sends `requests` GetSchedule for them at `concurrency` within a budget of `getTps`, timing only the
 * GetSchedule phase. Undefined when no schedule is left to read (a sweep of a population where every
 * schedule was finished). Run it after the sweep: the code it shares with the sweep is then as warm
 * as the sweep left it. Every call waits for its slot, so the budget's release ticks bunch these more
 * than the sweep's requests: the figure is a floor for a request's cost, not its share of a sweep's.
 */
export async function measureRequestPathFloor(
  scheduler: SchedulerClient,
  options: FloorOptions,
): Promise<RequestPathFloor | undefined> {
  const names: { GroupName: string; Name: string }[] = [];
  let nextToken: string | undefined;
  const list = new RequestBudget('ListSchedules', { ratePerSecond: options.listTps });
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const answer = await list.call(() =>
      scheduler.send(new ListSchedulesCommand({ MaxResults: 100, NextToken: nextToken })),
    );
    for (const schedule of answer.Schedules ?? []) {
      if (schedule.Name && schedule.GroupName)
        names.push({ GroupName: schedule.GroupName, Name: schedule.Name });
    }
    nextToken = answer.NextToken;
    if (!nextToken || names.length >= options.requests) break;
  }
  if (names.length === 0) return undefined;
  const budget = new RequestBudget('GetSchedule', { ratePerSecond: options.getTps });
  const limit = pLimit(options.concurrency);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let answered = 0;
  await Promise.all(
    Array.from({ length: options.requests }, (_, index) =>
      limit(async () => {
        const schedule = await budget
          .call(() => scheduler.send(new GetScheduleCommand(names[index % names.length]!)))
          .catch(() => undefined);
        if (schedule?.Arn) answered += 1;
      }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    requests: options.requests,
    answered,
    cpuMsPerRequest: (cpu.user + cpu.system) / 1000 / options.requests,
    seconds,
  };
}
