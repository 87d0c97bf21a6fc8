// The census: counts every schedule in the account with ListSchedules alone, and publishes the
// counts against the applied quota, with growth, so the quota alarms can page well before it fills.
//
// Only a complete census publishes counts. A listing that fails part-way would report an
// under-count, which reads as "plenty of room" exactly when something is wrong; instead the run
// publishes CensusFailures = 1, logs, and rethrows. The missing ScheduleCount then trips the
// "census stopped reporting" alarm if failures persist.
import type { CloudWatchClient, MetricDatum } from '@aws-sdk/client-cloudwatch';
import { ListSchedulesCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import type { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { RequestBudget } from '../aws/budget.ts';
import type { Logger } from '../log.ts';
import { datum, publishMetrics } from '../metrics/publish.ts';
import { computeGrowth, type Growth, readPreviousCounts } from './growth.ts';
import { type QuotaMemory, resolveScheduleQuota, type ScheduleQuota } from './quota.ts';

/** Metric names the alarms and dashboard depend on. ScheduleCount means the same as the sweeper's. */
export const CensusMetric = {
  scheduleCount: 'ScheduleCount',
  scheduleQuota: 'ScheduleQuota',
  quotaUtilization: 'QuotaUtilization',
  scheduleGrowthPerHour: 'ScheduleGrowthPerHour',
  daysUntilFull: 'DaysUntilFull',
  censusDurationSeconds: 'CensusDurationSeconds',
  censusFailures: 'CensusFailures',
} as const;

export const CensusDimension = {
  scheduleGroup: 'ScheduleGroup',
  state: 'State',
} as const;

/** Both states always get a point, so a state that empties shows 0 rather than a gap. */
const KNOWN_STATES = ['ENABLED', 'DISABLED'] as const;
const PAGE_SIZE = 100;

export interface CensusDeps {
  scheduler: SchedulerClient;
  serviceQuotas: ServiceQuotasClient;
  cloudwatch: CloudWatchClient;
  clock: () => Date;
  log: Logger;
  /** Per-container quota cache and warn-once state; defaults to the module's own. */
  quotaMemory?: QuotaMemory;
  /** Monotonic milliseconds, for the duration metric and the request budget. */
  elapsed?: () => number;
}

export interface CensusOptions {
  namespace: string;
  /** The quota to use when Service Quotas cannot say (SCHEDULE_QUOTA). */
  fallbackQuota: number;
  /** ListSchedules requests per second. */
  listTps: number;
  /**
   * Groups that get a per-group ScheduleCount point (0 when empty). Unset or empty: every group
   * seen. The census still counts the whole account, since the quota is account-wide; this only
   * bounds the number of per-group metrics, each of which CloudWatch bills as a custom metric.
   */
  groups?: string[];
}

export interface CensusSummary {
  total: number;
  byGroup: Record<string, number>;
  byState: Record<string, number>;
  byGroupAndState: Record<string, Record<string, number>>;
  quota: ScheduleQuota;
  utilizationPercent: number;
  growthPerHour: number | undefined;
  daysUntilFull: number | undefined;
  pages: number;
  listRequests: number;
  metricRequests: number;
  durationSeconds: number;
  at: string;
}

interface Counts {
  total: number;
  byGroup: Map<string, number>;
  byState: Map<string, number>;
  byGroupAndState: Map<string, Map<string, number>>;
  pages: number;
}

export async function census(deps: CensusDeps, options: CensusOptions): Promise<CensusSummary> {
  const elapsed = deps.elapsed ?? (() => performance.now());
  const started = elapsed();
  const budget = new RequestBudget('ListSchedules', { ratePerSecond: options.listTps, now: elapsed });
  const quotaLookup = resolveScheduleQuota(deps.serviceQuotas, options.fallbackQuota, deps.log, {
    ...(deps.quotaMemory ? { memory: deps.quotaMemory } : {}),
  });

  let counts: Counts;
  try {
    counts = await countSchedules(deps.scheduler, budget);
  } catch (error) {
    await quotaLookup;
    const durationSeconds = (elapsed() - started) / 1000;
    deps.log.error('Census failed part-way; no counts published', {
      error,
      listRequests: budget.stats.requests,
    });
    const at = deps.clock();
    await publishMetrics(deps.cloudwatch, options.namespace, [
      datum(CensusMetric.censusFailures, 1, 'Count', at),
      datum(CensusMetric.censusDurationSeconds, durationSeconds, 'Seconds', at),
    ]).catch((publishError: unknown) =>
      deps.log.error('Could not publish the census failure', { error: publishError }),
    );
    throw error;
  }

  const quota = await quotaLookup;
  // The count is complete only now, so that is when it is true.
  const at = deps.clock();
  const growth = await measureGrowth(deps, options.namespace, at, counts.total, quota.value);
  const utilizationPercent = (counts.total / quota.value) * 100;
  const durationSeconds = (elapsed() - started) / 1000;

  const datums = buildDatums(counts, options.groups ?? [], quota, utilizationPercent, growth, at);
  datums.push(datum(CensusMetric.censusDurationSeconds, durationSeconds, 'Seconds', at));
  const metricRequests = await publishMetrics(deps.cloudwatch, options.namespace, datums);

  const summary: CensusSummary = {
    total: counts.total,
    byGroup: Object.fromEntries(counts.byGroup),
    byState: Object.fromEntries(counts.byState),
    byGroupAndState: Object.fromEntries(
      [...counts.byGroupAndState].map(([group, states]) => [group, Object.fromEntries(states)]),
    ),
    quota,
    utilizationPercent,
    growthPerHour: growth?.perHour,
    daysUntilFull: growth?.daysUntilFull,
    pages: counts.pages,
    listRequests: budget.stats.requests,
    metricRequests,
    durationSeconds,
    at: at.toISOString(),
  };
  deps.log.info('Census complete', {
    total: summary.total,
    groups: counts.byGroup.size,
    byState: summary.byState,
    quota,
    utilizationPercent,
    growthPerHour: summary.growthPerHour,
    daysUntilFull: summary.daysUntilFull,
    pages: summary.pages,
    listRequests: summary.listRequests,
    metricRequests,
    durationSeconds,
  });
  return summary;
}

/** Streams through every page, keeping only counters: memory stays flat however many schedules exist. */
async function countSchedules(scheduler: SchedulerClient, budget: RequestBudget): Promise<Counts> {
  const counts: Counts = {
    total: 0,
    byGroup: new Map(),
    byState: new Map(),
    byGroupAndState: new Map(),
    pages: 0,
  };
  let nextToken: string | undefined;
  do {
    const token = nextToken;
    const page = await budget.call(() =>
      scheduler.send(new ListSchedulesCommand({ MaxResults: PAGE_SIZE, NextToken: token })),
    );
    counts.pages += 1;
    for (const schedule of page.Schedules ?? []) {
      const group = schedule.GroupName ?? 'default';
      const state = schedule.State ?? 'UNKNOWN';
      counts.total += 1;
      increment(counts.byGroup, group);
      increment(counts.byState, state);
      let states = counts.byGroupAndState.get(group);
      if (!states) {
        states = new Map();
        counts.byGroupAndState.set(group, states);
      }
      increment(states, state);
    }
    nextToken = page.NextToken || undefined;
  } while (nextToken);
  return counts;
}

/** Growth is a nice-to-have: if the earlier points cannot be read, the census still publishes. */
async function measureGrowth(
  deps: CensusDeps,
  namespace: string,
  at: Date,
  count: number,
  quota: number,
): Promise<Growth | undefined> {
  try {
    const previous = await readPreviousCounts(deps.cloudwatch, namespace, CensusMetric.scheduleCount, at);
    return computeGrowth(previous, { at, count }, quota);
  } catch (error) {
    deps.log.warn('Could not read earlier schedule counts; growth not published this run', { error });
    return undefined;
  }
}

function buildDatums(
  counts: Counts,
  groups: string[],
  quota: ScheduleQuota,
  utilizationPercent: number,
  growth: Growth | undefined,
  at: Date,
): MetricDatum[] {
  const datums: MetricDatum[] = [
    datum(CensusMetric.scheduleCount, counts.total, 'Count', at),
    datum(CensusMetric.scheduleQuota, quota.value, 'Count', at),
    datum(CensusMetric.quotaUtilization, utilizationPercent, 'Percent', at),
    datum(CensusMetric.censusFailures, 0, 'Count', at),
  ];
  const states = new Set<string>([...KNOWN_STATES, ...counts.byState.keys()]);
  for (const state of states) {
    datums.push(
      datum(CensusMetric.scheduleCount, counts.byState.get(state) ?? 0, 'Count', at, [
        { Name: CensusDimension.state, Value: state },
      ]),
    );
  }
  const reportedGroups = groups.length > 0 ? new Set(groups) : new Set(counts.byGroup.keys());
  for (const group of reportedGroups) {
    datums.push(
      datum(CensusMetric.scheduleCount, counts.byGroup.get(group) ?? 0, 'Count', at, [
        { Name: CensusDimension.scheduleGroup, Value: group },
      ]),
    );
  }
  if (growth) {
    datums.push(datum(CensusMetric.scheduleGrowthPerHour, growth.perHour, 'Count', at));
    if (growth.daysUntilFull !== undefined) {
      datums.push(datum(CensusMetric.daysUntilFull, growth.daysUntilFull, 'None', at));
    }
  }
  return datums;
}

function increment(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}
