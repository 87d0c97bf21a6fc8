// CloudWatch metrics for the emulator (AWS JSON 1.0 with awsQueryCompatible, target
// GraniteServiceVersion20100801): PutMetricData validated as AWS does, ListMetrics and GetMetricData
// over the stored datums, so published metrics can be read back the way dashboards and alarms see them.
import * as v from 'valibot';
import {
  AwsError,
  badControl,
  type ControlPlane,
  type EmulatedService,
  type EmulatorRequest,
  type EmulatorResponse,
  isCalendarDateTime,
  parseJsonBody,
  targetOperation,
  unknownControl,
} from './core.ts';

const targetPrefix = 'GraniteServiceVersion20100801.';
const errorNamespace = 'com.amazonaws.cloudwatch#';
const listMetricsPageSize = 500;
const maximumRequestBytes = 1024 * 1024;

export const standardUnits = [
  'Seconds',
  'Microseconds',
  'Milliseconds',
  'Bytes',
  'Kilobytes',
  'Megabytes',
  'Gigabytes',
  'Terabytes',
  'Bits',
  'Kilobits',
  'Megabits',
  'Gigabits',
  'Terabits',
  'Percent',
  'Count',
  'Bytes/Second',
  'Kilobytes/Second',
  'Megabytes/Second',
  'Gigabytes/Second',
  'Terabytes/Second',
  'Bits/Second',
  'Kilobits/Second',
  'Megabits/Second',
  'Gigabits/Second',
  'Terabits/Second',
  'Count/Second',
  'None',
] as const;

export const supportedStatistics = ['Sum', 'Average', 'Minimum', 'Maximum', 'SampleCount'] as const;
export type Statistic = (typeof supportedStatistics)[number];

/**
 * CloudWatch answers JSON clients with the old Query error codes in `x-amzn-query-error`
 * ("Code;Sender"); the SDK maps those codes back to its exception classes.
 */
const queryErrorCodes: Record<string, string> = {
  InvalidParameterValueException: 'InvalidParameterValue',
  InvalidParameterCombinationException: 'InvalidParameterCombination',
  MissingRequiredParameterException: 'MissingParameter',
  ValidationException: 'ValidationError',
  InvalidNextToken: 'InvalidNextToken',
  ThrottlingException: 'Throttling',
  InternalServerException: 'InternalServiceError',
  RequestEntityTooLarge: 'RequestEntityTooLarge',
  UnknownOperationException: 'InvalidAction',
};

export interface Dimension {
  Name: string;
  Value: string;
}

export interface StoredDatum {
  namespace: string;
  metricName: string;
  /** As sent; CloudWatch identifies a metric by the set of dimensions, whatever their order. */
  dimensions: Dimension[];
  timestamp: Date;
  /** One sample per value, each counted `counts[i]` times (Value alone is one value, count 1). */
  values: number[];
  counts: number[];
  statisticValues?: { SampleCount: number; Sum: number; Minimum: number; Maximum: number };
  unit?: string;
  storageResolution: number;
}

export interface DatumFilter {
  namespace?: string;
  metricName?: string;
  /** Every listed dimension must be present with this value (others may be too). */
  dimensions?: Record<string, string>;
}

export interface PutMetricDataRecord {
  namespace: string;
  datumCount: number;
  /** The body arrived with content-encoding gzip (the SDK compresses bodies of 10 KiB or more). */
  gzipped: boolean;
  /** Uncompressed body size. */
  bytes: number;
}

/** A point AWS itself publishes (AWS/Usage, AWS/Scheduler, ...), which PutMetricData refuses. */
export interface SeededDatum {
  namespace: string;
  metricName: string;
  dimensions: Dimension[];
  value: number;
  /** Default: now. */
  timestamp?: Date;
  unit?: string;
}

