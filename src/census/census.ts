// The census: counts every schedule in the account with ListSchedules alone, and publishes the
// counts against the applied quota, with growth, so the quota alarms can page well before it fills.
//
// Only a complete census publishes counts. A listing that fails part-way would report an
// under-count, which reads as "plenty of room" exactly when something is wrong; instead the run
// publishes CensusFailures = 1, logs, and rethrows. A census that runs out of time part-way (see
// run.ts) returns its cursor and counters to be carried on, and publishes nothing at all.
import type { CloudWatchClient, MetricDatum } from '@aws-sdk/client-cloudwatch';
import {
  ListSchedulesCommand,
  type ListSchedulesCommandOutput,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import type { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { isNextTokenRejected, MAX_LISTING_RESTARTS, RequestBudget } from '../aws/budget.ts';
import type { Logger } from '../log.ts';
import { datum, publishCountQuietly, publishMetrics } from '../metrics/publish.ts';
import {
  countSchedule,
  createProducerTally,
  type ProducerTally,
  readProducerTally,
  type SerializedProducerTally,
  serializeProducerTally,
} from '../producers/tally.ts';
import { safeError } from '../redact.ts';
import { computeGrowth, type Growth, readPreviousCounts } from './growth.ts';
import {
  type CensusProducers,
  compareWithUsage,
  measureProducers,
  type UsageComparison,
} from './producers.ts';
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
  /**
   * One per invocation, whatever it came to (complete, continuing, already running, failed): the
   * census's heartbeat. A census of a large account spans several invocations, so QuotaUtilization,
   * published once per complete census, cannot tell "alive but slow" from "stopped".
   */
  censusInvocations: 'CensusInvocations',
} as const;

export const CensusDimension = {
  scheduleGroup: 'ScheduleGroup',
  state: 'State',
} as const;

/** Both states always get a point, so a state that empties shows 0 rather than a gap. */
const KNOWN_STATES = ['ENABLED', 'DISABLED'] as const;
const PAGE_SIZE = 100;

/** Logged (warn) each time ListSchedules refuses a NextToken and the census starts its listing over. */
export const REFUSED_TOKEN_WARNING =
  'ListSchedules refused the NextToken; the census starts over from the first page';

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

/**
 * What a census carried over from earlier invocations has counted so far. Schedules are counted per
 * group and state only: the total and the per-group and per-state counts follow from that, so the
 * carried figures can never disagree with one another.
 */
export interface CensusProgress {
  /** Schedules per group, then per state. Built with Object.create(null): a group may be "__proto__". */
  groups: Record<string, Record<string, number>>;
  pages: number;
  listRequests: number;
  /** Seconds spent listing, summed over the invocations (hand-off gaps excluded). */
  durationSeconds: number;
  /**
   * Schedules per target, group and pair so far (src/producers/tally.ts), its total equal to the
   * groups' sum. Absent in a continuation from a version without it: the producers are then not
   * published for that census.
   */
  producers?: SerializedProducerTally;
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
  /** Asked after every page; true makes the census return its cursor instead of listing on. */
  shouldStop?: () => boolean;
  /** Where an earlier invocation stopped: its NextToken and what it had counted. */
  resume?: { nextToken: string; progress: CensusProgress };
}

export interface CensusSummary {
  status: typeof CensusStatus.complete;
  total: number;
  byGroup: Record<string, number>;
  byState: Record<string, number>;
  byGroupAndState: Record<string, Record<string, number>>;
  quota: ScheduleQuota;
  utilizationPercent: number;
  growthPerHour: number | undefined;
  daysUntilFull: number | undefined;
  /** Who holds the quota and who grows fastest; absent when the tally does not cover the whole count. */
  producers?: CensusProducers;
  /** AWS's own schedule count (AWS/Usage), where the account has one, and its difference from `total`. */
  awsUsage: UsageComparison;
  pages: number;
  listRequests: number;
  metricRequests: number;
  durationSeconds: number;
  at: string;
}

/** A census cut short by `shouldStop`: carry `nextToken` and `progress` into the next invocation. */
export interface CensusContinuing {
  status: typeof CensusStatus.continuing;
  nextToken: string;
  progress: CensusProgress;
  /** Schedules counted so far: for logs only, never a count to publish. */
  listedSoFar: number;
}

export const CensusStatus = {
  complete: 'complete',
  continuing: 'continuing',
} as const;

export type CensusOutcome = CensusSummary | CensusContinuing;

interface Counts {
  byGroupAndState: Map<string, Map<string, number>>;
  producers: ProducerTally;
  pages: number;
}

/** Without `shouldStop` the census always lists to the end, so it always completes. */
export function census(
  deps: CensusDeps,
  options: CensusOptions & { shouldStop?: undefined },
): Promise<CensusSummary>;
export function census(deps: CensusDeps, options: CensusOptions): Promise<CensusOutcome>;
export async function census(deps: CensusDeps, options: CensusOptions): Promise<CensusOutcome> {
  const elapsed = deps.elapsed ?? (() => performance.now());
  const started = elapsed();
  const budget = new RequestBudget('ListSchedules', { ratePerSecond: options.listTps, now: elapsed });
  const carried = options.resume?.progress;
  // Milliseconds, so sums across invocations print without float noise (0.1 + 0.2).
  const seconds = () => roundTo3((elapsed() - started) / 1000 + (carried?.durationSeconds ?? 0));
  const requests = () => budget.stats.requests + (carried?.listRequests ?? 0);

  let listing: Listing;
  const restarts = { count: 0 };
  try {
    listing = await countSchedules(deps, budget, options, restarts);
  } catch (error) {
    const durationSeconds = seconds();
    deps.log.error('Census failed part-way; no counts published', {
      error: safeError(error),
      listRequests: requests(),
      listingRestarts: restarts.count,
    });
    const at = deps.clock();
    await publishMetrics(deps.cloudwatch, options.namespace, [
      datum(CensusMetric.censusFailures, 1, 'Count', at),
      datum(CensusMetric.censusDurationSeconds, durationSeconds, 'Seconds', at),
    ]).catch((publishError: unknown) =>
      deps.log.error('Could not publish the census failure', { error: safeError(publishError) }),
    );
    throw error;
  }
  const { counts } = listing;
  const totals = summarize(counts);

  if (listing.nextToken !== undefined) {
    return {
      status: CensusStatus.continuing,
      nextToken: listing.nextToken,
      progress: {
        groups: toRecord(counts.byGroupAndState),
        producers: serializeProducerTally(counts.producers),
        pages: counts.pages,
        listRequests: requests(),
        durationSeconds: seconds(),
      },
      listedSoFar: totals.total,
    };
  }

  // Only a complete listing needs the quota; an invocation that hands on skips the lookup.
  const quota = await resolveScheduleQuota(deps.serviceQuotas, options.fallbackQuota, deps.log, {
    ...(deps.quotaMemory ? { memory: deps.quotaMemory } : {}),
  });
  // The count is complete only now, so that is when it is true.
  const at = deps.clock();
  const growth = await measureGrowth(deps, options.namespace, at, totals.total, quota.value);
  const utilizationPercent = withoutFloatNoise((totals.total / quota.value) * 100);
  const durationSeconds = seconds();

  const datums = buildDatums(totals, options.groups ?? [], quota, utilizationPercent, growth, at);
  datums.push(datum(CensusMetric.censusDurationSeconds, durationSeconds, 'Seconds', at));
  const producers = await producersOf(deps, options, counts.producers, totals, quota.value, at);
  const usage = await compareWithUsage(deps, totals.total, at);
  datums.push(...(producers?.datums ?? []), ...usage.datums);
  const metricRequests = await publishMetrics(deps.cloudwatch, options.namespace, datums);

  const summary: CensusSummary = {
    status: CensusStatus.complete,
    total: totals.total,
    byGroup: Object.fromEntries(totals.byGroup),
    byState: Object.fromEntries(totals.byState),
    byGroupAndState: Object.fromEntries(
      [...counts.byGroupAndState].map(([group, states]) => [group, Object.fromEntries(states)]),
    ),
    quota,
    utilizationPercent,
    growthPerHour: growth?.perHour,
    daysUntilFull: growth?.daysUntilFull,
    ...(producers ? { producers: producers.producers } : {}),
    awsUsage: usage.usage,
    pages: counts.pages,
    listRequests: requests(),
    metricRequests,
    durationSeconds,
    at: at.toISOString(),
  };
  deps.log.info('Census complete', {
    total: summary.total,
    groups: totals.byGroup.size,
    byState: summary.byState,
    quota,
    utilizationPercent,
    growthPerHour: summary.growthPerHour,
    daysUntilFull: summary.daysUntilFull,
    topProducers: summary.producers?.targets
      .slice(0, 3)
      .map(({ targetArn, count }) => ({ targetArn, count })),
    fastestGrowing: summary.producers?.fastestGrowing,
    awsUsage: usage.usage.status,
    pages: summary.pages,
    listRequests: summary.listRequests,
    metricRequests,
    durationSeconds,
  });
  return summary;
}

type QuietPublishDeps = { cloudwatch: CloudWatchClient; clock: () => Date; log: Logger };

/** Publishes this invocation's heartbeat. Never throws. */
export const publishCensusHeartbeat = (deps: QuietPublishDeps, namespace: string): Promise<void> =>
  publishCountQuietly(deps, namespace, CensusMetric.censusInvocations);

/** Publishes CensusFailures = 1 for a census that ended without counts. Never throws. */
export const publishCensusFailure = (deps: QuietPublishDeps, namespace: string): Promise<void> =>
  publishCountQuietly(deps, namespace, CensusMetric.censusFailures);

interface Listing {
  counts: Counts;
  /** Set when the census stopped before the last page. */
  nextToken?: string;
}

/**
 * Streams through the pages, keeping only counters: memory stays flat however many schedules exist.
 * At least one page is listed per call, so a chain of invocations always makes progress.
 *
 * A NextToken ListSchedules refuses (ValidationException), whether carried from an earlier
 * invocation or handed out in this one, restarts the listing from the first page with every count
 * taken back, at most MAX_LISTING_RESTARTS times per invocation (`restarts.count` says how many);
 * the next refusal is thrown, and the census fails as for any listing error.
 */
async function countSchedules(
  deps: CensusDeps,
  budget: RequestBudget,
  options: CensusOptions,
  restarts: { count: number },
): Promise<Listing> {
  let counts = fromProgress(options.resume?.progress);
  let nextToken = options.resume?.nextToken;
  for (;;) {
    const token = nextToken;
    let page: ListSchedulesCommandOutput;
    try {
      page = await budget.call(() =>
        deps.scheduler.send(new ListSchedulesCommand({ MaxResults: PAGE_SIZE, NextToken: token })),
      );
    } catch (error) {
      if (!isNextTokenRejected(error, token) || restarts.count >= MAX_LISTING_RESTARTS) throw error;
      // A refused token (expired, say: mid-run or carried from an earlier invocation) ends that
      // listing; only the first page starts a new one. The census lists the account as one listing,
      // so everything it counted, carried counts included, is taken back: the new listing counts
      // every schedule again, and mixing two listings could count one twice.
      restarts.count += 1;
      const discarded = summarize(counts).total;
      deps.log.warn(REFUSED_TOKEN_WARNING, {
        error: safeError(error),
        restart: restarts.count,
        pagesDiscarded: counts.pages,
        schedulesDiscarded: discarded,
      });
      counts = fromProgress(undefined);
      nextToken = undefined;
      continue;
    }
    counts.pages += 1;
    for (const schedule of page.Schedules ?? []) {
      countSchedule(counts.producers, schedule);
      const group = schedule.GroupName ?? 'default';
      const state = schedule.State ?? 'UNKNOWN';
      let states = counts.byGroupAndState.get(group);
      if (!states) {
        states = new Map();
        counts.byGroupAndState.set(group, states);
      }
      increment(states, state);
    }
    nextToken = page.NextToken || undefined;
    if (nextToken === undefined) return { counts };
    if (options.shouldStop?.()) return { counts, nextToken };
  }
}

function fromProgress(progress: CensusProgress | undefined): Counts {
  const byGroupAndState = new Map<string, Map<string, number>>();
  for (const [group, states] of Object.entries(progress?.groups ?? {})) {
    byGroupAndState.set(group, new Map(Object.entries(states)));
  }
  // A carried tally was checked when the payload was read; reading it again rebuilds its counters.
  const producers = progress?.producers
    ? readProducerTally(progress.producers, 'continuation.progress.producers')
    : createProducerTally();
  return { byGroupAndState, producers, pages: progress?.pages ?? 0 };
}

function toRecord(byGroupAndState: Map<string, Map<string, number>>): CensusProgress['groups'] {
  const groups: CensusProgress['groups'] = Object.create(null);
  for (const [group, states] of byGroupAndState) {
    const record: Record<string, number> = Object.create(null);
    for (const [state, count] of states) record[state] = count;
    groups[group] = record;
  }
  return groups;
}

interface Totals {
  total: number;
  byGroup: Map<string, number>;
  byState: Map<string, number>;
}

function summarize(counts: Counts): Totals {
  const totals: Totals = { total: 0, byGroup: new Map(), byState: new Map() };
  for (const [group, states] of counts.byGroupAndState) {
    for (const [state, count] of states) {
      totals.total += count;
      increment(totals.byGroup, group, count);
      increment(totals.byState, state, count);
    }
  }
  return totals;
}

/**
 * The producers view, when the tally covers every schedule counted (a continuation from a version
 * without the tally leaves it short: then nothing about producers is published rather than a part).
 */
async function producersOf(
  deps: CensusDeps,
  options: CensusOptions,
  tally: ProducerTally,
  totals: Totals,
  quota: number,
  at: Date,
): Promise<Awaited<ReturnType<typeof measureProducers>> | undefined> {
  if (tally.targets.total !== totals.total) {
    deps.log.warn('The producer tally does not cover this census; producers not published this run', {
      tallied: tally.targets.total,
      total: totals.total,
    });
    return undefined;
  }
  const groups = options.groups ?? [];
  return measureProducers(deps, {
    namespace: options.namespace,
    tally,
    byGroup: totals.byGroup,
    publishedGroups: groups.length > 0 ? groups : [...totals.byGroup.keys()],
    quota,
    at,
  });
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
    deps.log.warn('Could not read earlier schedule counts; growth not published this run', {
      error: safeError(error),
    });
    return undefined;
  }
}

