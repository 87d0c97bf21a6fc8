// The sweep: list every schedule in scope, look each one up, decide whether it is finished, and
// delete the finished ones, each request inside its operation's rate budget. Streams with bounded
// memory, never lets one bad item abort the run, and always reports what it counted.

import { randomUUID } from 'node:crypto';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import {
  DeleteScheduleCommand,
  GetScheduleCommand,
  type GetScheduleCommandOutput,
  ListSchedulesCommand,
  type SchedulerClient,
  type ScheduleSummary,
} from '@aws-sdk/client-scheduler';
import pLimit from 'p-limit';
import {
  type BudgetOptions,
  isNextTokenRejected,
  isNotFound,
  MAX_LISTING_RESTARTS,
  RequestBudget,
} from '../aws/budget.ts';
import type { Logger } from '../log.ts';
import type { ProtectedBy, ProtectionCheck } from '../protect/protection.ts';
import { safeError, scheduleRef } from '../redact.ts';
import { type Decision, decide, SkipReason } from '../schedule/decide.ts';
import { LIST_LOOKAHEAD_PAGES, type ListedPage, ReadAheadListing } from './listing.ts';
import { publishSweepMetrics } from './metrics.ts';
import {
  refuseTombstones,
  serializeDefinition,
  sha256,
  TombstoneOutcome,
  type TombstoneReceipt,
  type TombstoneWriter,
} from './tombstones.ts';

export interface SweepDeps {
  scheduler: SchedulerClient;
  cloudwatch: CloudWatchClient;
  /** "Now" for every decision and metric timestamp; tests pass the emulator's clock. */
  clock: () => Date;
  log: Logger;
  /** Earlier lookups, remembered: answers for schedules that are not due, so they need no GetSchedule. */
  knowledge?: SweepKnowledge;
  /**
   * Where each deleted schedule's definition is kept before its delete (src/tombstone/store.ts).
   * Required for a real run: no tombstone, no delete. A dry run writes nothing.
   */
  tombstones?: TombstoneWriter;
  /** What operators marked as never to be deleted (group tags, name prefixes, restored --keep). */
  protection?: ProtectionCheck;
}

/**
 * What a memory of earlier lookups offers the sweep. It may only vouch that a schedule is pending,
 * recurring or skipped; the sweep ignores any other answer, so memory can never cause a deletion.
 */
export interface SweepKnowledge {
  /** Called once per listed page, before its items are inspected: answers by schedule ARN. */
  recall(page: readonly ScheduleSummary[]): Promise<Map<string, RecalledOutcome>>;
  /** What inspecting a schedule taught. Must not throw: memory is an optimisation, never a reason to fail. */
  learn(summary: ScheduleSummary, outcome: ItemOutcome): Promise<void>;
}

export type RecalledOutcome = Extract<ItemOutcome, { kind: 'pending' | 'recurring' | 'skipped' }>;

/** Where the page loop stands: serializable, so a later run can resume from it. */
export interface SweepCursor {
  /** Index into the groups in scope (0 when sweeping every group at once). */
  groupIndex: number;
  /** The NextToken of the page to list next; undefined for a group's first page. */
  nextToken?: string;
  /**
   * ARNs on the pages from here on that an earlier run already counted: listed again, they are
   * passed over, so a sweep stopped mid-page resumes without counting anything twice.
   */
  skip?: string[];
}

export interface SweepOptions {
  dryRun: boolean;
  /** Recorded on every tombstone, so a sweep's deletions can be found together; a fresh id when unset. */
  runId?: string;
  /** Empty: every group, listed in one pass without a ScheduleGroup filter. */
  groups: string[];
  namePrefix?: string;
  /** Stop the sweep once this many schedules were deleted (or would be, in a dry run). */
  maxDeletes?: number;
  graceMinutes: number;
  keepDisabled: boolean;
  /** Requests per second per operation. */
  budgets: { list: number; get: number; delete: number };
  /** Most GetSchedule/DeleteSchedule items in flight at once. */
  concurrency: number;
  namespace: string;
  /** Checked between pages, e.g. the caller's deadline; true ends the sweep cleanly with a cursor. */
  shouldStop?: () => boolean;
  /**
   * The hard stop: when it aborts, requests in flight are aborted and nothing further is sent.
   * Items not finished are left for the continuation, uncounted (a delete already sent is counted
   * as failed with an unknown outcome, its tombstone says `unknown`).
   */
  signal?: AbortSignal;
  /** Resume from here instead of the first page of the first group. */
  cursor?: SweepCursor;
  /** Counts carried over from earlier runs of the same sweep. */
  startingCounts?: Partial<SweepCounts>;
  /** Per-group progress carried over from earlier runs of the same sweep (their summaries' `progress`). */
  startingProgress?: SweepProgress;
  /**
   * Reports the summary at the end, in place of publishing this run's metrics; called before a
   * failure is rethrown. A sweep carried over several runs passes its own, to publish the whole once.
   */
  report?: (summary: SweepSummary) => Promise<void>;
  /** See InspectContext.recheckAfterMs (default RECHECK_AFTER_MS, 100 ms). */
  recheckAfterMs?: number;
  /**
   * Checkpoints while the sweep runs, so an invocation that is killed loses at most `allowance`
   * deletions from its totals (src/sweep/checkpoint.ts). Without it nothing is saved until the end.
   */
  checkpoint?: CheckpointPolicy;
  /** Backoff and retry tuning for the request budgets (the rates come from `budgets`). */
  budgetTuning?: Omit<BudgetOptions, 'ratePerSecond'>;
}

export type SkipReasonName = (typeof SkipReason)[keyof typeof SkipReason];

/**
 * When the sweep saves a snapshot of its SETTLED progress (SweepSnapshot), and where. A snapshot is
 * saved at most every `everyMs` while anything changed, and whenever half the deletion allowance is
 * used. At most `allowance` deletes are ever sent that the latest saved snapshot does not count
 * (those in flight when it was taken, and those sent since): a delete that would exceed it waits
 * for the next save. A sweep resumed from the snapshot re-lists everything else, so `allowance` is
 * the most its `deleted` can be short.
 */
export interface CheckpointPolicy {
  allowance: number;
  everyMs: number;
  /**
   * Stores the snapshot; one call at a time. Throws CheckpointRefused when this invocation may no
   * longer write (its lease is gone): the sweep then stops. Any other error is logged, and the
   * sweep tries again on its next occasion (deletions wait meanwhile once the allowance is used).
   */
  save: (snapshot: SweepSnapshot) => Promise<void>;
}

/** What a checkpoint holds: the progress of every settled item, as a continuation would carry it. */
export interface SweepSnapshot {
  /** The first page with an unsettled item (or the next page to list), with what it already counted in `skip`. */
  cursor: SweepCursor;
  counts: SweepCounts;
  progress: SweepProgress;
  requests: SweepSummary['requests'];
  throttled: number;
  durationSeconds: number;
}

/** Why deletions stop waiting for a checkpoint: the sweep is stopping (see the two below). */
export class CheckpointStop extends Error {}

