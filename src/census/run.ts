// One census carried across as many Lambda invocations as it needs. A run takes the census lease,
// lists until the deadline nears, then hands its NextToken and exact counters to a fresh invocation
// of its own function; the invocation that lists the last page publishes the counts and gives the
// lease back. While the lease is held, scheduled ticks do nothing, so two censuses never interleave.
import { randomUUID } from 'node:crypto';
import { safeError } from '../redact.ts';
import type { LeaseStore } from '../state/lease.ts';
import {
  type CensusDeps,
  type CensusOptions,
  CensusStatus,
  type CensusSummary,
  census,
  publishCensusFailure,
} from './census.ts';
import { type CensusContinuation, MAX_INVOCATIONS } from './payload.ts';

/** The census's own item in the state table, apart from the sweep's. */
export const CENSUS_LEASE_KEY = 'lease#census';

export interface CensusRunDeps extends CensusDeps {
  /** The census lease. Without it: one invocation, no hand-off. */
  lease?: LeaseStore;
  /** Starts a fresh invocation with this payload without waiting for it (an async self-invoke). */
  handOff?: (payload: { continuation: CensusContinuation }) => Promise<void>;
  newRunId?: () => string;
}

export interface CensusRunInput {
  options: Omit<CensusOptions, 'resume'>;
  /** Present when this invocation continues a run. */
  continuation?: CensusContinuation;
  /** How long the lease holds: longer than one invocation plus the hand-off. */
  leaseMs: number;
}

export const CensusRunStatus = {
  /** This invocation listed the last page and published the counts. */
  complete: CensusStatus.complete,
  /** Handed on to a fresh invocation; nothing is published until the census completes. */
  continuing: CensusStatus.continuing,
  /** Another run holds the lease: nothing was listed. */
  alreadyRunning: 'alreadyRunning',
  /** This continuation's run lost the lease (or another copy of it runs): nothing more was listed. */
  superseded: 'superseded',
  /** The census could not be carried on; it published CensusFailures = 1 and no counts. */
  abandoned: 'abandoned',
} as const;

export type CensusRunResult =
  | (CensusSummary & { runId?: string; invocation: number })
  | {
      status: typeof CensusRunStatus.continuing;
      runId: string;
      invocation: number;
      /** Schedules counted so far: progress, not a count. */
      listedSoFar: number;
      pages: number;
    }
  | { status: typeof CensusRunStatus.alreadyRunning; holder: string | undefined; leaseUntil?: string }
  | { status: typeof CensusRunStatus.superseded; runId: string; invocation: number }
  | {
      status: typeof CensusRunStatus.abandoned;
      runId: string;
      invocation: number;
      reason: string;
      listedSoFar: number;
    };

export async function runCensus(deps: CensusRunDeps, input: CensusRunInput): Promise<CensusRunResult> {
  const { clock, log, lease } = deps;
  const carried = input.continuation;
  const invocation = carried?.invocation ?? 1;

  if (!lease) {
    if (carried)
      throw new Error('A census continuation needs the state table (CENSUS_STATE_TABLE) for its lease');
    // Without a lease nothing could keep a second census out while this one hands on, so it lists
    // to the end in this invocation, as a census always did.
    const { shouldStop: _unused, ...options } = input.options;
    return { ...(await census(deps, options)), invocation };
  }

  const held = await takeCensusLease(deps, lease, input);
  if ('status' in held) return held;
  const { runId, token } = held;

  let outcome: Awaited<ReturnType<typeof census>>;
  try {
    outcome = await census(deps, {
      ...input.options,
      ...(carried ? { resume: { nextToken: carried.nextToken, progress: carried.progress } } : {}),
    });
  } catch (error) {
    // The census has logged the failure and published CensusFailures; the next tick starts over.
    await release(deps, lease, runId, token);
    throw error;
  }

  if (outcome.status === CensusStatus.complete) {
    await release(deps, lease, runId, token);
    return { ...outcome, runId, invocation };
  }

  const abandon = async (reason: string, error?: unknown) => {
    log.error('the census cannot go on; no counts published, the next scheduled run starts over', {
      runId,
      invocation,
      reason,
      listedSoFar: outcome.listedSoFar,
      ...(error === undefined ? {} : { error: safeError(error) }),
    });
    await publishCensusFailure(deps, input.options.namespace);
    await release(deps, lease, runId, token);
    return {
      status: CensusRunStatus.abandoned,
      runId,
      invocation,
      reason,
      listedSoFar: outcome.listedSoFar,
    } as const;
  };

  if (!deps.handOff) return abandon('no function to hand the census on to');
  if (invocation + 1 > MAX_INVOCATIONS) return abandon(`already ${invocation} invocations`);

  const continuation: CensusContinuation = {
    runId,
    invocation: invocation + 1,
    startedAt: carried?.startedAt ?? clock().toISOString(),
    nextToken: outcome.nextToken,
    progress: outcome.progress,
  };
  let renewed: boolean;
  try {
    renewed = await lease.renew(runId, clock(), input.leaseMs, { from: invocation, to: invocation, token });
  } catch (error) {
    return abandon('renewing the census lease before its hand-off failed', error);
  }
  if (!renewed) {
    log.warn('census superseded before its hand-off: another run holds the lease', { runId, invocation });
    return { status: CensusRunStatus.superseded, runId, invocation };
  }
  try {
    await deps.handOff({ continuation });
  } catch (error) {
    return abandon('handing the census on failed', error);
  }
  log.info('census continues in a fresh invocation', {
    runId,
    invocation: continuation.invocation,
    listedSoFar: outcome.listedSoFar,
    pages: outcome.progress.pages,
  });
  return {
    status: CensusRunStatus.continuing,
    runId,
    invocation,
    listedSoFar: outcome.listedSoFar,
    pages: outcome.progress.pages,
  };
}

