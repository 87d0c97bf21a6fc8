// Shared by the resumable and incremental sweep tests: a sweep handler wired to the emulator's
// DynamoDB state table and Lambda, a Lambda context whose deadline arrives after a number of pages,
// the driver that plays Lambda by feeding each recorded self-invocation back to the handler, and a
// mixed population whose expected outcome is known.
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SeedDefinition } from '../../scripts/emulator/scheduler.ts';
import { createLambdaClient } from '../../src/aws/clients.ts';
import type { SweepResponse } from '../../src/handlers/sweep.ts';
import { createSweepHandler, type SweepInvocationContext } from '../../src/handlers/sweep.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { readSweepConfig } from '../../src/sweep/config.ts';
import type { TestEmulator } from '../support/emulator.ts';
import { HELD_ELAPSED } from '../support/emulator.ts';
import { scheduledEvent } from '../support/scheduled-event.ts';
import { resetForTombstones, TOMBSTONE_TABLE, tombstoneMacKey } from '../support/tombstones.ts';
import { oneTime, recurring } from './fixtures.ts';

export const STATE_TABLE = 'schedule-hygiene-test-sweep-state';
export const FUNCTION_NAME = 'schedule-hygiene-test-sweep';
export const NAMESPACE = 'ResumeTest';
export const SCHEDULED_EVENT = scheduledEvent();

/** Clears every emulated service the sweep touches and creates empty state and tombstone tables. */
export async function resetServices(env: TestEmulator, now: Date): Promise<void> {
  env.emulator.services.cloudformation.reset();
  await resetForTombstones(env, STATE_TABLE, now);
}

/**
 * The sweep handler with the state and tombstone tables, over the emulator. Its delete gate ages reads
 * by `timing.elapsed`: HELD_ELAPSED unless the test is about the gate's windows (then pass
 * `REAL_ELAPSED`).
 */
export function createStatefulHandler(
  env: TestEmulator,
  settings: Record<string, string> = {},
  clients: { dynamodb?: DynamoDBClient; cloudformation?: CloudFormationClient } = {},
  timing: { elapsed?: () => number } = {},
) {
  const log = createMemoryLogger();
  const handler = createSweepHandler({
    scheduler: env.scheduler,
    cloudwatch: env.cloudwatch,
    dynamodb: clients.dynamodb ?? env.dynamodb,
    // Without it, ownership is not checked (as the deployed function never is: it always has one).
    ...(clients.cloudformation ? { cloudformation: clients.cloudformation } : {}),
    kms: env.kms,
    // One attempt: a failed hand-off must show at once, not after the SDK's backoff.
    lambda: createLambdaClient({ ...env.clientOptions, maxAttempts: 1 }),
    config: readSweepConfig({
      SWEEP_STATE_TABLE: STATE_TABLE,
      SWEEP_TOMBSTONE_TABLE: TOMBSTONE_TABLE,
      SWEEP_TOMBSTONE_MAC_KEY: tombstoneMacKey(env),
      SWEEP_LIST_TPS: '1000',
      SWEEP_GET_TPS: '1000',
      SWEEP_DELETE_TPS: '1000',
      SWEEP_SAFETY_MARGIN_SECONDS: '5',
      METRICS_NAMESPACE: NAMESPACE,
      ...settings,
    }),
    clock: () => env.emulator.plane.now(),
    elapsed: timing.elapsed ?? HELD_ELAPSED,
    log,
  });
  return { handler, log };
}

export function calls(env: TestEmulator, operation: string): number {
  return env.emulator.plane.stats.get(operation)?.calls ?? 0;
}

/**
 * A Lambda context whose remaining time drops below any safety margin once this invocation has
 * worked on `pages` pages (unlimited when undefined): a deadline measured in work, not in seconds.
 * The handler asks for the remaining time twice before the sweep begins (its hard stop, its lease)
 * and then once before each page. Counting its questions, not ListSchedules requests, keeps this
 * exact while the sweep lists several pages ahead of the one it works on.
 */
