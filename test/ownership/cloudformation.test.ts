// CloudFormation ownership through @aws-sdk/client-cloudformation against the emulator over HTTP:
// schedules seeded stacks declare are named with their stack, a schedule no stack declares is not
// owned, and whatever cannot be known (denied, throttled, created after the read, an index cut
// short) is 'unknown', never "not owned". The index is cached in the state table and read from
// CloudFormation at most once per refresh interval.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCloudFormationClient } from '../../src/aws/clients.ts';
import { createMemoryLogger } from '../../src/log.ts';
import {
  createOwnershipLookup,
  loadOwnership,
  OWNERSHIP_INDEX_KEY,
  readOwnershipIndex,
  SCHEDULE_RESOURCE_TYPE,
} from '../../src/ownership/cloudformation.ts';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';

const TABLE = 'schedule-hygiene-state-test';
const HOUR_MS = 3_600_000;

let env: TestEmulator;
let log: ReturnType<typeof createMemoryLogger>;

beforeEach(async () => {
  env = await startTestEmulator();
  log = createMemoryLogger();
  await env.emulator.services.dynamodb.createTable(TABLE, { hash: 'pk' });
});

afterEach(async () => {
  await env.close();
});

const schedule = (name: string) => ({
  logicalId: name.replace(/[^A-Za-z0-9]/g, ''),
  type: SCHEDULE_RESOURCE_TYPE,
  physicalId: name,
});

function seedStacks(): void {
  const cloudformation = env.emulator.services.cloudformation;
  cloudformation.seedStack({
    name: 'orders',
    resources: [
      schedule('orders-reminder-1'),
      schedule('orders-reminder-2'),
      { logicalId: 'Handler', type: 'AWS::Lambda::Function', physicalId: 'orders-handler' },
      // Not created yet: no physical ID, so it owns nothing yet.
      { logicalId: 'Pending', type: SCHEDULE_RESOURCE_TYPE, status: 'CREATE_IN_PROGRESS' },
    ],
  });
  // Over two pages of ListStackResources (100 a page).
  cloudformation.seedStack({
    name: 'billing',
    resources: [
      ...Array.from({ length: 150 }, (_, index) => ({
        logicalId: `Queue${index}`,
        type: 'AWS::SQS::Queue',
        physicalId: `https://sqs/${index}`,
      })),
      schedule('billing-close-month'),
    ],
  });
  cloudformation.seedStack({
    name: 'retired',
    status: 'DELETE_COMPLETE',
    resources: [schedule('retired-1')],
  });
  // Another account's stack is not this account's business.
  cloudformation.seedStack({
    accountId: '210987654321',
    name: 'elsewhere',
    resources: [schedule('elsewhere-1')],
  });
}

function cloudformationClient() {
  return createCloudFormationClient({ ...env.clientOptions, maxAttempts: 1 });
}

const readDeps = (overrides: { now?: Date } = {}) => ({
  cloudformation: cloudformationClient(),
  clock: () => overrides.now ?? new Date(),
  log,
  sleep: async () => {},
});

const createdBefore = (at: string) => new Date(Date.parse(at) - 60_000);

