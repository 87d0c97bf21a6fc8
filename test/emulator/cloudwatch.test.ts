// The emulated CloudWatch metrics API, exercised through the real SDK client over HTTP.
import {
  GetMetricDataCommand,
  InvalidParameterCombinationException,
  InvalidParameterValueException,
  type MetricDatum,
  MissingRequiredParameterException,
  PutMetricDataCommand,
  paginateListMetrics,
  ValidationException,
} from '@aws-sdk/client-cloudwatch';
import { beforeEach, describe, expect, it } from 'vitest';
import { isThrottling } from '../../src/aws/budget.ts';
import { createCloudWatchClient } from '../../src/aws/clients.ts';
import { useTestEmulator } from '../support/emulator.ts';

const namespace = 'ScheduleHygiene';

const harness = useTestEmulator();

beforeEach(() => {
  harness.emulator.services.cloudwatch.reset();
  harness.emulator.plane.controls.clockOffsetMs = 0;
  harness.emulator.plane.controls.rateLimits = {};
});

const put = (metricData: MetricDatum[], targetNamespace = namespace) =>
  harness.cloudwatch.send(new PutMetricDataCommand({ Namespace: targetNamespace, MetricData: metricData }));

describe('PutMetricData', () => {
  it('stores each datum with its dimensions and unit, timestamped by the emulator clock when none is given', async () => {
    // Prepare
    const now = new Date('2026-03-01T12:00:00Z');
    harness.emulator.plane.setNow(now);

    // Act
    await put([
      {
        MetricName: 'SchedulesDeleted',
        Value: 7,
        Unit: 'Count',
        Dimensions: [{ Name: 'Group', Value: 'default' }],
      },
    ]);

    // Assess
    const [datum, ...others] = harness.emulator.services.cloudwatch.datums({ namespace });
    expect(others).toEqual([]);
    expect(datum).toMatchObject({
      metricName: 'SchedulesDeleted',
      values: [7],
      counts: [1],
      unit: 'Count',
      dimensions: [{ Name: 'Group', Value: 'default' }],
    });
    expect(Math.abs((datum?.timestamp.getTime() ?? 0) - now.getTime())).toBeLessThan(5_000);
  });

  it('receives a body of 10 KiB or more gzip-compressed, as the SDK sends it, and keeps all 1000 datums', async () => {
    // Prepare
    const metricData = Array.from({ length: 1000 }, (_, index) => ({
      MetricName: 'ScheduleAgeSeconds',
      Dimensions: [{ Name: 'Schedule', Value: `schedule-${index}` }],
      Values: [index, index + 0.5],
      Counts: [1, 2],
      Unit: 'Seconds' as const,
    }));

    // Act
    await put(metricData);

    // Assess
    const cloudwatch = harness.emulator.services.cloudwatch;
    expect(cloudwatch.requestCount()).toBe(1);
    expect(cloudwatch.largestRequest()).toMatchObject({ datumCount: 1000, gzipped: true });
    expect(cloudwatch.largestRequest()?.bytes).toBeGreaterThanOrEqual(10 * 1024);
    expect(cloudwatch.datums({ dimensions: { Schedule: 'schedule-999' } })[0]).toMatchObject({
      values: [999, 999.5],
      counts: [1, 2],
    });
  });

  it('records a small body as not compressed', async () => {
    // Act
    await put([{ MetricName: 'SweepRuns', Value: 1 }]);

    // Assess
    expect(harness.emulator.services.cloudwatch.largestRequest()).toMatchObject({
      datumCount: 1,
      gzipped: false,
    });
  });

  it.each([
    {
      case: 'a namespace in the reserved AWS/ space',
      namespace: 'AWS/Scheduler',
      data: [{ MetricName: 'Deleted', Value: 1 }],
      error: InvalidParameterValueException,
    },
    {
      case: 'Value together with StatisticValues',
      namespace,
      data: [
        {
          MetricName: 'Deleted',
          Value: 1,
          StatisticValues: { SampleCount: 1, Sum: 1, Minimum: 1, Maximum: 1 },
        },
      ],
      error: InvalidParameterCombinationException,
    },
    {
      case: 'Value together with Values',
      namespace,
      data: [{ MetricName: 'Deleted', Value: 1, Values: [1] }],
      error: InvalidParameterCombinationException,
    },
    {
      case: 'more than 30 dimensions',
      namespace,
      data: [
        {
          MetricName: 'Deleted',
          Value: 1,
          Dimensions: Array.from({ length: 31 }, (_, index) => ({ Name: `D${index}`, Value: 'x' })),
        },
      ],
      error: InvalidParameterValueException,
    },
    {
      case: 'more than 150 values',
      namespace,
      data: [{ MetricName: 'Deleted', Values: Array.from({ length: 151 }, (_, index) => index) }],
      error: InvalidParameterValueException,
    },
    {
      case: 'Counts that do not match Values',
      namespace,
      data: [{ MetricName: 'Deleted', Values: [1, 2], Counts: [1] }],
      error: InvalidParameterValueException,
    },
    {
      case: 'an unknown unit',
      namespace,
      data: [{ MetricName: 'Deleted', Value: 1, Unit: 'Schedules' }],
      error: InvalidParameterValueException,
    },
    {
      case: 'more than 1000 datums',
      namespace,
      data: Array.from({ length: 1001 }, () => ({ MetricName: 'Deleted', Value: 1 })),
      error: InvalidParameterValueException,
    },
    {
      case: 'a datum without any value',
      namespace,
      data: [{ MetricName: 'Deleted' }],
      error: MissingRequiredParameterException,
    },
    {
      case: 'a timestamp more than two weeks old',
      namespace,
      data: [{ MetricName: 'Deleted', Value: 1, Timestamp: new Date(Date.now() - 15 * 24 * 3600 * 1000) }],
      error: InvalidParameterValueException,
    },
  ])('rejects $case with $error.name and stores nothing', async ({ namespace: target, data, error }) => {
    // Act
    const attempt = put(data as MetricDatum[], target);

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(error);
    expect(harness.emulator.services.cloudwatch.datums()).toEqual([]);
    expect(harness.emulator.services.cloudwatch.requestCount()).toBe(0);
  });
});

