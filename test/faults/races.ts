// Judges, from the emulator's own record of what it applied, whether a sweep's delete raced an
// application's change or an operator's protection beyond the windows the product states
// (docs/guarantees.md; src/sweep/gate.ts):
//  - definition: a delete leaves at most RECHECK_AFTER_MS after the answer of the read it rests on,
//    so an update or recreate that landed before that read is never deleted, nor one that landed
//    more than RACE_WINDOW_MS after that read's answer and before the delete arrived;
//  - protection: a name protected (restore --keep) before the delete's read of that name's item is
//    never deleted; a group tag that landed more than PROTECTION_MAX_AGE_MS before the delete is
//    never missed.
// Shared by the randomized fault test (harness.ts) and the named findings (test/sweep/gate-findings.test.ts).
import type { AppliedEntry } from '../../scripts/emulator/faults.ts';
import { PROTECTION_MAX_AGE_MS, protectedNameKey } from '../../src/protect/protection.ts';
import { RECHECK_AFTER_MS } from '../../src/sweep/gate.ts';

/**
 * The time a read's answer takes to reach the sweep and the delete's request to reach the emulator,
 * in this one process: the gate measures its 100 ms from the answer's arrival to the delete's
 * departure, the record from the answer's departure to the delete's arrival. Measured with the
 * machine loaded (load average 15 on 2 cores): at most 24 ms.
 */
export const TRANSIT_SLACK_MS = 150;

/** The longest a delete may reach Scheduler after its last read's answer, when the schedule changed in between. */
export const RACE_WINDOW_MS = RECHECK_AFTER_MS + TRANSIT_SLACK_MS;

const key = (entry: AppliedEntry) =>
  `${String(entry.detail?.group ?? 'default')}/${String(entry.detail?.name)}`;
const isClientDelete = (entry: AppliedEntry) =>
  entry.actor === 'client' &&
  entry.service === 'scheduler' &&
  entry.operation === 'DeleteSchedule' &&
  entry.applied;
const isApplicationChange = (entry: AppliedEntry) =>
  entry.actor === 'application' && ['UpdateSchedule', 'CreateSchedule'].includes(entry.operation);

/**
 * Every delete applied after an application's update or recreate of the same schedule beyond the
 * window: one that landed before the delete's last read (the read showed it), or one that landed
 * more than RACE_WINDOW_MS after that read's answer and before the delete arrived (so the delete
 * left more than RECHECK_AFTER_MS after the answer it rests on reached the sweep). A change landing
 * after the delete arrived (while Scheduler was slow to apply it) is not the sweep's to see. Each
 * with the schedule's trace.
 */
export function lostUpdates(
  applied: readonly AppliedEntry[],
  /**
   * When the product got a read's answer (emulator ms), when the test held it back (an operator
   * acting in between); the record's answeredAt when undefined.
   */
  delivered: (read: AppliedEntry) => number | undefined = () => undefined,
): string[] {
  const found: string[] = [];
  for (const remove of applied.filter(isClientDelete)) {
    const name = key(remove);
    const history = applied.filter((entry) => entry.seq < remove.seq && key(entry) === name);
    const read = history
      .filter(
        (entry) => entry.actor === 'client' && entry.operation === 'GetSchedule' && entry.status === 200,
      )
      .at(-1);
    const arrived = remove.arrivedAt ?? remove.at;
    for (const change of history.filter(isApplicationChange)) {
      const answered =
        read === undefined ? undefined : Math.max(read.answeredAt ?? read.at, delivered(read) ?? 0);
      const lost =
        read === undefined || answered === undefined
          ? 'with no read of it before the delete'
          : change.seq < read.seq
            ? 'before the read the delete rests on'
            : change.at - answered > RACE_WINDOW_MS && change.at < arrived
              ? `${change.at - answered} ms after the answer of the read the delete rests on, ${arrived - change.at} ms before the delete arrived (window ${RACE_WINDOW_MS} ms)`
              : undefined;
      if (lost) {
        found.push(
          `${name}: ${change.operation} by the application landed ${lost}; ${trace(applied, name, change.at)}`,
        );
      }
    }
  }
  return found;
}

/** An operator's protection as the test applied it: when it landed, as an applied-record position and time. */
export interface ProtectionChange {
  kind: 'name' | 'tag';
  group: string;
  /** The schedule's name (for `name`). */
  name?: string;
  /** A record position (FaultLayer.tick()) taken once the write was acknowledged. */
  seq: number;
  /** Emulator time (ms) once the write was acknowledged. */
  at: number;
}

/**
 * Every delete of a schedule whose protection landed before the delete's read of it: for a name
 * (restore --keep), before the last GetItem of its item that preceded the delete; for a group tag,
 * more than PROTECTION_MAX_AGE_MS before the delete reached Scheduler (emulator time; a tag that
 * landed before a clock jump is read afresh by the next invocation, which the record cannot time).
 */
export function deletedDespiteProtection(
  applied: readonly AppliedEntry[],
  changes: readonly ProtectionChange[],
  stateTable: string,
  /** Record positions where the test moved the emulator's clock: a tag's age is not measured across them. */
  clockJumps: readonly number[] = [],
): string[] {
  const found: string[] = [];
  for (const remove of applied.filter(isClientDelete)) {
    const group = String(remove.detail?.group ?? 'default');
    const name = String(remove.detail?.name);
    const itemKey = JSON.stringify({ pk: { S: protectedNameKey(group, name) } });
    const lastRead = applied
      .filter(
        (entry) =>
          entry.seq < remove.seq &&
          entry.service === 'dynamodb' &&
          entry.operation === 'GetItem' &&
          entry.applied &&
          entry.key.includes(JSON.stringify(stateTable)) &&
          entry.key.includes(itemKey),
      )
      .at(-1);
    for (const change of changes) {
      if (change.group !== group) continue;
      if (change.kind === 'name' && change.name === name && change.seq < remove.seq) {
        if (!lastRead || change.seq < lastRead.seq) {
          found.push(
            `${group}/${name}: deleted at ${remove.at} although restore --keep protected it at ${change.at}, ` +
              (lastRead
                ? `before the delete's read of its protection at ${lastRead.at}`
                : 'and its protection was never read'),
          );
        }
      }
      const jumped = clockJumps.some((jump) => jump > change.seq && jump < remove.seq);
      if (
        change.kind === 'tag' &&
        change.seq < remove.seq &&
        !jumped &&
        (remove.arrivedAt ?? remove.at) - change.at > PROTECTION_MAX_AGE_MS + TRANSIT_SLACK_MS
      ) {
        found.push(
          `${group}/${name}: deleted at ${remove.at}, ${remove.at - change.at} ms after its group's protect tag landed (bound ${PROTECTION_MAX_AGE_MS} + ${TRANSIT_SLACK_MS} ms)`,
        );
      }
    }
  }
  return found;
}

/** What the emulator applied to one schedule: actor, operation, status, arrival/answer in ms from `origin`. */
export function trace(applied: readonly AppliedEntry[], name: string, origin: number): string {
  return applied
    .filter((entry) => key(entry) === name)
    .map(
      (entry) =>
        `${entry.seq}:${entry.actor}:${entry.operation}:${entry.status}:${entry.answer}@${entry.at - origin}` +
        (entry.answeredAt === undefined ? '' : `/${entry.answeredAt - origin}`),
    )
    .join(' ');
}
