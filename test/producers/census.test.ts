// The census's producers view against the emulator over HTTP with the real SDK: exact attribution
// per target in a seeded account, bounded cardinality (top 10 + Other), the tally carried across
// invocations, growth per producer and per group between runs, and AWS's own count (AWS/Usage)
// compared when the account has it and never assumed when it does not.
import type { CreateScheduleInput } from '@aws-sdk/client-scheduler';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CensusDeps, type CensusOptions, census } from '../../src/census/census.ts';
import { parseCensusEvent } from '../../src/census/payload.ts';
import { ProducerDimension, ProducerMetric } from '../../src/census/producers.ts';
import { createQuotaMemory } from '../../src/census/quota.ts';
import { USAGE_NAMESPACE } from '../../src/census/usage.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { OTHER } from '../../src/producers/tally.ts';
import { ACCOUNT_ID, REGION, startTestEmulator, type TestEmulator } from '../support/emulator.ts';

const NAMESPACE = 'ScheduleHygieneTest';
const lambda = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${name}`;
const SEND_MESSAGE = 'arn:aws:scheduler:::aws-sdk:sqs:sendMessage';

let env: TestEmulator;
let log: ReturnType<typeof createMemoryLogger>;

beforeEach(async () => {
  env = await startTestEmulator();
  log = createMemoryLogger();
  groups = new Set();
});

afterEach(async () => {
  await env.close();
});

let sequence = 0;
let groups = new Set<string>();
/** `count` schedules in `group` that invoke `target`. */
function seed(group: string, target: string, count: number): void {
  const scheduler = env.emulator.services.scheduler;
  if (group !== 'default' && !groups.has(group)) {
    scheduler.createGroup(group);
    groups.add(group);
  }
  const first = sequence;
  sequence += count;
  const definitions: CreateScheduleInput[] = Array.from({ length: count }, (_, index) => ({
    Name: `s-${String(first + index).padStart(6, '0')}`,
    GroupName: group,
    ScheduleExpression: 'rate(1 hour)',
    FlexibleTimeWindow: { Mode: 'OFF' },
    Target: { Arn: target, RoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/scheduler-invoke` },
  }));
  scheduler.seed(definitions);
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

type CompleteCensusOptions = Omit<CensusOptions, 'shouldStop' | 'resume'>;

const options = (overrides: Partial<CompleteCensusOptions> = {}): CompleteCensusOptions => ({
  namespace: NAMESPACE,
  fallbackQuota: 50_000,
  listTps: 500,
  ...overrides,
});

/** Latest stored value per value of `dimension` for a metric published with that one dimension. */
function storedBy(metricName: string, dimension: string): Record<string, number> {
  const byValue: Record<string, number> = {};
  for (const datum of env.emulator.services.cloudwatch.datums({ namespace: NAMESPACE, metricName })) {
    if (datum.dimensions.length !== 1 || datum.dimensions[0]?.Name !== dimension) continue;
    byValue[datum.dimensions[0].Value] = datum.values[0]!;
  }
  return byValue;
}

function seedUsage(metricName: string, dimensions: Record<string, string>, value: number): void {
  env.emulator.services.cloudwatch.seed({
    namespace: USAGE_NAMESPACE,
    metricName,
    dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })),
    value,
    timestamp: new Date(Date.now() - 120_000),
  });
}

