// The census's producers view: who holds the quota and who grows fastest, from the tally the
// census keeps while it lists (tally.ts), with metrics of bounded cardinality.
//
// Published per complete census (namespace METRICS_NAMESPACE):
//   ScheduleCount {TargetArn}           the top PRODUCER_DEFAULTS.topTargets targets (10) and `Other`
//                                        (the rest, so the 11 add up to the total): 11 metrics
//   ScheduleGrowthPerHour {TargetArn}   the fastest growing targets (up to 5) among those published
//                                        before, from their ScheduleCount of the last 3 hours
//   ScheduleGrowthPerHour {ScheduleGroup} the fastest growing groups (up to 5), among the 50
//                                        largest groups whose per-group ScheduleCount is published
// A target's count is the tally's guaranteed count ("at least"; exact when its uncertainty is 0).
import type { CloudWatchClient, MetricDatum } from '@aws-sdk/client-cloudwatch';
import type { Logger } from '../log.ts';
import { datum } from '../metrics/publish.ts';
import { maximumError, OTHER, type ProducerTally, splitPair, topOf } from '../producers/tally.ts';
import { safeError } from '../redact.ts';
import { computeGrowth, type DimensionSet, readPreviousSeries } from './growth.ts';
import { readUsageCount, type UsageCount } from './usage.ts';

export const PRODUCER_DEFAULTS = {
  /** Targets published by count (plus `Other`). */
  topTargets: 10,
  /** Group × target pairs in the summary (not published). */
  topPairs: 10,
  /** Targets and groups published by growth. */
  fastestGrowing: 5,
  /** The largest groups whose growth is measured (one GetMetricData query each). */
  growthGroups: 50,
} as const;

export const ProducerMetric = {
  scheduleCount: 'ScheduleCount',
  scheduleGrowthPerHour: 'ScheduleGrowthPerHour',
  /** AWS's schedule count (AWS/Usage) minus the census's, when the account has that metric. */
  usageCountDifference: 'UsageCountDifference',
} as const;

export const ProducerDimension = {
  targetArn: 'TargetArn',
  scheduleGroup: 'ScheduleGroup',
} as const;

export interface ProducerLine {
  /** The target ARN (clipped with a hash when long: tally.ts producerKey). */
  targetArn: string;
  /** Schedules, at least; the true count is at most count + uncertainty. */
  count: number;
  uncertainty: number;
  /** count / quota × 100. */
  quotaPercent: number;
  /** Schedules per hour over the last 3 hours; absent when not measured (not published before). */
  growthPerHour?: number;
}

export interface CensusProducers {
  /** Largest first. */
  targets: ProducerLine[];
  /** Schedules of every target not listed (total − Σ targets' counts). */
  otherTargets: number;
  pairs: { group: string; targetArn: string; count: number; uncertainty: number; quotaPercent: number }[];
  fastestGrowing: {
    targets: { targetArn: string; growthPerHour: number }[];
    groups: { group: string; growthPerHour: number }[];
  };
  /** The most any target count shown may be short of the truth (≤ total / 50). */
  maxUncertainty: number;
  /** Why growth is missing: `error:<name>` when GetMetricData failed. */
  growthNote?: string;
}

export interface ProducerInput {
  namespace: string;
  tally: ProducerTally;
  /** Exact counts per group (the census's own). */
  byGroup: ReadonlyMap<string, number>;
  /** Groups whose per-group ScheduleCount is published (only those have a history to grow from). */
  publishedGroups: readonly string[];
  quota: number;
  at: Date;
}

/**
 * The producers view and its metric data. Growth is read from CloudWatch and is a nice-to-have:
 * when GetMetricData fails the counts are still returned and published. Never throws.
 */
