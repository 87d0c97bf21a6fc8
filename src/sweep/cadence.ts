// The checkpoint cadence inside one invocation: when the sweep saves a snapshot of its settled
// progress (CheckpointPolicy), and the deletion allowance that bounds what a killed invocation can
// leave uncounted. The stored checkpoint's format, and when a new run resumes it, are in checkpoint.ts.
import type { Logger } from '../log.ts';
import { safeError } from '../redact.ts';
import {
  type CheckpointPolicy,
  CheckpointRefused,
  type CheckpointStop,
  CheckpointUnavailable,
  type SweepSnapshot,
} from './model.ts';

export interface CheckpointCadence {
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
export function createCheckpointCadence(
  policy: CheckpointPolicy | undefined,
  hooks: {
    snapshot: () => SweepSnapshot;
    log: Logger;
    signal?: AbortSignal;
    onStop: (error: CheckpointStop) => void;
  },
): CheckpointCadence {
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
