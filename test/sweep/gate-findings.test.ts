// The delete gate's findings as production meets them: the real sweep handler with the Scheduler
// client it is deployed with (sweepSchedulerClient: its socket pool, the lean request path, one SDK
// attempt), the state and tombstone tables, default settings unless a test names one, and the
// emulator's own record of what it applied. What would race the wall clock is held by the test
// instead (a hooked answer, a held tombstone write), so a loaded machine changes no outcome.
import { TagResourceCommand } from '@aws-sdk/client-scheduler';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FaultConfig } from '../../scripts/emulator/faults.ts';
import type { SeedDefinition } from '../../scripts/emulator/scheduler.ts';
import { createSweepHandler, type SweepResponse, sweepSchedulerClient } from '../../src/handlers/sweep.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { PROTECTION_MAX_AGE_MS, protectNames } from '../../src/protect/protection.ts';
import { readSweepConfig } from '../../src/sweep/config.ts';
import { lostUpdates } from '../faults/races.ts';
import { ACCOUNT_ID, REGION, useTestEmulator } from '../support/emulator.ts';
import { scheduledEvent } from '../support/scheduled-event.ts';
import { createTombstoneTable, TOMBSTONE_TABLE, tombstoneMacKey } from '../support/tombstones.ts';
import { oneTime, recurring } from './fixtures.ts';

const env = useTestEmulator();
const NOW = new Date('2025-06-15T12:00:00Z');
const STATE_TABLE = 'schedule-hygiene-test-gate-findings-state';
const FINISHED_AT = '2025-06-01T00:00:00';

type Send = (command: unknown, options?: unknown) => Promise<unknown>;
type Client = { send: Send };

beforeEach(async () => {
  const { plane, services } = env.emulator;
  plane.faults.reset();
  plane.resetStats();
  plane.controls.latencyByOperation = {};
  plane.controls.latencyMs = 0;
  services.scheduler.reset();
  services.cloudwatch.reset();
  await services.dynamodb.reset();
  await createTombstoneTable(env);
  await services.dynamodb.createTable(STATE_TABLE, { hash: 'pk' });
  plane.setNow(NOW);
});

const opened: { destroy(): void }[] = [];
afterEach(() => {
  for (const client of opened.splice(0)) client.destroy();
});

/**
 * The handler as deployed, over the emulator: `settings` on top of the defaults (the state and
 * tombstone tables set). `wrap` may hook a client's send; the Scheduler client inside is the one
 * sweepSchedulerClient builds.
 */
function productionHandler(
  settings: Record<string, string> = {},
  wrap: { scheduler?: (client: Client) => Client; dynamodb?: (client: Client) => Client } = {},
) {
  const config = readSweepConfig({
    SWEEP_STATE_TABLE: STATE_TABLE,
    SWEEP_TOMBSTONE_TABLE: TOMBSTONE_TABLE,
    SWEEP_TOMBSTONE_MAC_KEY: tombstoneMacKey(env),
    ...settings,
  });
  const scheduler = sweepSchedulerClient(config, env.clientOptions);
  opened.push(scheduler);
  const log = createMemoryLogger();
  const handler = createSweepHandler({
    scheduler: (wrap.scheduler?.(scheduler as unknown as Client) ?? scheduler) as typeof scheduler,
    cloudwatch: env.cloudwatch,
    dynamodb: (wrap.dynamodb?.(env.dynamodb as unknown as Client) ?? env.dynamodb) as typeof env.dynamodb,
    kms: env.kms,
    config,
    clock: () => env.emulator.plane.now(),
    log,
  });
  return { handler: (event: unknown) => handler(event) as Promise<SweepResponse>, log, config };
}

/** A client whose send runs `hook` on each answer before the caller sees it. */
function onAnswer(client: Client, hook: (command: unknown, output: unknown) => Promise<void>): Client {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return async (command: unknown, options?: unknown) => {
        const output = await target.send(command, options);
        await hook(command, output);
        return output;
      };
    },
  });
}

/** A client whose send waits for `gate(command)` before the request is made. */
function beforeSend(client: Client, gate: (command: unknown) => Promise<void>): Client {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return async (command: unknown, options?: unknown) => {
        await gate(command);
        return target.send(command, options);
      };
    },
  });
}

const commandName = (command: unknown) =>
  (command as { constructor: { name: string } }).constructor.name.replace(/Command$/, '');
const inputOf = (command: unknown) => (command as { input: Record<string, unknown> }).input;

function appliedDeletes(): number {
  return env.emulator.plane.faults
    .applied()
    .filter((entry) => entry.actor === 'client' && entry.operation === 'DeleteSchedule' && entry.applied)
    .length;
}

