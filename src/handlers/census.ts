// Lambda entry point for the census: validates the payload, builds config and clients once per
// container, and runs the census. With a state table (CENSUS_STATE_TABLE), a census that cannot
// list the whole account before the deadline hands itself on to a fresh invocation (src/census/run.ts).
// Every invocation, whatever it comes to, publishes the CensusInvocations heartbeat.
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import {
  createCloudWatchClient,
  createDynamoDbClient,
  createLambdaClient,
  createSchedulerClient,
  createServiceQuotasClient,
} from '../aws/clients.ts';
import { handOffTo, type InvocationContext, leaseDurationMs } from '../aws/hand-off.ts';
import { publishCensusHeartbeat } from '../census/census.ts';
import { type CensusConfig, readCensusConfig } from '../census/config.ts';
import { type CensusContinuation, parseCensusEvent } from '../census/payload.ts';
import type { QuotaMemory } from '../census/quota.ts';
import { CENSUS_LEASE_KEY, type CensusRunResult, runCensus } from '../census/run.ts';
import { addLambdaContext, createLogger, type FunctionLogger, type Logger } from '../log.ts';
import { createDynamoLeaseStore } from '../state/lease.ts';

export interface CensusHandlerDeps {
  scheduler: SchedulerClient;
  serviceQuotas: ServiceQuotasClient;
  cloudwatch: CloudWatchClient;
  config: CensusConfig;
  /** For the census lease; needed only when config.stateTable is set. */
  dynamodb?: DynamoDBClient;
  /** For the hand-off to a fresh invocation; needed only when config.stateTable is set. */
  lambda?: LambdaClient;
  /** The function to hand on to when the context does not name it (Lambda sets AWS_LAMBDA_FUNCTION_NAME). */
  functionName?: string;
  clock?: () => Date;
  log?: Logger;
  quotaMemory?: QuotaMemory;
  newRunId?: () => string;
}

/** The part of the Lambda context this function uses. */
export type CensusInvocationContext = InvocationContext;

export function createCensusHandler(deps: CensusHandlerDeps) {
  const log = deps.log ?? createLogger(undefined, { function: 'census' });
  const clock = deps.clock ?? (() => new Date());
  const { config } = deps;
  const marginMs = config.safetyMarginSeconds * 1000;

  return async (event: unknown, context?: CensusInvocationContext): Promise<CensusRunResult> => {
    try {
      // Before any AWS call: a bad payload lists nothing and changes nothing.
      const parsed = parseCensusEvent(event);
      const remaining = context?.getRemainingTimeInMillis;
      const functionName = context?.functionName ?? deps.functionName;
      const lease =
        config.stateTable !== undefined && deps.dynamodb
          ? createDynamoLeaseStore(deps.dynamodb, config.stateTable, CENSUS_LEASE_KEY)
          : undefined;
      const result = await runCensus(
        {
          scheduler: deps.scheduler,
          serviceQuotas: deps.serviceQuotas,
          cloudwatch: deps.cloudwatch,
          clock,
          log,
          ...(deps.quotaMemory ? { quotaMemory: deps.quotaMemory } : {}),
          ...(lease ? { lease } : {}),
          ...(lease && deps.lambda && functionName
            ? { handOff: handOffTo<{ continuation: CensusContinuation }>(deps.lambda, functionName) }
            : {}),
          ...(deps.newRunId ? { newRunId: deps.newRunId } : {}),
        },
        {
          options: {
            namespace: config.namespace,
            fallbackQuota: config.fallbackQuota,
            listTps: config.listTps,
            groups: config.groups,
            ...(remaining ? { shouldStop: () => remaining() < marginMs } : {}),
          },
          ...(parsed.kind === 'continuation' ? { continuation: parsed.continuation } : {}),
          leaseMs: leaseDurationMs(context),
        },
      );
      return result;
    } finally {
      // Whatever this invocation came to, even an error, it says the census is alive.
      await publishCensusHeartbeat({ cloudwatch: deps.cloudwatch, clock, log }, config.namespace);
    }
  };
}

let containerHandler: ReturnType<typeof createCensusHandler> | undefined;
let containerLog: FunctionLogger | undefined;

// Async, so a configuration error is a rejected promise, as Lambda and `sls invoke local` expect of
// a handler, not a synchronous throw (which `sls invoke local` prints and then never exits on).
export const handler = async (
  event?: unknown,
  context?: CensusInvocationContext,
): Promise<CensusRunResult> => {
  // Config and clients once per container.
  containerLog ??= createLogger(undefined, { function: 'census' });
  addLambdaContext(containerLog, context);
  if (!containerHandler) {
    const config = readCensusConfig();
    containerHandler = createCensusHandler({
      log: containerLog,
      // maxAttempts 1: every ListSchedules attempt, retries included, goes through the census's own budget.
      scheduler: createSchedulerClient({ maxAttempts: 1 }),
      serviceQuotas: createServiceQuotasClient(),
      cloudwatch: createCloudWatchClient(),
      config,
      // One attempt for the hand-off: a retried Event invoke could queue the continuation twice.
      ...(config.stateTable
        ? { dynamodb: createDynamoDbClient(), lambda: createLambdaClient({ maxAttempts: 1 }) }
        : {}),
      ...(process.env.AWS_LAMBDA_FUNCTION_NAME ? { functionName: process.env.AWS_LAMBDA_FUNCTION_NAME } : {}),
    });
  }
  return containerHandler(event, context);
};