/** POST /_emulator/cloudwatch/seed: a SeededDatum, its timestamp an ISO 8601 string. */
const seedBody = v.strictObject({
  namespace: v.pipe(
    v.string('expected a namespace of 1-255 characters'),
    v.nonEmpty('expected a namespace of 1-255 characters'),
    v.maxLength(255, 'expected a namespace of 1-255 characters'),
  ),
  metricName: v.pipe(
    v.string('expected a metric name of 1-255 characters'),
    v.nonEmpty('expected a metric name of 1-255 characters'),
    v.maxLength(255, 'expected a metric name of 1-255 characters'),
  ),
  dimensions: v.optional(
    v.array(
      v.strictObject({ Name: v.string('expected a string'), Value: v.string('expected a string') }),
      'expected an array of {"Name": "...", "Value": "..."}',
    ),
    [],
  ),
  value: v.number('expected a number'),
  timestamp: v.optional(
    v.pipe(
      v.string('expected an ISO 8601 time'),
      v.check(isCalendarDateTime, 'expected an ISO 8601 time of a real day, with Z or an offset'),
    ),
  ),
  unit: v.optional(v.picklist(standardUnits, 'expected a CloudWatch standard unit')),
});

export interface CloudWatchService extends EmulatedService {
  datums(filter?: DatumFilter): StoredDatum[];
  /** Stores a point as AWS would publish it (any namespace, AWS/ included); ListMetrics and GetMetricData see it. */
  seed(datum: SeededDatum): void;
  /** Accepted PutMetricData requests, oldest first. */
  putRequests(): PutMetricDataRecord[];
  requestCount(): number;
  largestRequest(): PutMetricDataRecord | undefined;
  reset(): void;
}

const invalidValue = (message: string) => new AwsError('InvalidParameterValueException', 400, message);
const invalidCombination = (message: string) =>
  new AwsError('InvalidParameterCombinationException', 400, message);
const missing = (name: string) =>
  new AwsError('MissingRequiredParameterException', 400, `The parameter ${name} is required.`);
const validationError = (message: string) => new AwsError('ValidationException', 400, message);

