// The sweep Lambda: validates the invoke payload, builds the clients once per container, runs the
// sweep with the configured defaults and any manual overrides, and returns the JSON summary.
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import { createCloudWatchClient, createSchedulerClient } from '../aws/clients.ts';
import { createLogger, type Logger } from '../log.ts';
import { readSweepConfig, type SweepConfig } from '../sweep/config.ts';
import { parseSweepPayload } from '../sweep/payload.ts';
import { PAGE_SIZE, type SweepSummary, sweep } from '../sweep/sweep.ts';

export interface SweepHandlerDeps {
  scheduler: SchedulerClient;
  cloudwatch: CloudWatchClient;
  config: SweepConfig;
  clock?: () => Date;
  log?: Logger;
}

/** The part of the Lambda context the sweep uses. */
export interface SweepInvocationContext {
  getRemainingTimeInMillis?: () => number;
}

/** Time kept in hand at the deadline besides draining the in-flight pages, for metrics and the summary. */
const DEADLINE_MARGIN_MS = 30_000;

export function createSweepHandler(deps: SweepHandlerDeps) {
  const log = deps.log ?? createLogger();
  const clock = deps.clock ?? (() => new Date());
  const { config } = deps;
  // When the deadline nears, stop listing early enough for the two pages already listed to finish.
  const slowest = Math.min(config.budgets.get, config.budgets.delete);
  const stopMarginMs = DEADLINE_MARGIN_MS + (2 * PAGE_SIZE * 1000) / slowest;

  return async (event: unknown, context?: SweepInvocationContext): Promise<SweepSummary> => {
    // Before any AWS call: a bad payload changes nothing.
    const request = parseSweepPayload(event);
    const remaining = context?.getRemainingTimeInMillis;
    const summary = await sweep(
      { scheduler: deps.scheduler, cloudwatch: deps.cloudwatch, clock, log },
      {
        dryRun: request.dryRun ?? false,
        groups: request.groups ?? config.groups,
        ...(request.namePrefix === undefined ? {} : { namePrefix: request.namePrefix }),
        ...(request.maxDeletes === undefined ? {} : { maxDeletes: request.maxDeletes }),
        graceMinutes: request.graceMinutes ?? config.graceMinutes,
        keepDisabled: request.keepDisabled ?? config.keepDisabled,
        budgets: config.budgets,
        concurrency: config.concurrency,
        namespace: config.namespace,
        ...(remaining ? { shouldStop: () => remaining() < stopMarginMs } : {}),
      },
    );
    log.info('sweep finished', { summary });
    return summary;
  };
}

let containerHandler: ReturnType<typeof createSweepHandler> | undefined;

export const handler = (event: unknown, context?: SweepInvocationContext): Promise<SweepSummary> => {
  // Config and clients once per container. The SDK must not retry behind the sweep's own budget.
  containerHandler ??= createSweepHandler({
    scheduler: createSchedulerClient({ maxAttempts: 1 }),
    cloudwatch: createCloudWatchClient(),
    config: readSweepConfig(),
  });
  return containerHandler(event, context);
};