/** A checkpoint could not be stored because this invocation no longer holds the lease: the sweep ends. */
export class CheckpointRefused extends CheckpointStop {
  override name = 'CheckpointRefused';
}

/**
 * Checkpoints failed CHECKPOINT_FAILURES_TO_STOP times in a row: the sweep stops as it would for
 * time (its deletions waiting for a checkpoint are left for the next invocation), and the run tries
 * to hand on, which stores the checkpoint again or ends the sweep.
 */
export class CheckpointUnavailable extends CheckpointStop {
  override name = 'CheckpointUnavailable';
}
export interface SweepCounts {
  /** Schedules looked at (listed and picked up for inspection). */
  scanned: number;
  /** Finished schedules found, whatever happened to them next. */
  finished: number;
  deleted: number;
  /** Dry run: finished schedules that a real run would have deleted. */
  wouldDelete: number;
  /** Gone before we could look them up or delete them (404): not a failure. */
  alreadyGone: number;
  /** Finished schedules with ActionAfterCompletion DELETE that Scheduler failed to remove. */
  stuck: number;
  pending: number;
  recurring: number;
  skipped: Record<string, number>;
  /** Items whose lookup or deletion failed after the budget's retries. */
  failed: number;
  /** Answered from memory of an earlier lookup, without a GetSchedule (also counted as pending, recurring or skipped). */
  recalled: number;
  /**
   * Part of `deleted`: found gone after our delete was sent but its answer lost or late. Our delete
   * most likely removed it, but someone else may have in between.
   */
  deletedUnconfirmed: number;
  /** Part of `failed`: a delete was sent, its answer never settled, and the schedule was not seen again. */
  deleteOutcomeUnknown: number;
  /**
   * Not part of `deleted`: deletes an invocation that was killed may have sent after its last
   * checkpoint (the checkpoint's deletion allowance). Present only on a sweep resumed from one.
   */
  deletesUncounted?: number;
  /** Marked never to be deleted (group tag, name prefix, restored with --keep): never looked up. */
  protected: number;
}

/** How far one group's listing got, carried between runs so schedule counts stay whole. */
export interface GroupProgress {
  seen: number;
  removed: number;
  /** Its listing began at its first page (in this run or an earlier run of the same sweep). */
  fromFirstPage: boolean;
  /** Listed from its first page to its last. */
  listed: boolean;
  /** Some of its listed schedules were never inspected (the sweep stopped for maxDeletes). */
  unprocessed: boolean;
  /**
   * What its listing counted of schedules it did not remove (everything but `deleted` and
   * `alreadyGone`; zero counts left out): taken back from the totals if the listing must restart
   * from its first page (a NextToken the service rejected), since the re-list sees them again.
   */
  kept?: KeptCounts;
}

/** The part of SweepCounts a listing that restarts takes back; zero counts are left out. */
export type KeptCounts = Partial<Omit<SweepCounts, 'skipped'>> & { skipped?: Record<string, number> };

/** Restarts of one group's listing from its first page, at most, per invocation; then the sweep fails. */
export { MAX_LISTING_RESTARTS };

export interface SweepProgress {
  groups: Record<string, GroupProgress>;
  /** The sweep began at the very first page: nothing before its cursor was skipped. */
  fromStart: boolean;
}

export const StopReason = {
  maxDeletes: 'maxDeletes',
  time: 'time',
  error: 'error',
  /** A continuation's settings are not the function's any more (a deploy changed them): src/sweep/run.ts. */
  settingsChanged: 'settingsChanged',
} as const;
export type StopReason = (typeof StopReason)[keyof typeof StopReason];

export interface SweepSummary extends SweepCounts {
  skippedTotal: number;
  /**
   * How far a count may be off the truth. `deleted`: the schedules this sweep may have deleted but
   * did not count (`deleteOutcomeUnknown`, and `deletesUncounted` after a killed invocation) plus
   * those it counted without confirmation (`deletedUnconfirmed`).
   */
  uncertain: { deleted: number };
  /** ThrottlingException answers seen, across operations. */
  throttled: number;
  requests: { ListSchedules: number; GetSchedule: number; DeleteSchedule: number };
  durationSeconds: number;
  dryRun: boolean;
  /** True when every schedule in scope was inspected. */
  complete: boolean;
  stoppedBy?: StopReason;
  /** Present when stopped early: where to resume. Listing it again re-inspects at most two pages. */
  cursor?: SweepCursor;
  /**
   * Schedules present after the sweep (seen minus deleted and gone), only where the count is whole:
   * `total` when every group was covered with no name filter, `byGroup` for each group fully covered.
   */
  scheduleCounts: { total?: number; byGroup: Record<string, number> };
  /** Everything so far, per group: what a resumed run passes back as `startingProgress`. */
  progress: SweepProgress;
}

/** What inspecting one schedule came to. */
export type ItemOutcome =
  | { kind: 'deleted'; decision: Extract<Decision, { outcome: 'finished' }>; unconfirmed?: true }
  | { kind: 'wouldDelete'; decision: Extract<Decision, { outcome: 'finished' }> }
  | { kind: 'alreadyGone'; finished: boolean }
  | { kind: 'pending'; finishedAt: Date }
  | { kind: 'recurring' }
  | { kind: 'skipped'; reason: SkipReasonName }
  | { kind: 'protected'; by: ProtectedBy }
  | { kind: 'failed'; operation: 'GetSchedule' | 'DeleteSchedule'; outcomeUnknown?: true }
  /** Not looked at, or not deleted, because the sweep is stopping (maxDeletes reached). */
  | { kind: 'notProcessed' }
  /** Cut off by the hard stop before anything about it was settled: left uncounted for the continuation. */
  | { kind: 'abandoned' };

export const PAGE_SIZE = 100;
/**
 * The most pages, from the first with an item not settled to the last listed, the page loop holds
 * before it lists more (see releaseSettledPages): a cursor then skips at most this many pages of
 * ARNs, within MAX_SKIPPED_ARNS.
 */
export const MAX_PAGES_SPANNED = 8;

const recallable = new Set<ItemOutcome['kind']>(['pending', 'recurring', 'skipped']);

/** What inspect() needs besides the summary; built once per sweep. */
export interface InspectContext {
  scheduler: SchedulerClient;
  clock: () => Date;
  log: Logger;
  budgets: { get: RequestBudget; delete: RequestBudget };
  dryRun: boolean;
  graceMs: number;
  keepDisabled: boolean;
  /** Where each definition is kept before its delete, and its outcome recorded after. */
  tombstones: TombstoneWriter;
  /** The hard stop (see SweepOptions.signal). */
  signal?: AbortSignal;
  /** The sweep run, recorded on each tombstone. */
  runId: string;
  /** Claims one deletion under maxDeletes; false when none is left. */
  reserveDeletion: () => boolean;
  /** Gives a claimed deletion back (the delete did not happen). */
  releaseDeletion: () => void;
  /**
   * The longest a delete may follow the last read of its schedule, in milliseconds of the sweeper's
   * own time. A delete that waited longer (for its budget, a backoff, a retry) reads the schedule
   * again first and leaves it alone if it changed in between.
   */
  recheckAfterMs: number;
  /** Waits for a deletion allowance under the checkpoint policy (none without one); throws on the hard stop. */
  permitDelete?: (arn: string) => Promise<void>;
}

