// The census against the emulator over HTTP with the real SDK clients: exact counts over many
// pages, groups and states; the metrics as CloudWatch stores them; growth between runs; batching;
// and no under-count published when the listing fails part-way.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CensusDeps, CensusMetric, type CensusOptions, census } from '../../src/census/census.ts';
import { createQuotaMemory } from '../../src/census/quota.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { schedules, seedGroup } from './fixtures.ts';

const NAMESPACE = 'ScheduleHygieneTest';
const FALLBACK_QUOTA = 50_000;

let env: TestEmulator;
let log: ReturnType<typeof createMemoryLogger>;

beforeEach(async () => {
  env = await startTestEmulator();
  log = createMemoryLogger();
});

afterEach(async () => {
  await env.close();
});

function seed(group: string, count: number, disabled = 0): void {
  seedGroup(env, group, count, disabled);
}

function deps(overrides: Partial<CensusDeps> = {}): CensusDeps {
  return {
    scheduler: env.scheduler,
    serviceQuotas: env.serviceQuotas,
    cloudwatch: env.cloudwatch,
    clock: () => new Date(),
    log,
    quotaMemory: createQuotaMemory(),
    ...overrides,
  };
}

/** Options without a stop condition: such a census always lists to the end and completes. */
type CompleteCensusOptions = Omit<CensusOptions, 'shouldStop' | 'resume'>;

const options = (overrides: Partial<CompleteCensusOptions> = {}): CompleteCensusOptions => ({
  namespace: NAMESPACE,
  fallbackQuota: FALLBACK_QUOTA,
  listTps: 200,
  ...overrides,
});

/** Values CloudWatch stored for a metric with exactly these dimensions (none = account-wide). */
function stored(metricName: string, dimensions: Record<string, string> = {}): number[] {
  const wanted = Object.entries(dimensions);
  return env.emulator.services.cloudwatch
    .datums({ namespace: NAMESPACE, metricName })
    .filter(
      (datum) =>
        datum.dimensions.length === wanted.length &&
        wanted.every(([name, value]) => datum.dimensions.some((d) => d.Name === name && d.Value === value)),
    )
    .flatMap((datum) => datum.values);
}

