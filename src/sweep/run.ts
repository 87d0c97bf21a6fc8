// One sweep carried across as many Lambda invocations as it needs. A run takes the lease, sweeps until
// the deadline nears, then hands its cursor and exact totals to a fresh invocation of its own function;
// the last invocation publishes the metrics of the whole sweep and gives the lease back.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.ts';
import { safeError } from '../redact.ts';
import { type LeaseRecord, type LeaseStore, leaseExpired } from '../state/lease.ts';
import type { ScheduleMemory } from '../state/memory.ts';
import {
  CHECKPOINT_DELETE_ALLOWANCE,
  CHECKPOINT_EVERY_MS,
  decodeCheckpoint,
  encodeCheckpoint,
  encodeEnded,
  judgeCheckpoint,
  settingsFingerprint,
} from './checkpoint.ts';
import { createIncrementalKnowledge } from './incremental.ts';
import { publishSweepMetrics, type SweepScope } from './metrics.ts';
import { MAX_INVOCATIONS, type SweepContinuation, type SweepRequest } from './payload.ts';
import {
  CheckpointRefused,
  emptyCounts,
  StopReason,
  type SweepDeps,
  type SweepOptions,
  type SweepSnapshot,
  type SweepSummary,
  sweep,
} from './sweep.ts';

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
  options: Omit<SweepOptions, 'cursor' | 'startingCounts' | 'startingProgress' | 'report' | 'checkpoint'>;
  /** The request the run began with; carried so every invocation applies the same one. */
  request: SweepRequest;
  /**
   * Whether the request sweeps the configured scope or narrows it (src/sweep/metrics.ts, scopeOf):
   * only a complete sweep of the configured scope publishes SweepsCompleted = 1.
   */
  scope: SweepScope;
  /** Present when this invocation continues a run. */
  continuation?: SweepContinuation;
  /**
   * How long the lease holds from this invocation's start: its remaining time plus a short margin,
   * so a killed invocation's lease expires soon after its deadline (src/aws/hand-off.ts).
   */
  leaseMs: number;
  /** How long the lease holds from a hand-off: until the next invocation takes it (default leaseMs). */
  handOffLeaseMs?: number;
  /**
   * The checkpoint cadence (src/sweep/checkpoint.ts); the defaults when unset. Checkpoints need the
   * state table; without one nothing is saved.
   */
  checkpoint?: { allowance: number; everyMs: number };
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
  const firstStartedAt = clock().toISOString();

  const held = await takeLease(deps, input, firstStartedAt);
  if ('status' in held) return held;
  const { runId, token } = held;
  // A run resumed from a killed invocation's checkpoint carries on from it, as a continuation would.
  const carried = held.resumed ?? input.continuation;
  const invocation = carried?.invocation ?? 1;
  const startedAt = carried?.startedAt ?? firstStartedAt;
  const policy = input.checkpoint ?? { allowance: CHECKPOINT_DELETE_ALLOWANCE, everyMs: CHECKPOINT_EVERY_MS };
  /** This invocation's checkpoints, in order (its acquire wrote number 0). */
  let checkpointSeq = 0;
  const continuationAt = (snapshot: SweepSnapshot): SweepContinuation => {
    const whole = addCarried(snapshot, carried);
    return {
      runId: runId ?? '',
      invocation: invocation + 1,
      startedAt,
      request: input.request,
      cursor: snapshot.cursor,
      counts: snapshot.counts,
      progress: snapshot.progress,
      requests: whole.requests,
      throttled: whole.throttled,
      durationSeconds: whole.durationSeconds,
      settings: settingsOf(input),
    };
  };
  const saveCheckpoint = async (snapshot: SweepSnapshot) => {
    if (!state || !runId) return;
    checkpointSeq += 1;
    const body = encodeCheckpoint({
      savedAt: clock().toISOString(),
      settings: settingsOf(input),
      allowance: policy.allowance,
      continuation: continuationAt(snapshot),
    });
    // Never stored unless it reads back: a resumer would abandon it (say, a skip list over its
    // bound while a carried one is still being passed); the sweep tries again as the frontier moves.
    decodeCheckpoint(body);
    const stored = await state.lease.checkpoint(runId, token, { seq: checkpointSeq, body });
    if (!stored) throw new CheckpointRefused('the sweep lease is no longer held by this invocation');
  };

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
  // What earlier invocations may have deleted, for maxDeletes: confirmed, would-delete (dry run), sent
  // with no settled outcome, and the deletes a killed invocation may have sent after its checkpoint.
  const deletedBefore =
    (carried?.counts.deleted ?? 0) +
    (carried?.counts.wouldDelete ?? 0) +
    (carried?.counts.deleteOutcomeUnknown ?? 0) +
    (carried?.counts.deletesUncounted ?? 0);
  /**
   * Marks the sweep over on the lease before its metrics go out: a kill after this is not resumed.
   * False when the write was refused: the lease is not this invocation's any more.
   */
  const markEnded = async (): Promise<boolean> => {
    if (!state || !runId) return true;
    checkpointSeq += 1;
    try {
      return await state.lease.checkpoint(runId, token, { seq: checkpointSeq, body: encodeEnded(clock()) });
    } catch (error) {
      // Whether it applied is unknown; the lease is most likely still this invocation's (no other
      // may take it while it lasts), so the sweep's metrics go out.
      log.error('marking the sweep ended on its lease failed', { runId, error: safeError(error) });
      return true;
    }
  };
  const end = (summary: SweepSummary) => endRun(deps, publicationOf(input), summary, runId, token, markEnded);
  const superseded = (): SweepRunResult => ({ status: RunStatus.superseded, runId: runId ?? '', invocation });

  if (held.settingsChanged && carried) {
    log.error(
      'the settings changed since this sweep began (a deploy?); it ends here, incomplete, and the next scheduled run starts a new one',
      { runId, invocation },
    );
    const summary = carriedSummary(carried, StopReason.settingsChanged);
    if ((await end(summary)) === 'superseded') return superseded();
    return { ...summary, status: RunStatus.finished, ...(runId ? { runId } : {}), invocation };
  }

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
        ...(options.maxDeletes === undefined
          ? {}
          : { maxDeletes: Math.max(0, options.maxDeletes - deletedBefore) }),
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
        ...(state && runId && invocation < MAX_INVOCATIONS
          ? { checkpoint: { ...policy, save: saveCheckpoint } }
          : {}),
      },
    );
  } catch (error) {
    if (error instanceof CheckpointRefused && runId) {
      // Another invocation holds the lease now (it may carry this very sweep on): nothing more is
      // touched, nothing published, the lease left alone.
      log.error('sweep superseded: another invocation holds the lease', { runId, invocation });
      return { status: RunStatus.superseded, runId, invocation };
    }
    // The sweep has logged the failure; the run ends here and reports what it counted.
    if (reported) {
      if ((await end(withCarried(reported, carried))) === 'superseded') return superseded();
    } else if (state && runId) await release(state, runId, token, log);
    throw error;
  }
  const summary = withCarried(segment, carried);
  const base = { ...summary, ...(runId ? { runId } : {}), invocation };

  const stop = resumeBlocker(summary, segment, deps, invocation);
  if (state && runId && summary.cursor && stop === undefined) {
    checkpointSeq += 1;
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
      settings: settingsOf(input),
    };
    return handOn(deps, {
      continuation,
      summary,
      base,
      token,
      leaseMs: input.handOffLeaseMs ?? input.leaseMs,
      checkpoint: {
        seq: checkpointSeq,
        // Written once everything settled, and this invocation sends nothing after it.
        body: encodeCheckpoint({
          savedAt: clock().toISOString(),
          allowance: 0,
          settings: settingsOf(input),
          continuation,
        }),
      },
      publication: publicationOf(input),
      end,
    });
  }
  if (stop !== undefined && summary.stoppedBy === StopReason.time) {
    log.error('sweep stopped before covering every schedule', { runId, invocation, reason: stop });
  }
  if ((await end(summary)) === 'superseded') return superseded();
  return { ...base, status: RunStatus.finished };
}