/**
 * Default for InspectContext.recheckAfterMs. With it the window in which an application's change can
 * be lost to a delete is the re-read's own round trip plus at most 100 ms.
 */
export const RECHECK_AFTER_MS = 100;

/** The schedule changed between the sweep's lookup and its delete (updated, recreated, or no longer finished). */
class ChangedSinceLookup extends Error {}

type Finished = Extract<Decision, { outcome: 'finished' }>;

/**
 * GetSchedule refused because the caller may not use the schedule's customer managed KMS key to
 * decrypt it: AccessDeniedException naming KMS or kms:Decrypt, or a KMS-named error.
 */
export function isKmsAccessDenied(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (/kms/i.test(error.name)) return true;
  return error.name === 'AccessDeniedException' && /kms|decrypt/i.test(error.message);
}

/**
 * The whole per-schedule step: look it up, decide, tombstone and delete if finished. Kept in one
 * function so a layer that remembers earlier lookups can answer for it without a GetSchedule.
 */
export async function inspect(summary: ScheduleSummary, context: InspectContext): Promise<ItemOutcome> {
  const name = summary.Name ?? '';
  const group = summary.GroupName ?? 'default';
  let schedule: GetScheduleCommandOutput;
  let readAt: number;
  try {
    ({ schedule, sentAt: readAt } = await lookUp(name, group, context));
  } catch (error) {
    if (context.signal?.aborted) return { kind: 'abandoned' };
    if (isNotFound(error)) return { kind: 'alreadyGone', finished: false };
    if (isKmsAccessDenied(error)) {
      // Its definition cannot be read, so it can be neither judged nor tombstoned: kept, counted, and
      // remembered until it changes, so it is not a failure on every sweep (src/sweep/README.md).
      context.log.warn('schedule skipped', {
        ...scheduleRef(summary),
        reason: SkipReason.kmsAccessDenied,
        error: safeError(error),
      });
      return { kind: 'skipped', reason: SkipReason.kmsAccessDenied };
    }
    context.log.error('schedule lookup failed', { ...scheduleRef(summary), error: safeError(error) });
    return { kind: 'failed', operation: 'GetSchedule' };
  }

  const decision = decide(schedule, context.clock(), {
    graceMs: context.graceMs,
    keepDisabled: context.keepDisabled,
  });
  if (decision.outcome === 'pending') return { kind: 'pending', finishedAt: decision.finishedAt };
  if (decision.outcome === 'recurring') return { kind: 'recurring' };
  if (decision.outcome === 'skipped') {
    context.log.warn('schedule skipped', {
      ...scheduleRef(schedule),
      reason: decision.reason,
      detail: decision.detail,
    });
    return { kind: 'skipped', reason: decision.reason };
  }

  if (!context.reserveDeletion()) return { kind: 'notProcessed' };
  if (context.dryRun) {
    // Never the definition itself: its target input may hold secrets. Its fingerprint matches the
    // tombstone a real run would store.
    const { $metadata: _metadata, ...definition } = schedule;
    context.log.info('tombstone', {
      action: 'wouldDelete',
      ...scheduleRef(schedule),
      finishedAt: decision.finishedAt.toISOString(),
      stuck: decision.stuck,
      sha256: sha256(serializeDefinition(definition)),
    });
    return { kind: 'wouldDelete', decision };
  }
  const outcome = await deleteFinished({ name, group, schedule, readAt, decision }, context);
  // A delete sent whose outcome never settled may have applied: it keeps its claim, so maxDeletes
  // caps the deletions that may have happened, not only those confirmed.
  const mayHaveApplied = outcome.kind === 'deleted' || (outcome.kind === 'failed' && outcome.outcomeUnknown);
  if (!mayHaveApplied) context.releaseDeletion();
  return outcome;
}

/**
 * GetSchedule through its budget. `sentAt` is when the attempt that answered was sent (performance
 * time): the read happened after it, so timing the delete from it never understates the window.
 */
async function lookUp(
  name: string,
  group: string,
  context: InspectContext,
): Promise<{ schedule: GetScheduleCommandOutput; sentAt: number }> {
  const { signal } = context;
  let sentAt = performance.now();
  const schedule = await context.budgets.get.call(
    () =>
      context.scheduler.send(
        new GetScheduleCommand({ Name: name, GroupName: group }),
        signal ? { abortSignal: signal } : {},
      ),
    {
      prepare: async () => {
        sentAt = performance.now();
      },
      ...(signal ? { signal } : {}),
    },
  );
  return { schedule, sentAt };
}

/**
 * Tombstones a finished schedule, then deletes it. Before every attempt that follows the last read
 * by more than recheckAfterMs, the schedule is read again: left alone if it changed, counted as
 * deleted if it is gone after one of our attempts was sent (that attempt's answer was lost or late).
 * Only attempts actually sent count as DeleteSchedule requests.
 */
