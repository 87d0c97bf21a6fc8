// One sweep carried across as many Lambda invocations as it needs. A run takes the lease, sweeps until
// the deadline nears, then hands its cursor and exact totals to a fresh invocation of its own function;
// the last invocation publishes the metrics of the whole sweep and gives the lease back.
//
// Each invocation goes through the same stages, each a function of the values the one before returned:
//   claimRun     the lease: a new run, a killed run resumed from its checkpoint, or a continuation
//   sweepSegment this invocation's part of the sweep (src/sweep/sweep.ts), checkpointed as it goes,
//                with the CloudFormation ownership index read once for it (src/ownership/cloudformation.ts)
//   nextStep     hand on, or end (src/sweep/lifecycle.ts, with the other pure decisions)
//   handOn       renew the lease with the continuation as its checkpoint, queue the next invocation
//   endSweep     mark the sweep ended on the lease, publish its metrics, free the lease
// A stage whose lease write is refused stops the run here: the lease, and with it the sweep, is
// another invocation's, so nothing is published (status superseded).
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.ts';
import type { OwnershipLoadResult, OwnershipLookup } from '../ownership/cloudformation.ts';
import { safeError } from '../redact.ts';
import { type LeaseRecord, type LeaseStore, leaseExpired } from '../state/lease.ts';
import {
  acquireRun,
  alreadyRunning,
  continueRun,
  type LeaseHold,
  type ReleaseOptions,
  releaseRun,
  renewForHandOff,
} from '../state/lifecycle.ts';
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
import {
  addCarried,
  carriedSummary,
  continuationOf,
  continuationVerdict,
  deletesLeft,
  nextStep,
  positionOf,
  type Run,
  resumedContinuation,
  startPosition,
  withCarried,
} from './lifecycle.ts';
import { publishSweepMetrics, type SweepScope } from './metrics.ts';
import { MAX_INVOCATIONS, type SweepContinuation, type SweepRequest } from './payload.ts';
import {
  CheckpointRefused,
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

export interface SweepRunDeps extends Omit<SweepDeps, 'knowledge' | 'ownership'> {
  /**
   * Reads which schedules CloudFormation stacks declare (loadOwnership: the state table's cached
   * index, or CloudFormation at most hourly), once per invocation once it holds the lease. Must not
   * throw. Absent: ownership is not checked (SWEEP_CLOUDFORMATION_OWNED=sweep).
   */
  loadOwnership?: () => Promise<OwnershipLoadResult>;
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
  /**
   * SWEEP_CLOUDFORMATION_OWNED, part of the settings a continuation must share (default `keep`);
   * whether ownership is read is deps.loadOwnership's presence.
   */
  cloudFormationOwned?: 'keep' | 'sweep';
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

/**
 * Runs this invocation's part of a sweep run, from its lease to its end or its hand-off, through the
 * stages listed at the top of this file.
 */
export async function runSweep(deps: SweepRunDeps, input: SweepRunInput): Promise<SweepRunResult> {
  if (!deps.state) return sweepWithoutState(deps, input);
  const leased: LeasedDeps = { ...deps, state: deps.state };
  const claim = await claimRun(leased, input);
  if (claim.kind === 'result') return claim.result;
  const { run, hold } = claim;
  const writes: LeaseWrites = { seq: 0 };

  if (run.carried && continuationVerdict(run.carried, run.settings) !== 'go') {
    deps.log.error(
      'the settings changed since this sweep began (a deploy?); it ends here, incomplete, and the next scheduled run starts a new one',
      { runId: run.runId, invocation: run.invocation },
    );
    return endSweep(
      leased,
      input,
      run,
      hold,
      writes,
      carriedSummary(run.carried, StopReason.settingsChanged),
    );
  }

  const segment = await sweepSegment(deps, input, run, { hold, writes });
  if (segment.kind === 'superseded') {
    // Another invocation holds the lease now (it may carry this very sweep on): nothing more is
    // touched, nothing published, the lease left alone.
    deps.log.error('sweep superseded: another invocation holds the lease', {
      runId: run.runId,
      invocation: run.invocation,
    });
    return { status: RunStatus.superseded, runId: run.runId, invocation: run.invocation };
  }
  if (segment.kind === 'failed') {
    // The sweep has logged the failure; the run ends here and reports what it counted.
    if (segment.summary) {
      const ended = await endSweep(
        leased,
        input,
        run,
        hold,
        writes,
        withCarried(segment.summary, run.carried),
      );
      if (ended.status === RunStatus.superseded) return ended;
    } else await releaseRun(leased.state.lease, hold, releaseOptions(deps.log));
    throw segment.error;
  }
  const summary = withCarried(segment.summary, run.carried);
  const step = nextStep(segment.summary, run.invocation, {
    carryOn: true,
    handOff: deps.handOff !== undefined,
  });
  if (step.kind === 'handOn' && summary.cursor) {
    return handOn(leased, input, run, hold, writes, { ...summary, cursor: summary.cursor });
  }
  if (step.kind === 'end' && step.blocker !== undefined) {
    deps.log.error('sweep stopped before covering every schedule', {
      runId: run.runId,
      invocation: run.invocation,
      reason: step.blocker,
    });
  }
  return endSweep(leased, input, run, hold, writes, summary);
}

/** The deps of the stages that hold the lease: the state table is there. */
type LeasedDeps = SweepRunDeps & { state: SweepState };

/**
 * This invocation's lease writes so far: each checkpoint, hand-off or end marking takes the next
 * number, so an older one of its own never overwrites a newer one (src/state/lease.ts).
 */
interface LeaseWrites {
  seq: number;
}

/** Without a state table: one invocation, no lease, no memory, no hand-off. */
async function sweepWithoutState(deps: SweepRunDeps, input: SweepRunInput): Promise<SweepRunResult> {
  if (input.continuation) {
    throw new Error('A sweep continuation needs the state table (SWEEP_STATE_TABLE) for its lease');
  }
  deps.log.info('no state table: sweeping in one invocation, with no lease and no memory of earlier lookups');
  const segment = await sweepSegment(deps, input, undefined, undefined);
  if (segment.kind === 'superseded') throw new Error('a sweep without a lease cannot be superseded');
  if (segment.summary) await publishQuietly(deps, publicationOf(input), segment.summary);
  if (segment.kind === 'failed') throw segment.error;
  if (segment.summary.stoppedBy === StopReason.time) {
    deps.log.error('sweep stopped before covering every schedule', {
      invocation: 1,
      reason: 'no state table to carry the sweep on',
    });
  }
  return { ...segment.summary, status: RunStatus.finished, invocation: 1 };
}

/** What claimRun came to: the run this invocation now holds, or the run's result already. */
type Claimed = { kind: 'held'; run: Run; hold: LeaseHold } | { kind: 'result'; result: SweepRunResult };

/**
 * The lease stage. A continuation moves its run onto this invocation (fenced: a second copy of it
 * finds it taken). A new run first resumes a killed run's checkpoint if it may, else takes the lease
 * with its start as its first checkpoint. Every way out that is not "held" is logged and returned
 * as the run's result.
 */
async function claimRun(deps: LeasedDeps, input: SweepRunInput): Promise<Claimed> {
  const { clock, log } = deps;
  const { lease } = deps.state;
  const settings = settingsOf(input);
  const carried = input.continuation;
  if (carried) {
    const claim = await continueRun(lease, carried, clock(), input.leaseMs);
    const { runId, invocation } = carried;
    if (claim.kind === 'superseded') {
      log.warn('sweep continuation superseded: its run no longer holds the lease', { runId, invocation });
      return { kind: 'result', result: { status: RunStatus.superseded, runId, invocation } };
    }
    if (claim.kind === 'unknown') {
      // Whether the renew applied is unknown: end the run with what earlier invocations counted,
      // and free the lease if it is this invocation's or still stands where this one found it.
      log.error('renewing the sweep lease failed; the sweep ends here with the totals carried so far', {
        runId,
        invocation,
        error: safeError(claim.error),
      });
      const summary = carriedSummary(carried, StopReason.error);
      await publishQuietly(deps, publicationOf(input), summary);
      await releaseRun(lease, claim.hold, { ...releaseOptions(log), orInvocation: invocation - 1 });
      const handOffError = safeError(claim.error).message;
      return {
        kind: 'result',
        result: { ...summary, status: RunStatus.finished, runId, invocation, handOffError },
      };
    }
    if (claim.kind !== 'held') throw new Error(`a continuation cannot be ${claim.kind}`);
    const run = {
      runId,
      invocation,
      startedAt: carried.startedAt,
      request: carried.request,
      settings,
      carried,
    };
    return { kind: 'held', run, hold: claim.hold };
  }
  const candidate = (deps.newRunId ?? randomUUID)();
  const resumed = await resumeCheckpoint(deps, input, candidate);
  if (resumed) return resumed;
  const run: Run = {
    runId: candidate,
    invocation: 1,
    startedAt: clock().toISOString(),
    request: input.request,
    settings,
  };
  // The run's first checkpoint is its start: killed before its next one, it resumes from here.
  const start = encodeCheckpoint({
    savedAt: run.startedAt,
    allowance: input.checkpoint?.allowance ?? CHECKPOINT_DELETE_ALLOWANCE,
    settings,
    continuation: continuationOf(run, startPosition()),
  });
  let claim: Awaited<ReturnType<typeof acquireRun>>;
  try {
    claim = await acquireRun(lease, candidate, clock(), input.leaseMs, releaseOptions(log), {
      seq: 0,
      body: start,
    });
  } catch (error) {
    log.error('taking the sweep lease failed; nothing was swept', {
      runId: candidate,
      error: safeError(error),
    });
    throw error;
  }
  if (claim.kind === 'alreadyRunning') return { kind: 'result', result: alreadyRunning(claim, 'sweep', log) };
  if (claim.kind !== 'held') throw new Error(`a new run cannot be ${claim.kind}`);
  return { kind: 'held', run, hold: claim.hold };
}

/**
 * A new run's first step: if the lease expired (leaseExpired: beyond the clock skew bound) on a run
 * that left a checkpoint (its last invocation was killed), resume that run from it when it is for the
 * same request under the same settings and recent enough; otherwise say it is abandoned (the acquire
 * that follows overwrites it). Undefined when not resuming.
 */
async function resumeCheckpoint(
  deps: LeasedDeps,
  input: SweepRunInput,
  candidate: string,
): Promise<Claimed | undefined> {
  const { clock, log } = deps;
  const { lease } = deps.state;
  const now = clock();
  let found: LeaseRecord | undefined;
  try {
    found = await lease.read();
  } catch (error) {
    log.error('reading the sweep lease failed; nothing was swept', { error: safeError(error) });
    throw error;
  }
  if (!found?.checkpoint || !leaseExpired(found.leaseUntil, now)) return undefined;
  const settings = settingsOf(input);
  const verdict = judgeCheckpoint(found.checkpoint.body, input.request, settings, now);
  const abandoned = (reason: string) => {
    log.warn('a sweep that did not finish left a checkpoint; it is abandoned and this run starts over', {
      runId: found?.runId,
      reason,
    });
    return undefined;
  };
  if (!verdict.resume) return abandoned(verdict.reason);
  if (verdict.checkpoint.continuation.runId !== found.runId) return abandoned('it names another run');
  const policyAllowance = input.checkpoint?.allowance ?? CHECKPOINT_DELETE_ALLOWANCE;
  const { continuation, allowance } = resumedContinuation(
    { token: found.token, checkpoint: found.checkpoint },
    verdict.checkpoint,
    policyAllowance,
    settings,
  );
  const { savedAt } = verdict.checkpoint;
  // Stored with the takeover: killed in turn before its own checkpoint, this resumer's deletes are
  // added on top by the next one.
  const checkpoint = {
    seq: 0,
    body: encodeCheckpoint({ savedAt, allowance: policyAllowance, settings, continuation }),
  };
  const hold: LeaseHold = { runId: found.runId, token: candidate, invocation: continuation.invocation };
  let taken: boolean;
  try {
    taken = await lease.resume(found, candidate, continuation.invocation, now, input.leaseMs, checkpoint);
  } catch (error) {
    log.error('taking over the sweep lease to resume its checkpoint failed; nothing was swept', {
      runId: found.runId,
      error: safeError(error),
    });
    await releaseRun(lease, hold, releaseOptions(log));
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
  const run: Run = {
    runId: found.runId,
    invocation: continuation.invocation,
    startedAt: continuation.startedAt,
    request: continuation.request,
    settings,
    carried: continuation,
  };
  return { kind: 'held', run, hold };
}

/** What this invocation's part of the sweep came to. */
type Segment =
  | { kind: 'swept'; summary: SweepSummary }
  /** A checkpoint was refused: the lease is another invocation's. */
  | { kind: 'superseded' }
  /** The sweep threw; `summary` is what it counted, when it got as far as reporting. */
  | { kind: 'failed'; error: unknown; summary?: SweepSummary };

/**
 * Runs this invocation's part of the sweep, from where `run` carried it, with what is left of
 * maxDeletes. With a lease, checkpoints are saved on it as the sweep goes (src/sweep/checkpoint.ts).
 * The summary is this invocation's (its requests, throttles and time; the counts are the run's).
 */
async function sweepSegment(
  deps: SweepRunDeps,
  input: SweepRunInput,
  run: Run | undefined,
  leased: { hold: LeaseHold; writes: LeaseWrites } | undefined,
): Promise<Segment> {
  const { options } = input;
  const { clock, log, state } = deps;
  const ownership = await ownershipFor(deps, run);
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
  const carried = run?.carried;
  const maxDeletes = deletesLeft(options.maxDeletes, carried);
  const policy = input.checkpoint ?? { allowance: CHECKPOINT_DELETE_ALLOWANCE, everyMs: CHECKPOINT_EVERY_MS };
  const checkpointing = state && run && leased && run.invocation < MAX_INVOCATIONS;
  // The sweep reports its summary here rather than publishing it: metrics describe the whole sweep
  // and are published once, by the invocation that ends it. Kept so a sweep that throws still ends
  // the run with what it counted.
  let reported: SweepSummary | undefined;
  try {
    const summary = await sweep(
      {
        scheduler: deps.scheduler,
        cloudwatch: deps.cloudwatch,
        clock,
        log,
        ...(knowledge ? { knowledge } : {}),
        ...(deps.tombstones ? { tombstones: deps.tombstones } : {}),
        ...(deps.protection ? { protection: deps.protection } : {}),
        ...(ownership ? { ownership } : {}),
        ...(deps.elapsed ? { elapsed: deps.elapsed } : {}),
      },
      {
        ...options,
        // One id for the whole sweep, across invocations: its tombstones are found together.
        runId: run?.runId ?? options.runId ?? randomUUID(),
        ...(maxDeletes === undefined ? {} : { maxDeletes }),
        ...(carried
          ? {
              cursor: carried.cursor,
              startingCounts: carried.counts,
              startingProgress: carried.progress,
              startingTallies: carried.tallies,
            }
          : {}),
        report: async (summary) => {
          reported = summary;
        },
        ...(checkpointing
          ? {
              checkpoint: {
                ...policy,
                save: (snapshot) =>
                  saveCheckpoint(state.lease, run, leased, policy.allowance, {
                    savedAt: clock(),
                    position: { ...snapshot, ...addCarried(snapshot, carried) },
                  }),
              },
            }
          : {}),
      },
    );
    return { kind: 'swept', summary };
  } catch (error) {
    if (error instanceof CheckpointRefused && leased) return { kind: 'superseded' };
    return { kind: 'failed', error, ...(reported ? { summary: reported } : {}) };
  }
}

/**
 * The ownership lookup for this invocation, or undefined when ownership is not checked. A loader that
 * throws despite its contract leaves every finished schedule kept as ownershipUnknown.
 */
async function ownershipFor(deps: SweepRunDeps, run: Run | undefined): Promise<OwnershipLookup | undefined> {
  if (!deps.loadOwnership) return undefined;
  let loaded: OwnershipLoadResult;
  try {
    loaded = await deps.loadOwnership();
  } catch (error) {
    deps.log.error(
      'reading CloudFormation ownership failed; finished schedules are kept as ownershipUnknown',
      {
        error: safeError(error),
      },
    );
    return { index: undefined, ownerOf: () => 'unknown' };
  }
  const { index } = loaded.lookup;
  deps.log.info('CloudFormation ownership', {
    ...(run ? { runId: run.runId, invocation: run.invocation } : {}),
    source: loaded.source,
    ...(index
      ? {
          readAt: index.readAt,
          complete: index.complete,
          ...(index.incompleteBecause ? { incompleteBecause: index.incompleteBecause } : {}),
          stacksWithSchedules: Object.keys(index.stacks).length,
          stacksRead: index.stacksRead,
        }
      : {}),
  });
  return loaded.lookup;
}

/**
 * Stores a checkpoint of the run at `at.position` (whole-run totals) on the lease this invocation
 * holds. Throws CheckpointRefused when the lease is not this invocation's any more.
 */
async function saveCheckpoint(
  lease: LeaseStore,
  run: Run,
  leased: { hold: LeaseHold; writes: LeaseWrites },
  allowance: number,
  at: { savedAt: Date; position: SweepSnapshot },
): Promise<void> {
  const body = encodeCheckpoint({
    savedAt: at.savedAt.toISOString(),
    settings: run.settings,
    allowance,
    continuation: continuationOf(run, at.position),
  });
  // Never stored unless it reads back: a resumer would abandon it (say, a skip list over its
  // bound while a carried one is still being passed); the sweep tries again as the frontier moves.
  decodeCheckpoint(body);
  leased.writes.seq += 1;
  const { hold } = leased;
  const stored = await lease.checkpoint(hold.runId, hold.token, { seq: leased.writes.seq, body });
  if (!stored) throw new CheckpointRefused('the sweep lease is no longer held by this invocation');
}

/**
 * Renews the lease with the continuation as its checkpoint, and queues the next invocation. When the
 * renew fails or the hand-off is not queued, the sweep ends in this invocation (endSweep). When the
 * renew is refused, the lease is another invocation's: nothing is published (superseded).
 */
export async function handOn(
  deps: LeasedDeps,
  input: Pick<SweepRunInput, 'leaseMs' | 'handOffLeaseMs' | 'scope' | 'options'>,
  run: Run,
  hold: LeaseHold,
  writes: LeaseWrites,
  summary: SweepSummary & { cursor: NonNullable<SweepSummary['cursor']> },
): Promise<SweepRunResult> {
  const { clock, log, state } = deps;
  const { runId, invocation } = run;
  const continuation = continuationOf(run, positionOf(summary));
  const base = { ...summary, runId, invocation };
  // Memory first: the next invocation should find what this one learned.
  await flush(state, log);
  writes.seq += 1;
  // Written once everything settled, and this invocation sends nothing after it.
  const checkpoint = {
    seq: writes.seq,
    body: encodeCheckpoint({
      savedAt: clock().toISOString(),
      allowance: 0,
      settings: run.settings,
      continuation,
    }),
  };
  let renewed: Awaited<ReturnType<typeof renewForHandOff>>;
  try {
    renewed = await renewForHandOff(
      state.lease,
      hold,
      clock(),
      input.handOffLeaseMs ?? input.leaseMs,
      checkpoint,
    );
  } catch (error) {
    log.error('renewing the sweep lease before its hand-off failed; the sweep ends here', {
      runId,
      invocation,
      error: safeError(error),
    });
    const ended = await endSweep(deps, input, run, hold, writes, summary);
    return ended.status === RunStatus.finished ? { ...ended, handOffError: safeError(error).message } : ended;
  }
  if (renewed === 'refused') {
    // Another run holds the lease now, and with it this sweep's totals: nothing is published here.
    log.error('sweep superseded before its hand-off: another run holds the lease', { runId, invocation });
    return { status: RunStatus.superseded, runId, invocation };
  }
  try {
    await deps.handOff?.({ continuation });
  } catch (error) {
    log.error('handing the sweep on failed; it ends here and the next scheduled run starts over', {
      runId,
      error: safeError(error),
    });
    const ended = await endSweep(deps, input, run, hold, writes, summary);
    return ended.status === RunStatus.finished ? { ...ended, handOffError: safeError(error).message } : ended;
  }
  log.info('sweep continues in a fresh invocation', {
    runId,
    invocation: continuation.invocation,
    cursor: continuation.cursor,
    scanned: summary.scanned,
  });
  return { ...base, status: RunStatus.continuing };
}

/**
 * The end of a run: memory flushed, the sweep marked ended on its lease (a kill after this is not
 * resumed), its metrics published (none for a dry run), the lease freed. A refused end marking means
 * another invocation holds the lease, and with it this sweep: nothing is published nor freed, and the
 * run is superseded.
 */
export async function endSweep(
  deps: LeasedDeps,
  input: Pick<SweepRunInput, 'scope' | 'options'>,
  run: Run,
  hold: LeaseHold,
  writes: LeaseWrites,
  summary: SweepSummary,
): Promise<SweepRunResult> {
  const { clock, log, state } = deps;
  const { runId, invocation } = run;
  await flush(state, log);
  writes.seq += 1;
  let marked: boolean;
  try {
    marked = await state.lease.checkpoint(hold.runId, hold.token, {
      seq: writes.seq,
      body: encodeEnded(clock()),
    });
  } catch (error) {
    // Whether it applied is unknown; the lease is most likely still this invocation's (no other may
    // take it while it lasts), so the sweep's metrics go out.
    log.error('marking the sweep ended on its lease failed', { runId, error: safeError(error) });
    marked = true;
  }
  if (!marked) {
    log.error(
      'marking the sweep ended was refused: another invocation holds its lease, so this one publishes nothing',
      {
        runId,
        invocation,
      },
    );
    return { status: RunStatus.superseded, runId, invocation };
  }
  await publishQuietly(deps, publicationOf(input), summary);
  await releaseRun(state.lease, hold, releaseOptions(log));
  return { ...summary, status: RunStatus.finished, runId, invocation };
}

function releaseOptions(log: Logger): ReleaseOptions {
  return { log, subject: 'sweep' };
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

function publicationOf(input: Pick<SweepRunInput, 'scope' | 'options'>): Publication {
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

const settingsByInput = new WeakMap<SweepRunInput, string>();

/** The fingerprint of the settings this run sweeps under (see settingsFingerprint), once per input. */
function settingsOf(input: SweepRunInput): string {
  const known = settingsByInput.get(input);
  if (known !== undefined) return known;
  const { options } = input;
  const settings = settingsFingerprint({
    groups: options.groups,
    ...(options.namePrefix === undefined ? {} : { namePrefix: options.namePrefix }),
    graceMinutes: options.graceMinutes,
    keepDisabled: options.keepDisabled,
    dryRun: options.dryRun,
    ...(options.maxDeletes === undefined ? {} : { maxDeletes: options.maxDeletes }),
    ...(input.cloudFormationOwned === undefined ? {} : { cloudFormationOwned: input.cloudFormationOwned }),
  });
  settingsByInput.set(input, settings);
  return settings;
}