type LeaseHeld = {
  runId: string | undefined;
  token: string;
  /** Set when this invocation resumes a killed invocation's run from its checkpoint. */
  resumed?: SweepContinuation;
  /** Set when the continuation was handed on under other settings: the run ends without sweeping. */
  settingsChanged?: true;
};

/**
 * Takes the lease (a new run) or moves it on to this invocation (a continuation). Every way out that
 * is not "held" is logged and returned as the run's result, having published what was carried.
 */
async function takeLease(
  deps: SweepRunDeps,
  input: SweepRunInput,
  startedAt: string,
): Promise<LeaseHeld | SweepRunResult> {
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
      await publishQuietly(deps, publicationOf(input), summary);
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
    // The cursor names a place in the run's list of groups: under other settings it means nothing.
    if (carried.settings !== settingsOf(input)) return { runId, token, settingsChanged: true };
    return { runId, token };
  }
  const candidate = (deps.newRunId ?? randomUUID)();
  const resumed = await resumeCheckpoint(deps, input, candidate);
  if (resumed) return resumed;
  // The run's first checkpoint is its start: killed before its next one, it resumes from here.
  const start: SweepContinuation = {
    runId: candidate,
    invocation: 2,
    startedAt,
    request: input.request,
    cursor: { groupIndex: 0 },
    counts: emptyCounts(),
    progress: { groups: {}, fromStart: true },
    requests: { ListSchedules: 0, GetSchedule: 0, DeleteSchedule: 0 },
    throttled: 0,
    durationSeconds: 0,
    settings: settingsOf(input),
  };
  const allowance = input.checkpoint?.allowance ?? CHECKPOINT_DELETE_ALLOWANCE;
  let lease: Awaited<ReturnType<typeof state.lease.acquire>>;
  try {
    lease = await state.lease.acquire(candidate, clock(), input.leaseMs, {
      seq: 0,
      body: encodeCheckpoint({
        savedAt: startedAt,
        allowance,
        settings: settingsOf(input),
        continuation: start,
      }),
    });
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
 * A new run's first step: if the lease expired on a run that left a checkpoint (its last invocation
 * was killed), resume that run from it when it is for the same request and recent enough; otherwise
 * say it is abandoned (the acquire that follows overwrites it). Undefined when not resuming.
 */