describe('census counts', () => {
  it('counts every schedule over several pages, per group and per state, exactly', async () => {
    // Prepare: 327 schedules, so four pages of up to 100.
    seed('default', 250, 50);
    seed('orders', 60);
    seed('reminders', 17, 17);
    // Act
    const summary = await census(deps(), options());
    // Assess
    expect(summary.total).toBe(327);
    expect(summary.pages).toBeGreaterThanOrEqual(4);
    expect(summary.listRequests).toBe(summary.pages);
    expect(summary.byGroup).toEqual({ default: 250, orders: 60, reminders: 17 });
    expect(summary.byState).toEqual({ ENABLED: 260, DISABLED: 67 });
    expect(summary.byGroupAndState).toEqual({
      default: { ENABLED: 200, DISABLED: 50 },
      orders: { ENABLED: 60 },
      reminders: { DISABLED: 17 },
    });
  });

  it('publishes the counts once each, with the dimensions alarms and dashboards read', async () => {
    seed('default', 140, 40);
    seed('orders', 75, 5);

    const summary = await census(deps(), options());

    expect(stored(CensusMetric.scheduleCount)).toEqual([215]);
    expect(stored(CensusMetric.scheduleCount, { ScheduleGroup: 'default' })).toEqual([140]);
    expect(stored(CensusMetric.scheduleCount, { ScheduleGroup: 'orders' })).toEqual([75]);
    expect(stored(CensusMetric.scheduleCount, { State: 'ENABLED' })).toEqual([170]);
    expect(stored(CensusMetric.scheduleCount, { State: 'DISABLED' })).toEqual([45]);
    expect(stored(CensusMetric.scheduleQuota)).toEqual([summary.quota.value]);
    expect(stored(CensusMetric.quotaUtilization)).toEqual([(215 / summary.quota.value) * 100]);
    expect(stored(CensusMetric.censusDurationSeconds)).toHaveLength(1);
    expect(stored(CensusMetric.censusFailures)).toEqual([0]);
    expect(stored(CensusMetric.scheduleGrowthPerHour)).toEqual([]);
    const units = env.emulator.services.cloudwatch
      .datums({ namespace: NAMESPACE, metricName: CensusMetric.quotaUtilization })
      .map((datum) => datum.unit);
    expect(units).toEqual(['Percent']);
  });

  it('reads the published counts back through GetMetricData as a dashboard would', async () => {
    seed('default', 30);
    const { GetMetricDataCommand } = await import('@aws-sdk/client-cloudwatch');
    const now = new Date();

    await census(deps({ clock: () => now }), options());
    const answer = await env.cloudwatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(now.getTime() - 600_000),
        EndTime: new Date(now.getTime() + 600_000),
        MetricDataQueries: [
          {
            Id: 'count',
            MetricStat: {
              Metric: {
                Namespace: NAMESPACE,
                MetricName: CensusMetric.scheduleCount,
                Dimensions: [{ Name: 'ScheduleGroup', Value: 'default' }],
              },
              Period: 60,
              Stat: 'Maximum',
            },
          },
        ],
      }),
    );

    expect(answer.MetricDataResults?.[0]?.Values).toEqual([30]);
  });

  it('gives a configured group a zero point when it is empty, and skips other groups', async () => {
    seed('default', 12);
    seed('orders', 8);

    await census(deps(), options({ groups: ['orders', 'archive'] }));

    expect(stored(CensusMetric.scheduleCount)).toEqual([20]);
    expect(stored(CensusMetric.scheduleCount, { ScheduleGroup: 'orders' })).toEqual([8]);
    expect(stored(CensusMetric.scheduleCount, { ScheduleGroup: 'archive' })).toEqual([0]);
    expect(stored(CensusMetric.scheduleCount, { ScheduleGroup: 'default' })).toEqual([]);
  });

  it('publishes a zero count for an empty account', async () => {
    const summary = await census(deps(), options());

    expect(summary.total).toBe(0);
    expect(stored(CensusMetric.scheduleCount)).toEqual([0]);
    expect(stored(CensusMetric.scheduleCount, { State: 'ENABLED' })).toEqual([0]);
    expect(stored(CensusMetric.quotaUtilization)).toEqual([0]);
  });
});

describe('census cut short', () => {
  it('returns its cursor and counters when told to stop, and publishes nothing, not even a failure', async () => {
    // Prepare
    seed('default', 250, 50);
    // Act
    const outcome = await census(deps(), { ...options(), shouldStop: () => true });
    // Assess
    expect(outcome).toMatchObject({
      status: 'continuing',
      nextToken: expect.any(String),
      listedSoFar: 100,
      progress: { pages: 1, listRequests: 1 },
    });
    expect(env.emulator.services.cloudwatch.putRequests()).toEqual([]);
  });

  it('resumed from the cursor, adds to the carried counters and publishes the whole', async () => {
    seed('default', 250, 50);
    const first = await census(deps(), { ...options(), shouldStop: () => true });
    if (first.status !== 'continuing') throw new Error('expected the census to stop');

    const whole = await census(deps(), {
      ...options(),
      shouldStop: () => false,
      resume: { nextToken: first.nextToken, progress: first.progress },
    });

    expect(whole).toMatchObject({
      status: 'complete',
      total: 250,
      byState: { ENABLED: 200, DISABLED: 50 },
      pages: 3,
      listRequests: 3,
    });
    expect(stored(CensusMetric.scheduleCount)).toEqual([250]);
  });
});

