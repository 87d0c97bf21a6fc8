// Resumable censuses through the real handler, the real SDK clients and the emulator: a census cut
// short by its deadline hands itself on (recorded Lambda invocations, replayed here as Lambda would)
// and ends with exactly the counts of an uninterrupted census, published once. The lease keeps a
// second census out; every invocation sends a heartbeat; damaged continuations change nothing.

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FaultRule } from '../../scripts/emulator/faults.ts';
import { MAX_LISTING_RESTARTS } from '../../src/aws/budget.ts';
import { createDynamoDbClient, createLambdaClient } from '../../src/aws/clients.ts';
import { CensusMetric, REFUSED_TOKEN_WARNING } from '../../src/census/census.ts';
import { readCensusConfig } from '../../src/census/config.ts';
import { createQuotaMemory } from '../../src/census/quota.ts';
import { CENSUS_LEASE_KEY, type CensusRunResult } from '../../src/census/run.ts';
import { InputError } from '../../src/errors.ts';
import { type CensusInvocationContext, createCensusHandler } from '../../src/handlers/census.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { createDynamoLeaseStore, LEASE_KEY } from '../../src/state/lease.ts';
import { resetWithStateTable, useTestEmulator } from '../support/emulator.ts';
import { loseAnswers, onItem } from '../support/lost-answers.ts';
import { scheduledEvent } from '../support/scheduled-event.ts';
import { seedGroup } from './fixtures.ts';

const STATE_TABLE = 'schedule-hygiene-test-census-state';
const FUNCTION_NAME = 'schedule-hygiene-test-census';
const NAMESPACE = 'CensusResumeTest';
const SCHEDULED_EVENT = scheduledEvent();
const now = new Date('2025-06-15T12:00:00Z');

const env = useTestEmulator();

beforeEach(() => resetWithStateTable(env, STATE_TABLE, now));

afterEach(() => env.emulator.plane.faults.configure({}));

function createHandler(
  settings: Record<string, string | undefined> = {},
  clients: { dynamodb?: DynamoDBClient } = {},
) {
  const log = createMemoryLogger();
  const handler = createCensusHandler({
    scheduler: env.scheduler,
    serviceQuotas: env.serviceQuotas,
    cloudwatch: env.cloudwatch,
    dynamodb: clients.dynamodb ?? env.dynamodb,
    // One attempt: a failed hand-off must show at once, not after the SDK's backoff.
    lambda: createLambdaClient({ ...env.clientOptions, maxAttempts: 1 }),
    config: readCensusConfig({
      CENSUS_STATE_TABLE: STATE_TABLE,
      CENSUS_LIST_TPS: '1000',
      CENSUS_SAFETY_MARGIN_SECONDS: '5',
      METRICS_NAMESPACE: NAMESPACE,
      ...settings,
    }),
    clock: () => env.emulator.plane.now(),
    log,
    quotaMemory: createQuotaMemory(),
  });
  return { handler, log };
}

type Handler = ReturnType<typeof createHandler>['handler'];

const listCalls = () => env.emulator.plane.stats.get('ListSchedules')?.calls ?? 0;

/** A Lambda context whose deadline arrives once this invocation has listed `pages` pages (never when undefined). */
function pageBudget(pages?: number): CensusInvocationContext {
  const before = listCalls();
  return {
    functionName: FUNCTION_NAME,
    getRemainingTimeInMillis: () => (pages !== undefined && listCalls() - before >= pages ? 1_000 : 900_000),
  };
}

/** The self-invocations queued since the last call, each checked to be an async call of the census. */
function takeHandOffs(): unknown[] {
  return env.emulator.services.lambda.takeInvocations().map((invocation) => {
    expect(invocation).toMatchObject({ functionName: FUNCTION_NAME, invocationType: 'Event' });
    return invocation.payload;
  });
}