export function createCloudWatchService(plane: ControlPlane): CloudWatchService {
  let stored: StoredDatum[] = [];
  let requests: PutMetricDataRecord[] = [];

  function putMetricData(body: Record<string, unknown>, request: EmulatorRequest) {
    if (request.body.length > maximumRequestBytes) {
      throw new AwsError('RequestEntityTooLarge', 413, 'Request size exceeded 1048576 bytes');
    }
    const namespace = body.Namespace;
    if (namespace === undefined || namespace === null) throw missing('Namespace');
    if (typeof namespace !== 'string' || namespace.length < 1 || namespace.length > 255) {
      throw invalidValue(`The value ${String(namespace)} for parameter Namespace is invalid.`);
    }
    if (namespace.startsWith('AWS/')) {
      throw invalidValue(
        `The value ${namespace} for parameter Namespace is invalid: namespaces starting with AWS/ are reserved.`,
      );
    }
    const entityData = Array.isArray(body.EntityMetricData) ? body.EntityMetricData : [];
    const rawData = [
      ...(Array.isArray(body.MetricData) ? body.MetricData : []),
      ...entityData.flatMap((entry) => {
        const data = (entry as { MetricData?: unknown })?.MetricData;
        return Array.isArray(data) ? data : [];
      }),
    ];
    if (body.MetricData === undefined && entityData.length === 0) throw missing('MetricData');
    if (rawData.length === 0 || rawData.length > 1000) {
      throw invalidValue(
        `The collection MetricData must have from 1 to 1000 members, got ${rawData.length}.`,
      );
    }
    const now = plane.now();
    const datums = rawData.map((raw, index) =>
      parseDatum(raw, `MetricData.member.${index + 1}`, namespace, now),
    );
    stored.push(...datums);
    requests.push({
      namespace,
      datumCount: datums.length,
      gzipped: String(request.headers['content-encoding'] ?? '').includes('gzip'),
      bytes: request.body.length,
    });
    return {};
  }

  function listMetrics(body: Record<string, unknown>) {
    const filters = parseDimensionFilters(body.Dimensions);
    const recentlyActive = body.RecentlyActive;
    if (recentlyActive !== undefined && recentlyActive !== 'PT3H') {
      throw invalidValue(`The value ${String(recentlyActive)} for parameter RecentlyActive is invalid.`);
    }
    const since = plane.now().getTime() - 3 * 60 * 60 * 1000;
    const metrics = new Map<string, { Namespace: string; MetricName: string; Dimensions: Dimension[] }>();
    for (const datum of stored) {
      if (body.Namespace !== undefined && datum.namespace !== body.Namespace) continue;
      if (body.MetricName !== undefined && datum.metricName !== body.MetricName) continue;
      if (recentlyActive && datum.timestamp.getTime() < since) continue;
      const matches = filters.every((filter) =>
        datum.dimensions.some(
          (dimension) =>
            dimension.Name === filter.Name &&
            (filter.Value === undefined || dimension.Value === filter.Value),
        ),
      );
      if (!matches) continue;
      const identity = metricIdentity(datum.namespace, datum.metricName, datum.dimensions);
      if (!metrics.has(identity)) {
        metrics.set(identity, {
          Namespace: datum.namespace,
          MetricName: datum.metricName,
          Dimensions: datum.dimensions,
        });
      }
    }
    const all = [...metrics.values()];
    const offset = decodeToken(body.NextToken, 'InvalidNextToken');
    const page = all.slice(offset, offset + listMetricsPageSize);
    const next = offset + page.length;
    return { Metrics: page, ...(next < all.length ? { NextToken: encodeToken(next) } : {}) };
  }

  function getMetricData(body: Record<string, unknown>) {
    const queries = body.MetricDataQueries;
    if (!Array.isArray(queries) || queries.length === 0 || queries.length > 500) {
      throw validationError('The collection MetricDataQueries must have from 1 to 500 members.');
    }
    const start = parseTimestamp(body.StartTime, 'StartTime');
    const end = parseTimestamp(body.EndTime, 'EndTime');
    if (!start || !end) throw missing(start ? 'EndTime' : 'StartTime');
    if (start.getTime() >= end.getTime()) {
      throw validationError('The parameter StartTime must be less than the parameter EndTime.');
    }
    const scanBy = body.ScanBy ?? 'TimestampDescending';
    if (scanBy !== 'TimestampDescending' && scanBy !== 'TimestampAscending') {
      throw validationError(`The value ${String(scanBy)} for parameter ScanBy is invalid.`);
    }
    const ids = new Set<string>();
    const results = queries.map((raw, index) => {
      const query = (raw ?? {}) as Record<string, unknown>;
      const where = `MetricDataQueries.member.${index + 1}`;
      const id = query.Id;
      if (typeof id !== 'string' || !/^[a-z][a-zA-Z0-9_]{0,254}$/.test(id)) {
        throw validationError(
          `The value ${String(id)} for parameter ${where}.Id is not matching the expected pattern ^[a-z][a-zA-Z0-9_]*$.`,
        );
      }
      if (ids.has(id)) throw validationError(`The value ${id} for parameter ${where}.Id is not unique.`);
      ids.add(id);
      if (query.Expression !== undefined) {
        throw validationError(`${where}: the emulator supports MetricStat queries only, not Expression.`);
      }
      const stat = query.MetricStat as Record<string, unknown> | undefined;
      if (!stat)
        throw validationError(
          `Exactly one element of the MetricStat or the Expression for ${where} must be present.`,
        );
      const metric = (stat.Metric ?? {}) as Record<string, unknown>;
      if (typeof metric.Namespace !== 'string' || typeof metric.MetricName !== 'string') {
        throw validationError(`${where}.MetricStat.Metric needs Namespace and MetricName.`);
      }
      const dimensions = parseDimensions(
        metric.Dimensions,
        `${where}.MetricStat.Metric.Dimensions`,
        validationError,
      );
      const period = stat.Period;
      if (
        typeof period !== 'number' ||
        !Number.isInteger(period) ||
        period < 1 ||
        (period >= 60 ? period % 60 !== 0 : ![1, 5, 10, 20, 30].includes(period))
      ) {
        throw validationError(
          `The parameter ${where}.MetricStat.Period must be 1, 5, 10, 20, 30, or a multiple of 60.`,
        );
      }
      const statistic = stat.Stat as Statistic;
      if (!supportedStatistics.includes(statistic)) {
        throw validationError(
          `${where}.MetricStat.Stat ${String(stat.Stat)} is not supported by the emulator; use one of ${supportedStatistics.join(', ')}.`,
        );
      }
      const points = aggregate(
        datumsOf(
          metric.Namespace,
          metric.MetricName,
          dimensions,
          start,
          end,
          stat.Unit as string | undefined,
        ),
        period,
        statistic,
      );
      if (scanBy === 'TimestampAscending') points.sort((a, b) => a.timestamp - b.timestamp);
      else points.sort((a, b) => b.timestamp - a.timestamp);
      return {
        query,
        result: {
          Id: id,
          Label: typeof query.Label === 'string' ? query.Label : metric.MetricName,
          Timestamps: points.map((point) => point.timestamp / 1000),
          Values: points.map((point) => point.value),
          StatusCode: 'Complete',
        },
      };
    });
    return {
      MetricDataResults: results
        .filter(({ query }) => query.ReturnData !== false)
        .map(({ result }) => result),
      Messages: [],
    };
  }

  function datumsOf(
    namespace: string,
    metricName: string,
    dimensions: Dimension[],
    start: Date,
    end: Date,
    unit: string | undefined,
  ): StoredDatum[] {
    const identity = metricIdentity(namespace, metricName, dimensions);
    return stored.filter(
      (datum) =>
        metricIdentity(datum.namespace, datum.metricName, datum.dimensions) === identity &&
        datum.timestamp.getTime() >= start.getTime() &&
        datum.timestamp.getTime() < end.getTime() &&
        (unit === undefined || datum.unit === unit),
    );
  }

  const handlers: Record<string, (body: Record<string, unknown>, request: EmulatorRequest) => unknown> = {
    PutMetricData: putMetricData,
    ListMetrics: listMetrics,
    GetMetricData: getMetricData,
  };

  const service: CloudWatchService = {
    name: 'cloudwatch',
    identify: (request) => targetOperation(request, targetPrefix),
    handle(operation, request): EmulatorResponse {
      const handler = handlers[operation];
      if (!handler)
        throw new AwsError('UnknownOperationException', 400, `The emulator does not implement ${operation}`);
      return {
        status: 200,
        headers: { 'content-type': 'application/x-amz-json-1.0' },
        body: handler(parseJsonBody(request), request),
      };
    },
    renderError(error) {
      const queryCode = queryErrorCodes[error.type] ?? error.type;
      const fault = error.status >= 500 ? 'Receiver' : 'Sender';
      return {
        status: error.status,
        headers: {
          'x-amzn-query-error': `${queryCode};${fault}`,
          'content-type': 'application/x-amz-json-1.0',
        },
        body: { __type: `${errorNamespace}${error.type}`, message: error.message },
      };
    },
    control(action, body) {
      if (action === 'datums') return { datums: service.datums(body as DatumFilter) };
      if (action === 'requests') return { requests: service.putRequests() };
      if (action === 'seed') {
        const parsed = v.safeParse(seedBody, body);
        if (!parsed.success) {
          const [issue] = parsed.issues;
          const field = issue.path?.map((item) => String(item.key)).join('.') ?? '(body)';
          throw badControl(`cloudwatch/seed ${field}: ${issue.message}`);
        }
        const { timestamp, unit, dimensions, value, ...seeded } = parsed.output;
        // The same limits as PutMetricData's: 30 dimensions of distinct names, a value CloudWatch stores.
        const refuse = (message: string) => badControl(`cloudwatch/seed ${message}`);
        service.seed({
          ...seeded,
          dimensions: parseDimensions(dimensions, 'dimensions', refuse),
          value: checkNumber(value, 'value', refuse),
          ...(timestamp ? { timestamp: new Date(timestamp) } : {}),
          ...(unit ? { unit } : {}),
        });
        return { seeded: true };
      }
      if (action === 'reset') {
        service.reset();
        return { reset: true };
      }
      throw unknownControl(`Unknown cloudwatch control ${action}`);
    },
    datums(filter = {}) {
      return stored.filter(
        (datum) =>
          (filter.namespace === undefined || datum.namespace === filter.namespace) &&
          (filter.metricName === undefined || datum.metricName === filter.metricName) &&
          Object.entries(filter.dimensions ?? {}).every(([name, value]) =>
            datum.dimensions.some((dimension) => dimension.Name === name && dimension.Value === value),
          ),
      );
    },
    seed(seeded) {
      stored.push({
        namespace: seeded.namespace,
        metricName: seeded.metricName,
        dimensions: seeded.dimensions.map((dimension) => ({ ...dimension })),
        timestamp: seeded.timestamp ?? plane.now(),
        values: [seeded.value],
        counts: [1],
        ...(seeded.unit ? { unit: seeded.unit } : {}),
        storageResolution: 60,
      });
    },
    putRequests: () => [...requests],
    requestCount: () => requests.length,
    largestRequest() {
      return requests.reduce<PutMetricDataRecord | undefined>(
        (largest, record) =>
          largest === undefined || record.datumCount > largest.datumCount ? record : largest,
        undefined,
      );
    },
    reset() {
      stored = [];
      requests = [];
    },
  };
  return service;
}

