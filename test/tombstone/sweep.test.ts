// The sweep's delete path with the tombstone store, protection and KMS-encrypted schedules, through
// the real SDK against the emulator: no tombstone, no delete (faults before and after DynamoDB
// applies a write), outcomes recorded, protected groups and prefixes never looked up, and a schedule
// whose key the sweeper may not use kept, counted and remembered.
import { TagResourceCommand } from '@aws-sdk/client-scheduler';
import { beforeEach, describe, expect, it } from 'vitest';
import type { SeedDefinition } from '../../scripts/emulator/scheduler.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { sweep } from '../../src/sweep/sweep.ts';
import { sha256 } from '../../src/tombstone/store.ts';
import { ACCOUNT_ID, HELD_ELAPSED, REGION, useTestEmulator } from '../support/emulator.ts';
import {
  resetForTombstones,
  storedTombstones,
  tombstoneStore,
  tombstoneSweepHandler,
} from '../support/tombstones.ts';
import { oneTime, sweepOptions } from '../sweep/fixtures.ts';

const env = useTestEmulator();
const NOW = new Date('2025-06-15T12:00:00Z');
const STATE_TABLE = 'schedule-hygiene-test-state';
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

beforeEach(() => resetForTombstones(env, STATE_TABLE, NOW));

const finished = (name: string, group = 'default') => oneTime({ name, group, at: '2025-06-01T09:00:00' });

function seed(definitions: SeedDefinition[], groups: string[] = []) {
  for (const group of groups) env.emulator.services.scheduler.createGroup(group);
  env.emulator.services.scheduler.seed(definitions, { allowUnknownZones: true });
}

const present = (definition: SeedDefinition) =>
  env.emulator.services.scheduler.has(definition.GroupName ?? 'default', definition.Name ?? '');

function handler(settings: Record<string, string> = {}) {
  const log = createMemoryLogger();
  const handle = tombstoneSweepHandler(env, {
    stateTable: STATE_TABLE,
    namespace: 'TombstoneTest',
    log,
    settings,
  });
  return { handle, log };
}

/** Names whose GetSchedule reached the emulator (from its applied-operations record). */
/**
 * The names the sweep read with GetSchedule, each once and sorted: a delete that waited more than
 * 100 ms after its lookup (a loaded machine) reads its schedule again, which is not a second name.
 */
function lookedUp(): string[] {
  const names = env.emulator.plane.faults
    .applied()
    .filter((entry) => entry.operation === 'GetSchedule')
    .map((entry) => decodeURIComponent(entry.key.split('/schedules/')[1]?.split(/[?\s]/)[0] ?? ''));
  return [...new Set(names)].sort();
}

