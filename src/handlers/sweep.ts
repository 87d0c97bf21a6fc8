// The sweep Lambda: validates the invoke payload, builds the clients once per container, and runs the
// sweep with the configured defaults and any manual overrides. With a state table, a sweep that
// cannot finish before the deadline hands itself on to a fresh invocation (see src/sweep/run.ts).
import { setMaxListeners } from 'node:events';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import {
  type ClientOptions,
  createCloudFormationClient,
  createCloudWatchClient,
  createDynamoDbClient,
  createKmsClient,
  createLambdaClient,
  createSchedulerClient,
} from '../aws/clients.ts';
import { HAND_OFF_LEASE_MS, handOffTo, type InvocationContext, invocationLeaseMs } from '../aws/hand-off.ts';
import { InputError } from '../errors.ts';
import { addLambdaContext, createLogger, type FunctionLogger, type Logger } from '../log.ts';
import {
  createOwnershipLookup,
  loadOwnership,
  type OwnershipLoadResult,
  readOwnershipIndex,
} from '../ownership/cloudformation.ts';
import { createProtection } from '../protect/protection.ts';
import { safeError } from '../redact.ts';
import { createDynamoLeaseStore } from '../state/lease.ts';
import { createDynamoMemory } from '../state/memory.ts';
import { capacityShortfall, lambdaMemoryMb } from '../sweep/capacity.ts';
import { CloudFormationOwned, readSweepConfig, type SweepConfig } from '../sweep/config.ts';
import { publishSweepHeartbeat, scopeOf } from '../sweep/metrics.ts';
import { parseSweepEvent, type SweepContinuation } from '../sweep/payload.ts';
import { RunStatus, runSweep, type SweepRunResult, type SweepState } from '../sweep/run.ts';
import { PAGE_SIZE } from '../sweep/sweep.ts';
import { tableArnFor } from '../tombstone/origin.ts';
import { createDynamoTombstoneStore } from '../tombstone/store.ts';

export interface SweepHandlerDeps {
  scheduler: SchedulerClient;
  cloudwatch: CloudWatchClient;
  config: SweepConfig;
  /** For the state table and the tombstone table; needed when either is configured. */
  dynamodb?: DynamoDBClient;
  /** For the tombstones' MACs (GenerateMac); needed when config.tombstoneTable is set. */
  kms?: KMSClient;
  /** For the hand-off to a fresh invocation; needed only when config.stateTable is set. */
  lambda?: LambdaClient;
  /**
   * For CloudFormation ownership (src/ownership/cloudformation.ts), read when
   * config.cloudFormationOwned is `keep`; the deployed function always has it. Without it,
   * ownership is not checked.
   */
  cloudformation?: CloudFormationClient;
  /** The function to hand on to when the context does not name it (Lambda sets AWS_LAMBDA_FUNCTION_NAME). */
  functionName?: string;
  clock?: () => Date;
  /** See SweepDeps.elapsed (src/sweep/model.ts): how the delete gate ages its reads. */
  elapsed?: () => number;
  log?: Logger;
  newRunId?: () => string;
  /** The function's memory size (MB): its budgets are checked against the CPU share it buys. */
  memoryMb?: number;
}

/**
 * What the function answers: the run's summary without `progress`, the per-group bookkeeping a
 * continuation carries to the next invocation (seen, removed, fromFirstPage, listed, unprocessed,
 * kept), and without `tallies`, the raw counters behind `producers` and `cloudFormationOwned`.
 * Out of that context they read wrongly ("listed": false for a group that was listed), and they are
 * no part of the documented summary (docs/sweep.md: Manual runs and backfill).
 */
export type SweepResponse = DistributiveOmit<SweepRunResult, 'progress' | 'tallies'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export function sweepResponse(result: SweepRunResult): SweepResponse {
  if (!('progress' in result)) return result;
  const { progress: _progress, tallies: _tallies, ...response } = result;
  return response;
}

/** The part of the Lambda context this function uses. */
export type SweepInvocationContext = InvocationContext & {
  /** arn:<partition>:lambda:<region>:<account>:function:<name>: the tombstone table's account and Region. */
  invokedFunctionArn?: string;
};