/**
 * Takes the census lease (a new run) or moves it on to this invocation (a continuation). Each
 * invocation writes its own token, so a retry of its own write after a lost answer is recognised.
 */
async function takeCensusLease(
  deps: CensusRunDeps,
  lease: LeaseStore,
  input: CensusRunInput,
): Promise<{ runId: string; token: string } | CensusRunResult> {
  const { clock, log } = deps;
  const carried = input.continuation;
  if (carried) {
    const { runId, invocation } = carried;
    const token = randomUUID();
    // Fenced on the invocation number: a second delivery of this continuation finds it taken.
    const fence = { from: invocation - 1, to: invocation, token };
    let renewed: boolean;
    try {
      renewed = await lease.renew(runId, clock(), input.leaseMs, fence);
    } catch (error) {
      log.error('renewing the census lease failed; no counts published, the next scheduled run starts over', {
        runId,
        invocation,
        error: safeError(error),
      });
      await publishCensusFailure(deps, input.options.namespace);
      await release(deps, lease, runId, token, invocation - 1);
      return {
        status: CensusRunStatus.abandoned,
        runId,
        invocation,
        reason: 'renewing the census lease failed',
        listedSoFar: Object.values(carried.progress.groups)
          .flatMap((states) => Object.values(states))
          .reduce((sum, count) => sum + count, 0),
      };
    }
    if (!renewed) {
      log.warn('census continuation superseded: its run no longer holds the lease', { runId, invocation });
      return { status: CensusRunStatus.superseded, runId, invocation };
    }
    return { runId, token };
  }
  const candidate = (deps.newRunId ?? randomUUID)();
  let acquired: Awaited<ReturnType<LeaseStore['acquire']>>;
  try {
    acquired = await lease.acquire(candidate, clock(), input.leaseMs);
  } catch (error) {
    // The acquire may have applied with its answer lost: give back whatever it took.
    log.error('taking the census lease failed; nothing was listed', {
      runId: candidate,
      error: safeError(error),
    });
    await release(deps, lease, candidate, candidate);
    throw error;
  }
  if (!acquired.acquired) {
    log.info('a census is already running; this trigger does nothing', {
      holder: acquired.holder,
      leaseUntil: acquired.leaseUntil,
    });
    return {
      status: CensusRunStatus.alreadyRunning,
      holder: acquired.holder,
      ...(acquired.leaseUntil ? { leaseUntil: acquired.leaseUntil.toISOString() } : {}),
    };
  }
  return { runId: candidate, token: candidate };
}

/** Frees the lease if this invocation's write is the latest on it (or the run still stands at `orInvocation`). */
async function release(
  deps: CensusRunDeps,
  lease: LeaseStore,
  runId: string,
  token: string,
  orInvocation?: number,
): Promise<void> {
  try {
    await lease.release(runId, { token, ...(orInvocation === undefined ? {} : { orInvocation }) });
  } catch (error) {
    deps.log.error('releasing the census lease failed; it expires by itself', {
      runId,
      error: safeError(error),
    });
  }
}
