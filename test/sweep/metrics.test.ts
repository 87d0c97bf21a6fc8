import type { MetricDatum } from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../src/log.ts';
import { emptyTallies, talliesView } from '../../src/sweep/ledger.ts';
import {
  buildSweepDatums,
  publishSweepMetrics,
  SweepMetric,
  SweepScope,
  scopeOf,
} from '../../src/sweep/metrics.ts';
import { emptyCounts, type SweepSummary } from '../../src/sweep/sweep.ts';

const at = new Date('2025-03-01T12:00:00Z');

function summaryWith(overrides: Partial<SweepSummary>): SweepSummary {
  return {
    ...emptyCounts(),
    skippedTotal: 0,
    uncertain: { deleted: 0 },
    throttled: 0,
    requests: { ListSchedules: 0, GetSchedule: 0, DeleteSchedule: 0, rereads: 0 },
    durationSeconds: 0,
    dryRun: false,
    complete: true,
    scheduleCounts: { byGroup: {} },
    progress: { groups: {}, fromStart: true },
    ...talliesView(emptyTallies()),
    ...overrides,
  };
}

function metricValue(datums: MetricDatum[], name: string, group?: string): number | undefined {
  return datums.find(
    (item) =>
      item.MetricName === name &&
      (group === undefined ? item.Dimensions === undefined : item.Dimensions?.[0]?.Value === group),
  )?.Value;
}

describe('sweep metrics', () => {
  it('keeps the metric names alarms depend on', () => {
    expect(Object.values(SweepMetric).sort()).toEqual(
      [
        'CloudFormationOwnedSchedules',
        'OwnershipUnknown',
        'DeleteFailures',
        'FinishedSchedulesFound',
        'KmsAccessDenied',
        'ProtectedSchedules',
        'ScheduleCount',
        'SchedulesDeleted',
        'SkippedSchedules',
        'StuckSchedules',
        'SweepDurationSeconds',
        'SweepInvocations',
        'SweepsCompleted',
      ].sort(),
    );
  });

  it('reports each count of a complete sweep, with ScheduleCount in total and per group', () => {
    // Prepare
    const summary = summaryWith({
      finished: 9,
      deleted: 7,
      stuck: 2,
      failed: 1,
      skippedTotal: 4,
      durationSeconds: 12.5,
      scheduleCounts: { total: 30, byGroup: { default: 20, orders: 10 } },
    });

    // Act
    const datums = buildSweepDatums(summary, at, SweepScope.configured);

    // Assess
    expect(metricValue(datums, 'SweepsCompleted')).toBe(1);
    expect(metricValue(datums, 'ScheduleCount')).toBe(30);
    expect(metricValue(datums, 'ScheduleCount', 'default')).toBe(20);
    expect(metricValue(datums, 'ScheduleCount', 'orders')).toBe(10);
    expect(metricValue(datums, 'FinishedSchedulesFound')).toBe(9);
    expect(metricValue(datums, 'SchedulesDeleted')).toBe(7);
    expect(metricValue(datums, 'StuckSchedules')).toBe(2);
    expect(metricValue(datums, 'SkippedSchedules')).toBe(4);
    expect(metricValue(datums, 'DeleteFailures')).toBe(1);
    expect(metricValue(datums, 'SweepDurationSeconds')).toBe(12.5);
    expect(datums.find((item) => item.MetricName === 'SweepDurationSeconds')?.Unit).toBe('Seconds');
    expect(datums.every((item) => item.Timestamp === at)).toBe(true);
    expect(datums.find((item) => item.Dimensions)?.Dimensions).toEqual([
      { Name: 'ScheduleGroup', Value: 'default' },
    ]);
  });

  it('leaves ScheduleCount out where the count is not whole', () => {
    const summary = summaryWith({ complete: false, scheduleCounts: { byGroup: { billing: 3 } } });

    const datums = buildSweepDatums(summary, at);

    expect(metricValue(datums, 'ScheduleCount')).toBeUndefined();
    expect(metricValue(datums, 'ScheduleCount', 'billing')).toBe(3);
    expect(datums.filter((item) => item.MetricName === 'ScheduleCount')).toHaveLength(1);
  });

  it('counts as completed only a complete real sweep of the configured scope', () => {
    const completed = (summary: SweepSummary, scope?: SweepScope) =>
      metricValue(buildSweepDatums(summary, at, scope), 'SweepsCompleted');

    expect(completed(summaryWith({}), SweepScope.configured)).toBe(1);
    expect(completed(summaryWith({}), SweepScope.narrowed)).toBe(0);
    expect(completed(summaryWith({}))).toBe(0);
    expect(completed(summaryWith({ complete: false }), SweepScope.configured)).toBe(0);
  });

  it('has nothing to publish for a dry run, whatever its scope', async () => {
    const dryRun = summaryWith({ dryRun: true, wouldDelete: 3 });
    const cloudwatch = {
      send: async () => {
        throw new Error('a dry run sent PutMetricData');
      },
    } as unknown as Parameters<typeof publishSweepMetrics>[0]['cloudwatch'];

    expect(buildSweepDatums(dryRun, at, SweepScope.configured)).toEqual([]);
    expect(
      await publishSweepMetrics(
        { cloudwatch, clock: () => at, log: createMemoryLogger() },
        'Hygiene',
        dryRun,
      ),
    ).toBe(true);
  });

  it.each([
    ['no override', {}, [], SweepScope.configured],
    ['the configured groups in another order', { groups: ['b', 'a'] }, ['a', 'b'], SweepScope.configured],
    ['one of the configured groups', { groups: ['a'] }, ['a', 'b'], SweepScope.narrowed],
    ['named groups where every group is configured', { groups: ['a'] }, [], SweepScope.narrowed],
    ['other groups', { groups: ['c', 'd'] }, ['a', 'b'], SweepScope.narrowed],
    ['a name prefix', { namePrefix: 'order-' }, [], SweepScope.narrowed],
  ])('gives a request with %s its scope', (_label, request, configured, scope) => {
    expect(scopeOf(request, configured)).toBe(scope);
  });

  it('logs a failed publish instead of throwing', async () => {
    // Prepare
    const log = createMemoryLogger();
    const cloudwatch = {
      send: async () => {
        throw Object.assign(new Error('no route to CloudWatch'), { name: 'NetworkingError' });
      },
    } as unknown as Parameters<typeof publishSweepMetrics>[0]['cloudwatch'];

    // Act
    const published = await publishSweepMetrics(
      { cloudwatch, clock: () => at, log },
      'Hygiene',
      summaryWith({}),
    );

    // Assess
    expect(published).toBe(false);
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'publishing sweep metrics failed',
        namespace: 'Hygiene',
      }),
    );
  });
});