function parseDatum(raw: unknown, where: string, namespace: string, now: Date): StoredDatum {
  const datum = (raw ?? {}) as Record<string, unknown>;
  const metricName = datum.MetricName;
  if (metricName === undefined) throw missing(`${where}.MetricName`);
  if (typeof metricName !== 'string' || metricName.length < 1 || metricName.length > 255) {
    throw invalidValue(`The value ${String(metricName)} for parameter ${where}.MetricName is invalid.`);
  }
  const dimensions = parseDimensions(datum.Dimensions, `${where}.Dimensions`, invalidValue);
  const hasValue = datum.Value !== undefined;
  const hasValues = datum.Values !== undefined;
  const hasStatistics = datum.StatisticValues !== undefined;
  if (hasValue && hasStatistics) {
    throw invalidCombination(
      `The parameters ${where}.Value and ${where}.StatisticValues are mutually exclusive and you have specified both.`,
    );
  }
  if (hasValue && hasValues) {
    throw invalidCombination(
      `The parameters ${where}.Value and ${where}.Values are mutually exclusive and you have specified both.`,
    );
  }
  if (hasValues && hasStatistics) {
    throw invalidCombination(
      `The parameters ${where}.Values and ${where}.StatisticValues are mutually exclusive and you have specified both.`,
    );
  }
  if (!hasValue && !hasValues && !hasStatistics) {
    throw missing(`${where}.Value, ${where}.Values or ${where}.StatisticValues`);
  }
  if (datum.Counts !== undefined && !hasValues) {
    throw invalidCombination(`The parameter ${where}.Counts needs ${where}.Values.`);
  }
  let values: number[] = [];
  let counts: number[] = [];
  let statisticValues: StoredDatum['statisticValues'];
  if (hasValue) {
    values = [checkNumber(datum.Value, `${where}.Value`)];
    counts = [1];
  } else if (hasValues) {
    if (!Array.isArray(datum.Values) || datum.Values.length > 150) {
      throw invalidValue(`The collection ${where}.Values must not have a size greater than 150.`);
    }
    values = datum.Values.map((value, index) => checkNumber(value, `${where}.Values.member.${index + 1}`));
    if (datum.Counts === undefined) {
      counts = values.map(() => 1);
    } else {
      if (!Array.isArray(datum.Counts) || datum.Counts.length !== values.length) {
        throw invalidValue(`The parameters ${where}.Values and ${where}.Counts must be of the same size.`);
      }
      counts = datum.Counts.map((count, index) => {
        const checked = checkNumber(count, `${where}.Counts.member.${index + 1}`);
        if (checked < 0)
          throw invalidValue(
            `The value ${checked} for parameter ${where}.Counts.member.${index + 1} is invalid.`,
          );
        return checked;
      });
    }
  } else {
    const raw = (datum.StatisticValues ?? {}) as Record<string, unknown>;
    for (const field of ['SampleCount', 'Sum', 'Minimum', 'Maximum']) {
      if (raw[field] === undefined) throw missing(`${where}.StatisticValues.${field}`);
    }
    statisticValues = {
      SampleCount: checkNumber(raw.SampleCount, `${where}.StatisticValues.SampleCount`),
      Sum: checkNumber(raw.Sum, `${where}.StatisticValues.Sum`),
      Minimum: checkNumber(raw.Minimum, `${where}.StatisticValues.Minimum`),
      Maximum: checkNumber(raw.Maximum, `${where}.StatisticValues.Maximum`),
    };
    if (statisticValues.SampleCount <= 0 || statisticValues.Minimum > statisticValues.Maximum) {
      throw invalidValue(
        `The parameter ${where}.StatisticValues is invalid: SampleCount must be positive and Minimum at most Maximum.`,
      );
    }
  }
  const unit = datum.Unit;
  if (unit !== undefined && !(standardUnits as readonly unknown[]).includes(unit)) {
    throw invalidValue(`The value ${String(unit)} for parameter ${where}.Unit is invalid.`);
  }
  const resolution = datum.StorageResolution ?? 60;
  if (resolution !== 1 && resolution !== 60) {
    throw invalidValue(
      `The value ${String(resolution)} for parameter ${where}.StorageResolution is invalid.`,
    );
  }
  const timestamp = parseTimestamp(datum.Timestamp, `${where}.Timestamp`) ?? now;
  const age = now.getTime() - timestamp.getTime();
  if (age > 14 * 24 * 60 * 60 * 1000 || age < -2 * 60 * 60 * 1000) {
    throw invalidValue(
      `The parameter ${where}.Timestamp must specify a time no more than two weeks in the past and no more than two hours in the future.`,
    );
  }
  return {
    namespace,
    metricName,
    dimensions,
    timestamp,
    values,
    counts,
    ...(statisticValues ? { statisticValues } : {}),
    ...(typeof unit === 'string' ? { unit } : {}),
    storageResolution: resolution,
  };
}