export function pageBudget(_env: TestEmulator, pages?: number): SweepInvocationContext {
  let asked = 0;
  return {
    functionName: FUNCTION_NAME,
    getRemainingTimeInMillis: () => {
      asked += 1;
      return pages !== undefined && asked > 2 + pages ? 1_000 : 900_000;
    },
  };
}

/** Takes the self-invocations the handler made, checking each is an async call of its own function. */
export function takeHandOffs(env: TestEmulator): unknown[] {
  return env.emulator.services.lambda.takeInvocations().map((invocation) => {
    if (invocation.functionName !== FUNCTION_NAME || invocation.invocationType !== 'Event') {
      throw new Error(`unexpected invocation ${JSON.stringify(invocation)}`);
    }
    return invocation.payload;
  });
}

/** Plays Lambda: runs the handler, then every continuation it queued, until none is left. */
export async function driveChain(
  env: TestEmulator,
  handler: (event: unknown, context?: SweepInvocationContext) => Promise<SweepResponse>,
  event: unknown,
  pagesPerInvocation?: number,
): Promise<SweepResponse[]> {
  const results = [await handler(event, pageBudget(env, pagesPerInvocation))];
  for (let queued = takeHandOffs(env); queued.length > 0; queued = takeHandOffs(env)) {
    if (queued.length > 1) throw new Error(`one invocation queued ${queued.length} continuations`);
    results.push(await handler(queued[0], pageBudget(env, pagesPerInvocation)));
    if (results.length > 50) throw new Error('the chain does not end');
  }
  return results;
}

/** Values of a metric the emulated CloudWatch received (without dimensions unless `group` is given). */
export function metricValues(env: TestEmulator, name: string, group?: string): number[] {
  return env.emulator.services.cloudwatch
    .datums({ namespace: NAMESPACE, metricName: name })
    .filter((datum) =>
      group === undefined ? datum.dimensions.length === 0 : datum.dimensions[0]?.Value === group,
    )
    .flatMap((datum) => datum.values);
}

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** A mixed population over groups, each schedule labelled with what a sweep at `now` must do with it. */
export function mixedPopulation(now: Date, sizes: Record<string, number>) {
  const wall = (offsetMs: number) => new Date(now.getTime() + offsetMs).toISOString().slice(0, 19);
  const finished: SeedDefinition[] = [];
  const kept: SeedDefinition[] = [];
  /** Pending, and finished once the clock passes `now` + 2 days (24 h retry window, 60 min grace). */
  const dueInTwoDays: SeedDefinition[] = [];
  // In listing order: finished and kept schedules interleave on every page.
  const all: SeedDefinition[] = [];
  for (const [group, size] of Object.entries(sizes)) {
    for (let index = 0; index < size; index += 1) {
      const name = `${group}-${String(index).padStart(4, '0')}`;
      switch (index % 6) {
        case 0:
        case 1:
          finished.push(oneTime({ name, group, at: wall(-5 * DAY) }));
          break;
        case 2:
          kept.push(oneTime({ name, group, at: wall(30 * DAY) }));
          break;
        case 3: {
          const schedule = oneTime({ name, group, at: wall(22 * HOUR) });
          kept.push(schedule);
          dueInTwoDays.push(schedule);
          break;
        }
        case 4:
          kept.push(recurring(name, 'rate(5 minutes)', group));
          break;
        default:
          kept.push(oneTime({ name, group, at: wall(-5 * DAY), zone: 'Mars/Olympus_Mons' }));
      }
      all.push((index % 6 < 2 ? finished : kept).at(-1) as SeedDefinition);
    }
  }
  return { finished, kept, dueInTwoDays, all };
}

export function seed(env: TestEmulator, definitions: SeedDefinition[]): void {
  const groups = new Set(definitions.map((definition) => definition.GroupName ?? 'default'));
  for (const group of groups) if (group !== 'default') env.emulator.services.scheduler.createGroup(group);
  env.emulator.services.scheduler.seed(definitions, { allowUnknownZones: true });
}