describe('throttling', () => {
  it('reports the Query-era code Throttling, which the SDK and the request budget both treat as throttling', async () => {
    // Prepare
    harness.emulator.plane.controls.rateLimits = { PutMetricData: 0 };
    const client = createCloudWatchClient({ ...harness.clientOptions, maxAttempts: 1 });

    // Act
    const error = await client
      .send(
        new PutMetricDataCommand({ Namespace: namespace, MetricData: [{ MetricName: 'Runs', Value: 1 }] }),
      )
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toMatchObject({ name: 'Throttling', $metadata: { httpStatusCode: 429 } });
    expect(isThrottling(error)).toBe(true);
    expect(harness.emulator.services.cloudwatch.datums()).toEqual([]);
  });
});

describe('GetMetricData', () => {
  it('returns Sum and Maximum per period for the metric whose dimensions match exactly', async () => {
    // Prepare
    const periodStart = new Date('2026-03-01T10:00:00Z');
    harness.emulator.plane.setNow(new Date('2026-03-01T10:30:00Z'));
    const at = (minute: number, second = 0) =>
      new Date(periodStart.getTime() + minute * 60_000 + second * 1000);
    const dimensions = [{ Name: 'Group', Value: 'default' }];
    await put([
      { MetricName: 'SchedulesDeleted', Dimensions: dimensions, Timestamp: at(0, 5), Value: 3 },
      { MetricName: 'SchedulesDeleted', Dimensions: dimensions, Timestamp: at(0, 40), Value: 9 },
      {
        MetricName: 'SchedulesDeleted',
        Dimensions: dimensions,
        Timestamp: at(1, 10),
        Values: [2, 4],
        Counts: [3, 1],
      },
      // Same name, an extra dimension: a different metric that must not be mixed in.
      {
        MetricName: 'SchedulesDeleted',
        Dimensions: [...dimensions, { Name: 'Reason', Value: 'finished' }],
        Timestamp: at(0, 20),
        Value: 1000,
      },
    ]);
    const metric = { Namespace: namespace, MetricName: 'SchedulesDeleted', Dimensions: dimensions };

    // Act
    const response = await harness.cloudwatch.send(
      new GetMetricDataCommand({
        StartTime: periodStart,
        EndTime: at(5),
        ScanBy: 'TimestampAscending',
        MetricDataQueries: [
          { Id: 'deletedSum', MetricStat: { Metric: metric, Period: 60, Stat: 'Sum' } },
          { Id: 'deletedMax', MetricStat: { Metric: metric, Period: 60, Stat: 'Maximum' }, Label: 'Largest' },
        ],
      }),
    );

    // Assess
    const [sum, maximum] = response.MetricDataResults ?? [];
    expect(sum).toMatchObject({ Id: 'deletedSum', StatusCode: 'Complete', Values: [12, 10] });
    expect(sum?.Timestamps).toEqual([at(0), at(1)]);
    expect(maximum).toMatchObject({ Id: 'deletedMax', Label: 'Largest', Values: [9, 4] });
  });

  it('returns newest first by default and nothing for dimensions given in part', async () => {
    // Prepare
    harness.emulator.plane.setNow(new Date('2026-03-01T10:30:00Z'));
    const dimensions = [
      { Name: 'Group', Value: 'default' },
      { Name: 'Reason', Value: 'finished' },
    ];
    await put([
      {
        MetricName: 'Deleted',
        Dimensions: dimensions,
        Timestamp: new Date('2026-03-01T10:00:10Z'),
        Value: 1,
      },
      {
        MetricName: 'Deleted',
        Dimensions: dimensions,
        Timestamp: new Date('2026-03-01T10:05:10Z'),
        Value: 2,
      },
    ]);
    const query = (metricDimensions: typeof dimensions) =>
      harness.cloudwatch.send(
        new GetMetricDataCommand({
          StartTime: new Date('2026-03-01T10:00:00Z'),
          EndTime: new Date('2026-03-01T10:10:00Z'),
          MetricDataQueries: [
            {
              Id: 'deleted',
              MetricStat: {
                Metric: { Namespace: namespace, MetricName: 'Deleted', Dimensions: metricDimensions },
                Period: 300,
                Stat: 'SampleCount',
              },
            },
          ],
        }),
      );

    // Act
    const reversedOrder = await query([...dimensions].reverse());
    const partial = await query(dimensions.slice(0, 1));

    // Assess
    expect(reversedOrder.MetricDataResults?.[0]?.Values).toEqual([1, 1]);
    expect(reversedOrder.MetricDataResults?.[0]?.Timestamps).toEqual([
      new Date('2026-03-01T10:05:00Z'),
      new Date('2026-03-01T10:00:00Z'),
    ]);
    expect(partial.MetricDataResults?.[0]?.Values).toEqual([]);
  });

  it('rejects an Id that does not start with a lower-case letter', async () => {
    // Act
    const attempt = harness.cloudwatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(Date.now() - 3600_000),
        EndTime: new Date(),
        MetricDataQueries: [
          {
            Id: 'Deleted',
            MetricStat: { Metric: { Namespace: namespace, MetricName: 'x' }, Period: 60, Stat: 'Sum' },
          },
        ],
      }),
    );

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ValidationException);
  });
});

