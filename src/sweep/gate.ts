// The delete gate: the one way a sweep deletes a schedule. Every precondition of a delete is
// established here, and the ones that age are checked again at the moment the DeleteSchedule request
// leaves the process (src/aws/departure.ts), not when it was queued:
//
//   1. a deletion allowance is reserved (maxDeletes over the whole sweep);
//   2. its protection is current: name prefixes (fixed for the invocation), the group tag from a
//      read at most PROTECTION_MAX_AGE_MS old at departure, and restored names from a read at most
//      `recheckAfterMs` old (each read again when older);
//   3. its tombstone is stored and acknowledged (no tombstone, no delete);
//   4. the checkpoint cadence has room for one more delete it does not yet cover;
//   5. its definition was answered at most `recheckAfterMs` before departure (read again when older,
//      and kept if it changed);
//   6. the invocation's hard deadline has not passed;
//   7. no CloudFormation stack declares it, and that is known (the invocation's ownership index,
//      which does not change while it runs, so it is asked once, before the tombstone).
//
// What cannot be established keeps the schedule, counted by reason. The gate also records on the
// tombstone what came of the delete (deleted, gone, refused, unknown, notSent).
import { randomUUID } from 'node:crypto';
import {
  DeleteScheduleCommand,
  type GetScheduleCommandOutput,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { isNotFound, type RequestBudget } from '../aws/budget.ts';
import { DepartureRefused, sendWithDepartureCheck } from '../aws/departure.ts';
import type { Logger } from '../log.ts';
import type { OwnershipLookup } from '../ownership/cloudformation.ts';
import { PROTECTION_MAX_AGE_MS, type ProtectionCheck, type ProtectionRead } from '../protect/protection.ts';
import { safeError, scheduleRef } from '../redact.ts';
import { SkipReason } from '../schedule/decide.ts';
import { type Candidate, changedSince, keptForOwnership, lookUp } from './judge.ts';
import { CheckpointStop, type ItemOutcome } from './model.ts';
import {
  type ScheduleDefinition,
  serializeDefinition,
  sha256,
  TombstoneOutcome,
  type TombstoneReceipt,
  type TombstoneWriter,
} from './tombstones.ts';

/**
 * Default for GateContext.recheckAfterMs. The window in which an application's change can be lost to
 * a delete is then the last read's own round trip plus at most 100 ms, measured to departure.
 */
export const RECHECK_AFTER_MS = 100;

/** Departures refused (a precondition aged while the request waited) before the schedule is kept. */
export const DEPARTURES_BEFORE_KEEPING = 8;

/** The warning logged, with the schedule's reference, for each schedule kept as staleAtDeparture. */
export const KEPT_AT_DEPARTURE = 'a delete could not leave with current preconditions; schedule kept';

/** maxDeletes over the sweep: a claim per delete that may apply. */
export interface DeletionAllowance {
  /** Claims one deletion; false when none is left. */
  reserve(): boolean;
  /** Gives a claim back: the delete did not happen. */
  release(): void;
}

export interface GateContext {
  scheduler: SchedulerClient;
  clock: () => Date;
  log: Logger;
  budgets: { get: RequestBudget; delete: RequestBudget };
  dryRun: boolean;
  graceMs: number;
  keepDisabled: boolean;
  tombstones: TombstoneWriter;
  protection?: ProtectionCheck;
  /** Absent: ownership is not checked (SWEEP_CLOUDFORMATION_OWNED=sweep). */
  ownership?: OwnershipLookup;
  allowance: DeletionAllowance;
  /** Waits for room under the checkpoint cadence's allowance; throws when the sweep is stopping. */
  permit?: (arn: string) => Promise<void>;
  /** The hard stop: nothing leaves after it aborts. */
  signal?: AbortSignal;
  runId: string;
  /** The longest a delete may leave after its definition's last answer (ms, default RECHECK_AFTER_MS). */
  recheckAfterMs: number;
  /** The oldest a protection read may be at departure (ms, default PROTECTION_MAX_AGE_MS). */
  protectionMaxAgeMs?: number;
  /** Monotonic milliseconds (default performance.now). */
  now?: () => number;
}

/** What the gate knows of one delete while it tries to send it. */
interface Attempts {
  /** When the definition judged (or its latest re-read) was answered. */
  answeredAt: number;
  /** When the protection verdict's oldest read was sent. */
  protectedAt: number;
  /** When the answer of the schedule's protected-name read arrived (held to the re-read window). */
  namedAt: number;
  sent: number;
  /** Attempts answered with a 4xx other than 404: refused, not applied. */
  refused: number;
  /** Attempts answered 404. */
  notFound: number;
  /** Found gone by a re-read after one of our attempts was sent (its answer lost or late). */
  goneAfterSent: boolean;
  rereads: number;
}

/** The schedule changed between the sweep's lookup and its delete. */
class ChangedSinceLookup extends Error {}
/** The schedule became protected (or its protection unreadable) between its lookup and its delete. */
class ProtectedSinceLookup extends Error {
  constructor(readonly read: ProtectionRead) {
    super('protected since its lookup');
  }
}

/** Passes one finished schedule through the gate: deleted (or would be, in a dry run), or kept and why. */
export async function passGate(candidate: Candidate, context: GateContext): Promise<ItemOutcome> {
  if (!context.allowance.reserve()) return { kind: 'notProcessed' };
  const outcome = await establishAndDelete(candidate, context);
  // A delete sent whose outcome never settled may have applied: it keeps its claim, so maxDeletes
  // caps the deletions that may have happened, not only those confirmed.
  const keepsClaim =
    outcome.kind === 'deleted' ||
    outcome.kind === 'wouldDelete' ||
    (outcome.kind === 'failed' && outcome.outcomeUnknown === true);
  if (!keepsClaim) context.allowance.release();
  return outcome;
}

async function establishAndDelete(candidate: Candidate, context: GateContext): Promise<ItemOutcome> {
  const owned = keptForOwnership(candidate.summary, context.ownership);
  if (owned) {
    context.log.warn('schedule kept at the delete gate for its CloudFormation ownership', {
      ...scheduleRef(candidate.summary),
      reason: owned.reason,
      ...(owned.stack ? { stack: owned.stack } : {}),
    });
    return owned;
  }
  const { $metadata: _metadata, ...definition } = candidate.schedule;
  if (context.dryRun) {
    const protection = await confirmProtection(candidate, context);
    if (protection.verdict) return keptFor(protection);
    // Never the definition itself: its target input may hold secrets. Its fingerprint matches the
    // tombstone a real run would store.
    context.log.info('tombstone', {
      action: 'wouldDelete',
      ...scheduleRef(definition),
      finishedAt: candidate.decision.finishedAt.toISOString(),
      stuck: candidate.decision.stuck,
      sha256: sha256(serializeDefinition(definition)),
    });
    return { kind: 'wouldDelete', decision: candidate.decision };
  }
  // Side by side, so the delete leaves one round trip sooner after its lookup (fewer re-reads): a
  // protected schedule's tombstone is then settled notSent, and restore leaves it alone.
  const [protection, receipt] = await Promise.all([
    confirmProtection(candidate, context),
    storeTombstone(candidate, definition, context),
  ]);
  if (protection.verdict) {
    if (receipt) context.tombstones.settle(receipt, TombstoneOutcome.notSent);
    return keptFor(protection);
  }
  if (!receipt) return { kind: 'failed', operation: 'DeleteSchedule' };
  logDeleting(candidate, definition, receipt, context);
  const attempts: Attempts = {
    answeredAt: candidate.answeredAt,
    protectedAt: protection.readAt,
    namedAt: protection.nameAnsweredAt,
    sent: 0,
    refused: 0,
    notFound: 0,
    goneAfterSent: false,
    rereads: 0,
  };
  const outcome = await deleteWithCurrentPreconditions(candidate, context, attempts, receipt);
  return attempts.rereads > 0 ? { ...outcome, rereads: attempts.rereads } : outcome;
}

async function confirmProtection(candidate: Candidate, context: GateContext): Promise<ProtectionRead> {
  if (!context.protection) {
    return { verdict: undefined, readAt: Number.POSITIVE_INFINITY, nameAnsweredAt: Number.POSITIVE_INFINITY };
  }
  return context.protection.confirm(candidate.summary);
}

function keptFor(read: ProtectionRead): ItemOutcome {
  if (read.verdict?.kind === 'protected') return read.verdict;
  return { kind: 'skipped', reason: SkipReason.protectionUnknown };
}

/** No tombstone, no delete: the definition is kept before the request that removes it. */
async function storeTombstone(
  candidate: Candidate,
  definition: ScheduleDefinition,
  context: GateContext,
): Promise<TombstoneReceipt | undefined> {
  const { decision } = candidate;
  let receipt: TombstoneReceipt;
  try {
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
    return undefined;
  }
  return receipt;
}

/**
 * The deletion's log line: never the target, only the schedule's identity and where its tombstone
 * lives (key and fingerprint). Logged once the tombstone is stored and the schedule found
 * unprotected, before the delete is sent.
 */
function logDeleting(
  candidate: Candidate,
  definition: ScheduleDefinition,
  receipt: TombstoneReceipt,
  context: GateContext,
): void {
  const { decision } = candidate;
  context.log.info('tombstone', {
    action: 'deleting',
    ...scheduleRef(definition),
    finishedAt: decision.finishedAt.toISOString(),
    stuck: decision.stuck,
    tombstone: receipt.key,
    ...(receipt.sha256 ? { sha256: receipt.sha256 } : {}),
    runId: context.runId,
  });
}

/**
 * Sends the delete once every aging precondition is current at departure: before each attempt, what
 * aged is read again (and the schedule kept if it changed or became protected); at departure the
 * ages are checked once more, and a request whose precondition aged while it waited never leaves.
 */
async function deleteWithCurrentPreconditions(
  candidate: Candidate,
  context: GateContext,
  attempts: Attempts,
  receipt: TombstoneReceipt,
): Promise<ItemOutcome> {
  const now = context.now ?? performance.now.bind(performance);
  const name = candidate.summary.Name ?? '';
  const group = candidate.summary.GroupName ?? 'default';
  const protectionMaxAgeMs = context.protectionMaxAgeMs ?? PROTECTION_MAX_AGE_MS;
  const settle = (outcome: TombstoneOutcome) => {
    context.tombstones.settle(receipt, outcome);
    context.log.info('tombstone outcome', {
      ...scheduleRef(candidate.schedule),
      tombstone: receipt.key,
      outcome,
    });
  };
  const stale = (): string | undefined => {
    if (context.signal?.aborted) return 'the invocation deadline passed';
    if (now() - attempts.answeredAt > context.recheckAfterMs) return 'definition read too long ago';
    if (now() - attempts.protectedAt > protectionMaxAgeMs) return 'protection read too long ago';
    if (now() - attempts.namedAt > context.recheckAfterMs) return 'protected name read too long ago';
    return undefined;
  };
  const refresh = () => refreshPreconditions(candidate, context, attempts, { now, protectionMaxAgeMs });
  // One token for every attempt: a delete that applied but answered 5xx, retried with the same
  // token, succeeds again instead of answering 404.
  const clientToken = randomUUID();
  const send = () => {
    attempts.sent += 1;
    return sendWithDepartureCheck(clientToken, stale, () =>
      context.scheduler.send(
        new DeleteScheduleCommand({ Name: name, GroupName: group, ClientToken: clientToken }),
        context.signal ? { abortSignal: context.signal } : {},
      ),
    ).catch((error: unknown) => {
      if (error instanceof DepartureRefused) attempts.sent -= 1;
      else if (isNotFound(error)) attempts.notFound += 1;
      else if (isRefusal(error)) attempts.refused += 1;
      throw error;
    });
  };
  try {
    // Inside a checkpoint's allowance; the wait, if any, is followed by the refresh below.
    await context.permit?.(candidate.schedule.Arn ?? `${group}/${name}`);
    for (let departures = 1; ; departures += 1) {
      try {
        await context.budgets.delete.call(send, {
          prepare: refresh,
          ...(context.signal ? { signal: context.signal } : {}),
        });
        settle(TombstoneOutcome.deleted);
        return { kind: 'deleted', decision: candidate.decision };
      } catch (error) {
        if (!(error instanceof DepartureRefused) || context.signal?.aborted) throw error;
        if (departures >= DEPARTURES_BEFORE_KEEPING) {
          context.log.warn(KEPT_AT_DEPARTURE, {
            ...scheduleRef(candidate.schedule),
            reason: error.reason,
            departures,
          });
          settle(attempts.sent === 0 ? TombstoneOutcome.notSent : TombstoneOutcome.unknown);
          return attempts.sent === 0
            ? { kind: 'skipped', reason: SkipReason.staleAtDeparture }
            : { kind: 'failed', operation: 'DeleteSchedule', outcomeUnknown: true };
        }
      }
    }
  } catch (error) {
    return settleFailure(error, candidate, context, attempts, settle);
  }
}

/** Rounds of reading again in one refresh: a read that aged while the other was slow is read again. */
export const REFRESH_ROUNDS = 3;

/**
 * Reads again what aged past its bound, the reads side by side; throws when the schedule must be
 * kept. One slow read can age the other past its bound while both are awaited, so it repeats (up to
 * REFRESH_ROUNDS) until nothing has aged; the departure check has the last word.
 */
async function refreshPreconditions(
  candidate: Candidate,
  context: GateContext,
  attempts: Attempts,
  bounds: { now: () => number; protectionMaxAgeMs: number },
): Promise<void> {
  for (let round = 0; round < REFRESH_ROUNDS; round += 1) {
    const protectionAged =
      bounds.now() - attempts.protectedAt > bounds.protectionMaxAgeMs ||
      bounds.now() - attempts.namedAt > context.recheckAfterMs;
    const definitionAged = bounds.now() - attempts.answeredAt > context.recheckAfterMs;
    if (!protectionAged && !definitionAged) return;
    const [read, reread] = await Promise.allSettled([
      protectionAged ? confirmProtection(candidate, context) : Promise.resolve(undefined),
      definitionAged ? rereadDefinition(candidate, context, attempts, bounds) : Promise.resolve(undefined),
    ]);
    if (read.status === 'rejected') throw read.reason;
    if (read.value?.verdict) throw new ProtectedSinceLookup(read.value);
    if (read.value) {
      attempts.protectedAt = read.value.readAt;
      attempts.namedAt = read.value.nameAnsweredAt;
    }
    if (reread.status === 'rejected') throw reread.reason;
  }
}

/** Reads the schedule again; throws when it changed, records when a lost delete had removed it. */
async function rereadDefinition(
  candidate: Candidate,
  context: GateContext,
  attempts: Attempts,
  bounds: { now: () => number },
): Promise<void> {
  attempts.rereads += 1;
  let fresh: { schedule: GetScheduleCommandOutput; answeredAt: number };
  try {
    fresh = await lookUp(candidate.summary, {
      scheduler: context.scheduler,
      getBudget: context.budgets.get,
      ...(context.signal ? { signal: context.signal } : {}),
      now: bounds.now,
    });
  } catch (error) {
    if (isNotFound(error) && attempts.sent > 0) {
      // Ours applied and its answer was lost, or someone else deleted it. The next attempt replays
      // our ClientToken and tells them apart: DeleteSchedule answers a replay of a delete that
      // applied with success, and 404 when none with this token applied (docs/guarantees.md).
      attempts.goneAfterSent = true;
      attempts.answeredAt = bounds.now();
      return;
    }
    throw error;
  }
  if (changedSince(candidate.schedule, fresh.schedule, context)) throw new ChangedSinceLookup();
  attempts.answeredAt = fresh.answeredAt;
}

/** What a delete that did not succeed comes to, and what its tombstone records. */
function settleFailure(
  error: unknown,
  candidate: Candidate,
  context: GateContext,
  attempts: Attempts,
  settle: (outcome: TombstoneOutcome) => void,
): ItemOutcome {
  const { decision } = candidate;
  const ref = scheduleRef(candidate.schedule);
  if (attempts.goneAfterSent && !isNotFound(error)) {
    // Gone after our lost attempt, and no replay of our token was answered: most likely ours
    // applied. Counted, unconfirmed; the tombstone says only what is known.
    settle(TombstoneOutcome.unknown);
    return { kind: 'deleted', decision, unconfirmed: true };
  }
  const { sent, refused, notFound } = attempts;
  // Every attempt answered 404 or a refusal, the last 404: none of ours applied (a refusal applies
  // nothing, and a replay of a delete that applied answers success).
  const allNotFound = sent > 0 && refused + notFound === sent && isNotFound(error);
  // Every attempt answered with a refusal: not applied. A lost answer, a timeout or a 5xx (on any
  // attempt) may have applied, so that outcome stays unknown.
  const allRefused = sent > 0 && refused === sent && !isNotFound(error);
  settle(
    sent === 0
      ? TombstoneOutcome.notSent
      : allNotFound && !attempts.goneAfterSent
        ? TombstoneOutcome.gone
        : allRefused
          ? TombstoneOutcome.refused
          : TombstoneOutcome.unknown,
  );
  if (sent === 0 && (context.signal?.aborted || error instanceof CheckpointStop))
    return { kind: 'abandoned' };
  if (context.signal?.aborted && !allRefused) {
    context.log.warn('schedule deletion cut off by the deadline; its outcome is unknown', { ...ref });
    return { kind: 'failed', operation: 'DeleteSchedule', outcomeUnknown: true };
  }
  if (
    (error instanceof ChangedSinceLookup || error instanceof ProtectedSinceLookup) &&
    sent > 0 &&
    !allRefused
  ) {
    // An earlier attempt's answer was lost and may have applied (the schedule now found is, say, one
    // an application created again under the name): nothing more is sent, and the delete keeps its
    // maxDeletes claim and counts as uncertain.
    context.log.warn(
      'schedule changed or protected after a delete whose outcome is unknown; not sent again',
      {
        ...ref,
        sentAttempts: sent,
      },
    );
    return { kind: 'failed', operation: 'DeleteSchedule', outcomeUnknown: true };
  }
  if (error instanceof ChangedSinceLookup) {
    context.log.warn('schedule changed since its lookup; left for the next sweep', { ...ref });
    return { kind: 'skipped', reason: SkipReason.changedDuringSweep };
  }
  if (error instanceof ProtectedSinceLookup) {
    context.log.warn('schedule protected since its lookup; kept', { ...ref });
    return keptFor(error.read);
  }
  if (isNotFound(error)) return { kind: 'alreadyGone', finished: true };
  context.log.error('schedule deletion failed', { ...ref, sentAttempts: sent, error: safeError(error) });
  return {
    kind: 'failed',
    operation: 'DeleteSchedule',
    ...(sent > 0 && !allRefused ? { outcomeUnknown: true } : {}),
  };
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