async function resumeCheckpoint(
  deps: SweepRunDeps,
  input: SweepRunInput,
  candidate: string,
): Promise<LeaseHeld | undefined> {
  const { clock, log, state } = deps;
  if (!state) return undefined;
  const now = clock();
  let found: LeaseRecord | undefined;
  try {
    found = await state.lease.read();
  } catch (error) {
    log.error('reading the sweep lease failed; nothing was swept', { error: safeError(error) });
    throw error;
  }
  if (!found?.checkpoint || !leaseExpired(found.leaseUntil, now)) return undefined;
  const verdict = judgeCheckpoint(found.checkpoint.body, input.request, settingsOf(input), now);
  if (!verdict.resume) {
    log.warn('a sweep that did not finish left a checkpoint; it is abandoned and this run starts over', {
      runId: found.runId,
      reason: verdict.reason,
    });
    return undefined;
  }
  const { continuation, savedAt } = verdict.checkpoint;
  const policyAllowance = input.checkpoint?.allowance ?? CHECKPOINT_DELETE_ALLOWANCE;
  // Deletes the checkpoint may not count: its own allowance while its writer held the lease last;
  // if another invocation took the lease over since (a continuation, or a resumer, killed before
  // its first checkpoint), that one's allowance too.
  const allowance =
    found.checkpoint.by === found.token
      ? verdict.checkpoint.allowance
      : Math.max(verdict.checkpoint.allowance, policyAllowance);
  if (continuation.runId !== found.runId) {
    log.warn('a sweep that did not finish left a checkpoint; it is abandoned and this run starts over', {
      runId: found.runId,
      reason: 'it names another run',
    });
    return undefined;
  }
  const counts = {
    ...continuation.counts,
    deletesUncounted: (continuation.counts.deletesUncounted ?? 0) + allowance,
  };
  // Its settings were compared with this run's (judgeCheckpoint): they are the same.
  const resumed: SweepContinuation = { ...continuation, counts, settings: settingsOf(input) };
  // Stored with the takeover: killed in turn before its own checkpoint, this resumer's deletes are
  // added on top by the next one.
  const checkpoint = {
    seq: 0,
    body: encodeCheckpoint({
      savedAt,
      allowance: policyAllowance,
      settings: settingsOf(input),
      continuation: resumed,
    }),
  };
  let taken: boolean;
  try {
    taken = await state.lease.resume(
      found,
      candidate,
      continuation.invocation,
      now,
      input.leaseMs,
      checkpoint,
    );
  } catch (error) {
    log.error('taking over the sweep lease to resume its checkpoint failed; nothing was swept', {
      runId: found.runId,
      error: safeError(error),
    });
    await release(state, found.runId, candidate, log);
    throw error;
  }
  // Another run got there first: the acquire that follows says who holds it.
  if (!taken) return undefined;
  log.warn('resuming a sweep whose last invocation did not finish, from its last checkpoint', {
    runId: found.runId,
    invocation: continuation.invocation,
    checkpointSavedAt: savedAt,
    cursor: { groupIndex: continuation.cursor.groupIndex, skip: continuation.cursor.skip?.length ?? 0 },
    deletesUncounted: allowance,
  });
  return { runId: found.runId, token: candidate, resumed };
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
    /** The continuation as a checkpoint, stored by the same write as the renew. */
    checkpoint: { seq: number; body: string };
    publication: Publication;
    end: (summary: SweepSummary) => Promise<'ended' | 'superseded'>;
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
    renewed = await state.lease.renew(runId, clock(), step.leaseMs, fence, step.checkpoint);
  } catch (error) {
    log.error('renewing the sweep lease before its hand-off failed; the sweep ends here', {
      runId,
      invocation,
      error: safeError(error),
    });
    if ((await step.end(summary)) === 'superseded')
      return { status: RunStatus.superseded, runId, invocation };
    return { ...base, status: RunStatus.finished, handOffError: safeError(error).message };
  }
  if (!renewed) {
    // Another run holds the lease now, and with it this sweep's totals: nothing is published here.
    log.error('sweep superseded before its hand-off: another run holds the lease', { runId, invocation });
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
    if ((await step.end(summary)) === 'superseded')
      return { status: RunStatus.superseded, runId, invocation };
    return { ...base, status: RunStatus.finished, handOffError: safeError(error).message };
  }
}