describe('reading which schedules CloudFormation stacks declare', () => {
  it('names each declared schedule with its stack, across pages, live stacks only', async () => {
    // Prepare
    seedStacks();
    // Act
    const index = await readOwnershipIndex(readDeps(), { requestsPerSecond: 100 });
    const lookup = createOwnershipLookup(index);
    const created = createdBefore(index.readAt);
    // Assess
    expect(index.complete).toBe(true);
    expect(index.stacks).toEqual({
      orders: ['orders-reminder-1', 'orders-reminder-2'],
      billing: ['billing-close-month'],
    });
    expect(index.stacksRead).toBe(2);
    // ListStacks once, ListStackResources once for orders and twice for billing.
    expect(index.requests).toBe(4);
    expect(lookup.ownerOf({ Name: 'orders-reminder-2', CreationDate: created })).toEqual({
      stack: 'orders',
      stacks: ['orders'],
    });
    expect(lookup.ownerOf({ Name: 'billing-close-month', CreationDate: created })).toEqual({
      stack: 'billing',
      stacks: ['billing'],
    });
    expect(lookup.ownerOf({ Name: 'retired-1', CreationDate: created })).toBeUndefined();
    expect(lookup.ownerOf({ Name: 'elsewhere-1', CreationDate: created })).toBeUndefined();
    expect(lookup.ownerOf({ Name: 'made-by-an-application', CreationDate: created })).toBeUndefined();
  });

  it('matches by name alone: a name two stacks declare is owned by both, in any group', async () => {
    env.emulator.services.cloudformation.seedStack({ name: 'team-b', resources: [schedule('shared')] });
    env.emulator.services.cloudformation.seedStack({ name: 'team-a', resources: [schedule('shared')] });
    const index = await readOwnershipIndex(readDeps(), { requestsPerSecond: 100 });
    expect(
      createOwnershipLookup(index).ownerOf({ Name: 'shared', CreationDate: createdBefore(index.readAt) }),
    ).toEqual({
      stack: 'team-a',
      stacks: ['team-a', 'team-b'],
    });
  });

  it('answers unknown for a schedule created after the index was read (a newer stack may declare it)', async () => {
    seedStacks();
    const index = await readOwnershipIndex(readDeps(), { requestsPerSecond: 100 });
    const lookup = createOwnershipLookup(index);
    const after = new Date(Date.parse(index.readAt) + 1000);
    expect(lookup.ownerOf({ Name: 'made-later', CreationDate: after })).toBe('unknown');
    expect(lookup.ownerOf({ Name: 'made-later' })).toBe('unknown');
    // The creation date as an ISO string (another deserializer) is read as a date, not refused.
    const earlier = new Date(Date.parse(index.readAt) - 60_000).toISOString();
    expect(
      lookup.ownerOf({ Name: 'made-earlier', CreationDate: earlier as unknown as Date }),
    ).toBeUndefined();
    // A declared one stays owned whenever it was created.
    expect(lookup.ownerOf({ Name: 'orders-reminder-1', CreationDate: after })).toMatchObject({
      stack: 'orders',
    });
  });

  it('answers unknown for every schedule when ListStacks is denied, and does not throw', async () => {
    seedStacks();
    env.emulator.services.cloudformation.denyOperations(['ListStacks']);
    const index = await readOwnershipIndex(readDeps(), { requestsPerSecond: 100 });
    expect(index).toMatchObject({ complete: false, incompleteBecause: 'AccessDenied', stacksRead: 0 });
    const lookup = createOwnershipLookup(index);
    const created = createdBefore(index.readAt);
    expect(lookup.ownerOf({ Name: 'orders-reminder-1', CreationDate: created })).toBe('unknown');
    expect(lookup.ownerOf({ Name: 'made-by-an-application', CreationDate: created })).toBe('unknown');
    expect(
      log.lines.some((line) => line.level === 'warn' && /ownership failed/.test(String(line.message))),
    ).toBe(true);
  });

  it('answers unknown when ListStackResources is throttled past its retries', async () => {
    seedStacks();
    env.emulator.plane.controls.throttleRates = { ListStackResources: 1 };
    const index = await readOwnershipIndex(readDeps(), { requestsPerSecond: 100, maxThrottleAttempts: 2 });
    expect(index).toMatchObject({ complete: false, incompleteBecause: 'Throttling' });
    const created = createdBefore(index.readAt);
    expect(createOwnershipLookup(index).ownerOf({ Name: 'orders-reminder-1', CreationDate: created })).toBe(
      'unknown',
    );
    expect(createOwnershipLookup(index).ownerOf({ Name: 'anything', CreationDate: created })).toBe('unknown');
  });

  it('keeps what it read and answers unknown for the rest when its time budget runs out', async () => {
    seedStacks();
    // A clock that moves 300 ms whenever it is read: the 1.5 s budget ends the read part-way.
    let ticks = 0;
    const index = await readOwnershipIndex(
      {
        ...readDeps(),
        elapsed: () => {
          ticks += 1;
          return ticks * 300;
        },
      },
      { requestsPerSecond: 100, readBudgetMs: 1500 },
    );
    expect(index).toMatchObject({ complete: false, incompleteBecause: 'readBudget' });
    const lookup = createOwnershipLookup(index);
    expect(
      lookup.ownerOf({ Name: 'made-by-an-application', CreationDate: createdBefore(index.readAt) }),
    ).toBe('unknown');
  });

  it('retries a ListStackResources answer lost after the effect, and slow answers, and reads every stack', async () => {
    seedStacks();
    env.emulator.plane.faults.configure({
      rules: [
        { kind: 'reset', service: 'cloudformation', operation: 'ListStackResources', times: 1 },
        { kind: 'latency', service: 'cloudformation', operation: 'ListStacks', delayMs: 300 },
      ],
    });
    const index = await readOwnershipIndex(readDeps(), { requestsPerSecond: 100 });
    expect(index.complete).toBe(true);
    expect(index.stacks).toEqual({
      orders: ['orders-reminder-1', 'orders-reminder-2'],
      billing: ['billing-close-month'],
    });
    // The lost answer's request was sent again: one more than the four of a clean read.
    expect(index.requests).toBe(5);
  });

  it('without any index, every answer is unknown', () => {
    const lookup = createOwnershipLookup(undefined);
    expect(lookup.ownerOf({ Name: 'x', CreationDate: new Date(0) })).toBe('unknown');
  });
});