export function createSweepHandler(deps: SweepHandlerDeps) {
  const log = deps.log ?? createLogger();
  const clock = deps.clock ?? (() => new Date());
  const { config } = deps;
  // Once per container: budgets this memory size's CPU share cannot send are a configuration error
  // that shows only as a slow sweep, so it is said at cold start.
  const shortfall = capacityShortfall(config.budgets, deps.memoryMb);
  if (shortfall) {
    log.warn(
      "sweep budgets ask for more requests per second than this function's memory size gives CPU for; " +
        'the sweep will run slower than its budgets (raise the memory size, or lower the budgets)',
      { ...shortfall, budgets: config.budgets },
    );
  }
  // Stop listing early enough to drain the pages already listed at the slowest budget, then keep the
  // safety margin in hand to flush memory, publish or hand on, and return the summary.
  const slowest = Math.min(config.budgets.get, config.budgets.delete);
  const stopMarginMs = config.safetyMarginSeconds * 1000 + (2 * PAGE_SIZE * 1000) / slowest;

  return async (event: unknown, context?: SweepInvocationContext): Promise<SweepResponse> => {
    // Before any AWS call: a bad payload changes nothing.
    const parsed = parseSweepEvent(event);
    const request = parsed.kind === 'continuation' ? parsed.continuation.request : parsed.request;
    if (!request.dryRun && config.stateTable === undefined) {
      // The state table holds the names restore --keep protects: a sweep that deletes without it
      // would silently drop those protections.
      throw new InputError(
        'SWEEP_STATE_TABLE',
        'the name of the state table, which holds the names restore --keep protects: a sweep that deletes needs it, only a dry run may go without',
      );
    }
    // The request's override, else the function's setting: `keep` reads ownership, `sweep` does not.
    const cloudFormationOwned = request.cloudFormationOwned ?? config.cloudFormationOwned;
    const ownershipLoader = ownershipLoaderFor(deps, cloudFormationOwned, clock, log);
    const remaining = context?.getRemainingTimeInMillis;
    const state = stateFor(deps, clock);
    const functionName = context?.functionName ?? deps.functionName;
    const { dynamodb } = deps;
    // One per invocation: its writes and outcomes are flushed before the invocation ends.
    // The table's identity, which every tombstone's MAC covers: in the account and Region of the MAC
    // key's ARN, or, for an alias name (the stack's), of this function's own ARN.
    const identity = config.tombstoneMacKey?.startsWith('arn:')
      ? config.tombstoneMacKey
      : context?.invokedFunctionArn;
    if (!request.dryRun && config.tombstoneTable && identity === undefined) {
      // Outside Lambda (sls invoke local) there is no function ARN: without the account, no MAC
      // could name the table, so nothing is deleted.
      throw new InputError(
        'SWEEP_TOMBSTONE_MAC_KEY',
        "the key's ARN (arn:aws:kms:<region>:<account>:key/<id>) when the function runs outside Lambda: an alias name takes the account from the function's own ARN, which only Lambda's context gives; only a dry run may go without",
      );
    }
    const tombstones =
      config.tombstoneTable && config.tombstoneMacKey && identity && dynamodb && deps.kms
        ? createDynamoTombstoneStore(dynamodb, {
            tableName: config.tombstoneTable,
            tableArn: tableArnFor(identity, config.tombstoneTable),
            mac: { kms: deps.kms, keyId: config.tombstoneMacKey },
            clock,
            retentionDays: config.tombstoneRetentionDays,
            onError: (error, receipt) =>
              log.warn('recording a delete outcome on its tombstone failed; it stays pending', {
                tombstone: receipt.key,
                error: safeError(error),
              }),
          })
        : undefined;
    const protection = createProtection({
      scheduler: deps.scheduler,
      prefixes: [...config.protectPrefixes, ...(request.protectPrefixes ?? [])],
      ...(config.stateTable && dynamodb ? { state: { dynamodb, tableName: config.stateTable } } : {}),
      log,
      ...(deps.elapsed ? { now: deps.elapsed } : {}),
    });
    // Set last before the try whose finally clears it: a timer set before a refusal above would keep
    // the process alive until the deadline (sls invoke local waited out its 15 minutes).
    const hardStop = deadline(remaining, config.safetyMarginSeconds * 1000, log);
    try {
      const result = await runSweep(
        {
          scheduler: deps.scheduler,
          cloudwatch: deps.cloudwatch,
          clock,
          ...(deps.elapsed ? { elapsed: deps.elapsed } : {}),
          log,
          ...(tombstones ? { tombstones } : {}),
          protection,
          ...(state ? { state } : {}),
          ...(deps.lambda && functionName
            ? { handOff: handOffTo<{ continuation: SweepContinuation }>(deps.lambda, functionName) }
            : {}),
          ...(deps.newRunId ? { newRunId: deps.newRunId } : {}),
          ...(ownershipLoader ? { loadOwnership: ownershipLoader } : {}),
        },
        {
          options: {
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
            ...(hardStop ? { signal: hardStop.signal } : {}),
          },
          request,
          scope: scopeOf(request, config.groups),
          ...(parsed.kind === 'continuation' ? { continuation: parsed.continuation } : {}),
          // Held until soon after this invocation's deadline: a killed invocation's lease expires
          // by itself, and the next run resumes from its checkpoint (src/sweep/checkpoint.ts).
          leaseMs: invocationLeaseMs(context),
          handOffLeaseMs: HAND_OFF_LEASE_MS,
          recall: config.incremental && request.fullLookup !== true,
          remember: config.incremental,
          cloudFormationOwned,
        },
      );
      if (result.status === RunStatus.finished)
        log.info('sweep finished', { summary: sweepResponse(result) });
      return sweepResponse(result);
    } finally {
      hardStop?.clear();
      // Whatever this invocation came to, even an error, it says the sweeper is alive; a dry run
      // publishes no sweep metric at all, this one included.
      if (request.dryRun !== true) {
        await publishSweepHeartbeat({ cloudwatch: deps.cloudwatch, clock, log }, config.namespace);
      }
    }
  };
}