async function deleteFinished(
  item: {
    name: string;
    group: string;
    schedule: GetScheduleCommandOutput;
    readAt: number;
    decision: Finished;
  },
  context: InspectContext,
): Promise<ItemOutcome> {
  const { name, group, decision } = item;
  const { $metadata: _metadata, ...definition } = item.schedule;
  let receipt: TombstoneReceipt;
  try {
    // No tombstone, no delete: the definition is kept before the request that removes it.
    receipt = await context.tombstones.write({
      definition,
      runId: context.runId,
      finishedAt: decision.finishedAt,
      stuck: decision.stuck,
    });
  } catch (error) {
    context.log.error('writing the tombstone failed; schedule kept', {
      ...scheduleRef(definition),
      error: safeError(error),
    });
    return { kind: 'failed', operation: 'DeleteSchedule' };
  }
  // The deletion's log line: never the target, only the schedule's identity and where its tombstone
  // lives (key and fingerprint). Logged once the tombstone is stored, before the delete is sent.
  const ref = scheduleRef(definition);
  const stored = { ...ref, tombstone: receipt.key };
  context.log.info('tombstone', {
    action: 'deleting',
    ...ref,
    finishedAt: decision.finishedAt.toISOString(),
    stuck: decision.stuck,
    tombstone: receipt.key,
    ...(receipt.sha256 ? { sha256: receipt.sha256 } : {}),
    runId: context.runId,
  });
  let readAt = item.readAt;
  let sent = 0;
  /** Attempts answered with a 4xx error: refused by the service, so not applied. */
  let refused = 0;
  /** Found gone by a re-read after one of our attempts was sent (its answer lost or late). */
  let goneAfterSent = false;
  const recheck = async () => {
    if (performance.now() - readAt <= context.recheckAfterMs) return;
    let fresh: { schedule: GetScheduleCommandOutput; sentAt: number };
    try {
      fresh = await lookUp(name, group, context);
    } catch (error) {
      if (isNotFound(error) && sent > 0) {
        // Ours applied and its answer was lost, or someone else deleted it. The next attempt
        // replays our ClientToken and tells them apart: DeleteSchedule answers a replay of a delete
        // that applied with success, and 404 when none with this token applied.
        goneAfterSent = true;
        readAt = performance.now();
        return;
      }
      throw error;
    }
    if (changedSince(item.schedule, fresh.schedule, context)) throw new ChangedSinceLookup();
    // The delete is sent right after this: the window is this read's answer and the delete's request.
    readAt = fresh.sentAt;
  };
  // One token for every attempt: a delete that succeeded but answered 5xx, retried with the same
  // token, succeeds again instead of answering 404.
  const clientToken = randomUUID();
  const arn = item.schedule.Arn ?? `${group}/${name}`;
  const settle = (outcome: TombstoneOutcome) => {
    context.tombstones.settle(receipt, outcome);
    context.log.info('tombstone outcome', { ...stored, outcome });
  };
  try {
    // Inside a checkpoint's allowance; the wait, if any, is followed by the re-read below.
    await context.permitDelete?.(arn);
    await context.budgets.delete.call(
      () => {
        sent += 1;
        return context.scheduler
          .send(
            new DeleteScheduleCommand({ Name: name, GroupName: group, ClientToken: clientToken }),
            context.signal ? { abortSignal: context.signal } : {},
          )
          .catch((error: unknown) => {
            if (isRefusal(error)) refused += 1;
            throw error;
          });
      },
      { prepare: recheck, ...(context.signal ? { signal: context.signal } : {}) },
    );
    settle(TombstoneOutcome.deleted);
    return { kind: 'deleted', decision };
  } catch (error) {
    if (goneAfterSent && !isNotFound(error)) {
      // Gone after our lost attempt, and no replay of our token was answered: most likely ours
      // applied. Counted, unconfirmed; the tombstone says only what is known.
      settle(TombstoneOutcome.unknown);
      return { kind: 'deleted', decision, unconfirmed: true };
    }
    // Settled as not deleted only when every attempt sent was answered with a refusal; a lost
    // answer, a timeout or a 5xx (on any attempt) may have applied, so that outcome stays unknown.
    const allRefused = sent > 0 && refused === sent && !isNotFound(error);
    settle(
      sent === 0
        ? TombstoneOutcome.notSent
        : allRefused
          ? TombstoneOutcome.refused
          : TombstoneOutcome.unknown,
    );
    if (error instanceof CheckpointStop && sent === 0) return { kind: 'abandoned' };
    if (context.signal?.aborted && !allRefused) {
      // The hard stop: a delete never sent is left for the continuation; one sent is unsettled.
      if (sent === 0) return { kind: 'abandoned' };
      context.log.warn('schedule deletion cut off by the deadline; its outcome is unknown', {
        schedule: name,
        group,
      });
      return { kind: 'failed', operation: 'DeleteSchedule', outcomeUnknown: true };
    }
    if (error instanceof ChangedSinceLookup) {
      context.log.warn('schedule changed since its lookup; left for the next sweep', stored);
      return { kind: 'skipped', reason: SkipReason.changedDuringSweep };
    }
    if (isNotFound(error)) return { kind: 'alreadyGone', finished: true };
    context.log.error('schedule deletion failed', { ...stored, sentAttempts: sent, error: safeError(error) });
    return {
      kind: 'failed',
      operation: 'DeleteSchedule',
      ...(sent > 0 && !allRefused ? { outcomeUnknown: true } : {}),
    };
  }
}

/**
 * Whether an error is the service's delivered answer of a 4xx client error (ConflictException 409,
 * ValidationException 400, AccessDeniedException 403, ThrottlingException 429...). The Scheduler API
 * reference (DeleteSchedule, Errors; Common Errors) describes each as a request refused: "deleting
 * the resource can cause an inconsistent state", "denied due to request throttling", "fails to
 * satisfy the constraints". Taken as not applied; a lost answer, a timeout or a 5xx ("unexpected
 * error encountered while processing") may hide one that applied.
 */