function applicationUpdates(): number {
  return env.emulator.plane.faults.applied().filter((entry) => entry.actor === 'application').length;
}

function configure(faults: FaultConfig): void {
  env.emulator.plane.faults.configure({ seed: 16, record: true, ...faults });
}

/** An application update landing 310 ms after each GetSchedule the sweep gets answered. */
const UPDATE_310_MS_AFTER_EACH_READ = {
  action: 'update',
  service: 'scheduler',
  operation: 'GetSchedule',
  when: 'after',
  delayMs: 310,
} as const;

// The window asserted (test/faults/races.ts, lostUpdates): no delete removes an update that landed
// before the read the delete rests on, nor one that landed more than RACE_WINDOW_MS (RECHECK_AFTER_MS,
// 100 ms, plus 150 ms for the answer's and the delete's way through this one process) after that
// read's answer and before the delete arrived. An update 310 ms after a read is outside it unless
// the sweep read the schedule again since.
describe('finding 1: a delete never leaves after an update that landed while it waited', () => {
  it('SWEEP_CONCURRENCY=1 with ListSchedules pages of 2.5 s: no delete after the update 310 ms after its read', {
    timeout: 60_000,
  }, async () => {
    // Prepare: four pages (each next one read ahead while the sweep works), 70 finished schedules
    // around the end of the first; every ListSchedules page takes 2.5 s (a slow service, no fault),
    // and the application updates each schedule 310 ms after the sweep's read of it.
    const names = Array.from({ length: 320 }, (_, index) => `s-${String(index).padStart(3, '0')}`);
    const finished = names.slice(60, 130).map((name) => oneTime({ name, at: FINISHED_AT }));
    const live = [...names.slice(0, 60), ...names.slice(130)].map((name) => recurring(name, 'rate(1 day)'));
    env.emulator.services.scheduler.seed([...finished, ...live]);
    configure({
      rules: [{ kind: 'latency', service: 'scheduler', operation: 'ListSchedules', delayMs: 2_500 }],
      application: [UPDATE_310_MS_AFTER_EACH_READ],
    });
    const { handler } = productionHandler({ SWEEP_CONCURRENCY: '1' });

    // Act
    const result = await handler(scheduledEvent());
    await settle();

    // Assess: no schedule the application had updated was deleted after the update landed
    expect(result).toMatchObject({ status: 'finished' });
    expect(lostUpdates(env.emulator.plane.faults.applied())).toEqual([]);
    expect(appliedDeletes()).toBeGreaterThan(0);
    expect(applicationUpdates()).toBeGreaterThan(0);
    for (const definition of finished) expectUpdatedOrDeletedBeforeUpdate(definition);
  });

  it('default concurrency, a slow page and slow lookups of the neighbours filling the pool: no delete after the update', {
    timeout: 60_000,
  }, async () => {
    // Prepare: 150 finished schedules in two pages; each page takes 2.5 s, about half the lookups
    // take 3 s (seeded, the same ones every run), and the application updates each schedule 310 ms
    // after the sweep's read of it. The sweep's concurrency is its default (32).
    const finished = Array.from({ length: 150 }, (_, index) =>
      oneTime({ name: `finished-${String(index).padStart(3, '0')}`, at: FINISHED_AT }),
    );
    env.emulator.services.scheduler.seed(finished);
    configure({
      rules: [
        { kind: 'latency', service: 'scheduler', operation: 'ListSchedules', delayMs: 2_500 },
        { kind: 'latency', service: 'scheduler', operation: 'GetSchedule', probability: 0.5, delayMs: 3_000 },
      ],
      application: [UPDATE_310_MS_AFTER_EACH_READ],
    });
    const { handler, config } = productionHandler();
    expect(config.concurrency).toBe(32);

    // Act
    const result = await handler(scheduledEvent());
    await settle();

    // Assess
    expect(result).toMatchObject({ status: 'finished' });
    expect(lostUpdates(env.emulator.plane.faults.applied())).toEqual([]);
    // How many deletes leave within 310 ms of their read depends on the machine's timing (on a quiet
    // one every delete may beat its update, on a loaded one none may): the guarantee is that none
    // leaves after the update, so every finished schedule ends either deleted once or updated and
    // kept; the concurrency-1 case above shows deletes do happen.
    const present = finished.filter((definition) =>
      env.emulator.services.scheduler.has(definition.GroupName ?? 'default', definition.Name!),
    );
    expect(appliedDeletes() + present.length).toBe(finished.length);
    for (const definition of finished) expectUpdatedOrDeletedBeforeUpdate(definition);
  });
});

