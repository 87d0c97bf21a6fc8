// The decisions of a sweep run's lifecycle around the sweep itself, as pure functions of values: the
// run an invocation works on, what it carries on from, how many deletions are left to it, whether it
// may go on or must end, and the continuation it hands on. src/sweep/run.ts does the I/O around them
// (the lease, the sweep, the hand-off, the publication), in that order.
import type { LeaseRecord } from '../state/lease.ts';
import {
  countsOf,
  derived,
  emptyCounts,
  emptyTallies,
  readTallies,
  serializeTallies,
  talliesView,
} from './ledger.ts';
import {
  StopReason,
  type SweepCounts,
  type SweepCursor,
  type SweepSnapshot,
  type SweepSummary,
} from './model.ts';
import { MAX_INVOCATIONS, type SweepContinuation, type SweepRequest } from './payload.ts';

/** The run an invocation works on, once it holds the lease: passed to every later stage. */
export interface Run {
  runId: string;
  /** This invocation's number in the run. */
  invocation: number;
  /** ISO 8601, when the run's first invocation began. */
  startedAt: string;
  /** The request the run began with, applied again by every invocation. */
  request: SweepRequest;
  /** settingsFingerprint() of the settings this invocation sweeps under (src/sweep/checkpoint.ts). */
  settings: string;
  /** What earlier invocations handed on (a continuation, or a resumed checkpoint's). */
  carried?: SweepContinuation;
}

/** The continuation that hands `run` on from `position` to its next invocation. */
export function continuationOf(run: Run, position: SweepSnapshot): SweepContinuation {
  const { cursor, counts, progress, tallies, requests, throttled, durationSeconds } = position;
  return {
    runId: run.runId,
    invocation: run.invocation + 1,
    startedAt: run.startedAt,
    request: run.request,
    cursor,
    counts,
    progress,
    tallies,
    requests,
    throttled,
    durationSeconds,
    settings: run.settings,
  };
}

/** Where a new run starts: the first page of the first group, nothing counted. */
export function startPosition(): SweepSnapshot {
  return {
    cursor: { groupIndex: 0 },
    counts: emptyCounts(),
    progress: { groups: {}, fromStart: true },
    tallies: serializeTallies(emptyTallies()),
    requests: { ListSchedules: 0, GetSchedule: 0, DeleteSchedule: 0, rereads: 0 },
    throttled: 0,
    durationSeconds: 0,
  };
}

/** Whether a continuation may go on under `settings`: only under the settings it was handed on with. */
export function continuationVerdict(
  carried: SweepContinuation,
  settings: string,
): 'go' | typeof StopReason.settingsChanged {
  // The cursor names a place in the run's list of groups: under other settings it means nothing. A
  // continuation without settings was handed on before they were carried: it cannot be checked.
  return carried.settings === settings ? 'go' : StopReason.settingsChanged;
}

/**
 * What a killed run's checkpoint hands a resumer: its continuation with the deletes it may not count
 * added to `deletesUncounted`. Those are its own allowance while its writer held the lease last; if
 * another invocation took the lease over since (a continuation, or a resumer killed before its first
 * checkpoint), that one's allowance (`policyAllowance`) too.
 */
export function resumedContinuation(
  found: Pick<LeaseRecord, 'token'> & { checkpoint: { by: string } },
  checkpoint: { continuation: SweepContinuation; allowance: number },
  policyAllowance: number,
  settings: string,
): { continuation: SweepContinuation; allowance: number } {
  const allowance =
    found.checkpoint.by === found.token
      ? checkpoint.allowance
      : Math.max(checkpoint.allowance, policyAllowance);
  const { continuation } = checkpoint;
  const counts = {
    ...continuation.counts,
    deletesUncounted: (continuation.counts.deletesUncounted ?? 0) + allowance,
  };
  // Its settings were compared with the resumer's (judgeCheckpoint): they are the same.
  return { continuation: { ...continuation, counts, settings }, allowance };
}

/**
 * What earlier invocations may have deleted, for maxDeletes: confirmed, would-delete (dry run), sent
 * with no settled outcome, and the deletes a killed invocation may have sent after its checkpoint.
 */
