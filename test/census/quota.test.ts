// Which schedule quota the census divides by: the applied value from Service Quotas, then the AWS
// default, then SCHEDULE_QUOTA, and a census that still publishes when Service Quotas fails.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CensusMetric, census } from '../../src/census/census.ts';
import {
  createQuotaMemory,
  matchesScheduleQuota,
  QUOTA_CACHE_MS,
  resolveScheduleQuota,
  SCHEDULE_QUOTA_NAME,
} from '../../src/census/quota.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';

const NAMESPACE = 'ScheduleHygieneQuotaTest';
const FALLBACK_QUOTA = 40_000;

let env: TestEmulator;
let log: ReturnType<typeof createMemoryLogger>;

beforeEach(async () => {
  env = await startTestEmulator();
  log = createMemoryLogger();
});

afterEach(async () => {
  await env.close();
});

const quotas = () => env.emulator.services.serviceQuotas;
const calls = (operation: string) => env.emulator.plane.statsFor(operation).calls;
const warnings = () => log.lines.filter((line) => line.level === 'warn');

function seedSchedules(count: number): void {
  env.emulator.services.scheduler.seed(
    Array.from({ length: count }, (_, index) => ({
      Name: `reminder-${index}`,
      ScheduleExpression: 'rate(1 day)',
      FlexibleTimeWindow: { Mode: 'OFF' as const },
      Target: {
        Arn: 'arn:aws:lambda:us-east-1:123456789012:function:target',
        RoleArn: 'arn:aws:iam::123456789012:role/invoke',
      },
    })),
  );
}

function runCensus(memory = createQuotaMemory()) {
  return census(
    {
      scheduler: env.scheduler,
      serviceQuotas: env.serviceQuotas,
      cloudwatch: env.cloudwatch,
      clock: () => new Date(),
      log,
      quotaMemory: memory,
    },
    { namespace: NAMESPACE, fallbackQuota: FALLBACK_QUOTA, listTps: 200 },
  );
}

function storedQuotaValues(): number[] {
  return env.emulator.services.cloudwatch
    .datums({ namespace: NAMESPACE, metricName: CensusMetric.scheduleQuota })
    .flatMap((datum) => datum.values);
}

describe('resolveScheduleQuota', () => {
  it('prefers the applied value, then the AWS default, then the configured quota', async () => {
    // Prepare
    quotas().setApplied(SCHEDULE_QUOTA_NAME, 2_500_000);
    quotas().setDefault(SCHEDULE_QUOTA_NAME, 10_000_000);
    const fresh = () => ({ memory: createQuotaMemory() });
    // Act
    const applied = await resolveScheduleQuota(env.serviceQuotas, FALLBACK_QUOTA, log, fresh());
    quotas().setApplied(SCHEDULE_QUOTA_NAME, undefined);
    const fromDefault = await resolveScheduleQuota(env.serviceQuotas, FALLBACK_QUOTA, log, fresh());
    quotas().setMode('accessDenied');
    const configured = await resolveScheduleQuota(env.serviceQuotas, FALLBACK_QUOTA, log, fresh());
    // Assess
    expect(applied).toEqual({ value: 2_500_000, source: 'applied' });
    expect(fromDefault).toEqual({ value: 10_000_000, source: 'default' });
    expect(configured).toEqual({ value: FALLBACK_QUOTA, source: 'configured' });
    expect(calls('GetAWSDefaultServiceQuota')).toBe(1);
  });

  it('uses the configured quota when Service Quotas reports no usable schedule quota', async () => {
    quotas().setApplied(SCHEDULE_QUOTA_NAME, undefined);
    quotas().setDefault(SCHEDULE_QUOTA_NAME, 0);

    const quota = await resolveScheduleQuota(env.serviceQuotas, FALLBACK_QUOTA, log, {
      memory: createQuotaMemory(),
    });

    expect(quota).toEqual({ value: FALLBACK_QUOTA, source: 'configured' });
    expect(warnings()).toHaveLength(0);
  });

  it('reads Service Quotas again only after the cached value is an hour old', async () => {
    // Prepare
    quotas().setApplied(SCHEDULE_QUOTA_NAME, 3_000_000);
    const memory = createQuotaMemory();
    let now = 1_000_000;
    const read = () =>
      resolveScheduleQuota(env.serviceQuotas, FALLBACK_QUOTA, log, { memory, now: () => now });
    // Act
    await read();
    quotas().setApplied(SCHEDULE_QUOTA_NAME, 4_000_000);
    now += QUOTA_CACHE_MS - 1;
    const cached = await read();
    now += 1;
    const refreshed = await read();
    // Assess
    expect(cached.value).toBe(3_000_000);
    expect(refreshed.value).toBe(4_000_000);
    expect(calls('ListServiceQuotas')).toBe(2);
  });

  it.each([
    ['Number of schedules', true],
    ['  number of SCHEDULES ', true],
    ['Number of schedule groups', false],
    [undefined, false],
  ])('matches the quota name %j by name alone: %s', (name, matches) => {
    expect(matchesScheduleQuota(name)).toBe(matches);
  });
});

describe('census when Service Quotas fails', () => {
  it.each([
    ['denies access', 'accessDenied'],
    ['answers 500', 'serviceError'],
  ] as const)(
    'still publishes with the configured quota when Service Quotas %s, and warns once across two runs',
    async (_, mode) => {
      // Prepare
      seedSchedules(120);
      quotas().setMode(mode);
      const container = createQuotaMemory();
      // Act
      const first = await runCensus(container);
      const second = await runCensus(container);
      // Assess
      expect(first.quota).toEqual({ value: FALLBACK_QUOTA, source: 'configured' });
      expect(second.quota).toEqual({ value: FALLBACK_QUOTA, source: 'configured' });
      expect(storedQuotaValues()).toEqual([FALLBACK_QUOTA, FALLBACK_QUOTA]);
      const utilization = env.emulator.services.cloudwatch
        .datums({ namespace: NAMESPACE, metricName: CensusMetric.quotaUtilization })
        .flatMap((datum) => datum.values);
      expect(utilization).toEqual([(120 / FALLBACK_QUOTA) * 100, (120 / FALLBACK_QUOTA) * 100]);
      expect(warnings()).toHaveLength(1);
      expect(warnings()[0]?.message).toMatch(/Service Quotas unavailable/);
    },
  );

  it('warns again after Service Quotas has recovered and failed anew', async () => {
    seedSchedules(3);
    const container = createQuotaMemory();
    quotas().setMode('accessDenied');
    await runCensus(container);
    quotas().setMode('normal');
    const recovered = await runCensus(container);
    container.cached = undefined;
    quotas().setMode('accessDenied');

    await runCensus(container);

    expect(recovered.quota.source).toBe('applied');
    expect(warnings()).toHaveLength(2);
  });

  it('publishes the applied quota as ScheduleQuota when Service Quotas answers', async () => {
    seedSchedules(10);
    quotas().setApplied(SCHEDULE_QUOTA_NAME, 750_000);

    const summary = await runCensus();

    expect(summary.quota).toEqual({ value: 750_000, source: 'applied' });
    expect(storedQuotaValues()).toEqual([750_000]);
  });
});
