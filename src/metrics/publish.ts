// Sends metric data to CloudWatch in requests that stay inside PutMetricData's limits
// (1000 metric data per request, 1 MB per request). Callers build the datums; this only ships them.
import { type CloudWatchClient, type MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { Logger } from '../log.ts';
import { safeError } from '../redact.ts';

export const MAX_DATUMS_PER_REQUEST = 1000;
/** Well under the 1 MB request limit, measured on the JSON we would send. */
export const MAX_BYTES_PER_REQUEST = 800_000;

export interface Dimension {
  Name: string;
  Value: string;
}

export function datum(
  name: string,
  value: number,
  unit: MetricDatum['Unit'],
  timestamp: Date,
  dimensions: Dimension[] = [],
): MetricDatum {
  return {
    MetricName: name,
    Value: value,
    Unit: unit,
    Timestamp: timestamp,
    ...(dimensions.length ? { Dimensions: dimensions } : {}),
  };
}

/** Splits datums into request-sized batches. */
export function batchDatums(datums: MetricDatum[]): MetricDatum[][] {
  const batches: MetricDatum[][] = [];
  let current: MetricDatum[] = [];
  let bytes = 0;
  for (const item of datums) {
    const size = JSON.stringify(item).length + 1;
    if (
      current.length > 0 &&
      (current.length >= MAX_DATUMS_PER_REQUEST || bytes + size > MAX_BYTES_PER_REQUEST)
    ) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Publishes every batch; returns the number of requests sent. */
export async function publishMetrics(
  cloudwatch: CloudWatchClient,
  namespace: string,
  datums: MetricDatum[],
): Promise<number> {
  const batches = batchDatums(datums);
  for (const batch of batches) {
    await cloudwatch.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: batch }));
  }
  return batches.length;
}

/**
 * Publishes one Count data point (a heartbeat, a failure mark) now. Never throws: a metrics outage
 * must not hide the caller's own result; it is logged instead.
 */
export async function publishCountQuietly(
  deps: { cloudwatch: CloudWatchClient; clock: () => Date; log: Logger },
  namespace: string,
  metricName: string,
  value = 1,
): Promise<void> {
  try {
    await publishMetrics(deps.cloudwatch, namespace, [datum(metricName, value, 'Count', deps.clock())]);
  } catch (error) {
    deps.log.error(`publishing ${metricName} failed`, { namespace, error: safeError(error) });
  }
}