export function isRefusal(error: unknown): boolean {
  const candidate = error as { $fault?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  const status = candidate?.$metadata?.httpStatusCode;
  return candidate?.$fault === 'client' && status !== undefined && status >= 400 && status < 500;
}

/** Whether the schedule read again is no longer the one judged finished: modified, recreated, or due again. */
function changedSince(
  judged: GetScheduleCommandOutput,
  fresh: GetScheduleCommandOutput,
  context: InspectContext,
): boolean {
  const same = (left: Date | undefined, right: Date | undefined) => left?.getTime() === right?.getTime();
  if (!same(judged.LastModificationDate, fresh.LastModificationDate)) return true;
  if (!same(judged.CreationDate, fresh.CreationDate)) return true;
  const decision = decide(fresh, context.clock(), {
    graceMs: context.graceMs,
    keepDisabled: context.keepDisabled,
  });
  return decision.outcome !== 'finished';
}

export function emptyCounts(): SweepCounts {
  return {
    scanned: 0,
    finished: 0,
    deleted: 0,
    wouldDelete: 0,
    alreadyGone: 0,
    stuck: 0,
    pending: 0,
    recurring: 0,
    skipped: Object.fromEntries(Object.values(SkipReason).map((reason) => [reason, 0])),
    failed: 0,
    recalled: 0,
    deletedUnconfirmed: 0,
    deleteOutcomeUnknown: 0,
    protected: 0,
  };
}

function tally(counts: SweepCounts, outcome: ItemOutcome): void {
  if (outcome.kind === 'notProcessed' || outcome.kind === 'abandoned') return;
  counts.scanned += 1;
  switch (outcome.kind) {
    case 'deleted':
    case 'wouldDelete':
      counts[outcome.kind] += 1;
      counts.finished += 1;
      if (outcome.decision.stuck) counts.stuck += 1;
      if (outcome.kind === 'deleted' && outcome.unconfirmed) counts.deletedUnconfirmed += 1;
      break;
    case 'alreadyGone':
      counts.alreadyGone += 1;
      if (outcome.finished) counts.finished += 1;
      break;
    case 'pending':
    case 'recurring':
    case 'protected':
      counts[outcome.kind] += 1;
      break;
    case 'failed':
      counts.failed += 1;
      if (outcome.outcomeUnknown) counts.deleteOutcomeUnknown += 1;
      break;
    case 'skipped':
      counts.skipped[outcome.reason] = (counts.skipped[outcome.reason] ?? 0) + 1;
      break;
  }
}

/** Per group: schedules seen and removed, and whether the count is whole. */
type GroupTally = GroupProgress;

/** One listed page, remembered until all its items are done, so a stop knows where to resume. */
interface PageRecord {
  cursor: SweepCursor;
  remaining: number;
  /** Items left for a later run: not processed (maxDeletes) or abandoned (the hard stop). */
  unprocessed: number;
  /** ARNs counted on this page, passed over when a later run lists it again. */
  done: string[];
  /** ARNs on this page that an earlier run had counted, passed over here too. */
  passed: string[];
  /** The page after it (the next group's first, after a group's last page). */
  next: SweepCursor;
}

export async function sweep(deps: SweepDeps, options: SweepOptions): Promise<SweepSummary> {
  const started = performance.now();
  const { scheduler, log } = deps;
  if (!options.dryRun && !deps.tombstones) {
    // No tombstone, no delete: refused before the first request rather than failing item by item.
    throw new Error(
      'A sweep that deletes needs a tombstone store (SWEEP_TOMBSTONE_TABLE); only a dry run may go without',
    );
  }
  const tuning = options.budgetTuning ?? {};
  const budgets = {
    list: new RequestBudget('ListSchedules', { ...tuning, ratePerSecond: options.budgets.list }),
    get: new RequestBudget('GetSchedule', { ...tuning, ratePerSecond: options.budgets.get }),
    delete: new RequestBudget('DeleteSchedule', { ...tuning, ratePerSecond: options.budgets.delete }),
  };
  const counts = mergeCounts(emptyCounts(), options.startingCounts);
  const limit = pLimit(options.concurrency);
  const scopes: (string | undefined)[] = options.groups.length > 0 ? options.groups : [undefined];
  const groups = new Map<string, GroupTally>(
    Object.entries(options.startingProgress?.groups ?? {}).map(([name, progress]) => [
      name,
      structuredClone(progress),
    ]),
  );
  // A cursor without carried progress is a bare resume point: whatever came before it is unknown.
  const fromStart = options.cursor === undefined || (options.startingProgress?.fromStart ?? false);
  const pages: PageRecord[] = [];
  const start = options.cursor ?? { groupIndex: 0 };

  let stoppedBy: StopReason | undefined;
  let failure: unknown;
  let listCursor: SweepCursor = { ...start };
  let listedEverything = false;
  let reserved = 0;

  const groupTally = (name: string): GroupTally => {
    let entry = groups.get(name);
    if (!entry) {
      entry = { seen: 0, removed: 0, fromFirstPage: false, listed: false, unprocessed: false };
      groups.set(name, entry);
    }
    return entry;
  };

  const context: InspectContext = {
    scheduler,
    clock: deps.clock,
    log,
    budgets,
    dryRun: options.dryRun,
    tombstones: deps.tombstones ?? refuseTombstones(),
    ...(options.signal ? { signal: options.signal } : {}),
    runId: options.runId ?? randomUUID(),
    graceMs: options.graceMinutes * 60_000,
    recheckAfterMs: options.recheckAfterMs ?? RECHECK_AFTER_MS,
    keepDisabled: options.keepDisabled,
    reserveDeletion: () => {
      if (options.maxDeletes === undefined) return true;
      if (reserved >= options.maxDeletes) {
        // None left (a resumed sweep whose earlier deletes used the cap up): a finished schedule
        // stays unprocessed, so the sweep cannot be complete.
        if (stoppedBy !== StopReason.error) stoppedBy = StopReason.maxDeletes;
        return false;
      }
      reserved += 1;
      // The last allowed deletion ends the sweep: nothing further is picked up. It outranks a stop
      // for time, which would otherwise invite a resumed run that has nothing left to delete.
      if (reserved >= options.maxDeletes && stoppedBy !== StopReason.error) stoppedBy = StopReason.maxDeletes;
      return true;
    },
    releaseDeletion: () => {
      if (options.maxDeletes !== undefined) reserved -= 1;
    },
    permitDelete: (arn) => checkpoints.permit(arn),
  };

  const { knowledge } = deps;
  // One memory read per page. Memory only spares lookups: when it cannot answer, every item is looked up.
  const recall = async (items: ScheduleSummary[]) => {
    if (!knowledge || items.length === 0) return undefined;
    try {
      const answers = await knowledge.recall(items);
      // Checked here, not trusted: an answer that could lead to a deletion is never taken from memory.
      for (const [arn, answer] of answers) {
        if (!recallable.has(answer.kind)) answers.delete(arn);
      }
      return answers;
    } catch (error) {
      log.warn('recalling earlier lookups failed; looking the page up', { error: safeError(error) });
      return undefined;
    }
  };
  const learn = async (summary: ScheduleSummary, outcome: ItemOutcome) => {
    try {
      await knowledge?.learn(summary, outcome);
    } catch (error) {
      log.warn('remembering a lookup failed', { ...scheduleRef(summary), error: safeError(error) });
    }
  };

  // Items listed but not finished yet; the page loop waits on this to keep memory bounded.
  let outstanding = 0;
  /** Items enqueued and not settled, by group: a snapshot counts only what settled. */
  const unsettled = new Map<string, number>();
  let wake: (() => void) | undefined;
  const waitUntilAtMost = async (threshold: number) => {
    while (outstanding > threshold) await new Promise<void>((resolve) => (wake = resolve));
  };
  /**
   * Drops the settled pages at the head of `pages`, then waits while the pages from the first one not
   * settled to the last one listed span MAX_PAGES_SPANNED or more: one slow item (a latency spike,
   * retries) holds every page after its own, whose counted ARNs a cursor must carry in `skip`. The
   * bound keeps that under MAX_SKIPPED_ARNS and memory flat whatever the account's size.
   */
  const releaseSettledPages = async () => {
    const release = () => {
      while (pages.length > 0 && pages[0]?.remaining === 0 && pages[0]?.unprocessed === 0) pages.shift();
    };
    release();
    while (pages.length >= MAX_PAGES_SPANNED && outstanding > 0) {
      await new Promise<void>((resolve) => (wake = resolve));
      release();
    }
  };

  const processItem = async (
    summary: ScheduleSummary,
    page: PageRecord,
    group: GroupTally,
    recalled: RecalledOutcome | undefined,
  ) => {
    let outcome: ItemOutcome;
    try {
      // Protection first: a protected schedule is never looked up, nor answered from memory.
      const protection =
        stoppedBy === StopReason.maxDeletes ? undefined : await deps.protection?.check(summary);
      if (stoppedBy === StopReason.maxDeletes) outcome = { kind: 'notProcessed' };
      else if (options.signal?.aborted) outcome = { kind: 'abandoned' };
      else if (protection?.kind === 'protected') outcome = protection;
      else if (protection?.kind === 'unknown')
        outcome = { kind: 'skipped', reason: SkipReason.protectionUnknown };
      else if (recalled) outcome = recalled;
      else {
        outcome = await inspect(summary, context);
        await learn(summary, outcome);
      }
    } catch (error) {
      // A bug in the decision or logging must cost one item, never the run.
      log.error('schedule inspection failed', { ...scheduleRef(summary), error: safeError(error) });
      outcome = { kind: 'failed', operation: 'GetSchedule' };
    }
    if (recalled && outcome === recalled) counts.recalled += 1;
    tally(counts, outcome);
    keep(group, outcome, recalled !== undefined && outcome === recalled);
    if (outcome.kind === 'notProcessed') {
      page.unprocessed += 1;
      group.unprocessed = true;
    } else if (outcome.kind === 'abandoned') {
      // Seen again, and counted then, when the continuation lists this page again.
      page.unprocessed += 1;
      group.seen -= 1;
    } else page.done.push(summary.Arn ?? '');
    if (outcome.kind === 'deleted' || outcome.kind === 'alreadyGone') group.removed += 1;
    page.remaining -= 1;
    const groupName = summary.GroupName ?? 'default';
    unsettled.set(groupName, (unsettled.get(groupName) ?? 1) - 1);
    checkpoints.settled(summary.Arn ?? `${groupName}/${summary.Name ?? ''}`);
  };

  const enqueue = (summary: ScheduleSummary, page: PageRecord, recalled: RecalledOutcome | undefined) => {
    const group = groupTally(summary.GroupName ?? 'default');
    group.seen += 1;
    unsettled.set(summary.GroupName ?? 'default', (unsettled.get(summary.GroupName ?? 'default') ?? 0) + 1);
    outstanding += 1;
    void limit(() => processItem(summary, page, group, recalled)).finally(() => {
      outstanding -= 1;
      const resume = wake;
      wake = undefined;
      resume?.();
    });
  };

  // The page loop is written out rather than using paginateListSchedules: the paginator calls
  // client.send itself, and every ListSchedules request must pass through the List budget.
  const { signal } = options;
  const listPage = (scheduleGroup: string | undefined, token: string | undefined) =>
    budgets.list.call(
      () =>
        scheduler.send(
          new ListSchedulesCommand({
            MaxResults: PAGE_SIZE,
            ...(scheduleGroup === undefined ? {} : { GroupName: scheduleGroup }),
            ...(options.namePrefix === undefined ? {} : { NamePrefix: options.namePrefix }),
            ...(token === undefined ? {} : { NextToken: token }),
          }),
          signal ? { abortSignal: signal } : {},
        ),
      signal ? { signal } : {},
    );
  // What an earlier run already counted on the pages it resumes from; each is dropped once passed.
  const skip = new Set(start.skip ?? []);
  /**
   * One listing, read ahead of the page loop: each page is requested as soon as the one before it
   * arrives (ListSchedules is a NextToken chain, one request in flight), up to LIST_LOOKAHEAD_PAGES
   * ahead, and its memory read starts when it arrives. Neither a memory read nor items in flight
   * hold the listing up; nothing is sent ahead once the sweep is stopping.
   */
  const readAhead = (scheduleGroup: string | undefined, token: string | undefined) =>
    new ReadAheadListing({
      list: (next) => listPage(scheduleGroup, next),
      nextToken: token,
      depth: LIST_LOOKAHEAD_PAGES,
      // (shouldStop is the page loop's to ask, once per page, as its callers count on.)
      proceed: () => !stoppedBy && !signal?.aborted,
      // What an earlier run counted is passed over (and taken out of `skip` when the page is worked on).
      onListed: (page) => recall((page.Schedules ?? []).filter((item) => !skip.has(item.Arn ?? ''))),
    });
  let reader: ReadAheadListing<Promise<Map<string, RecalledOutcome> | undefined>> | undefined;

  /** The progress of every settled item, as a continuation handed on right now would carry it. */
  const snapshot = (): SweepSnapshot => {
    const cursor = settledCursor(pages, listCursor, skip);
    const progress: Record<string, GroupProgress> = Object.create(null);
    for (const [name, tally] of groups) {
      progress[name] = { ...structuredClone(tally), seen: tally.seen - (unsettled.get(name) ?? 0) };
    }
    // The listing resumes inside this group: it is not listed to its end yet.
    const resumedGroup = scopes[cursor.groupIndex];
    if (resumedGroup !== undefined && progress[resumedGroup]) progress[resumedGroup].listed = false;
    return {
      cursor,
      counts: structuredClone(counts),
      progress: { groups: progress, fromStart },
      requests: {
        ListSchedules: budgets.list.stats.requests,
        GetSchedule: budgets.get.stats.requests,
        DeleteSchedule: budgets.delete.stats.requests,
      },
      throttled: budgets.list.stats.throttled + budgets.get.stats.throttled + budgets.delete.stats.throttled,
      durationSeconds: Math.round(performance.now() - started) / 1000,
    };
  };
  const checkpoints = createCheckpointer(options.checkpoint, {
    snapshot,
    log,
    ...(signal ? { signal } : {}),
    onStop: (error) => {
      if (error instanceof CheckpointRefused) {
        failure ??= error;
        stoppedBy = StopReason.error;
      } else stoppedBy ??= StopReason.time;
    },
  });

  /**
   * Whether a listing may start over from its first page without counting anything twice: only
   * when all it counted is known (it began at its first page in this sweep, with progress carried).
   */
  const restartable = (scheduleGroup: string | undefined) =>
    scheduleGroup === undefined ? fromStart : groupTally(scheduleGroup).fromFirstPage;
  /**
   * Sets a listing back to its first page: what it counted of schedules it kept is taken back from
   * the totals and from `skip` (the re-list counts them again); what it removed stays counted, as
   * those schedules will not be listed again. Called once nothing is in flight.
   */
  const restartListing = (scheduleGroup: string | undefined) => {
    const restarted = scheduleGroup === undefined ? [...groups.values()] : [groupTally(scheduleGroup)];
    for (const group of restarted) {
      takeBack(counts, group.kept);
      group.seen = group.removed;
      delete group.kept;
    }
    if (scheduleGroup === undefined) skip.clear();
    else for (const arn of skip) if (groupOfArn(arn) === scheduleGroup) skip.delete(arn);
  };

  try {
    listing: for (let groupIndex = start.groupIndex; groupIndex < scopes.length; groupIndex += 1) {
      const scheduleGroup = scopes[groupIndex];
      let nextToken = groupIndex === start.groupIndex ? start.nextToken : undefined;
      if (scheduleGroup !== undefined && nextToken === undefined)
        groupTally(scheduleGroup).fromFirstPage = true;
      reader?.close();
      reader = readAhead(scheduleGroup, nextToken);
      let restarts = 0;
      for (;;) {
        listCursor = { groupIndex, ...(nextToken === undefined ? {} : { nextToken }) };
        if (stoppedBy) break listing;
        if (options.shouldStop?.() || signal?.aborted) {
          stoppedBy = StopReason.time;
          break listing;
        }
        let listed: ListedPage<Promise<Map<string, RecalledOutcome> | undefined>>;
        try {
          listed = await reader.next();
        } catch (error) {
          if (signal?.aborted) {
            stoppedBy = StopReason.time;
            break listing;
          }
          if (scheduleGroup !== undefined && isNotFound(error)) {
            // A configured group that does not exist holds no schedules; the others still get swept.
            log.warn('schedule group not found', { group: scheduleGroup });
            break;
          }
          if (!isNextTokenRejected(error, nextToken) || restarts >= MAX_LISTING_RESTARTS) throw error;
          if (!restartable(scheduleGroup)) throw error;
          // A refused NextToken (expired, say): the listing starts over from its first page. What was
          // listed before settles first, so what is taken back is final.
          reader.close();
          await waitUntilAtMost(0);
          while (pages.length > 0 && pages[0]?.remaining === 0 && pages[0]?.unprocessed === 0) pages.shift();
          if (stoppedBy) break listing;
          if (signal?.aborted) {
            stoppedBy = StopReason.time;
            break listing;
          }
          restarts += 1;
          restartListing(scheduleGroup);
          log.warn('ListSchedules refused the NextToken; the listing starts over from its first page', {
            group: scheduleGroup ?? '(every group)',
            restart: restarts,
            error: safeError(error),
          });
          nextToken = undefined;
          reader = readAhead(scheduleGroup, nextToken);
          continue;
        }
        const { page } = listed;
        const schedules = page.Schedules ?? [];
        const items = schedules.filter((item) => !skip.has(item.Arn ?? ''));
        const passed = schedules.filter((item) => skip.has(item.Arn ?? '')).map((item) => item.Arn ?? '');
        for (const arn of passed) skip.delete(arn);
        nextToken = page.NextToken || undefined;
        const record: PageRecord = {
          cursor: listCursor,
          remaining: items.length,
          unprocessed: 0,
          done: [],
          passed,
          next: nextToken === undefined ? { groupIndex: groupIndex + 1 } : { groupIndex, nextToken },
        };
        // Recorded before its memory read is awaited: a checkpoint taken meanwhile resumes at this page.
        pages.push(record);
        // Its memory read began when it arrived, while the pages before it were worked on.
        const answers = await listed.extra;
        for (const summary of items) enqueue(summary, record, answers?.get(summary.Arn ?? ''));
        // At most one page of items waits while the next is worked on, and the listing goes on
        // meanwhile, up to LIST_LOOKAHEAD_PAGES ahead: memory flat (see "Pages held" in src/sweep/README.md).
        await waitUntilAtMost(PAGE_SIZE);
        await releaseSettledPages();
        if (nextToken === undefined) break;
      }
      if (scheduleGroup !== undefined && groupTally(scheduleGroup).fromFirstPage) {
        groupTally(scheduleGroup).listed = true;
      }
      listCursor = { groupIndex: groupIndex + 1 };
    }
    // Past the last scope only when no stop broke the loop (maxDeletes may still be reached later).
    listedEverything = listCursor.groupIndex >= scopes.length;
  } catch (error) {
    failure = error;
    stoppedBy = StopReason.error;
  } finally {
    reader?.close();
    await waitUntilAtMost(0);
    // Outcomes still being recorded on tombstones are settled before the summary claims anything.
    await context.tombstones.flush();
    await checkpoints.stop();
  }

  if (stoppedBy === StopReason.maxDeletes && listedEverything) {
    // maxDeletes was reached on the very last items: it only matters if something was left over.
    const leftOver = pages.some((page) => page.unprocessed > 0);
    if (!leftOver) stoppedBy = undefined;
  }
  const complete = stoppedBy === undefined;
  const resumeAt = resumeCursor(pages, listCursor, skip);
  const summary = buildSummary({
    counts,
    budgets,
    started,
    dryRun: options.dryRun,
    complete,
    stoppedBy,
    cursor: complete ? undefined : resumeAt,
    scheduleCounts: countSchedules(groups, {
      allGroups: options.groups.length === 0,
      namePrefix: options.namePrefix,
      // Sweeping every group at once: whole only when listed from the very first page to the end.
      everythingListed: listedEverything && fromStart,
    }),
    progress: { groups: Object.fromEntries(groups), fromStart },
  });

  if (options.report) await options.report(summary);
  else await publishSweepMetrics(deps, options.namespace, summary);
  if (failure !== undefined) {
    log.error('sweep failed', { error: safeError(failure), summary });
    throw failure;
  }
  return summary;
}

/**
 * Where a later run resumes: the first page with items left over (or the next page to list), with
 * the ARNs already counted on the pages from there on, including those an earlier run passed on.
 */
function resumeCursor(pages: PageRecord[], listCursor: SweepCursor, unlisted: Set<string>): SweepCursor {
  const first = pages.findIndex((page) => page.unprocessed > 0);
  if (first < 0) return listCursor;
  const { skip: _previous, ...cursor } = pages[first]!.cursor;
  // Counted before: on the pages from the resume point on, and on pages this run did not reach.
  const done = [...pages.slice(first).flatMap((page) => [...page.done, ...page.passed]), ...unlisted];
  return done.length > 0 ? { ...cursor, skip: done } : cursor;
}

/** Records an outcome of a schedule the sweep kept (not deleted, not gone) in its group's `kept`. */
function keep(group: GroupTally, outcome: ItemOutcome, recalled: boolean): void {
  const { kind } = outcome;
  if (kind === 'deleted' || kind === 'alreadyGone' || kind === 'notProcessed' || kind === 'abandoned') return;
  const kept: KeptCounts = group.kept ?? {};
  group.kept = kept;
  const add = (field: Exclude<keyof KeptCounts, 'skipped'>) => {
    kept[field] = (kept[field] ?? 0) + 1;
  };
  add('scanned');
  if (recalled) add('recalled');
  switch (outcome.kind) {
    case 'wouldDelete':
      add('wouldDelete');
      add('finished');
      if (outcome.decision.stuck) add('stuck');
      break;
    case 'pending':
    case 'recurring':
      add(outcome.kind);
      break;
    case 'failed':
      add('failed');
      if (outcome.outcomeUnknown) add('deleteOutcomeUnknown');
      break;
    case 'skipped': {
      const skipped = kept.skipped ?? {};
      kept.skipped = skipped;
      skipped[outcome.reason] = (skipped[outcome.reason] ?? 0) + 1;
      break;
    }
  }
}

/** Subtracts what a restarted listing had counted of the schedules it kept. */
function takeBack(counts: SweepCounts, kept: KeptCounts | undefined): void {
  if (!kept) return;
  for (const [field, value] of Object.entries(kept)) {
    if (field === 'skipped' || typeof value !== 'number') continue;
    counts[field as Exclude<keyof KeptCounts, 'skipped'>] -= value;
  }
  for (const [reason, value] of Object.entries(kept.skipped ?? {})) {
    counts.skipped[reason] = (counts.skipped[reason] ?? 0) - value;
  }
}

/** The schedule group in a schedule ARN (arn:aws:scheduler:REGION:ACCOUNT:schedule/GROUP/NAME). */
function groupOfArn(arn: string): string | undefined {
  return arn.split(':').slice(5).join(':').split('/')[1];
}

function mergeCounts(base: SweepCounts, extra: Partial<SweepCounts> | undefined): SweepCounts {
  if (!extra) return base;
  const merged = { ...base, ...extra, skipped: { ...base.skipped, ...extra.skipped } };
  return merged;
}

function countSchedules(
  groups: Map<string, GroupTally>,
  scope: { allGroups: boolean; namePrefix: string | undefined; everythingListed: boolean },
): SweepSummary['scheduleCounts'] {
  // A name filter sees only part of each group: no count would be whole.
  if (scope.namePrefix !== undefined) return { byGroup: {} };
  const byGroup: Record<string, number> = Object.create(null); // a group may be named "__proto__"
  let total = 0;
  let whole = scope.allGroups && scope.everythingListed;
  for (const [name, tally] of groups) {
    const covered = (scope.allGroups ? scope.everythingListed : tally.listed) && !tally.unprocessed;
    if (covered) byGroup[name] = tally.seen - tally.removed;
    else whole = false;
    total += tally.seen - tally.removed;
  }
  return whole ? { total, byGroup } : { byGroup };
}

function buildSummary(input: {
  counts: SweepCounts;
  budgets: Record<'list' | 'get' | 'delete', RequestBudget>;
  started: number;
  dryRun: boolean;
  complete: boolean;
  stoppedBy: StopReason | undefined;
  cursor: SweepCursor | undefined;
  scheduleCounts: SweepSummary['scheduleCounts'];
  progress: SweepProgress;
}): SweepSummary {
  const { counts, budgets } = input;
  return {
    ...counts,
    skippedTotal: Object.values(counts.skipped).reduce((sum, value) => sum + value, 0),
    uncertain: {
      deleted: counts.deletedUnconfirmed + counts.deleteOutcomeUnknown + (counts.deletesUncounted ?? 0),
    },
    throttled: budgets.list.stats.throttled + budgets.get.stats.throttled + budgets.delete.stats.throttled,
    requests: {
      ListSchedules: budgets.list.stats.requests,
      GetSchedule: budgets.get.stats.requests,
      DeleteSchedule: budgets.delete.stats.requests,
    },
    durationSeconds: Math.round(performance.now() - input.started) / 1000,
    dryRun: input.dryRun,
    complete: input.complete,
    ...(input.stoppedBy ? { stoppedBy: input.stoppedBy } : {}),
    ...(input.cursor ? { cursor: input.cursor } : {}),
    scheduleCounts: input.scheduleCounts,
    progress: input.progress,
  };
}

/**
 * Where a checkpoint resumes: the first page with an unsettled or unprocessed item, with the ARNs
 * already counted on the pages from there on; when every recorded page is settled, the page after
 * the last one. ARNs an earlier run counted on pages not reached yet stay in `skip`.
 */
function settledCursor(pages: PageRecord[], listCursor: SweepCursor, unlisted: Set<string>): SweepCursor {
  const first = pages.findIndex((page) => page.remaining > 0 || page.unprocessed > 0);
  const withSkip = (cursor: SweepCursor, done: string[]): SweepCursor => {
    const { skip: _previous, ...bare } = cursor;
    return done.length > 0 ? { ...bare, skip: done } : bare;
  };
  if (first >= 0) {
    const done = pages.slice(first).flatMap((page) => [...page.done, ...page.passed]);
    return withSkip(pages[first]!.cursor, [...done, ...unlisted]);
  }
  const last = pages.at(-1);
  return withSkip(last ? last.next : listCursor, [...unlisted]);
}

interface Checkpointer {
  /** Waits until one more delete fits in the allowance; at once when `arn` already holds a permit. */
  permit(arn: string): Promise<void>;
  /** An item settled (counted): its permit, if any, is returned and a checkpoint may be due. */
  settled(arn: string): void;
  /** Ends the cadence and waits for a save in progress. */
  stop(): Promise<void>;
}

/** How long after a failed save the next is tried. */
const CHECKPOINT_RETRY_MS = 1_000;
/** Saves that fail in a row (each after the SDK's retries) before the sweep stops. */
export const CHECKPOINT_FAILURES_TO_STOP = 3;

/** The deletion allowance and the cadence of CheckpointPolicy; inert without a policy. */
function createCheckpointer(
  policy: CheckpointPolicy | undefined,
  hooks: {
    snapshot: () => SweepSnapshot;
    log: Logger;
    signal?: AbortSignal;
    onStop: (error: CheckpointStop) => void;
  },
): Checkpointer {
  if (!policy)
    return { permit: async () => undefined, settled: () => undefined, stop: async () => undefined };
  const { allowance, everyMs } = policy;
  /** ARNs holding a permit whose item has not settled. */
  const holders = new Set<string>();
  let taken = 0;
  /** Permits taken, and permits held, when the latest saved snapshot was taken. */
  let covered = { taken: 0, held: 0 };
  let changes = 0;
  let savedChanges = 0;
  let lastSave = performance.now();
  let lastFailure = Number.NEGATIVE_INFINITY;
  let saving: Promise<void> | undefined;
  let refused: CheckpointStop | undefined;
  let failures = 0;
  let stopped = false;
  let waiters: (() => void)[] = [];
  const wake = () => {
    const woken = waiters;
    waiters = [];
    for (const resume of woken) resume();
  };
  /** Deletes the latest saved snapshot does not count: held when it was taken, or taken since. */
  const uncovered = () => covered.held + (taken - covered.taken);
  const save = () => {
    const at = { taken, held: holders.size, changes };
    const snapshot = hooks.snapshot();
    saving = policy
      .save(snapshot)
      .then(
        () => {
          failures = 0;
          covered = { taken: at.taken, held: at.held };
          savedChanges = at.changes;
          lastSave = performance.now();
        },
        (error: unknown) => {
          if (error instanceof CheckpointRefused) {
            refused = error;
            hooks.onStop(error);
            return;
          }
          lastFailure = performance.now();
          failures += 1;
          if (failures >= CHECKPOINT_FAILURES_TO_STOP) {
            hooks.log.error(
              'writing sweep checkpoints keeps failing; the sweep stops here and tries to hand on',
              { failures, error: safeError(error) },
            );
            refused = new CheckpointUnavailable('sweep checkpoints could not be written');
            hooks.onStop(refused);
            return;
          }
          hooks.log.warn('writing a sweep checkpoint failed; deletions wait for the next one', {
            error: safeError(error),
          });
        },
      )
      .finally(() => {
        saving = undefined;
        wake();
        consider();
      });
  };
  /** Saves now if a save would help and none is in progress. */
  const consider = () => {
    if (saving || refused || stopped) return;
    if (performance.now() - lastFailure < CHECKPOINT_RETRY_MS) return;
    // What a fresh snapshot would take off the uncovered deletes (those still held stay uncovered).
    const gain = uncovered() - holders.size;
    const pressed = gain > 0 && (uncovered() * 2 >= allowance || waiters.length > 0);
    const due = changes !== savedChanges && performance.now() - lastSave >= everyMs;
    if (pressed || due) save();
  };
  const timer = setInterval(consider, Math.min(everyMs, CHECKPOINT_RETRY_MS));
  timer.unref?.();
  return {
    async permit(arn) {
      if (holders.has(arn)) return;
      while (uncovered() >= allowance) {
        if (refused) throw refused;
        hooks.signal?.throwIfAborted();
        consider();
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          hooks.signal?.addEventListener('abort', () => resolve(), { once: true });
        });
      }
      if (refused) throw refused;
      holders.add(arn);
      taken += 1;
      consider();
    },
    settled(arn) {
      holders.delete(arn);
      changes += 1;
      consider();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      wake();
      await saving;
    },
  };
}