describe('ListMetrics', () => {
  it('filters by dimension name alone and pages 500 metrics at a time', async () => {
    // Prepare
    await put(
      Array.from({ length: 600 }, (_, index) => ({
        MetricName: 'ScheduleCount',
        Dimensions: [{ Name: 'Group', Value: `group-${index}` }],
        Value: index,
      })),
    );
    await put([{ MetricName: 'ScheduleCount', Value: 1 }]);
    await put([{ MetricName: 'ScheduleCount', Dimensions: [{ Name: 'Group', Value: 'group-0' }], Value: 5 }]);

    // Act
    const pages = [];
    for await (const page of paginateListMetrics(
      { client: harness.cloudwatch },
      { Namespace: namespace, Dimensions: [{ Name: 'Group' }] },
    )) {
      pages.push(page.Metrics ?? []);
    }

    // Assess
    expect(pages.map((page) => page.length)).toEqual([500, 100]);
    const values = new Set(pages.flat().map((metric) => metric.Dimensions?.[0]?.Value));
    expect(values.size).toBe(600);
  });

  it('matches a dimension filter with a value exactly', async () => {
    // Prepare
    await put([
      { MetricName: 'Deleted', Dimensions: [{ Name: 'Group', Value: 'a' }], Value: 1 },
      { MetricName: 'Deleted', Dimensions: [{ Name: 'Group', Value: 'b' }], Value: 1 },
      { MetricName: 'Failed', Dimensions: [{ Name: 'Group', Value: 'a' }], Value: 1 },
    ]);

    // Act
    const pages = [];
    for await (const page of paginateListMetrics(
      { client: harness.cloudwatch },
      { Namespace: namespace, MetricName: 'Deleted', Dimensions: [{ Name: 'Group', Value: 'a' }] },
    )) {
      pages.push(...(page.Metrics ?? []));
    }

    // Assess
    expect(pages).toEqual([
      { Namespace: namespace, MetricName: 'Deleted', Dimensions: [{ Name: 'Group', Value: 'a' }] },
    ]);
  });
});

describe('HTTP control: /_emulator/cloudwatch/seed', () => {
  const seed = (body: unknown) =>
    fetch(`${harness.emulator.url}/_emulator/cloudwatch/seed`, {
      method: 'POST',
      body: JSON.stringify(body),
    });

  it('stores a point AWS publishes, dimensions as [{Name, Value}]', async () => {
    const answer = await seed({
      namespace: 'AWS/Usage',
      metricName: 'ResourceCount',
      dimensions: [{ Name: 'Service', Value: 'Scheduler' }],
      value: 42,
      timestamp: '2025-06-15T12:00:00Z',
    });
    expect(answer.status).toBe(200);
    expect(harness.emulator.services.cloudwatch.datums({ namespace: 'AWS/Usage' })).toMatchObject([
      { metricName: 'ResourceCount', dimensions: [{ Name: 'Service', Value: 'Scheduler' }], values: [42] },
    ]);
  });

  it('refuses a body it does not understand with a 400 naming the field and its form, storing nothing', async () => {
    for (const [body, message] of [
      [
        { namespace: 'AWS/Usage', metricName: 'M', dimensions: { Service: 'Scheduler' }, value: 1 },
        /dimensions: expected an array of \{"Name"/,
      ],
      [{ namespace: 'AWS/Usage', metricName: 'M', value: '1' }, /value: expected a number/],
      [{ metricName: 'M', value: 1 }, /namespace: .*"namespace" but received undefined/],
      [
        { namespace: 'AWS/Usage', metricName: 'M', value: 1, timestamp: 'yesterday' },
        /timestamp: expected an ISO 8601 time/,
      ],
    ] as const) {
      const answer = await seed(body);
      expect(answer.status).toBe(400);
      expect(((await answer.json()) as { message: string }).message).toMatch(message);
    }
    expect(harness.emulator.services.cloudwatch.datums({ namespace: 'AWS/Usage' })).toEqual([]);
  });
});