/** Plays Lambda: runs the handler, then every continuation it queued, until none is left. */
async function driveChain(handler: Handler, event: unknown, pagesPerInvocation?: number) {
  const results: CensusRunResult[] = [await handler(event, pageBudget(pagesPerInvocation))];
  for (let queued = takeHandOffs(); queued.length > 0; queued = takeHandOffs()) {
    expect(queued).toHaveLength(1);
    results.push(await handler(queued[0], pageBudget(pagesPerInvocation)));
    if (results.length > 50) throw new Error('the chain does not end');
  }
  return results;
}

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

async function leaseItem(key = CENSUS_LEASE_KEY) {
  return (await env.emulator.services.dynamodb.items(STATE_TABLE)).find((item) => item.pk?.S === key);
}

type Complete = Extract<CensusRunResult, { total: number }>;

function completeOf(result: CensusRunResult | undefined): Complete {
  if (result?.status !== 'complete')
    throw new Error(`expected a complete census, got ${JSON.stringify(result)}`);
  return result;
}

const counts = (summary: Complete) => ({
  total: summary.total,
  byGroup: summary.byGroup,
  byState: summary.byState,
  byGroupAndState: summary.byGroupAndState,
  pages: summary.pages,
});

/** 427 schedules, five pages: two pages per invocation cut groups mid-way. */
function seedAccount(): void {
  seedGroup(env, 'default', 250, 50);
  seedGroup(env, 'orders', 160);
  seedGroup(env, 'reminders', 17, 17);
}

