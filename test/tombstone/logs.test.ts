// No log line of any function holds any part of a target's input. A canary secret sits in the input of
// finished, skipped, KMS-protected and failing schedules; every line the sweep (dry run, real run,
// skips, errors), the census, the create and target functions and the restore CLI write is checked,
// as the logger writes it, for any 8-character piece of the canary.
import { beforeEach, describe, expect, it } from 'vitest';
import type { SeedDefinition } from '../../scripts/emulator/scheduler.ts';
import { main as restoreMain } from '../../scripts/restore.ts';
import { readCensusConfig } from '../../src/census/config.ts';
import { createCensusHandler } from '../../src/handlers/census.ts';
import { createCreateHandler } from '../../src/handlers/create.ts';
import { createTargetHandler } from '../../src/handlers/target.ts';
import { createLogger } from '../../src/log.ts';
import { ACCOUNT_ID, REGION, useTestEmulator } from '../support/emulator.ts';
import {
  resetForTombstones,
  TOMBSTONE_TABLE,
  tombstoneMacKey,
  tombstoneSweepHandler,
} from '../support/tombstones.ts';
import { oneTime } from '../sweep/fixtures.ts';

const env = useTestEmulator();
const STATE_TABLE = 'schedule-hygiene-test-logs-state';
const CANARY = 'CANARY-sk_live_51Hx9QpL7v2TfKq8ZrW3yN0dMbE6uJcA';
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const ROLE_ARN = `arn:aws:iam::${ACCOUNT_ID}:role/scheduler-execution`;
const TARGET_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:orders`;

/** Every line written, as the logger wrote it (JSON text). */
const written: string[] = [];
const logger = () => createLogger((line) => written.push(line));

beforeEach(async () => {
  written.length = 0;
  await resetForTombstones(env, STATE_TABLE, new Date('2025-06-15T12:00:00Z'));
});

const withCanary = (definition: SeedDefinition): SeedDefinition => ({
  ...definition,
  Target: {
    ...definition.Target,
    Arn: TARGET_ARN,
    RoleArn: ROLE_ARN,
    Input: JSON.stringify({ apiKey: CANARY, note: `order for ${CANARY}` }),
  },
});

/** Any 8-character piece of the canary found in the text, or undefined. */
function leak(text: string): string | undefined {
  for (let start = 0; start + 8 <= CANARY.length; start += 1) {
    const piece = CANARY.slice(start, start + 8);
    if (text.includes(piece)) return piece;
  }
  return undefined;
}

function sweepHandler() {
  return tombstoneSweepHandler(env, { stateTable: STATE_TABLE, namespace: 'LogsTest', log: logger() });
}

function seedAccount() {
  env.emulator.services.scheduler.seed(
    [
      withCanary(oneTime({ name: 'finished-1', at: '2025-06-01T09:00:00' })),
      withCanary(oneTime({ name: 'finished-2', at: '2025-06-01T09:00:00' })),
      withCanary(oneTime({ name: 'finished-3', at: '2025-06-01T09:00:00' })),
      withCanary(oneTime({ name: 'odd-zone', at: '2025-06-01T09:00:00', zone: 'Atlantis/Lost_City' })),
      { ...withCanary(oneTime({ name: 'sealed', at: '2025-06-01T09:00:00' })), KmsKeyArn: KEY_ARN },
    ],
    { allowUnknownZones: true },
  );
  env.emulator.services.scheduler.denyKmsKeys([KEY_ARN]);
}

describe('no customer data in logs', () => {
  it('holds across the sweep: dry run, skips, KMS denials, failed lookups, deletes and tombstone writes, real run', async () => {
    // Prepare
    seedAccount();
    const handle = sweepHandler();

    // Act: a dry run; a run whose lookups, deletes and tombstone writes fail; then a clean real run
    await handle({ dryRun: true });
    env.emulator.plane.faults.configure({
      seed: 3,
      rules: [
        { kind: 'error', service: 'scheduler', operation: 'GetSchedule', probability: 0.3 },
        { kind: 'error', service: 'scheduler', operation: 'DeleteSchedule', probability: 0.5 },
        { kind: 'error-after', service: 'dynamodb', operation: 'BatchWriteItem', probability: 0.5 },
      ],
    });
    await handle({ fullLookup: true });
    env.emulator.plane.faults.reset();
    env.emulator.plane.controls.errorRates = { ListSchedules: 1 };
    await handle({}).catch(() => undefined);
    env.emulator.plane.controls.errorRates = {};
    await handle({ fullLookup: true });

    // Assess
    const lines = written.map(
      (line) => JSON.parse(line) as { message: string; action?: string; outcome?: string },
    );
    expect(lines).toContainEqual(expect.objectContaining({ message: 'tombstone', action: 'wouldDelete' }));
    expect(lines).toContainEqual(expect.objectContaining({ message: 'tombstone', action: 'deleting' }));
    expect(lines).toContainEqual(
      expect.objectContaining({ message: 'tombstone outcome', outcome: 'deleted' }),
    );
    expect(lines).toContainEqual(expect.objectContaining({ message: 'schedule skipped' }));
    expect(written.some((line) => line.includes('kmsAccessDenied'))).toBe(true);
    expect(written.filter(leak)).toEqual([]);
    expect(written.length).toBeGreaterThan(10);
  });

  it('holds for the census, the create path (created and refused), the target and the restore CLI', async () => {
    // Prepare
    seedAccount();
    await sweepHandler()({});
    const census = createCensusHandler({
      scheduler: env.scheduler,
      serviceQuotas: env.serviceQuotas,
      cloudwatch: env.cloudwatch,
      config: readCensusConfig({ CENSUS_LIST_TPS: '1000' }),
      clock: () => env.emulator.plane.now(),
      log: logger(),
    });
    env.emulator.services.scheduler.createGroup('hygiene');
    const create = createCreateHandler({
      scheduler: env.scheduler,
      clock: () => env.emulator.plane.now(),
      defaults: { groupName: 'hygiene', roleArn: ROLE_ARN },
      log: logger(),
    });
    const target = createTargetHandler(logger());
    const output: string[] = [];

    // Act
    await census({});
    const request = {
      at: '2025-07-01T09:00:00',
      timezone: 'UTC',
      targetArn: TARGET_ARN,
      idempotencyKey: 'k1',
    };
    await create({ ...request, input: { apiKey: CANARY } });
    await create({ ...request, input: { apiKey: `${CANARY}-changed` } }).catch(() => undefined);
    await create({ ...request, idempotencyKey: 'k2', input: CANARY.repeat(6000) }).catch(() => undefined);
    await target({ apiKey: CANARY });
    // The restore CLI's two steps: the dry run (the plan), then --apply with its digest.
    const plan = () => (JSON.parse(output.at(-1) ?? '{}') as { plan?: string }).plan ?? '';
    for (const argv of [['--group', 'default'], ['--group', 'default', '--keep'], 'apply']) {
      const args = argv === 'apply' ? ['--group', 'default', '--keep', '--apply', '--plan', plan()] : argv;
      await restoreMain([...args, '--table', TOMBSTONE_TABLE, '--state-table', STATE_TABLE], {
        env: { SWEEP_TOMBSTONE_MAC_KEY: tombstoneMacKey(env) },
        kms: env.kms,
        stdout: (text) => output.push(text),
        stderr: (text) => output.push(text),
        interactive: false,
        scheduler: env.scheduler,
        dynamodb: env.dynamodb,
        clock: () => env.emulator.plane.now(),
        sleep: async () => {},
      });
    }

    // Assess
    const messages = written.map((line) => (JSON.parse(line) as { message: string }).message);
    expect(messages).toEqual(
      expect.arrayContaining(['schedule created', 'schedule not created', 'target invoked']),
    );
    expect(output.some((line) => line.startsWith('restored'))).toBe(true);
    expect(written.filter(leak)).toEqual([]);
    expect(output.filter(leak)).toEqual([]);
  });
});
