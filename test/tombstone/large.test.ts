// A definition within Scheduler's limits whose tombstone would exceed DynamoDB's 400 KB item limit
// as JSON text is stored compressed, so no schedule is unsweepable for its size; restore's reader
// gets the same definition back, byte for byte.
import { beforeEach, describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../src/log.ts';
import { sweep } from '../../src/sweep/sweep.ts';
import { findTombstones } from '../../src/tombstone/query.ts';
import { sha256 } from '../../src/tombstone/store.ts';
import { HELD_ELAPSED, useTestEmulator } from '../support/emulator.ts';
import { createTombstoneTable, TOMBSTONE_TABLE, tombstoneStore } from '../support/tombstones.ts';
import { oneTime, sweepOptions } from '../sweep/fixtures.ts';

const env = useTestEmulator();
const NOW = new Date('2025-06-15T12:00:00Z');

beforeEach(async () => {
  env.emulator.services.scheduler.reset();
  await env.emulator.services.dynamodb.reset();
  await createTombstoneTable(env);
  env.emulator.plane.setNow(NOW);
});

describe('a definition too large for one item as text', () => {
  it('is tombstoned compressed and deleted, and reads back exactly', async () => {
    // Prepare: an Input of 250,000 quote characters (Scheduler allows 262,144), 500 KB once
    // escaped as JSON text inside the stored definition
    const input = '"'.repeat(250_000);
    const definition = { ...oneTime({ name: 'big', at: '2025-06-01T00:00:00' }) };
    definition.Target = { ...definition.Target!, Input: input };
    env.emulator.services.scheduler.seed([definition]);

    // Act
    const summary = await sweep(
      {
        scheduler: env.scheduler,
        cloudwatch: env.cloudwatch,
        clock: () => env.emulator.plane.now(),
        elapsed: HELD_ELAPSED,
        log: createMemoryLogger(),
        tombstones: tombstoneStore(env),
      },
      sweepOptions(),
    );

    // Assess
    expect(summary).toMatchObject({ deleted: 1, failed: 0 });
    const items = await env.emulator.services.dynamodb.items(TOMBSTONE_TABLE);
    const stored = items.find((item) => item.kind?.S === 'tombstone');
    expect(stored?.definition).toBeUndefined();
    expect(stored?.definitionGzip?.B).toBeDefined();
    const found = await findTombstones(
      env.dynamodb,
      TOMBSTONE_TABLE,
      { group: 'default', name: 'big' },
      () => NOW,
    ).next();
    expect(found.done).toBe(false);
    const tombstone = found.value!;
    expect(tombstone.sha256).toBe(sha256(tombstone.body));
    expect((JSON.parse(tombstone.body) as { Target: { Input: string } }).Target.Input).toBe(input);
  });
});