/** Each schedule is either gone (deleted before any update landed) or still there, updated. */
function expectUpdatedOrDeletedBeforeUpdate(definition: SeedDefinition): void {
  const now = env.emulator.services.scheduler.get(definition.GroupName ?? 'default', definition.Name!);
  if (now) expect(now.ScheduleExpression).not.toBe(definition.ScheduleExpression);
}

/** Until the emulator has answered everything and the application's delayed changes have landed. */
async function settle(): Promise<void> {
  const until = Date.now() + 5_000;
  while (env.emulator.plane.inFlight > 0 && Date.now() < until) await sleep(5);
  await sleep(UPDATE_310_MS_AFTER_EACH_READ.delayMs + 50);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('finding 2: a protection written while the sweep runs is honoured at the delete', () => {
  it('restore --keep protects a name after the sweep looked it up and before its delete: kept and counted protected', {
    timeout: 60_000,
  }, async () => {
    // Prepare: 'kept' is protected (protectNames, restore --keep's write) the moment its GetSchedule
    // is answered, before the sweep sees the answer: after its lookup, before its delete.
    const kept = oneTime({ name: 'kept', at: FINISHED_AT });
    const other = oneTime({ name: 'other', at: FINISHED_AT });
    env.emulator.services.scheduler.seed([kept, other]);
    configure({});
    let protectedNow = false;
    const { handler } = productionHandler(
      {},
      {
        scheduler: (client) =>
          onAnswer(client, async (command) => {
            if (commandName(command) !== 'GetSchedule' || inputOf(command).Name !== 'kept' || protectedNow)
              return;
            protectedNow = true;
            await protectNames(env.dynamodb, STATE_TABLE, 'default', ['kept']);
          }),
      },
    );

    // Act
    const result = await handler(scheduledEvent());

    // Assess
    expect(protectedNow).toBe(true);
    expect(env.emulator.services.scheduler.has('default', 'kept')).toBe(true);
    expect(env.emulator.services.scheduler.has('default', 'other')).toBe(false);
    expect(result).toMatchObject({ status: 'finished', deleted: 1, protected: 1 });
  });

  it('a protect tag added to the group while the sweep runs is honoured by a delete leaving more than PROTECTION_MAX_AGE_MS later', {
    timeout: 60_000,
  }, async () => {
    // The window that remains, by design: a tag written less than PROTECTION_MAX_AGE_MS (10 s)
    // before a delete leaves may be missed (the group's tags are read at most once per 10 s).
    // Here the tag lands after the sweep's lookup, and the tombstone write (which every delete
    // waits for) is held until PROTECTION_MAX_AGE_MS + 200 ms after the tag landed, on the same
    // monotonic clock the sweep uses: the delete cannot leave before then, so it must see the tag.
    // Prepare
    const group = 'orders';
    env.emulator.services.scheduler.createGroup(group);
    const kept = oneTime({ name: 'kept', group, at: FINISHED_AT });
    env.emulator.services.scheduler.seed([kept]);
    configure({});
    const tagger = sweepSchedulerClient(readSweepConfig({}), env.clientOptions);
    opened.push(tagger);
    let taggedAt: number | undefined;
    const { handler } = productionHandler(
      {},
      {
        scheduler: (client) =>
          onAnswer(client, async (command) => {
            if (commandName(command) !== 'GetSchedule' || taggedAt !== undefined) return;
            await tagger.send(
              new TagResourceCommand({
                ResourceArn: `arn:aws:scheduler:${REGION}:${ACCOUNT_ID}:schedule-group/${group}`,
                Tags: [{ Key: 'schedule-hygiene:protect', Value: 'true' }],
              }),
            );
            taggedAt = performance.now();
          }),
        dynamodb: (client) =>
          beforeSend(client, async (command) => {
            const items = inputOf(command).RequestItems as Record<string, unknown> | undefined;
            if (commandName(command) !== 'BatchWriteItem' || !items?.[TOMBSTONE_TABLE]) return;
            if (taggedAt === undefined) throw new Error('the tombstone was written before the tag landed');
            const until = taggedAt + PROTECTION_MAX_AGE_MS + 200;
            while (performance.now() < until) await sleep(Math.max(1, until - performance.now()));
          }),
      },
    );

    // Act
    const result = await handler(scheduledEvent());

    // Assess
    expect(taggedAt).toBeDefined();
    expect(env.emulator.services.scheduler.has(group, 'kept')).toBe(true);
    expect(appliedDeletes()).toBe(0);
    expect(result).toMatchObject({ status: 'finished', deleted: 0, protected: 1 });
  });
});