describe('the ownership cache in the state table', () => {
  const cacheDeps = (now: () => Date) => ({
    cloudformation: cloudformationClient(),
    dynamodb: env.dynamodb,
    table: TABLE,
    clock: now,
    log,
    sleep: async () => {},
  });
  const cloudformationCalls = () =>
    (env.emulator.plane.stats.get('ListStacks')?.calls ?? 0) +
    (env.emulator.plane.stats.get('ListStackResources')?.calls ?? 0);

  it('reads CloudFormation at most once an hour; within the hour it answers from the cache', async () => {
    seedStacks();
    const start = new Date();
    const first = await loadOwnership(
      cacheDeps(() => start),
      { requestsPerSecond: 100 },
    );
    expect(first.source).toBe('cloudformation');
    const afterFirst = cloudformationCalls();
    expect(afterFirst).toBe(4);

    const later = new Date(start.getTime() + HOUR_MS - 1000);
    const second = await loadOwnership(
      cacheDeps(() => later),
      { requestsPerSecond: 100 },
    );
    expect(second.source).toBe('cache');
    expect(cloudformationCalls()).toBe(afterFirst);
    expect(second.lookup.index).toEqual(first.lookup.index);
    expect(
      second.lookup.ownerOf({ Name: 'orders-reminder-1', CreationDate: createdBefore(start.toISOString()) }),
    ).toEqual({
      stack: 'orders',
      stacks: ['orders'],
    });

    const nextHour = new Date(start.getTime() + HOUR_MS + 1000);
    const third = await loadOwnership(
      cacheDeps(() => nextHour),
      { requestsPerSecond: 100 },
    );
    expect(third.source).toBe('cloudformation');
    expect(cloudformationCalls()).toBe(afterFirst * 2);
  });

  it('caches a denied read too, so a denied account is asked once an hour, and answers unknown', async () => {
    seedStacks();
    env.emulator.services.cloudformation.denyOperations(['ListStacks']);
    const start = new Date();
    const first = await loadOwnership(
      cacheDeps(() => start),
      { requestsPerSecond: 100 },
    );
    expect(first.source).toBe('none');
    expect(first.lookup.ownerOf({ Name: 'orders-reminder-1', CreationDate: new Date(0) })).toBe('unknown');
    const second = await loadOwnership(
      cacheDeps(() => new Date(start.getTime() + 60_000)),
      {
        requestsPerSecond: 100,
      },
    );
    expect(second.lookup.ownerOf({ Name: 'anything', CreationDate: new Date(0) })).toBe('unknown');
    expect(env.emulator.plane.stats.get('ListStacks')?.calls).toBe(1);
  });

  it('keeps the older index when a refresh is denied outright', async () => {
    seedStacks();
    const start = new Date();
    await loadOwnership(
      cacheDeps(() => start),
      { requestsPerSecond: 100 },
    );
    env.emulator.services.cloudformation.denyOperations(['ListStacks']);
    const stale = await loadOwnership(
      cacheDeps(() => new Date(start.getTime() + 2 * HOUR_MS)),
      {
        requestsPerSecond: 100,
      },
    );
    expect(stale.source).toBe('cache');
    expect(
      stale.lookup.ownerOf({ Name: 'orders-reminder-1', CreationDate: createdBefore(start.toISOString()) }),
    ).toMatchObject({
      stack: 'orders',
    });
    // Created after the old read: it may be a newer stack's.
    expect(stale.lookup.ownerOf({ Name: 'new-one', CreationDate: new Date(start.getTime() + HOUR_MS) })).toBe(
      'unknown',
    );
  });

  it('splits a large index across items under DynamoDB’s 400 KB limit and reads it back whole', async () => {
    // 20 stacks × 250 schedules with 60-character names: about 330 KB of names.
    for (let stack = 0; stack < 20; stack += 1) {
      env.emulator.services.cloudformation.seedStack({
        name: `stack-${stack}`,
        resources: Array.from({ length: 250 }, (_, index) =>
          schedule(`s${String(stack).padStart(2, '0')}-${String(index).padStart(3, '0')}-${'x'.repeat(53)}`),
        ),
      });
    }
    const start = new Date();
    const fresh = await loadOwnership(
      cacheDeps(() => start),
      { requestsPerSecond: 1000 },
    );
    const cached = await loadOwnership(
      cacheDeps(() => new Date(start.getTime() + 1000)),
      {
        requestsPerSecond: 1000,
      },
    );
    expect(cached.source).toBe('cache');
    expect(cached.lookup.index?.stacks).toEqual(fresh.lookup.index?.stacks);
    const items = await env.emulator.services.dynamodb.items(TABLE);
    const parts = items.filter((item) => String(item.pk?.S).startsWith(`${OWNERSHIP_INDEX_KEY}#`));
    expect(parts.length).toBeGreaterThanOrEqual(2);
    for (const item of items) expect(JSON.stringify(item).length).toBeLessThan(400_000);
  });
});