/**
 * The end of a run: memory flushed, the sweep marked ended on its lease, metrics published, lease
 * freed. A refused end marking means another invocation holds the lease (and with it this sweep):
 * then nothing is published nor freed, and the run is 'superseded'.
 */
async function endRun(
  deps: SweepRunDeps,
  publication: Publication,
  summary: SweepSummary,
  runId: string | undefined,
  token: string,
  markEnded: () => Promise<boolean>,
): Promise<'ended' | 'superseded'> {
  await flush(deps.state, deps.log);
  if (!(await markEnded())) {
    deps.log.error(
      'marking the sweep ended was refused: another invocation holds its lease, so this one publishes nothing',
      { runId },
    );
    return 'superseded';
  }
  await publishQuietly(deps, publication, summary);
  if (deps.state && runId) await release(deps.state, runId, token, deps.log);
  return 'ended';
}

/** This invocation's summary with the earlier invocations' requests, throttles and time added. */
function withCarried(summary: SweepSummary, carried: SweepContinuation | undefined): SweepSummary {
  return { ...summary, ...addCarried(summary, carried) };
}

/** This invocation's requests, throttles and time with the earlier invocations' added. */
function addCarried(
  summary: Pick<SweepSummary, 'throttled' | 'requests' | 'durationSeconds'>,
  carried: SweepContinuation | undefined,
): Pick<SweepSummary, 'throttled' | 'requests' | 'durationSeconds'> {
  return {
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
function carriedSummary(carried: SweepContinuation, stoppedBy: StopReason = StopReason.error): SweepSummary {
  const { counts } = carried;
  return {
    ...counts,
    skipped: { ...counts.skipped },
    skippedTotal: Object.values(counts.skipped).reduce((sum, value) => sum + value, 0),
    uncertain: {
      deleted: counts.deletedUnconfirmed + counts.deleteOutcomeUnknown + (counts.deletesUncounted ?? 0),
    },
    throttled: carried.throttled,
    requests: { ...carried.requests },
    durationSeconds: carried.durationSeconds,
    dryRun: carried.request.dryRun ?? false,
    complete: false,
    stoppedBy,
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
    ...(summary.deletesUncounted === undefined ? {} : { deletesUncounted: summary.deletesUncounted }),
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

/** Where and as what a run's metrics are published. */
interface Publication {
  namespace: string;
  scope: SweepScope;
}

function publicationOf(input: SweepRunInput): Publication {
  return { namespace: input.options.namespace, scope: input.scope };
}

/**
 * Publishes the sweep's metrics (none for a dry run, src/sweep/metrics.ts); a failure is logged,
 * never thrown, so the lease is still freed.
 */
async function publishQuietly(
  deps: SweepRunDeps,
  publication: Publication,
  summary: SweepSummary,
): Promise<void> {
  try {
    await publishSweepMetrics(deps, publication.namespace, summary, publication.scope);
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

const settingsByInput = new WeakMap<SweepRunInput, string>();

/** The fingerprint of the settings this run sweeps under (see settingsFingerprint), once per input. */
function settingsOf(input: SweepRunInput): string {
  const known = settingsByInput.get(input);
  if (known !== undefined) return known;
  const settings = fingerprintSettings(input);
  settingsByInput.set(input, settings);
  return settings;
}

function fingerprintSettings(input: SweepRunInput): string {
  const { options } = input;
  return settingsFingerprint({
    groups: options.groups,
    ...(options.namePrefix === undefined ? {} : { namePrefix: options.namePrefix }),
    graceMinutes: options.graceMinutes,
    keepDisabled: options.keepDisabled,
    dryRun: options.dryRun,
    ...(options.maxDeletes === undefined ? {} : { maxDeletes: options.maxDeletes }),
  });
}
