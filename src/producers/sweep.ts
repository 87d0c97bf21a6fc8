// Producers in the sweep: who the finished schedules a sweep finds (and deletes, or would delete in
// a dry run) belong to, per target ARN, group and pair, and separately the `stuck` ones, which
// asked for ActionAfterCompletion DELETE but were left behind (a failing target or a Scheduler
// fault, rather than a producer's setting). A value the sweep's ledger holds and its checkpoint
// and continuation carry: bounded (two tallies of SWEEP_TALLY_CAPACITY counters), mergeable, and
// checked on the way back in.
import { InputError } from '../errors.ts';
import {
  countSchedule,
  createProducerTally,
  mergeProducerTallies,
  type ProducerTally,
  readProducerTally,
  type SerializedProducerTally,
  serializeProducerTally,
  splitPair,
  topOf,
} from './tally.ts';

/**
 * Counters per dimension in the sweep's tallies: smaller than the census's 50, since a checkpoint
 * carries two. Error ≤ finished / 25 (4%); exact while a sweep meets at most 25 distinct targets.
 * Serialized, both tallies take at most ≈ 18 KB at the longest keys (5-8 KB with typical ARNs).
 */
export const SWEEP_TALLY_CAPACITY = 25;

export interface SweepProducers {
  /** Every finished schedule found (deleted, would be deleted, or kept for a reason), stuck ones included. */
  finished: ProducerTally;
  /** Of those, the ones with ActionAfterCompletion DELETE that Scheduler left behind. */
  stuck: ProducerTally;
}

export interface SerializedSweepProducers {
  finished: SerializedProducerTally;
  stuck: SerializedProducerTally;
}

export function createSweepProducers(capacity: number = SWEEP_TALLY_CAPACITY): SweepProducers {
  return { finished: createProducerTally(capacity), stuck: createProducerTally(capacity) };
}

/**
 * Counts one finished schedule (its ListSchedules summary: GroupName, Target.Arn). Call it once per
 * schedule the judge found finished, whatever the gate then did with it; `stuck` from decide().
 */
export function recordFinished(
  producers: SweepProducers,
  summary: { GroupName?: string | undefined; Target?: { Arn?: string | undefined } | undefined },
  stuck: boolean,
): void {
  countSchedule(producers.finished, summary);
  if (stuck) countSchedule(producers.stuck, summary);
}

export function mergeSweepProducers(a: SweepProducers, b: SweepProducers): SweepProducers {
  return {
    finished: mergeProducerTallies(a.finished, b.finished),
    stuck: mergeProducerTallies(a.stuck, b.stuck),
  };
}

export function serializeSweepProducers(producers: SweepProducers): SerializedSweepProducers {
  return {
    finished: serializeProducerTally(producers.finished),
    stuck: serializeProducerTally(producers.stuck),
  };
}

/** Reads a carried value; throws InputError naming the field (`<field>.stuck.targets.total`, ...). */
export function readSweepProducers(value: unknown, field: string): SweepProducers {
  const expected = 'an object with exactly finished and stuck, each a producer tally';
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new InputError(field, expected, value);
  const record = value as Record<string, unknown>;
  const extra = Object.keys(record).find((key) => key !== 'finished' && key !== 'stuck');
  if (extra !== undefined) throw new InputError(`${field}.${extra}`, expected, record[extra]);
  const finished = readProducerTally(record.finished, `${field}.finished`);
  const stuck = readProducerTally(record.stuck, `${field}.stuck`);
  if (stuck.targets.total > finished.targets.total) {
    throw new InputError(
      `${field}.stuck.targets.total`,
      `at most the finished schedules counted (${finished.targets.total}): stuck ones are among them`,
      stuck.targets.total,
    );
  }
  return { finished, stuck };
}

export interface SweepProducerLine {
  targetArn: string;
  /** At least; exact when uncertainty is 0. */
  count: number;
  uncertainty: number;
}

/** The view a summary and its log line carry: the top `n` of each, and how many the rest hold. */
export interface SweepProducersSummary {
  finished: {
    total: number;
    targets: SweepProducerLine[];
    otherTargets: number;
    groups: { group: string; count: number; uncertainty: number }[];
    pairs: (SweepProducerLine & { group: string })[];
  };
  stuck: { total: number; targets: SweepProducerLine[]; otherTargets: number };
}

export function summarizeSweepProducers(producers: SweepProducers, n = 10): SweepProducersSummary {
  const line = (entry: { key: string; count: number; uncertainty: number }) => ({
    targetArn: entry.key,
    count: entry.count,
    uncertainty: entry.uncertainty,
  });
  const finishedTargets = topOf(producers.finished.targets, n);
  const stuckTargets = topOf(producers.stuck.targets, n);
  return {
    finished: {
      total: producers.finished.targets.total,
      targets: finishedTargets.entries.map(line),
      otherTargets: finishedTargets.other,
      groups: topOf(producers.finished.groups, n).entries.map((entry) => ({
        group: entry.key,
        count: entry.count,
        uncertainty: entry.uncertainty,
      })),
      pairs: topOf(producers.finished.pairs, n).entries.map((entry) => {
        const { group, target } = splitPair(entry.key);
        return { group, targetArn: target, count: entry.count, uncertainty: entry.uncertainty };
      }),
    },
    stuck: {
      total: producers.stuck.targets.total,
      targets: stuckTargets.entries.map(line),
      otherTargets: stuckTargets.other,
    },
  };
}