/**
 * The hard stop: a signal that aborts once only `marginMs` of the invocation is left, the time kept
 * in hand to flush memory, renew the lease, hand on or publish, and return. Whatever is still in
 * flight then is aborted, so the draining pages can never hold the invocation past its deadline.
 */
function deadline(
  remaining: (() => number) | undefined,
  marginMs: number,
  log: Logger,
): { signal: AbortSignal; clear: () => void } | undefined {
  if (!remaining) return undefined;
  const controller = new AbortController();
  // Every request and budget wait in flight listens to this one signal and stops listening when it
  // ends, so the count is bounded by the sweep's concurrency, not a leak: no warning for it.
  setMaxListeners(0, controller.signal);
  const timer = setTimeout(
    () => {
      log.warn(
        'the deadline is near: requests in flight are aborted, unfinished schedules left for the continuation',
        {
          remainingMs: remaining(),
        },
      );
      controller.abort(new DeadlineError());
    },
    Math.max(0, remaining() - marginMs),
  );
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

/** The reason the hard stop gives aborted requests. */
class DeadlineError extends Error {
  override name = 'AbortError';
  constructor() {
    super('the invocation is near its deadline');
  }
}

/**
 * Reads CloudFormation ownership for an invocation: with the state table, its cached index (read
 * from CloudFormation at most hourly); without one (a dry run only), from CloudFormation each time.
 * Undefined when the run sweeps them (SWEEP_CLOUDFORMATION_OWNED or the request's
 * cloudFormationOwned is `sweep`: nothing is read) or no client is given.
 */
function ownershipLoaderFor(
  deps: SweepHandlerDeps,
  cloudFormationOwned: CloudFormationOwned,
  clock: () => Date,
  log: Logger,
): (() => Promise<OwnershipLoadResult>) | undefined {
  const { cloudformation, dynamodb, config } = deps;
  if (cloudFormationOwned === CloudFormationOwned.sweep || !cloudformation) return undefined;
  const table = config.stateTable;
  if (table !== undefined && dynamodb) {
    return () => loadOwnership({ cloudformation, dynamodb, table, clock, log });
  }
  return async () => {
    const index = await readOwnershipIndex({ cloudformation, clock, log });
    // Nothing read at all: every answer 'unknown', as loadOwnership gives.
    if (!index.complete && index.stacksRead === 0) {
      return { lookup: createOwnershipLookup(undefined), source: 'none' };
    }
    return { lookup: createOwnershipLookup(index), source: 'cloudformation' };
  };
}

function stateFor(deps: SweepHandlerDeps, clock: () => Date): SweepState | undefined {
  const table = deps.config.stateTable;
  if (table === undefined || !deps.dynamodb) return undefined;
  return {
    lease: createDynamoLeaseStore(deps.dynamodb, table),
    // One per invocation: its write queue is flushed before the invocation ends.
    memory: createDynamoMemory(deps.dynamodb, { tableName: table, clock }),
  };
}

/**
 * Sockets beside one per item in flight: the listing's one request (ListSchedules is a NextToken
 * chain) and the protection's group-tag reads, with room to spare, so neither makes a delete wait.
 */
export const SOCKETS_BESIDE_ITEMS = 4;

/**
 * The sweep's Scheduler client as deployed: one SDK attempt (the sweep's budgets own retries), the
 * lean request path for the hot operations (the SDK's endpoint rules, credentials and protocol
 * without its middleware stack, signed by aws4), a connection for every item in flight plus
 * SOCKETS_BESIDE_ITEMS (src/aws/undici-handler.ts), and the stack resolved once for the rest.
 * Tests pass the emulator's endpoint and keys in `options`.
 */
export function sweepSchedulerClient(config: SweepConfig, options: ClientOptions = {}): SchedulerClient {
  return createSchedulerClient({
    ...options,
    maxAttempts: 1,
    leanRequestPath: true,
    maxSockets: config.concurrency + SOCKETS_BESIDE_ITEMS,
    cacheMiddleware: true,
  });
}

let containerHandler: ReturnType<typeof createSweepHandler> | undefined;
let containerLog: FunctionLogger | undefined;

// Async, so a configuration error is a rejected promise, as Lambda and `sls invoke local` expect of
// a handler, not a synchronous throw (which `sls invoke local` prints and then never exits on).
export const handler = async (event: unknown, context?: SweepInvocationContext): Promise<SweepResponse> => {
  // Config and clients once per container. The SDK must not retry behind the sweep's own budget.
  containerLog ??= createLogger(undefined, { function: 'sweep' });
  addLambdaContext(containerLog, context);
  if (!containerHandler) {
    const config = readSweepConfig();
    const memoryMb = lambdaMemoryMb();
    containerHandler = createSweepHandler({
      log: containerLog,
      // The lean request path for the hot operations (see sweepSchedulerClient), a connection for
      // every item in flight, and the stack resolved once for the rest.
      scheduler: sweepSchedulerClient(config),
      cloudwatch: createCloudWatchClient(),
      config,
      // One SDK attempt: the ownership reader's own budget retries throttled answers.
      cloudformation: createCloudFormationClient({ maxAttempts: 1 }),
      // The hand-off makes one attempt: a retry of a call that was in fact queued would start a
      // second copy of the continuation (the lease's invocation fence stops it, but better not to).
      ...(config.stateTable ? { lambda: createLambdaClient({ maxAttempts: 1 }) } : {}),
      // The gate's tombstone writes, protected-name reads and MACs take the lean request path too.
      ...(config.stateTable || config.tombstoneTable
        ? { dynamodb: createDynamoDbClient({ leanRequestPath: true }) }
        : {}),
      ...(config.tombstoneTable ? { kms: createKmsClient({ leanRequestPath: true }) } : {}),
      ...(process.env.AWS_LAMBDA_FUNCTION_NAME ? { functionName: process.env.AWS_LAMBDA_FUNCTION_NAME } : {}),
      ...(memoryMb === undefined ? {} : { memoryMb }),
    });
  }
  return containerHandler(event, context);
};
