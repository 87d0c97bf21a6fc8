// One census carried across as many Lambda invocations as it needs. A run takes the census lease,
// lists until the deadline nears, then hands its NextToken and exact counters to a fresh invocation
// of its own function; the invocation that lists the last page publishes the counts and gives the
// lease back. While the lease is held, scheduled ticks do nothing, so two censuses never interleave.
//
// The lease stages are the sweep's (src/state/lifecycle.ts): take the lease or move a continuation's
// run onto this invocation, count, then either release (complete), or renew and hand on. A refused
// lease write stops the census: it publishes nothing (status superseded).
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.ts';
import { safeError } from '../redact.ts';
import type { LeaseStore } from '../state/lease.ts';
import {
  acquireRun,
  alreadyRunning,
  continueRun,
  type LeaseHold,
  type ReleaseOptions,
  releaseRun,
  renewForHandOff,
} from '../state/lifecycle.ts';
import {
  type CensusContinuing,
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
  const { lease } = deps;
  const carried = input.continuation;
  if (!lease) {
    if (carried)
      throw new Error('A census continuation needs the state table (CENSUS_STATE_TABLE) for its lease');
    // Without a lease nothing could keep a second census out while this one hands on, so it lists
    // to the end in this invocation, as a census always did.
    const { shouldStop: _unused, ...options } = input.options;
    return { ...(await census(deps, options)), invocation: 1 };
  }

  const claim = await claimCensus(deps, lease, input);
  if (claim.kind === 'result') return claim.result;
  const { hold } = claim;
  const { runId, invocation } = hold;

  let outcome: Awaited<ReturnType<typeof census>>;
  try {
    outcome = await census(deps, {
      ...input.options,
      ...(carried ? { resume: { nextToken: carried.nextToken, progress: carried.progress } } : {}),
    });
  } catch (error) {
    // The census has logged the failure and published CensusFailures; the next tick starts over.
    await releaseRun(lease, hold, releaseOptions(deps.log));
    throw error;
  }
  if (outcome.status === CensusStatus.complete) {
    await releaseRun(lease, hold, releaseOptions(deps.log));
    return { ...outcome, runId, invocation };
  }
  return handOnCensus(deps, lease, input, hold, outcome);
}

/** What claimCensus came to: the hold this invocation now has, or the run's result already. */
type CensusClaim = { kind: 'held'; hold: LeaseHold } | { kind: 'result'; result: CensusRunResult };

/**
 * Takes the census lease (a new run) or moves it on to this invocation (a continuation). Each
 * invocation writes its own token, so a retry of its own write after a lost answer is recognised.
 */
async function claimCensus(
  deps: CensusRunDeps,
  lease: LeaseStore,
  input: CensusRunInput,
): Promise<CensusClaim> {
  const { clock, log } = deps;
  const carried = input.continuation;
  if (carried) {
    const { runId, invocation } = carried;
    const claim = await continueRun(lease, carried, clock(), input.leaseMs);
    if (claim.kind === 'unknown') {
      log.error('renewing the census lease failed; no counts published, the next scheduled run starts over', {
        runId,
        invocation,
        error: safeError(claim.error),
      });
      await publishCensusFailure(deps, input.options.namespace);
      await releaseRun(lease, claim.hold, { ...releaseOptions(log), orInvocation: invocation - 1 });
      const listedSoFar = Object.values(carried.progress.groups)
        .flatMap((states) => Object.values(states))
        .reduce((sum, count) => sum + count, 0);
      const reason = 'renewing the census lease failed';
      return {
        kind: 'result',
        result: { status: CensusRunStatus.abandoned, runId, invocation, reason, listedSoFar },
      };
    }
    if (claim.kind !== 'held') {
      log.warn('census continuation superseded: its run no longer holds the lease', { runId, invocation });
      return { kind: 'result', result: { status: CensusRunStatus.superseded, runId, invocation } };
    }
    return claim;
  }
  const candidate = (deps.newRunId ?? randomUUID)();
  let claim: Awaited<ReturnType<typeof acquireRun>>;
  try {
    claim = await acquireRun(lease, candidate, clock(), input.leaseMs, releaseOptions(log));
  } catch (error) {
    log.error('taking the census lease failed; nothing was listed', {
      runId: candidate,
      error: safeError(error),
    });
    throw error;
  }
  if (claim.kind === 'held') return claim;
  if (claim.kind !== 'alreadyRunning') throw new Error(`a new census cannot be ${claim.kind}`);
  return { kind: 'result', result: alreadyRunning(claim, 'census', log) };
}

/**
 * Renews the lease and queues the next invocation with the census's NextToken and counters. A
 * census that cannot be carried on is abandoned; a refused renew means another run holds the lease.
 */
async function handOnCensus(
  deps: CensusRunDeps,
  lease: LeaseStore,
  input: CensusRunInput,
  hold: LeaseHold,
  outcome: CensusContinuing,
): Promise<CensusRunResult> {
  const { clock, log } = deps;
  const { runId, invocation } = hold;
  if (!deps.handOff)
    return abandonCensus(deps, lease, input, hold, outcome, 'no function to hand the census on to');
  if (invocation + 1 > MAX_INVOCATIONS) {
    return abandonCensus(deps, lease, input, hold, outcome, `already ${invocation} invocations`);
  }
  const continuation: CensusContinuation = {
    runId,
    invocation: invocation + 1,
    startedAt: input.continuation?.startedAt ?? clock().toISOString(),
    nextToken: outcome.nextToken,
    progress: outcome.progress,
  };
  let renewed: Awaited<ReturnType<typeof renewForHandOff>>;
  try {
    renewed = await renewForHandOff(lease, hold, clock(), input.leaseMs);
  } catch (error) {
    const reason = 'renewing the census lease before its hand-off failed';
    return abandonCensus(deps, lease, input, hold, outcome, reason, error);
  }
  if (renewed === 'refused') {
    log.warn('census superseded before its hand-off: another run holds the lease', { runId, invocation });
    return { status: CensusRunStatus.superseded, runId, invocation };
  }
  try {
    await deps.handOff({ continuation });
  } catch (error) {
    return abandonCensus(deps, lease, input, hold, outcome, 'handing the census on failed', error);
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

/** Ends a census that cannot go on: CensusFailures = 1, no counts, the lease freed, the reason logged. */
async function abandonCensus(
  deps: CensusRunDeps,
  lease: LeaseStore,
  input: CensusRunInput,
  hold: LeaseHold,
  outcome: CensusContinuing,
  reason: string,
  error?: unknown,
): Promise<CensusRunResult> {
  const { runId, invocation } = hold;
  deps.log.error('the census cannot go on; no counts published, the next scheduled run starts over', {
    runId,
    invocation,
    reason,
    listedSoFar: outcome.listedSoFar,
    ...(error === undefined ? {} : { error: safeError(error) }),
  });
  await publishCensusFailure(deps, input.options.namespace);
  await releaseRun(lease, hold, releaseOptions(deps.log));
  return { status: CensusRunStatus.abandoned, runId, invocation, reason, listedSoFar: outcome.listedSoFar };
}

function releaseOptions(log: Logger): ReleaseOptions {
  return { log, subject: 'census' };
}
