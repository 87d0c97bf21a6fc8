// Judging one listed schedule: its protection first (a protected schedule is never looked up), then
// what memory of an earlier lookup may answer, then GetSchedule and decide(), and for a finished one
// its CloudFormation ownership. The verdict is an outcome to count, or a candidate for the delete
// gate (src/sweep/gate.ts), which alone may delete.
import {
  GetScheduleCommand,
  type GetScheduleCommandOutput,
  type SchedulerClient,
  type ScheduleSummary,
} from '@aws-sdk/client-scheduler';
import { isNotFound, type RequestBudget } from '../aws/budget.ts';
import type { Logger } from '../log.ts';
import type { OwnershipLookup } from '../ownership/cloudformation.ts';
import type { ProtectionCheck } from '../protect/protection.ts';
import { safeError, scheduleRef } from '../redact.ts';
import { type Decision, decide, SkipReason } from '../schedule/decide.ts';
import { answersFor, isDotSegment, NAME_PATTERN } from '../schedule/name.ts';
import type { ItemOutcome, RecalledOutcome } from './model.ts';

export type Finished = Extract<Decision, { outcome: 'finished' }>;

/** A schedule judged finished: what the delete gate needs to establish its delete. */
export interface Candidate {
  kind: 'candidate';
  summary: ScheduleSummary;
  /** The definition judged, as GetSchedule answered it. */
  schedule: GetScheduleCommandOutput;
  /** When that answer arrived (performance time, ms). */
  answeredAt: number;
  decision: Finished;
}

export type Verdict = ItemOutcome | Candidate;

export interface JudgeContext {
  scheduler: SchedulerClient;
  clock: () => Date;
  log: Logger;
  getBudget: RequestBudget;
  graceMs: number;
  keepDisabled: boolean;
  protection?: ProtectionCheck;
  /** Absent: ownership is not checked (SWEEP_CLOUDFORMATION_OWNED=sweep). */
  ownership?: OwnershipLookup;
  signal?: AbortSignal;
  /** Monotonic milliseconds (default performance.now). */
  now?: () => number;
}

/**
 * The ListSchedules request a schedule was listed by: its group (undefined: a listing of every group)
 * and name prefix (undefined: none). A listed schedule outside it is not judged (answerMismatch).
 */
export interface Listing {
  group?: string | undefined;
  namePrefix?: string | undefined;
}

/** The answers memory may give: never one that could lead to a deletion. */
const RECALLABLE = new Set<ItemOutcome['kind']>(['pending', 'recurring', 'skipped']);

export function isRecallable(outcome: ItemOutcome): outcome is RecalledOutcome {
  return RECALLABLE.has(outcome.kind);
}

/** One schedule's verdict. Never throws: a failure costs this item, counted, never the run. */
export async function judge(
  summary: ScheduleSummary,
  recalled: RecalledOutcome | undefined,
  context: JudgeContext,
  listing: Listing = {},
): Promise<Verdict> {
  if (!listedAsAsked(summary, listing)) {
    context.log.warn('schedule skipped', {
      ...scheduleRef(summary),
      reason: SkipReason.answerMismatch,
      detail: 'listed outside the group or name prefix its listing asked for',
    });
    return { kind: 'skipped', reason: SkipReason.answerMismatch };
  }
  try {
    const protection = await context.protection?.check(summary);
    if (context.signal?.aborted) return { kind: 'abandoned' };
    if (protection?.kind === 'protected') return protection;
    if (protection?.kind === 'unknown') return { kind: 'skipped', reason: SkipReason.protectionUnknown };
    if (recalled) return recalled;
    return await lookUpAndDecide(summary, context);
  } catch (error) {
    // A bug in the decision or logging must cost one item, never the run.
    context.log.error('schedule inspection failed', { ...scheduleRef(summary), error: safeError(error) });
    return { kind: 'failed', operation: 'GetSchedule' };
  }
}

