// The lease stages every resumable run shares, the sweep's and the census's: take the lease for a new
// run, move a continuation's run onto this invocation, renew it before a hand-off, and give it back.
// Each stage returns a value saying what happened; what that means for the run (what to log, what
// to publish) stays with the run, which knows. State travels in a LeaseHold value, never in closures.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.ts';
import { safeError } from '../redact.ts';
import type { LeaseStore, StoredCheckpoint } from './lease.ts';

/** This invocation's hold on its run's lease: what every later lease write of it names. */
export interface LeaseHold {
  runId: string;
  /** Written by this invocation's first lease write (a new run's token is its runId). */
  token: string;
  /** This invocation's number in the run (1 for the first). */
  invocation: number;
}

/** What taking the lease came to. */
export type Claim =
  | { kind: 'held'; hold: LeaseHold }
  /** Another run holds the lease: nothing may be touched. */
  | { kind: 'alreadyRunning'; holder: string | undefined; leaseUntil?: Date }
  /**
   * A continuation's run no longer stands where it was handed on: another copy of the same
   * continuation moved it on (Lambda's async queue delivers at least once), or another run took the
   * lease. Nothing may be touched, nothing published.
   */
  | { kind: 'superseded' }
  /**
   * A continuation's renew failed, and whether it applied is unknown. `hold` is what it would
   * hold; free it with releaseRun(…, { orInvocation: invocation - 1 }).
   */
  | { kind: 'unknown'; hold: LeaseHold; error: unknown };

/** What a run answers when another run holds the lease: its holder, and until when (ISO 8601). */
export interface AlreadyRunning {
  status: 'alreadyRunning';
  holder: string | undefined;
  leaseUntil?: string;
}

/**
 * Logs that a trigger found `what` (a sweep, a census) already running, and returns its answer: the
 * holder and its lease's end.
 */
export function alreadyRunning(
  claim: Extract<Claim, { kind: 'alreadyRunning' }>,
  what: string,
  log: Logger,
): AlreadyRunning {
  log.info(`a ${what} is already running; this trigger does nothing`, {
    holder: claim.holder,
    leaseUntil: claim.leaseUntil,
  });
  return {
    status: 'alreadyRunning',
    holder: claim.holder,
    ...(claim.leaseUntil ? { leaseUntil: claim.leaseUntil.toISOString() } : {}),
  };
}

/**
 * Takes the lease for a new run `runId` (its token), with `checkpoint` stored as the run's start.
 * When the acquire fails its answer may have been lost after it applied: what it may have taken is
 * given back, then the error is thrown.
 */
export async function acquireRun(
  lease: LeaseStore,
  runId: string,
  now: Date,
  durationMs: number,
  release: ReleaseOptions,
  checkpoint?: StoredCheckpoint,
): Promise<Claim> {
  let result: Awaited<ReturnType<LeaseStore['acquire']>>;
  try {
    result = await lease.acquire(runId, now, durationMs, checkpoint);
  } catch (error) {
    await releaseRun(lease, { runId, token: runId, invocation: 1 }, release);
    throw error;
  }
  if (!result.acquired) {
    return {
      kind: 'alreadyRunning',
      holder: result.holder,
      ...(result.leaseUntil ? { leaseUntil: result.leaseUntil } : {}),
    };
  }
  return { kind: 'held', hold: { runId, token: runId, invocation: 1 } };
}

/**
 * Moves a continuation's run onto this invocation: fenced on the invocation number, so a second copy
 * of the same continuation finds it taken, and under this invocation's own `token`, so a retry of
 * this renew after a lost answer recognises its own success.
 */
export async function continueRun(
  lease: LeaseStore,
  carried: { runId: string; invocation: number },
  now: Date,
  durationMs: number,
  token: string = randomUUID(),
): Promise<Claim> {
  const hold = { runId: carried.runId, token, invocation: carried.invocation };
  const fence = { from: carried.invocation - 1, to: carried.invocation, token };
  try {
    const renewed = await lease.renew(carried.runId, now, durationMs, fence);
    return renewed ? { kind: 'held', hold } : { kind: 'superseded' };
  } catch (error) {
    return { kind: 'unknown', hold, error };
  }
}

/**
 * Extends the lease held by `hold` before a hand-off, storing `checkpoint` with it (the continuation,
 * for a run that must be resumed if the hand-off is lost). 'refused' when the lease is not this
 * invocation's any more; a failed write throws.
 */
export async function renewForHandOff(
  lease: LeaseStore,
  hold: LeaseHold,
  now: Date,
  durationMs: number,
  checkpoint?: StoredCheckpoint,
): Promise<'renewed' | 'refused'> {
  const fence = { from: hold.invocation, to: hold.invocation, token: hold.token };
  return (await lease.renew(hold.runId, now, durationMs, fence, checkpoint)) ? 'renewed' : 'refused';
}

/** Whose lease a release names in its log line, and what it may also free. */
export interface ReleaseOptions {
  log: Logger;
  /** 'sweep' or 'census', for the log line. */
  subject: string;
  /** Also free the lease if the run still stands at this invocation (a renew that never applied). */
  orInvocation?: number;
}

/**
 * Frees the lease if this invocation's write is the latest on it (or the run still stands at
 * `orInvocation`); a lease another run holds is left alone. A failure is logged, never thrown: the
 * lease then expires by itself.
 */
export async function releaseRun(lease: LeaseStore, hold: LeaseHold, options: ReleaseOptions): Promise<void> {
  const { orInvocation } = options;
  try {
    await lease.release(hold.runId, {
      token: hold.token,
      ...(orInvocation === undefined ? {} : { orInvocation }),
    });
  } catch (error) {
    options.log.error(`releasing the ${options.subject} lease failed; it expires by itself`, {
      runId: hold.runId,
      error: safeError(error),
    });
  }
}
