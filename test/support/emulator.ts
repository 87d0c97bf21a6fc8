// Starts the emulator in-process on a free port and builds real SDK clients that talk to it over HTTP.
import { afterAll, beforeAll } from 'vitest';

import { type RunningEmulator, startEmulator } from '../../scripts/emulator/server.ts';
import {
  type ClientOptions,
  createCloudWatchClient,
  createDynamoDbClient,
  createKmsClient,
  createLambdaClient,
  createSchedulerClient,
  createServiceQuotasClient,
} from '../../src/aws/clients.ts';

export const ACCOUNT_ID = '123456789012';
export const REGION = 'us-east-1';

export async function startTestEmulator() {
  const emulator: RunningEmulator = await startEmulator();
  const clientOptions: ClientOptions = {
    endpoint: emulator.url,
    region: REGION,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  return {
    emulator,
    clientOptions,
    /** maxAttempts 1: the code under test owns retries. */
    scheduler: createSchedulerClient({ ...clientOptions, maxAttempts: 1 }),
    cloudwatch: createCloudWatchClient(clientOptions),
    serviceQuotas: createServiceQuotasClient(clientOptions),
    lambda: createLambdaClient(clientOptions),
    /** As the sweep handler builds them: the lean request path for the delete gate's batches and MACs. */
    dynamodb: createDynamoDbClient({ ...clientOptions, leanRequestPath: true }),
    kms: createKmsClient({ ...clientOptions, leanRequestPath: true }),
    close: () => emulator.close(),
  };
}

export type TestEmulator = Awaited<ReturnType<typeof startTestEmulator>>;

/**
 * One emulator for the whole test file: started before its first test, closed after its last.
 * Returns a stand-in that forwards to the running harness, so tests write `harness.scheduler`.
 */
export function useTestEmulator(): TestEmulator {
  let current: TestEmulator | undefined;
  beforeAll(async () => {
    current = await startTestEmulator();
  });
  afterAll(async () => {
    await current?.close();
  });
  return new Proxy({} as TestEmulator, {
    get(_target, property) {
      if (!current) throw new Error('The test emulator is used before beforeAll started it');
      return current[property as keyof TestEmulator];
    },
  });
}

/**
 * A clean emulator for a test of a run with a state table: Scheduler, CloudWatch, Lambda and DynamoDB
 * emptied, the state table `stateTable` (hash key `pk`) created, no faults, no error rates, no stats,
 * the clock at `now`.
 */
export async function resetWithStateTable(env: TestEmulator, stateTable: string, now: Date): Promise<void> {
  const { plane, services } = env.emulator;
  services.scheduler.reset();
  services.cloudwatch.reset();
  services.lambda.reset();
  await services.dynamodb.reset();
  await services.dynamodb.createTable(stateTable, { hash: 'pk' });
  plane.faults.reset();
  plane.controls.errorRates = {};
  plane.resetStats();
  plane.setNow(now);
}

/**
 * A monotonic clock that stands still, for SweepDeps.elapsed / SweepHandlerDeps.elapsed: the delete
 * gate's reads never age, so no delete waits on a re-read and a loaded machine (a slow event loop, a
 * slow in-process emulator) changes no outcome. For tests that are not about the gate's windows;
 * those (test/sweep/gate-findings.test.ts, test/faults, test/aws/departure.test.ts) keep the real clock.
 */
export const HELD_ELAPSED = (): number => 0;

/** The production clock (performance.now), for a test builder whose default is HELD_ELAPSED. */
export const REAL_ELAPSED = (): number => performance.now();
