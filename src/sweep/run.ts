// One sweep carried across as many Lambda invocations as it needs. A run takes the lease, sweeps until
// the deadline nears, then hands its cursor and exact totals to a fresh invocation of its own function;
// the last invocation publishes the metrics of the whole sweep and gives the lease back.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.ts';
import { safeError } from '../redact.ts';
import type { LeaseStore } from '../state/lease.ts';
import type { ScheduleMemory } from '../state/memory.ts';
import { createIncrementalKnowledge } from './incremental.ts';
import { publishSweepMetrics } from './metrics.ts';
import { MAX_INVOCATIONS, type SweepContinuation, type SweepRequest } from './payload.ts';
import { StopReason, type SweepDeps, type SweepOptions, type SweepSummary, sweep } from './sweep.ts';

export interface SweepState {
  lease: LeaseStore;
  memory: ScheduleMemory;
}

export interface SweepRunDeps extends Omit<SweepDeps, 'knowledge'> {
  /** The state table. Without it: one invocation, no lease, no memory. */
  state?: SweepState;
  /** Starts a fresh invocation with this payload without waiting for it (an async self-invoke). */
  handOff?: (payload: { continuation: SweepContinuation }) => Promise<void>;
  newRunId?: () => string;
}

export interface SweepRunInput {
  /** The whole sweep's options, as the request and config give them (maxDeletes counts for the whole). */
  options: Omit<SweepOptions, 'cursor' | 'startingCounts' | 'startingProgress' | 'report'>;
  /** The request the run began with; carried so every invocation applies the same one. */
  request: SweepRequest;
  /** Present when this invocation continues a run. */
  continuation?: SweepContinuation;
  /** How long the lease holds: longer than one invocation plus the hand-off. */
  leaseMs: number;
  /** Skip lookups that memory can answer (needs state); false looks everything up afresh. */
  recall: boolean;
  /** Remember what lookups taught (needs state). */
  remember: boolean;
}

export const RunStatus = {
  /** This invocation ended the sweep (complete or not) and published its metrics. */
  finished: 'finished',
  /** Handed on to a fresh invocation; metrics come at the end of the run. */
  continuing: 'continuing',
  /** Another run holds the lease: nothing was touched. */
  alreadyRunning: 'alreadyRunning',
  /** This continuation's run lost the lease to another: nothing more was touched. */
  superseded: 'superseded',
} as const;

export type SweepRunResult =
  | (SweepSummary & {
      status: typeof RunStatus.finished | typeof RunStatus.continuing;
      runId?: string;
      invocation: number;
      /** Set when the hand-off to the next invocation failed: the next scheduled run starts over. */
      handOffError?: string;
    })
  | { status: typeof RunStatus.alreadyRunning; holder: string | undefined; leaseUntil?: string }
  | { status: typeof RunStatus.superseded; runId: string; invocation: number };