describe('tombstones in the delete path', () => {
  it('stores every deleted schedule before its delete, with its fingerprint, and records it deleted', async () => {
    // Prepare
    const schedules = ['a', 'b', 'c', 'd', 'e'].map((name) => finished(name));
    seed(schedules);
    env.emulator.plane.faults.configure({ record: true });
    const definitions = schedules.map((schedule) =>
      env.emulator.services.scheduler.get('default', schedule.Name!),
    );

    // Act
    const summary = await handler().handle({});

    // Assess
    expect(summary).toMatchObject({ status: 'finished', deleted: 5, failed: 0 });
    const stored = await storedTombstones(env);
    expect(stored.map((tombstone) => tombstone.name).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    for (const tombstone of stored) {
      expect(tombstone.outcome).toBe('deleted');
      const original = definitions.find((definition) => definition?.Name === tombstone.name);
      expect(tombstone.definition).toEqual(JSON.parse(JSON.stringify(original)));
      expect(tombstone.sha256).toBe(sha256(JSON.stringify(tombstone.definition)));
    }
    // Each delete was sent after the batch holding its tombstone was applied.
    const applied = env.emulator.plane.faults.applied();
    const firstDelete = applied.find((entry) => entry.operation === 'DeleteSchedule');
    const firstWrite = applied.find((entry) => entry.operation === 'BatchWriteItem');
    expect(firstWrite).toBeDefined();
    expect(firstDelete!.seq).toBeGreaterThan(firstWrite!.seq);
  });

  it.each([
    ['refused before DynamoDB applies it', 'error'],
    ['applied, then answered with a 500', 'error-after'],
    ['applied, then its answer lost', 'reset'],
  ] as const)('deletes nothing when every tombstone write fails (%s)', async (_label, kind) => {
    // Prepare
    const schedules = ['a', 'b', 'c'].map((name) => finished(name));
    seed(schedules);
    env.emulator.plane.faults.configure({
      rules: [{ kind, service: 'dynamodb', operation: 'BatchWriteItem' }],
    });

    // Act
    const { handle, log } = handler();
    const summary = await handle({});

    // Assess
    expect(summary).toMatchObject({ deleted: 0, failed: 3 });
    expect(schedules.every(present)).toBe(true);
    expect(env.emulator.plane.stats.get('DeleteSchedule')?.calls ?? 0).toBe(0);
    expect(
      log.lines.filter((line) => line.message === 'writing the tombstone failed; schedule kept'),
    ).toHaveLength(3);
    // A tombstone the store may have applied never claims a deletion.
    expect((await storedTombstones(env)).every((tombstone) => tombstone.outcome === 'pending')).toBe(true);
  });

  it('deletes only schedules whose tombstone is stored when the store fails at random (seeded)', async () => {
    // Prepare
    const schedules = Array.from({ length: 60 }, (_, index) =>
      finished(`s${String(index).padStart(2, '0')}`),
    );
    seed(schedules);
    env.emulator.plane.faults.configure({
      seed: 12,
      rules: [
        { kind: 'error', service: 'dynamodb', operation: 'BatchWriteItem', probability: 0.3 },
        { kind: 'error-after', service: 'dynamodb', operation: 'BatchWriteItem', probability: 0.3 },
      ],
    });

    // Act
    const summary = await handler().handle({});

    // Assess
    const deleted = env.emulator.services.scheduler.deletedNames().map((name) => name.split('/')[1]);
    const stored = new Set((await storedTombstones(env)).map((tombstone) => tombstone.name));
    expect(deleted.length).toBeGreaterThan(0);
    expect(summary).toMatchObject({ deleted: deleted.length, failed: 60 - deleted.length });
    expect(deleted.filter((name) => !stored.has(name))).toEqual([]);
    for (const tombstone of await storedTombstones(env)) {
      expect(tombstone.outcome).toBe(deleted.includes(tombstone.name ?? '') ? 'deleted' : 'pending');
    }
  });

  it('records outcome unknown when a delete was sent but its answer was an error', async () => {
    // Prepare
    seed([finished('doomed')]);
    env.emulator.plane.faults.configure({
      rules: [{ kind: 'error', service: 'scheduler', operation: 'DeleteSchedule' }],
    });

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
      sweepOptions({ budgetTuning: { baseDelayMs: 1, maxDelayMs: 2, maxErrorAttempts: 1 } }),
    );

    // Assess
    expect(summary).toMatchObject({ deleted: 0, failed: 1 });
    expect((await storedTombstones(env)).map((tombstone) => tombstone.outcome)).toEqual(['unknown']);
    expect(present(finished('doomed'))).toBe(true);
  });

  it('refuses a real sweep without a tombstone store before any request', async () => {
    seed([finished('kept')]);

    const run = sweep(
      { scheduler: env.scheduler, cloudwatch: env.cloudwatch, clock: () => NOW, log: createMemoryLogger() },
      sweepOptions(),
    );

    await expect(run).rejects.toThrow(/needs a tombstone store/);
    expect(env.emulator.plane.stats.get('ListSchedules')?.calls ?? 0).toBe(0);
  });
});

