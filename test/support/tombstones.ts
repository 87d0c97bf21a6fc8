// The tombstone table in the test emulator, and the real DynamoDB tombstone store over HTTP.
import type { KMSClient } from '@aws-sdk/client-kms';
import { createLambdaClient } from '../../src/aws/clients.ts';
import { createSweepHandler, type SweepResponse } from '../../src/handlers/sweep.ts';
import type { Logger } from '../../src/log.ts';
import { readSweepConfig } from '../../src/sweep/config.ts';
import { tableArnFor } from '../../src/tombstone/origin.ts';
import {
  createDynamoTombstoneStore,
  type TombstoneEntry,
  type TombstoneWriter,
} from '../../src/tombstone/store.ts';
import { ACCOUNT_ID, HELD_ELAPSED, REGION, resetWithStateTable, type TestEmulator } from './emulator.ts';

export const TOMBSTONE_TABLE = 'schedule-hygiene-test-tombstones';

const macKeys = new WeakMap<object, string>();

/**
 * The tombstone MAC key (HMAC_256) of the emulator's default account and Region, created on first
 * use, one per emulator: what the stack's TombstoneMacKey is to a deployed sweep.
 */
export function tombstoneMacKey(env: TestEmulator): string {
  const kms = env.emulator.services.kms;
  let key = macKeys.get(kms);
  if (!key) {
    key = kms.createHmacKey(ACCOUNT_ID, REGION, 'tombstone MAC key');
    macKeys.set(kms, key);
  }
  return key;
}

/** Creates the (empty) tombstone table unless it exists; its key schema is the deployed one. */
export async function createTombstoneTable(env: TestEmulator, name = TOMBSTONE_TABLE): Promise<void> {
  try {
    await env.emulator.services.dynamodb.createTable(name, { hash: 'pk', range: 'sk' });
  } catch (error) {
    const type = (error as { type?: string; name?: string }).type ?? (error as { name?: string }).name;
    if (type !== 'ResourceInUseException') throw error;
  }
}

/** resetWithStateTable (support/emulator.ts), and the tombstone table created: for a tombstone, restore or sweep test. */
export async function resetForTombstones(env: TestEmulator, stateTable: string, now: Date): Promise<void> {
  await resetWithStateTable(env, stateTable, now);
  await createTombstoneTable(env);
}

/** The real store writing to the emulator's tombstone table (create the table first). */
export function tombstoneStore(env: TestEmulator, name = TOMBSTONE_TABLE): TombstoneWriter {
  return createDynamoTombstoneStore(env.dynamodb, {
    tableName: name,
    mac: { kms: env.kms, keyId: tombstoneMacKey(env) },
    tableArn: tableArnFor(tombstoneMacKey(env), name),
    clock: () => env.emulator.plane.now(),
  });
}

/**
 * The real sweep handler wired to the emulator with the state and tombstone tables, at 1,000
 * requests/s per operation; `settings` adds or overrides sweep environment values.
 */
export function tombstoneSweepHandler(
  env: TestEmulator,
  options: {
    stateTable: string;
    namespace: string;
    log: Logger;
    settings?: Record<string, string>;
    /** The KMS client the sweep MACs with (default: the harness's, the account's root). */
    kms?: KMSClient;
    /**
     * How the delete gate ages its reads. Default HELD_ELAPSED: never, so a loaded machine changes no
     * outcome (docs/development.md, "Timing in tests"); REAL_ELAPSED for a test of the gate's windows.
     */
    elapsed?: () => number;
  },
): (event: unknown) => Promise<SweepResponse> {
  const handle = createSweepHandler({
    scheduler: env.scheduler,
    cloudwatch: env.cloudwatch,
    dynamodb: env.dynamodb,
    kms: options.kms ?? env.kms,
    lambda: createLambdaClient({ ...env.clientOptions, maxAttempts: 1 }),
    config: readSweepConfig({
      SWEEP_STATE_TABLE: options.stateTable,
      SWEEP_TOMBSTONE_TABLE: TOMBSTONE_TABLE,
      SWEEP_TOMBSTONE_MAC_KEY: tombstoneMacKey(env),
      SWEEP_LIST_TPS: '1000',
      SWEEP_GET_TPS: '1000',
      SWEEP_DELETE_TPS: '1000',
      METRICS_NAMESPACE: options.namespace,
      ...options.settings,
    }),
    clock: () => env.emulator.plane.now(),
    log: options.log,
    elapsed: options.elapsed ?? HELD_ELAPSED,
  });
  return handle as (event: unknown) => Promise<SweepResponse>;
}

/** Tombstone items (not pointers) in the table, parsed. */
export async function storedTombstones(env: TestEmulator, name = TOMBSTONE_TABLE) {
  return (await env.emulator.services.dynamodb.items(name))
    .filter((item) => item.kind?.S === 'tombstone')
    .map((item) => ({
      key: `${item.pk?.S}|${item.sk?.S}`,
      group: item.group?.S,
      name: item.name?.S,
      outcome: item.outcome?.S,
      sha256: item.sha256?.S,
      definition: JSON.parse(item.definition?.S ?? '{}') as Record<string, unknown>,
    }));
}

/** An in-memory store for unit tests with a fake Scheduler: what was written, and each outcome. */
export function memoryTombstones(): TombstoneWriter & {
  written: TombstoneEntry[];
  outcomes: Map<string, string>;
} {
  const written: TombstoneEntry[] = [];
  const outcomes = new Map<string, string>();
  return {
    written,
    outcomes,
    async write(entry) {
      written.push(entry);
      const key = `${entry.definition.GroupName}|${entry.definition.Name}`;
      outcomes.set(key, 'pending');
      return { key };
    },
    settle(receipt, outcome) {
      outcomes.set(receipt.key, outcome);
    },
    async flush() {},
  };
}
