// The one seam in the sweep's delete path where a deleted schedule's definition is kept: written
// before the DeleteSchedule is sent (no tombstone, no delete), with what came of the delete recorded
// after. The deployed writer is the DynamoDB tombstone store (src/tombstone/store.ts); without one a
// sweep may only dry-run. Definitions never go to logs: a target's input may hold secrets.
import { createHash } from 'node:crypto';
import type { GetScheduleOutput } from '@aws-sdk/client-scheduler';

/** A schedule definition as GetSchedule returns it, without the SDK's response metadata. */
export type ScheduleDefinition = Omit<GetScheduleOutput, '$metadata'>;

/** What became of the delete a tombstone was written for. */
export const TombstoneOutcome = {
  /** The delete was answered with success, or the schedule was found gone after a delete was sent. */
  deleted: 'deleted',
  /** A delete was sent but neither its answer nor a later lookup settled it: it may have applied. */
  unknown: 'unknown',
  /** No delete was sent (the schedule changed since its lookup, or the sweep stopped). */
  notSent: 'notSent',
  /**
   * Every delete sent was answered with a 4xx error (ConflictException, ValidationException,
   * AccessDeniedException, ThrottlingException...): AWS applies none of these, so it was not deleted.
   */
  refused: 'refused',
  /**
   * The delete was answered 404 (ResourceNotFoundException) on its only attempt, or on every attempt
   * with no earlier attempt that may have applied: someone else deleted the schedule, the sweep
   * removed nothing. Restore leaves it alone unless told otherwise.
   */
  gone: 'gone',
} as const;
export type TombstoneOutcome = (typeof TombstoneOutcome)[keyof typeof TombstoneOutcome];

export interface TombstoneEntry {
  definition: ScheduleDefinition;
  /** The sweep run that deletes it, so its deletions can be found together. */
  runId: string;
  /** When the sweep judged it finished. */
  finishedAt: Date;
  stuck: boolean;
}

/** Where a tombstone lives, as its writer names it. */
export interface TombstoneReceipt {
  key: string;
  /** SHA-256 (hex) of the stored definition, for the deletion's log line. */
  sha256?: string;
}

export interface TombstoneWriter {
  /** Stores the tombstone; resolves once it is kept. Rejects when it could not be: then no delete. */
  write(entry: TombstoneEntry): Promise<TombstoneReceipt>;
  /** Records the delete's outcome on the tombstone. Never rejects. */
  settle(receipt: TombstoneReceipt, outcome: TombstoneOutcome): void;
  /** Waits for every write and outcome still in flight. */
  flush(): Promise<void>;
}

/** The writer of a sweep that has no store: every write is refused, so nothing can be deleted. */
export function refuseTombstones(): TombstoneWriter {
  return {
    write: async () => {
      throw new Error('no tombstone store is configured: no tombstone, no delete');
    },
    settle: () => {},
    flush: async () => {},
  };
}

/** The stored form of a definition: JSON with dates as ISO strings. Its SHA-256 is the fingerprint. */
export function serializeDefinition(definition: ScheduleDefinition): string {
  return JSON.stringify(definition);
}

/** SHA-256 of a text, as lowercase hex. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