describe('resumable census', () => {
  it('cut short every two pages, continues across invocations to the exact counts of an uninterrupted census, published once', async () => {
    // Prepare: the uninterrupted census, for comparison
    seedAccount();
    const whole = completeOf((await driveChain(createHandler().handler, SCHEDULED_EVENT))[0]);
    env.emulator.services.cloudwatch.reset();
    env.emulator.plane.resetStats();
    const { handler } = createHandler();

    // Act
    const results = await driveChain(handler, SCHEDULED_EVENT, 2);

    // Assess
    const last = completeOf(results.at(-1));
    expect(results.map((result) => result.status)).toEqual(['continuing', 'continuing', 'complete']);
    expect(last.invocation).toBe(3);
    expect(counts(last)).toEqual(counts(whole));
    expect(last.total).toBe(427);
    expect(last.listRequests).toBe(listCalls());
    // Counts describe the whole account, published once, by the invocation that completed it.
    expect(stored(CensusMetric.scheduleCount)).toEqual([427]);
    expect(stored(CensusMetric.scheduleCount, { ScheduleGroup: 'orders' })).toEqual([160]);
    expect(stored(CensusMetric.scheduleCount, { State: 'DISABLED' })).toEqual([67]);
    expect(stored(CensusMetric.quotaUtilization)).toEqual([(427 / last.quota.value) * 100]);
    expect(stored(CensusMetric.censusFailures)).toEqual([0]);
    expect(stored(CensusMetric.censusInvocations)).toEqual([1, 1, 1]);
    expect(await leaseItem()).toBeUndefined();
  });

  it('refuses a scheduled tick that arrives while a census is in progress, listing nothing', async () => {
    // Prepare: the first invocation of a chain has handed on
    seedAccount();
    const { handler, log } = createHandler();
    const first = await handler(SCHEDULED_EVENT, pageBudget(2));
    const [queued] = takeHandOffs();
    const listedBefore = listCalls();

    // Act
    const refused = await handler(SCHEDULED_EVENT, pageBudget());

    // Assess
    expect(first.status).toBe('continuing');
    expect(refused).toEqual({
      status: 'alreadyRunning',
      holder: (await leaseItem())?.runId?.S,
      leaseUntil: expect.any(String),
    });
    expect(listCalls()).toBe(listedBefore);
    expect(takeHandOffs()).toEqual([]);
    expect(stored(CensusMetric.scheduleCount)).toEqual([]);
    expect(stored(CensusMetric.censusInvocations)).toEqual([1, 1]);
    expect(log.lines).toContainEqual(
      expect.objectContaining({ message: 'a census is already running; this trigger does nothing' }),
    );

    // The chain itself goes on undisturbed.
    const rest = await driveChain(handler, queued, 2);
    expect(completeOf(rest.at(-1)).total).toBe(427);
    expect(stored(CensusMetric.scheduleCount)).toEqual([427]);
  });

  it("keeps its own lease item: a sweep's lease neither blocks a census nor is touched by it", async () => {
    seedAccount();
    await createDynamoLeaseStore(env.dynamodb, STATE_TABLE).acquire('sweep-run', now, 600_000);
    const { handler } = createHandler();

    const results = await driveChain(handler, SCHEDULED_EVENT, 2);

    expect(completeOf(results.at(-1)).total).toBe(427);
    expect((await leaseItem(LEASE_KEY))?.runId?.S).toBe('sweep-run');
  });

  it('stops a second delivery of the same continuation, which lists nothing', async () => {
    seedAccount();
    const { handler } = createHandler();
    await handler(SCHEDULED_EVENT, pageBudget(2));
    const [continuation] = takeHandOffs();
    const second = await handler(continuation, pageBudget(2));
    takeHandOffs();
    const listedBefore = listCalls();

    const duplicate = await handler(continuation, pageBudget(2));

    expect(second.status).toBe('continuing');
    expect(duplicate).toMatchObject({ status: 'superseded', invocation: 2 });
    expect(listCalls()).toBe(listedBefore);
    expect(takeHandOffs()).toEqual([]);
  });

  it('keeps the count of a group named "__proto__" across invocations', async () => {
    // Prepare: one page per invocation, so __proto__'s count is carried through several payloads
    seedGroup(env, '__proto__', 150, 10);
    seedGroup(env, 'constructor', 60);
    seedGroup(env, 'default', 30);
    const { handler } = createHandler();

    // Act
    const results = await driveChain(handler, SCHEDULED_EVENT, 1);

    // Assess
    const last = completeOf(results.at(-1));
    expect(results.length).toBeGreaterThanOrEqual(3);
    expect(last.total).toBe(240);
    expect(Object.entries(last.byGroup)).toEqual(
      expect.arrayContaining([
        ['__proto__', 150],
        ['constructor', 60],
        ['default', 30],
      ]),
    );
    expect(Object.entries(last.byGroupAndState).find(([group]) => group === '__proto__')?.[1]).toEqual({
      ENABLED: 140,
      DISABLED: 10,
    });
    expect(stored(CensusMetric.scheduleCount, { ScheduleGroup: '__proto__' })).toEqual([150]);
    expect(stored(CensusMetric.scheduleCount)).toEqual([240]);
  });

  it('starts the count over when ListSchedules refuses the carried NextToken, and says so', async () => {
    // Prepare: a continuation whose token has expired
    seedAccount();
    const { handler, log } = createHandler();
    await handler(SCHEDULED_EVENT, pageBudget(2));
    const [queued] = takeHandOffs() as [{ continuation: Record<string, unknown> }];
    const stale = { continuation: { ...queued.continuation, nextToken: 'expired-token' } };

    // Act
    const results = await driveChain(handler, stale);

    // Assess
    const last = completeOf(results.at(-1));
    expect(last.total).toBe(427);
    expect(last.byGroup).toEqual({ default: 250, orders: 160, reminders: 17 });
    expect(stored(CensusMetric.scheduleCount)).toEqual([427]);
    expect(warnings(log)).toEqual([
      expect.objectContaining({ restart: 1, pagesDiscarded: 2, schedulesDiscarded: 200 }),
    ]);
  });
});

/** Refuses the ListSchedules requests carrying a NextToken after `skip` such requests went through. */
const rejectToken = (skip: number, times?: number): FaultRule => ({
  kind: 'reject-token',
  service: 'scheduler',
  operation: 'ListSchedules',
  skip,
  ...(times === undefined ? {} : { times }),
});

/** The census's restart warnings, with their fields. */
const warnings = (log: ReturnType<typeof createHandler>['log']) =>
  log.lines.filter((line) => line.level === 'warn' && line.message === REFUSED_TOKEN_WARNING);

/** The census with its default settings (list rate, margin), beside the test's table and namespace. */
const createDefaultHandler = () =>
  createHandler({ CENSUS_LIST_TPS: undefined, CENSUS_SAFETY_MARGIN_SECONDS: undefined });