function parseDimensions(raw: unknown, where: string, fail: (message: string) => Error): Dimension[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw fail(`The parameter ${where} must be a list.`);
  if (raw.length > 30) throw fail(`The collection ${where} must not have a size greater than 30.`);
  const names = new Set<string>();
  return raw.map((entry, index) => {
    const { Name: name, Value: value } = (entry ?? {}) as Record<string, unknown>;
    const member = `${where}.member.${index + 1}`;
    if (typeof name !== 'string' || name.length < 1 || name.length > 255) {
      throw fail(`The value ${String(name)} for parameter ${member}.Name is invalid.`);
    }
    if (typeof value !== 'string' || value.length < 1 || value.length > 1024) {
      throw fail(`The value ${String(value)} for parameter ${member}.Value is invalid.`);
    }
    if (names.has(name))
      throw fail(`No metric may have duplicate dimension names: ${name} appears twice in ${where}.`);
    names.add(name);
    return { Name: name, Value: value };
  });
}

function parseDimensionFilters(raw: unknown): { Name: string; Value?: string }[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || raw.length > 10) {
    throw invalidValue('The collection Dimensions must not have a size greater than 10.');
  }
  return raw.map((entry, index) => {
    const { Name: name, Value: value } = (entry ?? {}) as Record<string, unknown>;
    if (typeof name !== 'string' || name === '') {
      throw invalidValue(
        `The value ${String(name)} for parameter Dimensions.member.${index + 1}.Name is invalid.`,
      );
    }
    return typeof value === 'string' ? { Name: name, Value: value } : { Name: name };
  });
}