describe('census pacing and batching', () => {
  it('keeps ListSchedules within its request budget', async () => {
    // Prepare: 5 pages at 10 requests per second need at least 0.4 s between first and last.
    seed('default', 450);
    const started = performance.now();
    // Act
    const summary = await census(deps(), options({ listTps: 10 }));
    // Assess
    expect(summary.pages).toBe(5);
    expect(performance.now() - started).toBeGreaterThanOrEqual(380);
  });

  it('sends per-group counts for 1,500 groups in several requests, none over 1000 metrics', async () => {
    // Prepare
    const groups = Array.from({ length: 1500 }, (_, index) => `group-${index}`);
    for (const group of groups) env.emulator.services.scheduler.createGroup(group);
    env.emulator.services.scheduler.seed(groups.flatMap((group) => schedules(group, 1)));
    // Act
    const summary = await census(deps(), options({ listTps: 1000 }));
    // Assess
    const requests = env.emulator.services.cloudwatch.putRequests();
    expect(summary.total).toBe(1500);
    expect(summary.metricRequests).toBe(requests.length);
    expect(requests.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...requests.map((request) => request.datumCount))).toBeLessThanOrEqual(1000);
    expect(stored(CensusMetric.scheduleCount, { ScheduleGroup: 'group-1499' })).toEqual([1]);
    const perGroup = env.emulator.services.cloudwatch
      .datums({ namespace: NAMESPACE, metricName: CensusMetric.scheduleCount })
      .filter((datum) => datum.dimensions.some((d) => d.Name === 'ScheduleGroup'));
    expect(perGroup).toHaveLength(1500);
  });
});

describe('census growth', () => {
  it('publishes growth per hour and days until full from the previous run', async () => {
    // Prepare: a run an hour ago saw 300 schedules; 120 more have been created since.
    const now = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    const anHourAgo = new Date(now.getTime() - 3_600_000);
    seed('default', 300);
    const first = await census(deps({ clock: () => anHourAgo }), options());
    seed('orders', 120);
    // Act
    const second = await census(deps({ clock: () => now }), options());
    // Assess
    expect(first.growthPerHour).toBeUndefined();
    expect(second.growthPerHour).toBeCloseTo(120, 6);
    const expectedDays = (second.quota.value - 420) / 120 / 24;
    expect(second.daysUntilFull).toBeCloseTo(expectedDays, 6);
    expect(stored(CensusMetric.scheduleGrowthPerHour)).toHaveLength(1);
    expect(stored(CensusMetric.scheduleGrowthPerHour)[0]).toBeCloseTo(120, 6);
    expect(stored(CensusMetric.daysUntilFull)[0]).toBeCloseTo(expectedDays, 6);
  });

  it('publishes no days-until-full figure while the count shrinks', async () => {
    const now = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    seed('default', 200);
    await census(deps({ clock: () => new Date(now.getTime() - 3_600_000) }), options());
    env.emulator.services.scheduler.reset();
    seed('default', 50);

    const summary = await census(deps({ clock: () => now }), options());

    expect(summary.growthPerHour).toBeCloseTo(-150, 6);
    expect(summary.daysUntilFull).toBeUndefined();
    expect(stored(CensusMetric.daysUntilFull)).toEqual([]);
  });
});

describe('census failures', () => {
  it('publishes no under-count when the listing fails part-way, and rethrows', async () => {
    // Prepare: the first page succeeds, then every ListSchedules answers 500.
    seed('default', 350);
    env.scheduler.middlewareStack.add(
      (next) => async (args) => {
        const output = await next(args);
        env.emulator.plane.controls.errorRates.ListSchedules = 1;
        return output;
      },
      { step: 'deserialize', name: 'failAfterFirstPage' },
    );
    // Act
    const run = census(deps(), options());
    // Assess
    await expect(run).rejects.toMatchObject({ name: 'InternalServerException' });
    expect(stored(CensusMetric.scheduleCount)).toEqual([]);
    expect(stored(CensusMetric.quotaUtilization)).toEqual([]);
    expect(stored(CensusMetric.censusFailures)).toEqual([1]);
    expect(log.lines.filter((line) => line.level === 'error').map((line) => line.message)).toContain(
      'Census failed part-way; no counts published',
    );
  });

  it('still publishes the counts, without growth, when earlier counts cannot be read', async () => {
    seed('default', 25);
    env.emulator.plane.controls.errorRates.GetMetricData = 1;

    const summary = await census(deps(), options());

    expect(summary.growthPerHour).toBeUndefined();
    expect(stored(CensusMetric.scheduleCount)).toEqual([25]);
    expect(log.lines.some((line) => line.level === 'warn')).toBe(true);
  });
});