describe('a NextToken the service refuses mid-run (emulator faults, default settings)', () => {
  it('restarts the listing from its first page, takes back what it counted, and publishes the exact counts once', async () => {
    // Prepare: the third page's token is refused once, in a one-invocation census
    seedAccount();
    env.emulator.plane.faults.configure({ rules: [rejectToken(1, 1)] });
    const { handler, log } = createDefaultHandler();

    // Act
    const result = await handler(SCHEDULED_EVENT, pageBudget());

    // Assess: five pages, two of them listed twice, and every schedule counted once
    const last = completeOf(result);
    expect(counts(last)).toEqual({
      total: 427,
      byGroup: { default: 250, orders: 160, reminders: 17 },
      byState: { ENABLED: 360, DISABLED: 67 },
      byGroupAndState: {
        default: { ENABLED: 200, DISABLED: 50 },
        orders: { ENABLED: 160 },
        reminders: { DISABLED: 17 },
      },
      pages: 5,
    });
    expect(listCalls()).toBe(8);
    expect(last.listRequests).toBe(8);
    expect(warnings(log)).toEqual([
      expect.objectContaining({ restart: 1, pagesDiscarded: 2, schedulesDiscarded: 200 }),
    ]);
    expect(stored(CensusMetric.scheduleCount)).toEqual([427]);
    expect(stored(CensusMetric.scheduleCount, { ScheduleGroup: 'default' })).toEqual([250]);
    expect(stored(CensusMetric.censusFailures)).toEqual([0]);
    expect(await leaseItem()).toBeUndefined();
  });

  it('in a continuation, takes back the counts carried from earlier invocations too', async () => {
    // Prepare: the first invocation hands on after two pages; in the continuation, the first token
    // it is handed itself (not the carried one) is refused
    seedAccount();
    const { handler, log } = createDefaultHandler();
    await handler(SCHEDULED_EVENT, pageBudget(2));
    const [queued] = takeHandOffs();
    env.emulator.plane.faults.configure({ rules: [rejectToken(1, 1)] });

    // Act
    const results = await driveChain(handler, queued);

    // Assess
    const last = completeOf(results.at(-1));
    expect(results.map((result) => result.status)).toEqual(['complete']);
    expect(last.total).toBe(427);
    expect(last.byGroup).toEqual({ default: 250, orders: 160, reminders: 17 });
    expect(last.pages).toBe(5);
    // Two pages carried, one listed here, all three taken back.
    expect(warnings(log)).toEqual([
      expect.objectContaining({ restart: 1, pagesDiscarded: 3, schedulesDiscarded: 300 }),
    ]);
    expect(stored(CensusMetric.scheduleCount)).toEqual([427]);
    expect(await leaseItem()).toBeUndefined();
  });

  it('restarts when a token expires by use: its request was applied, the answer lost and the request sent again', async () => {
    // Prepare: tokens are good for one use; the answer to the second page is lost after the
    // emulator handed out the third page's token, so the retry reuses a spent token
    seedAccount();
    env.emulator.plane.faults.configure({
      tokens: { maxUses: 1 },
      rules: [{ kind: 'reset', service: 'scheduler', operation: 'ListSchedules', skip: 1, times: 1 }],
    });
    const { handler, log } = createDefaultHandler();

    // Act
    const result = await handler(SCHEDULED_EVENT, pageBudget());

    // Assess
    expect(counts(completeOf(result))).toMatchObject({ total: 427, pages: 5 });
    expect(warnings(log)).toEqual([
      expect.objectContaining({
        restart: 1,
        pagesDiscarded: 1,
        schedulesDiscarded: 100,
        error: expect.objectContaining({ message: 'The NextToken has expired.' }),
      }),
    ]);
    expect(stored(CensusMetric.scheduleCount)).toEqual([427]);
  });

  it('restarts when the carried token has expired by age between invocations', async () => {
    // Prepare: tokens live 10 minutes; the continuation runs 11 minutes after the hand-off
    seedAccount();
    env.emulator.plane.faults.configure({ tokens: { maxAgeMs: 10 * 60_000 } });
    const { handler, log } = createDefaultHandler();
    await handler(SCHEDULED_EVENT, pageBudget(2));
    const [queued] = takeHandOffs();
    env.emulator.plane.setNow(new Date(now.getTime() + 11 * 60_000));

    // Act
    const results = await driveChain(handler, queued);

    // Assess
    expect(completeOf(results.at(-1)).total).toBe(427);
    expect(warnings(log)).toEqual([
      expect.objectContaining({ restart: 1, pagesDiscarded: 2, schedulesDiscarded: 200 }),
    ]);
    expect(stored(CensusMetric.scheduleCount)).toEqual([427]);
  });

  it(`restarts at most ${MAX_LISTING_RESTARTS} times, then fails: publishes the failure and no counts, frees the lease, logs why and rethrows`, async () => {
    // Prepare: every token is refused
    seedAccount();
    env.emulator.plane.faults.configure({ rules: [rejectToken(0)] });
    const { handler, log } = createDefaultHandler();

    // Act
    const run = handler(SCHEDULED_EVENT, pageBudget());

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'ValidationException' });
    expect(listCalls()).toBe(2 * (MAX_LISTING_RESTARTS + 1));
    expect(warnings(log).map((line) => line.restart)).toEqual([1, 2, 3]);
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'Census failed part-way; no counts published',
        listingRestarts: MAX_LISTING_RESTARTS,
      }),
    );
    expect(stored(CensusMetric.censusFailures)).toEqual([1]);
    expect(stored(CensusMetric.scheduleCount)).toEqual([]);
    expect(stored(CensusMetric.censusInvocations)).toEqual([1]);
    expect(await leaseItem()).toBeUndefined();
  });
});