export async function runSweep(deps: SweepRunDeps, input: SweepRunInput): Promise<SweepRunResult> {
  const { clock, log, state } = deps;
  const carried = input.continuation;
  const invocation = carried?.invocation ?? 1;
  const startedAt = carried?.startedAt ?? clock().toISOString();

  const held = await takeLease(deps, input);
  if ('status' in held) return held;
  const { runId, token } = held;

  const { options } = input;
  const knowledge =
    state && input.remember
      ? createIncrementalKnowledge(state.memory, {
          clock,
          log,
          graceMs: options.graceMinutes * 60_000,
          keepDisabled: options.keepDisabled,
          recall: input.recall,
        })
      : undefined;
  const deletedBefore = (carried?.counts.deleted ?? 0) + (carried?.counts.wouldDelete ?? 0);
  const end = (summary: SweepSummary) => endRun(deps, options.namespace, summary, runId, token);

  // Captured by the report hook, so a sweep that throws still reports what it counted.
  let reported: SweepSummary | undefined;
  let segment: SweepSummary;
  try {
    segment = await sweep(
      {
        scheduler: deps.scheduler,
        cloudwatch: deps.cloudwatch,
        clock,
        log,
        ...(knowledge ? { knowledge } : {}),
        ...(deps.tombstones ? { tombstones: deps.tombstones } : {}),
        ...(deps.protection ? { protection: deps.protection } : {}),
      },
      {
        ...options,
        // One id for the whole sweep, across invocations: its tombstones are found together.
        runId: runId ?? options.runId ?? randomUUID(),
        ...(options.maxDeletes === undefined ? {} : { maxDeletes: options.maxDeletes - deletedBefore }),
        ...(carried
          ? {
              cursor: carried.cursor,
              startingCounts: carried.counts,
              startingProgress: carried.progress,
            }
          : {}),
        // Metrics describe the whole sweep: published once, below, by the invocation that ends it.
        report: async (summary) => {
          reported = summary;
        },
      },
    );
  } catch (error) {
    // The sweep has logged the failure; the run ends here and reports what it counted.
    if (reported) await end(withCarried(reported, carried));
    else if (state && runId) await release(state, runId, token, log);
    throw error;
  }
  const summary = withCarried(segment, carried);
  const base = { ...summary, ...(runId ? { runId } : {}), invocation };

  const stop = resumeBlocker(summary, segment, deps, invocation);
  if (state && runId && summary.cursor && stop === undefined) {
    const continuation: SweepContinuation = {
      runId,
      invocation: invocation + 1,
      startedAt,
      request: input.request,
      cursor: summary.cursor,
      counts: countsOf(summary),
      progress: summary.progress,
      requests: summary.requests,
      throttled: summary.throttled,
      durationSeconds: summary.durationSeconds,
    };
    return handOn(deps, {
      continuation,
      summary,
      base,
      token,
      leaseMs: input.leaseMs,
      namespace: options.namespace,
      end,
    });
  }
  if (stop !== undefined && summary.stoppedBy === StopReason.time) {
    log.error('sweep stopped before covering every schedule', { runId, invocation, reason: stop });
  }
  await end(summary);
  return { ...base, status: RunStatus.finished };
}

type LeaseHeld = { runId: string | undefined; token: string };

/**
 * Takes the lease (a new run) or moves it on to this invocation (a continuation). Every way out that
 * is not "held" is logged and returned as the run's result, having published what was carried.
 */
async function takeLease(deps: SweepRunDeps, input: SweepRunInput): Promise<LeaseHeld | SweepRunResult> {
  const { clock, log, state } = deps;
  const carried = input.continuation;
  if (!state) {
    if (carried) {
      throw new Error('A sweep continuation needs the state table (SWEEP_STATE_TABLE) for its lease');
    }
    log.info('no state table: sweeping in one invocation, with no lease and no memory of earlier lookups');
    return { runId: undefined, token: '' };
  }
  if (carried) {
    // Fenced on the invocation number: a second copy of this continuation finds it already taken.
    // The token is this invocation's own, so a retry of this renew after a lost answer succeeds.
    const token = randomUUID();
    const { invocation, runId } = carried;
    const fence = { from: invocation - 1, to: invocation, token };
    let renewed: boolean;
    try {
      renewed = await state.lease.renew(runId, clock(), input.leaseMs, fence);
    } catch (error) {
      // Whether the renew applied is unknown: end the run with what earlier invocations counted,
      // and free the lease if it is this invocation's or still stands where this one found it.
      log.error('renewing the sweep lease failed; the sweep ends here with the totals carried so far', {
        runId,
        invocation,
        error: safeError(error),
      });
      const summary = carriedSummary(carried);
      await publishQuietly(deps, input.options.namespace, summary);
      await release(state, runId, token, log, invocation - 1);
      return {
        ...summary,
        status: RunStatus.finished,
        runId,
        invocation,
        handOffError: safeError(error).message,
      };
    }
    if (!renewed) {
      log.warn('sweep continuation superseded: its run no longer holds the lease', { runId, invocation });
      return { status: RunStatus.superseded, runId, invocation };
    }
    return { runId, token };
  }
  const candidate = (deps.newRunId ?? randomUUID)();
  let lease: Awaited<ReturnType<typeof state.lease.acquire>>;
  try {
    lease = await state.lease.acquire(candidate, clock(), input.leaseMs);
  } catch (error) {
    // The acquire may have applied with its answer lost: give back whatever it took.
    log.error('taking the sweep lease failed; nothing was swept', {
      runId: candidate,
      error: safeError(error),
    });
    await release(state, candidate, candidate, log);
    throw error;
  }
  if (!lease.acquired) {
    log.info('a sweep is already running; this trigger does nothing', {
      holder: lease.holder,
      leaseUntil: lease.leaseUntil,
    });
    return {
      status: RunStatus.alreadyRunning,
      holder: lease.holder,
      ...(lease.leaseUntil ? { leaseUntil: lease.leaseUntil.toISOString() } : {}),
    };
  }
  return { runId: candidate, token: candidate };
}