describe('producers in the census', () => {
  it('names the top producers of a seeded account with exact counts and their share of the quota', async () => {
    // Prepare: 3 producers over 2 groups, 230 schedules, 3 pages.
    seed('orders', lambda('orders-reminder'), 120);
    seed('default', lambda('billing'), 50);
    seed('orders', lambda('billing'), 20);
    seed('default', SEND_MESSAGE, 40);
    // Act
    const summary = await census(deps(), options());
    // Assess
    const quota = summary.quota.value;
    const share = (count: number) => Number(((count / quota) * 100).toPrecision(6));
    expect(summary.total).toBe(230);
    expect(summary.producers?.targets).toEqual([
      { targetArn: lambda('orders-reminder'), count: 120, uncertainty: 0, quotaPercent: share(120) },
      { targetArn: lambda('billing'), count: 70, uncertainty: 0, quotaPercent: share(70) },
      { targetArn: SEND_MESSAGE, count: 40, uncertainty: 0, quotaPercent: share(40) },
    ]);
    expect(summary.producers?.otherTargets).toBe(0);
    expect(summary.producers?.pairs.map(({ group, targetArn, count }) => [group, targetArn, count])).toEqual([
      ['orders', lambda('orders-reminder'), 120],
      ['default', lambda('billing'), 50],
      ['default', SEND_MESSAGE, 40],
      ['orders', lambda('billing'), 20],
    ]);
    expect(storedBy(ProducerMetric.scheduleCount, ProducerDimension.targetArn)).toEqual({
      [lambda('orders-reminder')]: 120,
      [lambda('billing')]: 70,
      [SEND_MESSAGE]: 40,
      [OTHER]: 0,
    });
    // A first census has no history: no growth is claimed.
    expect(summary.producers?.fastestGrowing).toEqual({ targets: [], groups: [] });
    expect(storedBy(ProducerMetric.scheduleGrowthPerHour, ProducerDimension.targetArn)).toEqual({});
  });

  it('publishes the top 10 targets and Other, however many targets there are, exact for the top', async () => {
    // Prepare: 10 heavy producers (60..105 schedules) listed first, then 70 producers of 1-2 each:
    // more distinct targets than the tally's 50 counters.
    for (let index = 0; index < 10; index += 1) seed('bulk', lambda(`heavy-${index}`), 60 + index * 5);
    let light = 0;
    for (let index = 0; index < 70; index += 1) {
      const count = 1 + (index % 2);
      light += count;
      seed('bulk', lambda(`light-${index}`), count);
    }
    // Act
    const summary = await census(deps(), options());
    // Assess
    const published = storedBy(ProducerMetric.scheduleCount, ProducerDimension.targetArn);
    expect(Object.keys(published)).toHaveLength(11);
    const heavy = Object.fromEntries(
      Array.from({ length: 10 }, (_, index) => [lambda(`heavy-${index}`), 60 + index * 5]),
    );
    expect(published).toEqual({ ...heavy, [OTHER]: light });
    expect(summary.producers?.targets.every((line) => line.uncertainty === 0)).toBe(true);
    expect(summary.producers?.targets[0]).toMatchObject({ targetArn: lambda('heavy-9'), count: 105 });
    // The bound the docs state: no count shown is short by more than total / 50.
    expect(summary.producers?.maxUncertainty).toBeLessThanOrEqual(summary.total / 50);
  });

  it('carries the tally across invocations and names the same producers as one invocation would', async () => {
    seed('orders', lambda('orders-reminder'), 150);
    seed('default', SEND_MESSAGE, 90);
    const whole = await census(deps(), options({ namespace: 'Whole' }));

    let pages = 0;
    const first = await census(deps(), { ...options(), shouldStop: () => ++pages >= 1 });
    expect(first.status).toBe('continuing');
    if (first.status !== 'continuing') return;
    // Through JSON and the payload reader, as Lambda delivers the hand-off.
    const parsed = parseCensusEvent(
      JSON.parse(
        JSON.stringify({
          continuation: {
            runId: 'run-1',
            invocation: 2,
            startedAt: new Date().toISOString(),
            nextToken: first.nextToken,
            progress: first.progress,
          },
        }),
      ),
    );
    if (parsed.kind !== 'continuation') throw new Error('expected a continuation');
    expect(JSON.stringify(parsed.continuation.progress.producers).length).toBeLessThan(2_000);
    const rest = await census(deps(), {
      ...options(),
      resume: { nextToken: parsed.continuation.nextToken, progress: parsed.continuation.progress },
    });
    expect(rest.status).toBe('complete');
    if (rest.status !== 'complete') return;
    expect(rest.producers?.targets).toEqual(whole.producers?.targets);
    expect(rest.producers?.targets.map(({ count }) => count)).toEqual([150, 90]);
  });

  it('refuses a carried tally that does not count what the groups counted, naming the field', () => {
    const event = {
      continuation: {
        runId: 'run-1',
        invocation: 2,
        startedAt: new Date().toISOString(),
        nextToken: 'token',
        progress: {
          groups: { default: { ENABLED: 2 } },
          producers: {
            targets: { capacity: 50, total: 1, counters: [['t', 1, 0]] },
            groups: { capacity: 50, total: 1, counters: [['default', 1, 0]] },
            pairs: { capacity: 50, total: 1, counters: [['default t', 1, 0]] },
          },
          pages: 1,
          listRequests: 1,
          durationSeconds: 1,
        },
      },
    };
    expect(() => parseCensusEvent(event)).toThrow(/continuation\.progress\.producers\.targets\.total/);
  });

  it('names the fastest growing target and group from the previous census runs', async () => {
    // Prepare: a census 40 minutes ago, then one producer adds 60 schedules in its group.
    seed('orders', lambda('orders-reminder'), 100);
    seed('billing', lambda('billing'), 80);
    // On a minute boundary, as CloudWatch's 60-second periods see the points.
    const now = Math.floor(Date.now() / 60_000) * 60_000;
    await census(deps({ clock: () => new Date(now - 40 * 60_000) }), options());
    seed('billing', lambda('billing'), 60);
    // Act
    const summary = await census(deps({ clock: () => new Date(now) }), options());
    // Assess: 60 schedules in 40 minutes is 90 an hour; the other producer holds still.
    const growth = summary.producers?.fastestGrowing;
    expect(growth?.targets).toHaveLength(1);
    expect(growth?.targets[0]?.targetArn).toBe(lambda('billing'));
    expect(growth?.targets[0]?.growthPerHour).toBeCloseTo(90, 6);
    expect(growth?.groups.map(({ group }) => group)).toEqual(['billing']);
    expect(growth?.groups[0]?.growthPerHour).toBeCloseTo(90, 6);
    expect(
      summary.producers?.targets.find((line) => line.targetArn === lambda('orders-reminder'))?.growthPerHour,
    ).toBe(0);
    const published = storedBy(ProducerMetric.scheduleGrowthPerHour, ProducerDimension.targetArn);
    expect(Object.keys(published)).toEqual([lambda('billing')]);
    expect(published[lambda('billing')]).toBeCloseTo(90, 6);
    expect(
      storedBy(ProducerMetric.scheduleGrowthPerHour, ProducerDimension.scheduleGroup).billing,
    ).toBeCloseTo(90, 6);
  });
});