function buildDatums(
  totals: Totals,
  groups: string[],
  quota: ScheduleQuota,
  utilizationPercent: number,
  growth: Growth | undefined,
  at: Date,
): MetricDatum[] {
  const datums: MetricDatum[] = [
    datum(CensusMetric.scheduleCount, totals.total, 'Count', at),
    datum(CensusMetric.scheduleQuota, quota.value, 'Count', at),
    datum(CensusMetric.quotaUtilization, utilizationPercent, 'Percent', at),
    datum(CensusMetric.censusFailures, 0, 'Count', at),
  ];
  const states = new Set<string>([...KNOWN_STATES, ...totals.byState.keys()]);
  for (const state of states) {
    datums.push(
      datum(CensusMetric.scheduleCount, totals.byState.get(state) ?? 0, 'Count', at, [
        { Name: CensusDimension.state, Value: state },
      ]),
    );
  }
  const reportedGroups = groups.length > 0 ? new Set(groups) : new Set(totals.byGroup.keys());
  for (const group of reportedGroups) {
    datums.push(
      datum(CensusMetric.scheduleCount, totals.byGroup.get(group) ?? 0, 'Count', at, [
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

function increment(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

/** Rounds to 3 decimals (durations: whole milliseconds), so sums read 228.67, not 228.67000000000002. */
function roundTo3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** 12 significant digits: drops binary noise (228.67000000000002 → 228.67) and keeps small values (0.00215). */
function withoutFloatNoise(value: number): number {
  return Number(value.toPrecision(12));
}