/**
 * Renews the lease and queues the next invocation. When either fails, the sweep ends in this
 * invocation: what was counted is published, the lease freed, and the reason logged.
 */
async function handOn(
  deps: SweepRunDeps,
  step: {
    continuation: SweepContinuation;
    summary: SweepSummary;
    base: SweepSummary & { runId?: string; invocation: number };
    token: string;
    leaseMs: number;
    namespace: string;
    end: (summary: SweepSummary) => Promise<void>;
  },
): Promise<SweepRunResult> {
  const { clock, log, state } = deps;
  const { continuation, summary, base, token } = step;
  const { runId } = continuation;
  const invocation = continuation.invocation - 1;
  if (!state) throw new Error('handOn needs the state table');
  // Memory first: the next invocation should find what this one learned.
  await flush(state, log);
  const fence = { from: invocation, to: invocation, token };
  let renewed: boolean;
  try {
    renewed = await state.lease.renew(runId, clock(), step.leaseMs, fence);
  } catch (error) {
    log.error('renewing the sweep lease before its hand-off failed; the sweep ends here', {
      runId,
      invocation,
      error: safeError(error),
    });
    await step.end(summary);
    return { ...base, status: RunStatus.finished, handOffError: safeError(error).message };
  }
  if (!renewed) {
    // Another run holds the lease now: what this run counted is published, the lease left alone.
    log.warn('sweep superseded before its hand-off: another run holds the lease', { runId, invocation });
    await publishQuietly(deps, step.namespace, summary);
    return { status: RunStatus.superseded, runId, invocation };
  }
  try {
    await deps.handOff?.({ continuation });
    log.info('sweep continues in a fresh invocation', {
      runId,
      invocation: continuation.invocation,
      cursor: continuation.cursor,
      scanned: summary.scanned,
    });
    return { ...base, status: RunStatus.continuing };
  } catch (error) {
    log.error('handing the sweep on failed; it ends here and the next scheduled run starts over', {
      runId,
      error: safeError(error),
    });
    await step.end(summary);
    return { ...base, status: RunStatus.finished, handOffError: safeError(error).message };
  }
}

/** The end of a run: memory flushed, metrics published, lease freed. Each step runs whatever the one before did. */
async function endRun(
  deps: SweepRunDeps,
  namespace: string,
  summary: SweepSummary,
  runId: string | undefined,
  token: string,
): Promise<void> {
  await flush(deps.state, deps.log);
  await publishQuietly(deps, namespace, summary);
  if (deps.state && runId) await release(deps.state, runId, token, deps.log);
}