/** CloudWatch stores doubles in a bounded range; NaN and infinities are rejected. */
function checkNumber(raw: unknown, where: string, fail: (message: string) => Error = invalidValue): number {
  const value = typeof raw === 'string' ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value) > 1.174271e108) {
    throw fail(`The value ${String(raw)} for parameter ${where} is invalid.`);
  }
  return value;
}

/** JSON-protocol timestamps arrive as epoch seconds; ISO strings are accepted too. */
function parseTimestamp(raw: unknown, where: string): Date | undefined {
  if (raw === undefined || raw === null) return undefined;
  const date =
    typeof raw === 'number' ? new Date(raw * 1000) : typeof raw === 'string' ? new Date(raw) : undefined;
  if (!date || Number.isNaN(date.getTime()))
    throw invalidValue(`The value ${String(raw)} for parameter ${where} is invalid.`);
  return date;
}

function metricIdentity(namespace: string, metricName: string, dimensions: Dimension[]): string {
  const sorted = [...dimensions].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
  return JSON.stringify([
    namespace,
    metricName,
    sorted.map((dimension) => [dimension.Name, dimension.Value]),
  ]);
}

interface Bucket {
  sum: number;
  count: number;
  minimum: number;
  maximum: number;
}

/** Groups datums into period buckets aligned to the epoch, as CloudWatch aligns them, and applies the statistic. */
function aggregate(datums: StoredDatum[], periodSeconds: number, statistic: Statistic) {
  const periodMs = periodSeconds * 1000;
  const buckets = new Map<number, Bucket>();
  for (const datum of datums) {
    const start = Math.floor(datum.timestamp.getTime() / periodMs) * periodMs;
    let bucket = buckets.get(start);
    if (!bucket) {
      bucket = { sum: 0, count: 0, minimum: Number.POSITIVE_INFINITY, maximum: Number.NEGATIVE_INFINITY };
      buckets.set(start, bucket);
    }
    if (datum.statisticValues) {
      bucket.sum += datum.statisticValues.Sum;
      bucket.count += datum.statisticValues.SampleCount;
      bucket.minimum = Math.min(bucket.minimum, datum.statisticValues.Minimum);
      bucket.maximum = Math.max(bucket.maximum, datum.statisticValues.Maximum);
      continue;
    }
    datum.values.forEach((value, index) => {
      const count = datum.counts[index] ?? 1;
      if (count === 0) return;
      bucket.sum += value * count;
      bucket.count += count;
      bucket.minimum = Math.min(bucket.minimum, value);
      bucket.maximum = Math.max(bucket.maximum, value);
    });
  }
  return [...buckets.entries()]
    .filter(([, bucket]) => bucket.count > 0)
    .map(([timestamp, bucket]) => ({ timestamp, value: statisticOf(bucket, statistic) }));
}

function statisticOf(bucket: Bucket, statistic: Statistic): number {
  switch (statistic) {
    case 'Sum':
      return bucket.sum;
    case 'Average':
      return bucket.sum / bucket.count;
    case 'Minimum':
      return bucket.minimum;
    case 'Maximum':
      return bucket.maximum;
    case 'SampleCount':
      return bucket.count;
  }
}

function encodeToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset }), 'utf8').toString('base64');
}

function decodeToken(raw: unknown, errorType: string): number {
  if (raw === undefined || raw === null) return 0;
  try {
    const { offset } = JSON.parse(Buffer.from(String(raw), 'base64').toString('utf8')) as { offset: unknown };
    if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) return offset;
  } catch {
    // fall through to the error below
  }
  throw new AwsError(errorType, 400, 'The service cannot decode the NextToken.');
}
