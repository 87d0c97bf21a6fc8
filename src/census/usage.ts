// AWS's own count of schedules, where the account has one. Newer Scheduler documentation mentions
// resource-count usage metrics in the AWS/Usage namespace (dimensions Service=Scheduler,
// Type=Resource), but their exact metric name and Resource value are unconfirmed, so nothing here
// assumes them: ListMetrics finds what the account actually has. A census that finds exactly one
// such metric for schedules publishes the difference from its own count; with none (most accounts
// today), or several it cannot choose between, it publishes nothing and says why.
import {
  type CloudWatchClient,
  type Dimension,
  GetMetricDataCommand,
  ListMetricsCommand,
  type ListMetricsCommandOutput,
} from '@aws-sdk/client-cloudwatch';

export const USAGE_NAMESPACE = 'AWS/Usage';
/** The dimensions every candidate carries (AWS/Usage's documented dimensions for resource counts). */
export const USAGE_FILTER = [
  { Name: 'Service', Value: 'Scheduler' },
  { Name: 'Type', Value: 'Resource' },
] as const;
/** A Resource dimension naming groups counts schedule groups, not schedules. */
const GROUP_RESOURCE = /group/i;
/** How far back the latest point is looked for: AWS/Usage resource counts are reported every few minutes. */
const LOOKBACK_MS = 3 * 3_600_000;

export interface UsageMetric {
  metricName: string;
  dimensions: { Name: string; Value: string }[];
}

export type UsageCount =
  /** One metric found, and its latest Maximum read. */
  | { status: 'found'; metric: UsageMetric; count: number; at: string }
  /** One metric found, but no point in the last 3 hours. */
  | { status: 'noData'; metric: UsageMetric }
  /** No Scheduler resource-count metric in AWS/Usage in this account and Region. */
  | { status: 'notFound' }
  /** More than one candidate for schedules: none is chosen, so none is compared. */
  | { status: 'ambiguous'; metrics: UsageMetric[] };

/**
 * Looks for AWS's schedule count (ListMetrics, recently active only) and reads its latest value
 * (GetMetricData, Maximum over 5 minutes). Throws what CloudWatch throws; the census treats that
 * as "not compared this run".
 */
export async function readUsageCount(cloudwatch: CloudWatchClient, now: Date): Promise<UsageCount> {
  const candidates: UsageMetric[] = [];
  let nextToken: string | undefined;
  do {
    const page: ListMetricsCommandOutput = await cloudwatch.send(
      new ListMetricsCommand({
        Namespace: USAGE_NAMESPACE,
        Dimensions: USAGE_FILTER.map((dimension) => ({ ...dimension })),
        RecentlyActive: 'PT3H',
        NextToken: nextToken,
      }),
    );
    for (const metric of page.Metrics ?? []) {
      const dimensions = (metric.Dimensions ?? []).filter(isDimension);
      const resource = dimensions.find((dimension) => dimension.Name === 'Resource')?.Value ?? '';
      if (!metric.MetricName || GROUP_RESOURCE.test(resource)) continue;
      candidates.push({ metricName: metric.MetricName, dimensions });
    }
    nextToken = page.NextToken;
  } while (nextToken);
  if (candidates.length === 0) return { status: 'notFound' };
  if (candidates.length > 1) return { status: 'ambiguous', metrics: candidates };
  const metric = candidates[0]!;
  const result = await cloudwatch.send(
    new GetMetricDataCommand({
      StartTime: new Date(now.getTime() - LOOKBACK_MS),
      EndTime: now,
      ScanBy: 'TimestampDescending',
      MetricDataQueries: [
        {
          Id: 'usage',
          MetricStat: {
            Metric: {
              Namespace: USAGE_NAMESPACE,
              MetricName: metric.metricName,
              Dimensions: metric.dimensions,
            },
            Period: 300,
            Stat: 'Maximum',
          },
          ReturnData: true,
        },
      ],
    }),
  );
  const series = result.MetricDataResults?.[0];
  const count = series?.Values?.[0];
  const at = series?.Timestamps?.[0];
  if (count === undefined || !Number.isFinite(count) || at === undefined) return { status: 'noData', metric };
  return { status: 'found', metric, count, at: at.toISOString() };
}

function isDimension(dimension: Dimension): dimension is { Name: string; Value: string } {
  return typeof dimension.Name === 'string' && typeof dimension.Value === 'string';
}