/** This invocation's summary with the earlier invocations' requests, throttles and time added. */
function withCarried(summary: SweepSummary, carried: SweepContinuation | undefined): SweepSummary {
  return {
    ...summary,
    throttled: summary.throttled + (carried?.throttled ?? 0),
    requests: {
      ListSchedules: summary.requests.ListSchedules + (carried?.requests.ListSchedules ?? 0),
      GetSchedule: summary.requests.GetSchedule + (carried?.requests.GetSchedule ?? 0),
      DeleteSchedule: summary.requests.DeleteSchedule + (carried?.requests.DeleteSchedule ?? 0),
    },
    // Time spent sweeping, summed over the invocations: the hand-off gaps are not sweep work.
    durationSeconds: Math.round((summary.durationSeconds + (carried?.durationSeconds ?? 0)) * 1000) / 1000,
  };
}

/** What earlier invocations counted, as the summary of a sweep that ends before this one swept. */
function carriedSummary(carried: SweepContinuation): SweepSummary {
  const { counts } = carried;
  return {
    ...counts,
    skipped: { ...counts.skipped },
    skippedTotal: Object.values(counts.skipped).reduce((sum, value) => sum + value, 0),
    uncertain: { deleted: counts.deletedUnconfirmed + counts.deleteOutcomeUnknown },
    throttled: carried.throttled,
    requests: { ...carried.requests },
    durationSeconds: carried.durationSeconds,
    dryRun: carried.request.dryRun ?? false,
    complete: false,
    stoppedBy: StopReason.error,
    cursor: carried.cursor,
    scheduleCounts: { byGroup: {} },
    progress: carried.progress,
  };
}

/** Why a sweep stopped for time must not go on, or undefined when it may. */
function resumeBlocker(
  summary: SweepSummary,
  segment: SweepSummary,
  deps: SweepRunDeps,
  invocation: number,
): string | undefined {
  if (summary.stoppedBy !== StopReason.time) return 'not stopped for time';
  if (!deps.state) return 'no state table to carry the sweep on';
  if (!deps.handOff) return 'no function to hand the sweep on to';
  if (invocation + 1 > MAX_INVOCATIONS) return `already ${invocation} invocations`;
  // An invocation that listed nothing would hand on forever: the deadline leaves it no time to work.
  if (segment.requests.ListSchedules === 0) {
    return 'no progress in this invocation (is the safety margin longer than the function timeout?)';
  }
  return undefined;
}

function countsOf(summary: SweepSummary): SweepContinuation['counts'] {
  return {
    scanned: summary.scanned,
    finished: summary.finished,
    deleted: summary.deleted,
    wouldDelete: summary.wouldDelete,
    alreadyGone: summary.alreadyGone,
    stuck: summary.stuck,
    pending: summary.pending,
    recurring: summary.recurring,
    skipped: { ...summary.skipped },
    failed: summary.failed,
    recalled: summary.recalled,
    deletedUnconfirmed: summary.deletedUnconfirmed,
    deleteOutcomeUnknown: summary.deleteOutcomeUnknown,
    protected: summary.protected,
  };
}

async function flush(state: SweepState | undefined, log: Logger): Promise<void> {
  try {
    await state?.memory.flush();
  } catch (error) {
    // Memory is an optimisation: what was not written is simply looked up again next time.
    log.warn('writing remembered lookups failed', { error: safeError(error) });
  }
}

/** Publishes the sweep's metrics; a failure is logged, never thrown, so the lease is still freed. */
async function publishQuietly(deps: SweepRunDeps, namespace: string, summary: SweepSummary): Promise<void> {
  try {
    await publishSweepMetrics(deps, namespace, summary);
  } catch (error) {
    deps.log.error('publishing the sweep metrics failed', { error: safeError(error) });
  }
}

/**
 * Frees the lease if this invocation's write is the latest on it (or, with `orInvocation`, if the
 * run still stands at that invocation). A failure is logged: the lease then expires by itself.
 */
async function release(
  state: SweepState,
  runId: string,
  token: string,
  log: Logger,
  orInvocation?: number,
): Promise<void> {
  try {
    await state.lease.release(runId, { token, ...(orInvocation === undefined ? {} : { orInvocation }) });
  } catch (error) {
    log.error('releasing the sweep lease failed; it expires by itself', { runId, error: safeError(error) });
  }
}