export async function measureProducers(
  deps: { cloudwatch: CloudWatchClient; log: Logger },
  input: ProducerInput,
): Promise<{ producers: CensusProducers; datums: MetricDatum[] }> {
  const { tally, quota, at } = input;
  const share = (count: number) => Number(((count / quota) * 100).toPrecision(6));
  const top = topOf(tally.targets, PRODUCER_DEFAULTS.topTargets);
  const targets: ProducerLine[] = top.entries.map((entry) => ({
    targetArn: entry.key,
    count: entry.count,
    uncertainty: entry.uncertainty,
    quotaPercent: share(entry.count),
  }));
  const pairs = topOf(tally.pairs, PRODUCER_DEFAULTS.topPairs).entries.map((entry) => {
    const { group, target } = splitPair(entry.key);
    return {
      group,
      targetArn: target,
      count: entry.count,
      uncertainty: entry.uncertainty,
      quotaPercent: share(entry.count),
    };
  });

  const groups = [...input.publishedGroups]
    .map((group) => ({ group, count: input.byGroup.get(group) ?? 0 }))
    .sort((a, b) => b.count - a.count || (a.group < b.group ? -1 : 1))
    .slice(0, PRODUCER_DEFAULTS.growthGroups);
  const targetSets: DimensionSet[] = targets.map((line) => [
    { Name: ProducerDimension.targetArn, Value: line.targetArn },
  ]);
  const groupSets: DimensionSet[] = groups.map(({ group }) => [
    { Name: ProducerDimension.scheduleGroup, Value: group },
  ]);
  let growthNote: string | undefined;
  const groupGrowth: { group: string; growthPerHour: number }[] = [];
  try {
    const series = await readPreviousSeries(
      deps.cloudwatch,
      input.namespace,
      ProducerMetric.scheduleCount,
      [...targetSets, ...groupSets],
      at,
    );
    targets.forEach((line, index) => {
      const growth = computeGrowth(series[index] ?? [], { at, count: line.count }, quota);
      if (growth) line.growthPerHour = growth.perHour;
    });
    groups.forEach(({ group, count }, index) => {
      const growth = computeGrowth(series[targets.length + index] ?? [], { at, count }, quota);
      if (growth) groupGrowth.push({ group, growthPerHour: growth.perHour });
    });
  } catch (error) {
    growthNote = `error:${error instanceof Error ? error.name : 'Error'}`;
    deps.log.warn('Could not read earlier counts per producer; producer growth not published this run', {
      error: safeError(error),
    });
  }
  const fastest = <T extends { growthPerHour: number }>(lines: T[]) =>
    lines
      .filter((line) => line.growthPerHour > 0)
      .sort((a, b) => b.growthPerHour - a.growthPerHour)
      .slice(0, PRODUCER_DEFAULTS.fastestGrowing);
  const fastestTargets = fastest(
    targets.flatMap((line) =>
      line.growthPerHour === undefined
        ? []
        : [{ targetArn: line.targetArn, growthPerHour: line.growthPerHour }],
    ),
  );
  const fastestGroups = fastest(groupGrowth);

  const datums: MetricDatum[] = [
    ...targets.map((line) =>
      datum(ProducerMetric.scheduleCount, line.count, 'Count', at, [
        { Name: ProducerDimension.targetArn, Value: line.targetArn },
      ]),
    ),
    datum(ProducerMetric.scheduleCount, top.other, 'Count', at, [
      { Name: ProducerDimension.targetArn, Value: OTHER },
    ]),
    ...fastestTargets.map((line) =>
      datum(ProducerMetric.scheduleGrowthPerHour, line.growthPerHour, 'Count', at, [
        { Name: ProducerDimension.targetArn, Value: line.targetArn },
      ]),
    ),
    ...fastestGroups.map((line) =>
      datum(ProducerMetric.scheduleGrowthPerHour, line.growthPerHour, 'Count', at, [
        { Name: ProducerDimension.scheduleGroup, Value: line.group },
      ]),
    ),
  ];
  return {
    producers: {
      targets,
      otherTargets: top.other,
      pairs,
      fastestGrowing: { targets: fastestTargets, groups: fastestGroups },
      maxUncertainty: maximumError(tally.targets),
      ...(growthNote ? { growthNote } : {}),
    },
    datums,
  };
}

export type UsageComparison = (UsageCount & { difference?: number }) | { status: 'error'; error: string };

/**
 * AWS's own count (usage.ts) against the census's: `UsageCountDifference` (AWS's minus ours) when
 * exactly one usage metric for schedules has a recent point. The two are not taken at the same
 * instant (the census lists for minutes to hours), so a difference of the order of the growth over
 * one census is expected. Never throws.
 */
export async function compareWithUsage(
  deps: { cloudwatch: CloudWatchClient; log: Logger },
  total: number,
  at: Date,
): Promise<{ usage: UsageComparison; datums: MetricDatum[] }> {
  try {
    const usage = await readUsageCount(deps.cloudwatch, at);
    if (usage.status !== 'found') return { usage, datums: [] };
    const difference = usage.count - total;
    return {
      usage: { ...usage, difference },
      datums: [datum(ProducerMetric.usageCountDifference, difference, 'Count', at)],
    };
  } catch (error) {
    deps.log.warn('Could not look for AWS/Usage schedule counts; no comparison this run', {
      error: safeError(error),
    });
    return { usage: { status: 'error', error: error instanceof Error ? error.name : 'Error' }, datums: [] };
  }
}
