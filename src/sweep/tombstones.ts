// The one seam in the sweep's delete path where a deleted schedule's definition is kept: written
// before the DeleteSchedule is sent (no tombstone, no delete), with what came of the delete recorded
// after. The sweep takes any TombstoneWriter as a dependency; the default writes log lines.
import type { GetScheduleOutput } from '@aws-sdk/client-scheduler';
import type { Logger } from '../log.ts';

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
} as const;
export type TombstoneOutcome = (typeof TombstoneOutcome)[keyof typeof TombstoneOutcome];

export interface TombstoneEntry {
  definition: ScheduleDefinition;
  /** When the sweep judged it finished. */
  finishedAt: Date;
  stuck: boolean;
}

/** Where a tombstone lives, as its writer names it. */
export interface TombstoneReceipt {
  key: string;
}

export interface TombstoneWriter {
  /** Stores the tombstone; resolves once it is kept. Rejects when it could not be: then no delete. */
  write(entry: TombstoneEntry): Promise<TombstoneReceipt>;
  /** Records the delete's outcome on the tombstone. Never rejects. */
  settle(receipt: TombstoneReceipt, outcome: TombstoneOutcome): void;
  /** Waits for every write and outcome still in flight. */
  flush(): Promise<void>;
}

/**
 * Tombstones as log lines: `tombstone` (action `deleting`, the definition) before the delete, and
 * `tombstone outcome` (name, group, outcome) after it. A function killed mid-request leaves the
 * first line without the second: its delete may or may not have been sent.
 */
export function logTombstones(log: Logger): TombstoneWriter {
  return {
    async write(entry) {
      const { definition } = entry;
      log.info('tombstone', {
        action: 'deleting',
        schedule: definition,
        finishedAt: entry.finishedAt,
        stuck: entry.stuck,
      });
      return { key: `${definition.GroupName ?? 'default'}/${definition.Name ?? ''}` };
    },
    settle(receipt, outcome) {
      log.info('tombstone outcome', { tombstone: receipt.key, outcome });
    },
    async flush() {},
  };
}
