// The sweep's vocabulary: what it is given (deps, options), what it passes between its stages (a
// cursor, an item's outcome, counts, progress) and what it answers (the summary). Types only, plus the
// page constants, so every stage imports the same names and none imports another stage for them.
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { SchedulerClient, ScheduleSummary } from '@aws-sdk/client-scheduler';
import type { BudgetOptions } from '../aws/budget.ts';
import { MAX_LISTING_RESTARTS } from '../aws/budget.ts';
import type { Logger } from '../log.ts';
import type { OwnershipLookup } from '../ownership/cloudformation.ts';
import type { SerializedSweepProducers, SweepProducersSummary } from '../producers/sweep.ts';
import type { SerializedSpaceSaving } from '../producers/tally.ts';
import type { ProtectedBy, ProtectionCheck } from '../protect/protection.ts';
import type { Decision, SkipReason } from '../schedule/decide.ts';
import type { TombstoneWriter } from './tombstones.ts';

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
  /**
   * Which schedules CloudFormation stacks declare (src/ownership/cloudformation.ts): a finished one
   * a stack declares is kept (`cloudFormationOwned`), and one whose ownership is unknown too
   * (`ownershipUnknown`). Absent: ownership is not checked (SWEEP_CLOUDFORMATION_OWNED=sweep).
   */
  ownership?: OwnershipLookup;
  /**
   * Monotonic milliseconds by which the delete gate ages its reads (the definition's, the
   * protection's) up to a delete's departure; default performance.now. Tests that are not about those
   * windows hold it still, so a loaded machine changes none of their outcomes.
   */
  elapsed?: () => number;
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
  /** The producer and owning-stack tallies carried over from earlier runs of the same sweep. */
  startingTallies?: SweepTallies;
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

/**
 * Where a run stands, in whole-run totals, counting settled items only: what a checkpoint holds and
 * what a continuation carries (with the run's identity, src/sweep/payload.ts).
 */
export interface SweepSnapshot {
  /** The first page with an unsettled item (or the next page to list), with what it already counted in `skip`. */
  cursor: SweepCursor;
  /** Totals so far; the next invocation starts from them. */
  counts: SweepCounts;
  progress: SweepProgress;
  /**
   * The finished schedules' producers and owning stacks so far (src/sweep/ledger.ts): at most about
   * 22 KB (seven tallies of 25 counters, keys at their longest), checked exactly on the way in.
   */
  tallies: SweepTallies;
  requests: SweepSummary['requests'];
  throttled: number;
  /** Seconds spent sweeping so far, over all invocations. */
  durationSeconds: number;
}

/**
 * The sweep's bounded tallies of finished schedules, as JSON (a checkpoint and a continuation carry
 * them; src/sweep/ledger.ts keeps them): who they belong to, and which stacks own those kept for it.
 */
export interface SweepTallies {
  /** Per target ARN, group and pair, the stuck ones apart (src/producers/sweep.ts). */
  producers: SerializedSweepProducers;
  /** Finished schedules kept as `cloudFormationOwned`, per owning stack name. */
  ownedByStack: SerializedSpaceSaving;
  /**
   * Not in the two above: what the listing the cursor resumes in counted of the schedules it kept,
   * dropped if that listing must restart from its first page (as its groups' `kept` counts are).
   */
  listing?: Omit<SweepTallies, 'listing'>;
}

/** The summary's view of the finished schedules kept because a CloudFormation stack declares them. */
export interface CloudFormationOwnedSummary {
  /** Every one kept for it (equals skipped.cloudFormationOwned). */
  total: number;
  /** The stacks holding the most, largest first; `count` is at least the true one (exact when `uncertainty` is 0). */
  stacks: { stack: string; count: number; uncertainty: number }[];
  /** total minus the stacks shown. */
  otherStacks: number;
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
  /**
   * Marked never to be deleted (group tag, name prefix, restored with --keep). Those protected by
   * prefix or group tag are never looked up; a restored name is read at the delete gate.
   */
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
  requests: {
    ListSchedules: number;
    GetSchedule: number;
    DeleteSchedule: number;
    /**
     * Of GetSchedule, the requests that read a schedule again before its delete, because the delete
     * would otherwise have left more than the re-read window after the last read (src/sweep/gate.ts).
     */
    rereads: number;
  };
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
  /**
   * Who the finished schedules found belong to (the top 10 targets, groups and pairs), the stuck
   * ones apart: every finished verdict, whatever came of it (deleted, would be deleted in a dry run,
   * or kept for a reason), so `producers.finished.total` may exceed `finished`.
   */
  producers: SweepProducersSummary;
  /** The finished schedules kept because a CloudFormation stack declares them, per stack (top 10). */
  cloudFormationOwned: CloudFormationOwnedSummary;
  /** The tallies behind those two views: what a resumed run passes back as `startingTallies`. */
  tallies: SweepTallies;
}

/** What judging, and for a finished schedule the delete gate, came to for one schedule. */
export type ItemOutcome = (
  | { kind: 'deleted'; decision: Extract<Decision, { outcome: 'finished' }>; unconfirmed?: true }
  | { kind: 'wouldDelete'; decision: Extract<Decision, { outcome: 'finished' }> }
  | { kind: 'alreadyGone'; finished: boolean }
  | { kind: 'pending'; finishedAt: Date }
  | { kind: 'recurring' }
  /** `stack`: the owning stack, for reason cloudFormationOwned. */
  | { kind: 'skipped'; reason: SkipReasonName; stack?: string }
  | { kind: 'protected'; by: ProtectedBy }
  | { kind: 'failed'; operation: 'GetSchedule' | 'DeleteSchedule'; outcomeUnknown?: true }
  /** Not looked at, or not deleted, because the sweep is stopping (maxDeletes reached). */
  | { kind: 'notProcessed' }
  /** Cut off by the hard stop before anything about it was settled: left uncounted for the continuation. */
  | { kind: 'abandoned' }
) & {
  /** GetSchedule re-reads the delete gate made for it (see SweepCounts.rereads). */
  rereads?: number;
  /** Set when the judge found it finished, whatever came of it next: the producers tally counts it. */
  foundFinished?: { stuck: boolean };
};

export const PAGE_SIZE = 100;
/**
 * The most pages, from the first with an item not settled to the last listed, the page loop holds
 * before it lists more (see releaseSettledPages): a cursor then skips at most this many pages of
 * ARNs, within MAX_SKIPPED_ARNS.
 */
export const MAX_PAGES_SPANNED = 8;