describe('producers under faults', () => {
  it('takes the producer counts back with the rest when ListSchedules refuses a NextToken, counting none twice', async () => {
    // Prepare: 250 schedules, 3 pages; the second page's token is refused once.
    seed('orders', lambda('orders-reminder'), 180);
    seed('orders', SEND_MESSAGE, 70);
    env.emulator.plane.faults.configure({
      rules: [{ kind: 'reject-token', service: 'scheduler', operation: 'ListSchedules', skip: 1, times: 1 }],
    });
    // Act
    const summary = await census(deps(), options());
    // Assess
    expect(summary.total).toBe(250);
    expect(summary.producers?.targets.map(({ targetArn, count }) => [targetArn, count])).toEqual([
      [lambda('orders-reminder'), 180],
      [SEND_MESSAGE, 70],
    ]);
    expect(storedBy(ProducerMetric.scheduleCount, ProducerDimension.targetArn)).toEqual({
      [lambda('orders-reminder')]: 180,
      [SEND_MESSAGE]: 70,
      [OTHER]: 0,
    });
  });

  it('still publishes the counts and producers when AWS/Usage cannot be looked for', async () => {
    seed('default', SEND_MESSAGE, 9);
    env.emulator.plane.controls.errorRates = { ListMetrics: 1 };
    const summary = await census(deps(), options());
    expect(summary.awsUsage).toEqual({ status: 'error', error: 'InternalServiceFault' });
    expect(summary.producers?.targets[0]).toMatchObject({ targetArn: SEND_MESSAGE, count: 9 });
    expect(storedBy(ProducerMetric.scheduleCount, ProducerDimension.targetArn)).toEqual({
      [SEND_MESSAGE]: 9,
      [OTHER]: 0,
    });
    expect(log.lines.some((line) => line.level === 'warn' && /AWS\/Usage/.test(String(line.message)))).toBe(
      true,
    );
  });
});

describe("AWS's own count (AWS/Usage)", () => {
  it('publishes the difference from its own count when the account has one usage metric for schedules', async () => {
    // Prepare: the metric's name is whatever the account has; an API usage metric and a group count
    // in the same namespace must not be taken for it.
    seed('default', SEND_MESSAGE, 240);
    seedUsage(
      'ResourceCount',
      { Service: 'Scheduler', Type: 'Resource', Resource: 'Schedules', Class: 'None' },
      250,
    );
    seedUsage(
      'ResourceCount',
      { Service: 'Scheduler', Type: 'Resource', Resource: 'ScheduleGroups', Class: 'None' },
      3,
    );
    seedUsage(
      'CallCount',
      { Service: 'Scheduler', Type: 'API', Resource: 'ListSchedules', Class: 'None' },
      99,
    );
    // Act
    const summary = await census(deps(), options());
    // Assess
    expect(summary.awsUsage).toMatchObject({
      status: 'found',
      count: 250,
      difference: 10,
      metric: { metricName: 'ResourceCount' },
    });
    const difference = env.emulator.services.cloudwatch
      .datums({ namespace: NAMESPACE, metricName: ProducerMetric.usageCountDifference })
      .flatMap((datum) => datum.values);
    expect(difference).toEqual([10]);
  });

  it('publishes no comparison and says so when the account has no such metric', async () => {
    seed('default', SEND_MESSAGE, 12);
    seedUsage(
      'CallCount',
      { Service: 'Scheduler', Type: 'API', Resource: 'ListSchedules', Class: 'None' },
      99,
    );
    const summary = await census(deps(), options());
    expect(summary.awsUsage).toEqual({ status: 'notFound' });
    expect(
      env.emulator.services.cloudwatch.datums({
        namespace: NAMESPACE,
        metricName: ProducerMetric.usageCountDifference,
      }),
    ).toEqual([]);
    expect(summary.total).toBe(12);
  });

  it('compares nothing when two metrics could be the schedule count', async () => {
    seed('default', SEND_MESSAGE, 5);
    seedUsage(
      'ResourceCount',
      { Service: 'Scheduler', Type: 'Resource', Resource: 'Schedules', Class: 'None' },
      5,
    );
    seedUsage(
      'ScheduleCount',
      { Service: 'Scheduler', Type: 'Resource', Resource: 'OneTime', Class: 'None' },
      2,
    );
    const summary = await census(deps(), options());
    expect(summary.awsUsage).toMatchObject({ status: 'ambiguous' });
    expect(
      env.emulator.services.cloudwatch.datums({
        namespace: NAMESPACE,
        metricName: ProducerMetric.usageCountDifference,
      }),
    ).toEqual([]);
  });
});
