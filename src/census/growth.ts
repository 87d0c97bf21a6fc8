// How fast the schedule count is moving, from the ScheduleCount points earlier censuses (and
// sweeps) published, so a fast-filling account shows up long before the 80% alarm line.
import { type CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';

export const GROWTH_DEFAULTS = {
  /** How far back earlier counts are read. A few hours smooths out the sweeper's hourly saw-tooth. */
  windowHours: 3,
  /**
   * Below this span between the oldest point and now the slope is mostly noise (two counts a
   * minute apart say little about the hour), so no growth is reported.
   */
  minimumSpanMinutes: 10,
} as const;

export interface CountPoint {
  at: Date;
  count: number;
}

export interface Growth {
  perHour: number;
  /** Undefined when the count is not growing: the account is not filling up. */
  daysUntilFull: number | undefined;
  /** Points the slope was fitted to, the current count included. */
  points: number;
  spanHours: number;
}

/** Reads earlier account-wide ScheduleCount points (no dimensions) in the window before `now`. */
export async function readPreviousCounts(
  cloudwatch: CloudWatchClient,
  namespace: string,
  metricName: string,
  now: Date,
  windowHours: number = GROWTH_DEFAULTS.windowHours,
): Promise<CountPoint[]> {
  const points: CountPoint[] = [];
  let nextToken: string | undefined;
  do {
    const page = await cloudwatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(now.getTime() - windowHours * 3_600_000),
        EndTime: now,
        ScanBy: 'TimestampAscending',
        NextToken: nextToken,
        MetricDataQueries: [
          {
            Id: 'count',
            // Average: the census and the sweeper may both publish a count in the same minute.
            MetricStat: {
              Metric: { Namespace: namespace, MetricName: metricName },
              Period: 60,
              Stat: 'Average',
            },
            ReturnData: true,
          },
        ],
      }),
    );
    for (const result of page.MetricDataResults ?? []) {
      const timestamps = result.Timestamps ?? [];
      const values = result.Values ?? [];
      timestamps.forEach((at, index) => {
        const count = values[index];
        if (count !== undefined && Number.isFinite(count)) points.push({ at: new Date(at), count });
      });
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return points.filter((point) => point.at.getTime() < now.getTime());
}

/**
 * Least-squares slope through the earlier points and the current count, in schedules per hour.
 * A fit, rather than the two endpoints, so one count taken just before or after a sweep does not
 * swing the figure. Undefined on a first run or when the points span too little time.
 */
export function computeGrowth(
  previous: CountPoint[],
  current: CountPoint,
  quota: number,
  minimumSpanMinutes: number = GROWTH_DEFAULTS.minimumSpanMinutes,
): Growth | undefined {
  const points = [...previous, current];
  const hours = points.map((point) => (point.at.getTime() - current.at.getTime()) / 3_600_000);
  const spanHours = Math.max(...hours) - Math.min(...hours);
  if (points.length < 2 || spanHours * 60 < minimumSpanMinutes) return undefined;

  const meanHour = hours.reduce((sum, hour) => sum + hour, 0) / points.length;
  const meanCount = points.reduce((sum, point) => sum + point.count, 0) / points.length;
  let covariance = 0;
  let variance = 0;
  points.forEach((point, index) => {
    const deviation = (hours[index] ?? 0) - meanHour;
    covariance += deviation * (point.count - meanCount);
    variance += deviation * deviation;
  });
  const perHour = covariance / variance;
  const daysUntilFull = perHour > 0 ? Math.max(0, quota - current.count) / perHour / 24 : undefined;
  return { perHour, daysUntilFull, points: points.length, spanHours };
}

/** One metric's dimensions, as ScheduleCount was published with them. */
export type DimensionSet = { Name: string; Value: string }[];

/** GetMetricData takes at most 500 queries per request (CloudWatch API reference, GetMetricData). */
const MAX_QUERIES_PER_REQUEST = 500;

/**
 * Earlier points of `metricName` for each dimension set (same order) in the window before `now`:
 * one GetMetricData query per set, up to 500 per request. CloudWatch bills each query as one metric
 * requested ($0.01 per 1,000), so callers keep the sets few.
 */
export async function readPreviousSeries(
  cloudwatch: CloudWatchClient,
  namespace: string,
  metricName: string,
  dimensionSets: readonly DimensionSet[],
  now: Date,
  windowHours: number = GROWTH_DEFAULTS.windowHours,
): Promise<CountPoint[][]> {
  const series: CountPoint[][] = dimensionSets.map(() => []);
  for (let start = 0; start < dimensionSets.length; start += MAX_QUERIES_PER_REQUEST) {
    const chunk = dimensionSets.slice(start, start + MAX_QUERIES_PER_REQUEST);
    let nextToken: string | undefined;
    do {
      const page = await cloudwatch.send(
        new GetMetricDataCommand({
          StartTime: new Date(now.getTime() - windowHours * 3_600_000),
          EndTime: now,
          ScanBy: 'TimestampAscending',
          NextToken: nextToken,
          MetricDataQueries: chunk.map((dimensions, index) => ({
            Id: `s${start + index}`,
            MetricStat: {
              Metric: { Namespace: namespace, MetricName: metricName, Dimensions: dimensions },
              Period: 60,
              Stat: 'Average',
            },
            ReturnData: true,
          })),
        }),
      );
      for (const result of page.MetricDataResults ?? []) {
        const target = series[Number(result.Id?.slice(1))];
        if (!target) continue;
        const values = result.Values ?? [];
        (result.Timestamps ?? []).forEach((at, index) => {
          const count = values[index];
          if (count !== undefined && Number.isFinite(count) && at.getTime() < now.getTime()) {
            target.push({ at: new Date(at), count });
          }
        });
      }
      nextToken = page.NextToken;
    } while (nextToken);
  }
  return series;
}
