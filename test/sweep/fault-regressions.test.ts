// Regressions from the fault review of the sweep's lease and exits, through the real handler, the real
// SDK clients (the DynamoDB client with the SDK's default retries, as deployed) and the emulator. Each
// fault strikes after the request took effect, or is a hard error; every test checks what was
// published, whether the lease is free, and what was logged.
import { beforeEach, describe, expect, it } from 'vitest';
import { createDynamoDbClient } from '../../src/aws/clients.ts';
import type { SweepResponse } from '../../src/handlers/sweep.ts';
import { LEASE_KEY } from '../../src/state/lease.ts';
import { useTestEmulator } from '../support/emulator.ts';
import { loseAnswers, onItem } from '../support/lost-answers.ts';
import {
  createStatefulHandler,
  driveChain,
  metricValues,
  mixedPopulation,
  pageBudget,
  resetServices,
  SCHEDULED_EVENT,
  STATE_TABLE,
  seed,
  takeHandOffs,
} from './resume-support.ts';

const now = new Date('2025-06-15T12:00:00Z');
const env = useTestEmulator();

beforeEach(() => resetServices(env, now));

const population = () => mixedPopulation(now, { default: 250, orders: 200 });
/** Every request's first answer lost: occurrences 1, 3, 5, … (each retry is the next occurrence). */
const everyFirstAnswer = Array.from({ length: 50 }, (_, index) => 2 * index + 1);

function leaseItem() {
  return env.emulator.services.dynamodb.items(STATE_TABLE).find((item) => item.pk?.S === LEASE_KEY);
}

function summaryOf(result: SweepResponse | undefined) {
  if (!result || !('scanned' in result)) throw new Error(`expected a summary, got ${JSON.stringify(result)}`);
  return result;
}

describe('sweep lease and exits under faults', () => {
  it('regression: a renew whose answer was lost is retried by the SDK and recognised; the chain sweeps on, published once, lease freed', async () => {
    // Prepare: every lease renew (hand-off and continuation fence) loses its first answer
    const { all, finished } = population();
    seed(env, all);
    const dynamodb = createDynamoDbClient(env.clientOptions);
    const faults = loseAnswers(dynamodb, [
      { command: 'UpdateItemCommand', occurrences: everyFirstAnswer, when: onItem(LEASE_KEY) },
    ]);
    const { handler } = createStatefulHandler(env, {}, { dynamodb });

    // Act
    const results = await driveChain(env, handler, SCHEDULED_EVENT, 2);

    // Assess
    expect(faults.lost()).toBeGreaterThanOrEqual(4);
    expect(results.map((result) => result.status)).not.toContain('superseded');
    expect(summaryOf(results.at(-1))).toMatchObject({
      status: 'finished',
      complete: true,
      deleted: finished.length,
    });
    expect(metricValues(env, 'SchedulesDeleted')).toEqual([finished.length]);
    expect(leaseItem()).toBeUndefined();
  });

  it('regression: the first acquire whose answer was lost sweeps, instead of reporting alreadyRunning with itself as holder', async () => {
    // Prepare
    const { all, finished } = population();
    seed(env, all);
    const dynamodb = createDynamoDbClient(env.clientOptions);
    const faults = loseAnswers(dynamodb, [
      { command: 'PutItemCommand', occurrences: [1], when: onItem(LEASE_KEY) },
    ]);
    const { handler } = createStatefulHandler(env, {}, { dynamodb });

    // Act
    const results = await driveChain(env, handler, SCHEDULED_EVENT);

    // Assess
    expect(faults.lost()).toBe(1);
    expect(summaryOf(results[0])).toMatchObject({
      status: 'finished',
      complete: true,
      deleted: finished.length,
    });
    expect(leaseItem()).toBeUndefined();
  });

  it('regression: a hard DynamoDB error on the renew before the hand-off publishes what was counted, frees the lease and logs why', async () => {
    // Prepare: every UpdateItem answers 500, the SDK's retries included
    const { all } = population();
    seed(env, all);
    env.emulator.plane.controls.errorRates = { UpdateItem: 1 };
    const { handler, log } = createStatefulHandler(env);

    // Act
    const result = summaryOf(await handler(SCHEDULED_EVENT, pageBudget(env, 2)));

    // Assess
    expect(result).toMatchObject({ status: 'finished', complete: false, handOffError: expect.any(String) });
    expect(result.deleted).toBeGreaterThan(0);
    expect(metricValues(env, 'SchedulesDeleted')).toEqual([result.deleted]);
    expect(metricValues(env, 'SweepsCompleted')).toEqual([0]);
    expect(takeHandOffs(env)).toEqual([]);
    expect(leaseItem()).toBeUndefined();
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'renewing the sweep lease before its hand-off failed; the sweep ends here',
      }),
    );
  });

  it("a hard DynamoDB error on a continuation's first renew publishes the totals carried so far, frees the lease and logs why", async () => {
    // Prepare: the first invocation hands on; then DynamoDB refuses every UpdateItem
    const { all } = population();
    seed(env, all);
    const { handler, log } = createStatefulHandler(env);
    const first = summaryOf(await handler(SCHEDULED_EVENT, pageBudget(env, 2)));
    const [continuation] = takeHandOffs(env);
    env.emulator.plane.controls.errorRates = { UpdateItem: 1 };

    // Act
    const result = summaryOf(await handler(continuation, pageBudget(env, 2)));

    // Assess
    expect(first.status).toBe('continuing');
    expect(result).toMatchObject({ status: 'finished', complete: false, deleted: first.deleted });
    expect(metricValues(env, 'SchedulesDeleted')).toEqual([first.deleted]);
    expect(leaseItem()).toBeUndefined();
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'renewing the sweep lease failed; the sweep ends here with the totals carried so far',
      }),
    );
  });
});