describe('protection', () => {
  it('never looks up or deletes the schedules of a group tagged schedule-hygiene:protect=true, and counts them', async () => {
    // Prepare
    const guarded = ['g1', 'g2', 'g3'].map((name) => finished(name, 'guarded'));
    const open = ['o1', 'o2'].map((name) => finished(name, 'open'));
    seed([...guarded, ...open], ['guarded', 'open']);
    await env.scheduler.send(
      new TagResourceCommand({
        ResourceArn: `arn:aws:scheduler:${REGION}:${ACCOUNT_ID}:schedule-group/guarded`,
        Tags: [{ Key: 'schedule-hygiene:protect', Value: 'true' }],
      }),
    );
    env.emulator.plane.faults.configure({ record: true });

    // Act
    const summary = await handler().handle({});

    // Assess
    expect(summary).toMatchObject({ deleted: 2, protected: 3, failed: 0 });
    expect(guarded.every(present)).toBe(true);
    expect(lookedUp()).toEqual(['o1', 'o2']);
    // Tags are read once per group per sweep.
    const tagReads = env.emulator.plane.faults
      .applied()
      .filter((entry) => entry.operation === 'ListTagsForResource');
    expect(tagReads).toHaveLength(2);
    const datums = env.emulator.services.cloudwatch.datums({ metricName: 'ProtectedSchedules' });
    expect(datums.at(-1)?.values).toEqual([3]);
  });

  it('never looks up or deletes schedules under a protected prefix, from the configuration or the payload', async () => {
    // Prepare
    const schedules = ['audit-1', 'audit-2', 'legal-1', 'plain-1'].map((name) => finished(name));
    seed(schedules);
    env.emulator.plane.faults.configure({ record: true });

    // Act
    const summary = await handler({ SWEEP_PROTECT_PREFIXES: 'audit-' }).handle({
      protectPrefixes: ['legal-'],
    });

    // Assess
    expect(summary).toMatchObject({ deleted: 1, protected: 3 });
    expect(schedules.map(present)).toEqual([true, true, true, false]);
    expect(lookedUp()).toEqual(['plain-1']);
  });

  it('keeps a group whose tags cannot be read, counting its schedules as skipped', async () => {
    // Prepare
    const schedules = ['x', 'y'].map((name) => finished(name));
    seed(schedules);
    env.emulator.plane.faults.configure({
      rules: [{ kind: 'error', service: 'scheduler', operation: 'ListTagsForResource' }],
    });

    // Act
    const summary = await handler().handle({});

    // Assess
    expect(summary).toMatchObject({ deleted: 0, failed: 0 });
    expect((summary as { skipped: Record<string, number> }).skipped.protectionUnknown).toBe(2);
    expect(schedules.every(present)).toBe(true);
  });

  it.each([
    ['a value it does not understand', 'schedule-hygiene:protect', 'yes'],
    ['a value with a space', 'schedule-hygiene:protect', ' true'],
    ['a number for true', 'schedule-hygiene:protect', '1'],
    ['the key in another case', 'Schedule-Hygiene:Protect', 'true'],
  ])(
    'keeps a group whose protection tag has %s, counting its schedules as skipped and saying why',
    async (_label, key, value) => {
      // Prepare
      const guarded = ['g1', 'g2'].map((name) => finished(name, 'guarded'));
      const open = [finished('o1', 'open')];
      seed([...guarded, ...open], ['guarded', 'open']);
      await env.scheduler.send(
        new TagResourceCommand({
          ResourceArn: `arn:aws:scheduler:${REGION}:${ACCOUNT_ID}:schedule-group/guarded`,
          Tags: [{ Key: key, Value: value }],
        }),
      );
      const { handle, log } = handler();

      // Act
      const summary = await handle({});

      // Assess
      expect(summary).toMatchObject({ deleted: 1, failed: 0 });
      expect((summary as { skipped: Record<string, number> }).skipped.protectionUnknown).toBe(2);
      expect(guarded.every(present)).toBe(true);
      expect(log.lines).toContainEqual(
        expect.objectContaining({
          level: 'error',
          message: "the group's protection tag is not understood; the group is kept this sweep",
          group: 'guarded',
          tagKey: key,
          expected: 'schedule-hygiene:protect = true or false',
        }),
      );
    },
  );

  it('sweeps a group whose protection tag says false', async () => {
    const schedules = ['f1', 'f2'].map((name) => finished(name, 'unguarded'));
    seed(schedules, ['unguarded']);
    await env.scheduler.send(
      new TagResourceCommand({
        ResourceArn: `arn:aws:scheduler:${REGION}:${ACCOUNT_ID}:schedule-group/unguarded`,
        Tags: [{ Key: 'schedule-hygiene:protect', Value: 'false' }],
      }),
    );

    const summary = await handler().handle({});

    expect(summary).toMatchObject({ deleted: 2, failed: 0 });
  });

  it('rejects a malformed protectPrefixes payload by name before any request', async () => {
    await expect(handler().handle({ protectPrefixes: ['ok', 'bad prefix'] })).rejects.toThrow(
      /Invalid protectPrefixes\[1\]: expected a schedule name prefix/,
    );
    expect(env.emulator.plane.stats.get('ListSchedules')?.calls ?? 0).toBe(0);
  });
});

describe('schedules encrypted with a KMS key the sweeper may not use', () => {
  it('are kept, counted as kmsAccessDenied (not failed), published, and not looked up again while unchanged', async () => {
    // Prepare
    const encrypted = { ...finished('sealed'), KmsKeyArn: KEY_ARN };
    seed([encrypted, finished('plain')]);
    env.emulator.services.scheduler.denyKmsKeys([KEY_ARN]);

    // Act
    const first = await handler().handle({});
    env.emulator.plane.faults.configure({ record: true });
    const second = await handler().handle({});

    // Assess
    expect(first).toMatchObject({ deleted: 1, failed: 0 });
    expect((first as { skipped: Record<string, number> }).skipped.kmsAccessDenied).toBe(1);
    expect(present(encrypted)).toBe(true);
    expect((await storedTombstones(env)).map((tombstone) => tombstone.name)).toEqual(['plain']);
    const datums = env.emulator.services.cloudwatch.datums({ metricName: 'KmsAccessDenied' });
    expect(datums[0]?.values).toEqual([1]);
    // Remembered: the second sweep answers it from memory.
    expect(second).toMatchObject({ failed: 0, recalled: 1 });
    expect(lookedUp()).toEqual([]);
  });
});