async function lookUpAndDecide(summary: ScheduleSummary, context: JudgeContext): Promise<Verdict> {
  let read: { schedule: GetScheduleCommandOutput; answeredAt: number };
  try {
    read = await lookUp(summary, context);
  } catch (error) {
    if (context.signal?.aborted) return { kind: 'abandoned' };
    if (isNotFound(error)) {
      if (!isDotSegment(summary.Name)) return { kind: 'alreadyGone', finished: false };
      context.log.warn('schedule skipped', {
        ...scheduleRef(summary),
        reason: SkipReason.unaddressableName,
        error: safeError(error),
      });
      return { kind: 'skipped', reason: SkipReason.unaddressableName };
    }
    if (isKmsAccessDenied(error)) {
      // Its definition cannot be read, so it can be neither judged nor tombstoned: kept, counted, and
      // remembered until it changes, so it is not a failure on every sweep (docs/sweep.md).
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
  const { schedule } = read;
  if (!answersFor(summary, schedule)) {
    context.log.warn('schedule skipped', { ...scheduleRef(summary), reason: SkipReason.answerMismatch });
    return { kind: 'skipped', reason: SkipReason.answerMismatch };
  }
  const decision = decide(schedule, context.clock(), {
    graceMs: context.graceMs,
    keepDisabled: context.keepDisabled,
  });
  switch (decision.outcome) {
    case 'pending':
      return { kind: 'pending', finishedAt: decision.finishedAt };
    case 'recurring':
      return { kind: 'recurring' };
    case 'skipped':
      context.log.warn('schedule skipped', {
        ...scheduleRef(schedule),
        reason: decision.reason,
        detail: decision.detail,
      });
      return { kind: 'skipped', reason: decision.reason };
    case 'finished': {
      const owned = keptForOwnership(summary, context.ownership);
      if (!owned) return { kind: 'candidate', summary, schedule, answeredAt: read.answeredAt, decision };
      if (owned.reason === SkipReason.cloudFormationOwned) {
        context.log.info('schedule kept: a CloudFormation stack declares it', {
          ...scheduleRef(summary),
          reason: owned.reason,
          stack: owned.stack,
        });
      } else context.log.warn('schedule skipped', { ...scheduleRef(summary), reason: owned.reason });
      return { ...owned, foundFinished: { stuck: decision.stuck } };
    }
  }
}

/**
 * The outcome that keeps a finished schedule for its CloudFormation ownership: a stack declares it
 * (cloudFormationOwned, with the stack), or that cannot be known (ownershipUnknown); undefined when
 * no stack declares it or ownership is not checked. Synchronous: the index was read once per
 * invocation (src/ownership/cloudformation.ts), so the judge and the delete gate ask it alike.
 */
export function keptForOwnership(
  summary: ScheduleSummary,
  ownership: OwnershipLookup | undefined,
): Extract<ItemOutcome, { kind: 'skipped' }> | undefined {
  if (!ownership) return undefined;
  const owner = ownership.ownerOf(summary);
  if (owner === undefined) return undefined;
  if (owner === 'unknown') return { kind: 'skipped', reason: SkipReason.ownershipUnknown };
  return { kind: 'skipped', reason: SkipReason.cloudFormationOwned, stack: owner.stack };
}

/** GetSchedule through its budget; `answeredAt` is when its answer arrived (performance time). */
export async function lookUp(
  summary: Pick<ScheduleSummary, 'Name' | 'GroupName'>,
  context: Pick<JudgeContext, 'scheduler' | 'getBudget' | 'signal' | 'now'>,
): Promise<{ schedule: GetScheduleCommandOutput; answeredAt: number }> {
  const { signal } = context;
  const schedule = await context.getBudget.call(
    () =>
      context.scheduler.send(
        new GetScheduleCommand({ Name: summary.Name ?? '', GroupName: summary.GroupName ?? 'default' }),
        signal ? { abortSignal: signal } : {},
      ),
    signal ? { signal } : {},
  );
  return { schedule, answeredAt: (context.now ?? performance.now.bind(performance))() };
}

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
 * Whether a listed schedule is one its listing asked for: a name of the API's form and an ARN
 * (ListSchedules lists both; the lookup's answer is held to that ARN), with the listing's prefix, in
 * the listing's group (a summary without GroupName is in `default`; a listing of every group takes
 * any).
 */
export function listedAsAsked(summary: ScheduleSummary, listing: Listing): boolean {
  const name = summary.Name ?? '';
  if (!NAME_PATTERN.test(name) || !summary.Arn) return false;
  if (listing.group !== undefined && (summary.GroupName ?? 'default') !== listing.group) return false;
  return listing.namePrefix === undefined || name.startsWith(listing.namePrefix);
}

/**
 * Whether the schedule read again is no longer the one judged finished: another schedule's answer,
 * modified, recreated, or due again.
 */
export function changedSince(
  judged: GetScheduleCommandOutput,
  fresh: GetScheduleCommandOutput,
  context: Pick<JudgeContext, 'clock' | 'graceMs' | 'keepDisabled'>,
): boolean {
  const same = (left: Date | undefined, right: Date | undefined) => left?.getTime() === right?.getTime();
  if (!answersFor(judged, fresh)) return true;
  if (!same(judged.LastModificationDate, fresh.LastModificationDate)) return true;
  if (!same(judged.CreationDate, fresh.CreationDate)) return true;
  const decision = decide(fresh, context.clock(), {
    graceMs: context.graceMs,
    keepDisabled: context.keepDisabled,
  });
  return decision.outcome !== 'finished';
}