export function deletesSpent(counts: SweepCounts | undefined): number {
  if (!counts) return 0;
  return counts.deleted + counts.wouldDelete + counts.deleteOutcomeUnknown + (counts.deletesUncounted ?? 0);
}

/** The deletions this invocation may make of the whole run's `maxDeletes`; undefined when unlimited. */
export function deletesLeft(maxDeletes: number | undefined, carried: SweepContinuation | undefined) {
  return maxDeletes === undefined ? undefined : Math.max(0, maxDeletes - deletesSpent(carried?.counts));
}

/** What the run may do once this invocation's part of the sweep is over. */
export type NextStep = { kind: 'handOn' } | { kind: 'end'; blocker?: string };

/**
 * Hand on only a sweep stopped for time that can go on: a state table and a function to hand on to,
 * fewer than MAX_INVOCATIONS invocations, and some listing done in this one (one that listed nothing
 * would hand on forever). `blocker` says why a sweep stopped for time may not go on.
 */
export function nextStep(
  segment: Pick<SweepSummary, 'stoppedBy' | 'cursor' | 'requests'>,
  invocation: number,
  can: { carryOn: boolean; handOff: boolean },
): NextStep {
  if (segment.stoppedBy !== StopReason.time || !segment.cursor) return { kind: 'end' };
  if (!can.carryOn) return { kind: 'end', blocker: 'no state table to carry the sweep on' };
  if (!can.handOff) return { kind: 'end', blocker: 'no function to hand the sweep on to' };
  if (invocation + 1 > MAX_INVOCATIONS) return { kind: 'end', blocker: `already ${invocation} invocations` };
  if (segment.requests.ListSchedules === 0) {
    return {
      kind: 'end',
      blocker: 'no progress in this invocation (is the safety margin longer than the function timeout?)',
    };
  }
  return { kind: 'handOn' };
}

/** This invocation's summary with the earlier invocations' requests, throttles and time added. */
export function withCarried(summary: SweepSummary, carried: SweepContinuation | undefined): SweepSummary {
  return { ...summary, ...addCarried(summary, carried) };
}

/** This invocation's requests, throttles and time with the earlier invocations' added. */
export function addCarried(
  summary: Pick<SweepSummary, 'throttled' | 'requests' | 'durationSeconds'>,
  carried: SweepContinuation | undefined,
): Pick<SweepSummary, 'throttled' | 'requests' | 'durationSeconds'> {
  return {
    throttled: summary.throttled + (carried?.throttled ?? 0),
    requests: {
      ListSchedules: summary.requests.ListSchedules + (carried?.requests.ListSchedules ?? 0),
      GetSchedule: summary.requests.GetSchedule + (carried?.requests.GetSchedule ?? 0),
      DeleteSchedule: summary.requests.DeleteSchedule + (carried?.requests.DeleteSchedule ?? 0),
      rereads: summary.requests.rereads + (carried?.requests.rereads ?? 0),
    },
    // Time spent sweeping, summed over the invocations: the hand-off gaps are not sweep work.
    durationSeconds: Math.round((summary.durationSeconds + (carried?.durationSeconds ?? 0)) * 1000) / 1000,
  };
}

/** What earlier invocations counted, as the summary of a sweep that ends before this one swept. */
export function carriedSummary(carried: SweepContinuation, stoppedBy: StopReason): SweepSummary {
  const { counts } = carried;
  return {
    ...counts,
    skipped: { ...counts.skipped },
    ...derived(counts),
    throttled: carried.throttled,
    requests: { ...carried.requests },
    durationSeconds: carried.durationSeconds,
    dryRun: carried.request.dryRun ?? false,
    complete: false,
    stoppedBy,
    cursor: carried.cursor,
    scheduleCounts: { byGroup: {} },
    progress: carried.progress,
    ...talliesView(readTallies(carried.tallies, 'continuation.tallies')),
  };
}

/** A summary's position, as a hand-off carries it (its totals are the whole run's). */
export function positionOf(summary: SweepSummary & { cursor: SweepCursor }): SweepSnapshot {
  return {
    cursor: summary.cursor,
    counts: countsOf(summary),
    progress: summary.progress,
    tallies: summary.tallies,
    requests: summary.requests,
    throttled: summary.throttled,
    durationSeconds: summary.durationSeconds,
  };
}