describe('resumable census, its failures', () => {
  it('publishes no counts when the hand-off fails: reports the failure, logs it and frees the lease', async () => {
    seedAccount();
    env.emulator.plane.controls.errorRates = { Invoke: 1 };
    const { handler, log } = createHandler();

    const result = await handler(SCHEDULED_EVENT, pageBudget(2));

    expect(result).toMatchObject({
      status: 'abandoned',
      reason: 'handing the census on failed',
      listedSoFar: 200,
    });
    expect(stored(CensusMetric.scheduleCount)).toEqual([]);
    expect(stored(CensusMetric.quotaUtilization)).toEqual([]);
    expect(stored(CensusMetric.censusFailures)).toEqual([1]);
    expect(stored(CensusMetric.censusInvocations)).toEqual([1]);
    expect(await leaseItem()).toBeUndefined();
    expect(log.lines.filter((line) => line.level === 'error').map((line) => line.message)).toContain(
      'the census cannot go on; no counts published, the next scheduled run starts over',
    );
  });

  it('regression: a lease renew whose answer was lost is recognised when the SDK retries it; the census completes, published once, lease freed', async () => {
    // Prepare: every renew of the census lease loses its first answer (occurrences 1, 3, 5, ...)
    seedAccount();
    const dynamodb = createDynamoDbClient(env.clientOptions);
    const faults = loseAnswers(dynamodb, [
      {
        command: 'UpdateItemCommand',
        occurrences: Array.from({ length: 20 }, (_, index) => 2 * index + 1),
        when: onItem(CENSUS_LEASE_KEY),
      },
    ]);
    const { handler } = createHandler({}, { dynamodb });

    // Act
    const results = await driveChain(handler, SCHEDULED_EVENT, 2);

    // Assess
    expect(faults.lost()).toBeGreaterThanOrEqual(4);
    expect(results.map((result) => result.status)).not.toContain('superseded');
    expect(completeOf(results.at(-1)).total).toBe(427);
    expect(stored(CensusMetric.scheduleCount)).toEqual([427]);
    expect(await leaseItem()).toBeUndefined();
  });

  it('regression: a first acquire whose answer was lost lists, instead of reporting alreadyRunning with itself as holder', async () => {
    seedAccount();
    const dynamodb = createDynamoDbClient(env.clientOptions);
    loseAnswers(dynamodb, [{ command: 'PutItemCommand', occurrences: [1], when: onItem(CENSUS_LEASE_KEY) }]);
    const { handler } = createHandler({}, { dynamodb });

    const result = await handler(SCHEDULED_EVENT, pageBudget());

    expect(completeOf(result).total).toBe(427);
    expect(await leaseItem()).toBeUndefined();
  });

  it('regression: a hard DynamoDB error on the renew before the hand-off reports the failure, frees the lease and logs why', async () => {
    seedAccount();
    env.emulator.plane.controls.errorRates = { UpdateItem: 1 };
    const { handler, log } = createHandler();

    const result = await handler(SCHEDULED_EVENT, pageBudget(2));

    expect(result).toMatchObject({
      status: 'abandoned',
      reason: 'renewing the census lease before its hand-off failed',
    });
    expect(takeHandOffs()).toEqual([]);
    expect(stored(CensusMetric.censusFailures)).toEqual([1]);
    expect(stored(CensusMetric.scheduleCount)).toEqual([]);
    expect(await leaseItem()).toBeUndefined();
    expect(log.lines.filter((line) => line.level === 'error').map((line) => line.message)).toContain(
      'the census cannot go on; no counts published, the next scheduled run starts over',
    );
  });

  it("a hard DynamoDB error on a continuation's first renew reports the failure, frees the lease and logs why", async () => {
    seedAccount();
    const { handler, log } = createHandler();
    await handler(SCHEDULED_EVENT, pageBudget(2));
    const [queued] = takeHandOffs();
    env.emulator.plane.controls.errorRates = { UpdateItem: 1 };

    const result = await handler(queued, pageBudget(2));

    expect(result).toMatchObject({ status: 'abandoned', listedSoFar: 200 });
    expect(stored(CensusMetric.censusFailures)).toEqual([1]);
    expect(await leaseItem()).toBeUndefined();
    expect(log.lines.map((line) => line.message)).toContain(
      'renewing the census lease failed; no counts published, the next scheduled run starts over',
    );
  });

  it('sends its heartbeat and frees the lease when the listing fails, and rethrows', async () => {
    seedAccount();
    env.emulator.plane.controls.errorRates = { ListSchedules: 1 };
    const { handler } = createHandler();

    const run = handler(SCHEDULED_EVENT, pageBudget(2));

    await expect(run).rejects.toMatchObject({ name: 'InternalServerException' });
    expect(stored(CensusMetric.censusFailures)).toEqual([1]);
    expect(stored(CensusMetric.censusInvocations)).toEqual([1]);
    expect(stored(CensusMetric.scheduleCount)).toEqual([]);
    expect(await leaseItem()).toBeUndefined();
  });

  it('without a state table lists the whole account in one invocation, whatever the deadline', async () => {
    seedAccount();
    const { handler } = createHandler({ CENSUS_STATE_TABLE: '' });

    const result = await handler(SCHEDULED_EVENT, pageBudget(1));

    expect(completeOf(result).total).toBe(427);
    expect(completeOf(result).pages).toBe(5);
    expect(takeHandOffs()).toEqual([]);
    expect(await env.emulator.services.dynamodb.items(STATE_TABLE)).toEqual([]);
    expect(stored(CensusMetric.censusInvocations)).toEqual([1]);
  });
});

describe('census payload at the handler', () => {
  it('rejects a damaged continuation naming the field, before listing or taking the lease', async () => {
    seedAccount();
    const { handler } = createHandler();
    await handler(SCHEDULED_EVENT, pageBudget(2));
    const [queued] = takeHandOffs() as [{ continuation: { progress: Record<string, unknown> } }];
    const damaged = JSON.parse(JSON.stringify(queued)) as typeof queued;
    damaged.continuation.progress.pages = -1;
    const listedBefore = listCalls();
    const leaseBefore = await leaseItem();

    const run = handler(damaged, pageBudget());

    await expect(run).rejects.toThrow(InputError);
    await expect(run).rejects.toMatchObject({ field: 'continuation.progress.pages' });
    expect(listCalls()).toBe(listedBefore);
    expect(await leaseItem()).toEqual(leaseBefore);
    expect(stored(CensusMetric.censusInvocations)).toEqual([1, 1]);
  });
});
