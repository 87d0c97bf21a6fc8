// A schedule the application deleted itself is never brought back by restore: the application deletes
// it between the sweep's lookup and its delete, the delete is answered 404, the tombstone records
// `gone`, and `restore --run <id> --keep` leaves it alone (dry run and --apply), through the real
// sweep handler, the restore CLI and the real SDK against the emulator.
import { beforeEach, describe, expect, it } from 'vitest';
import type { SeedDefinition } from '../../scripts/emulator/scheduler.ts';
import { main } from '../../scripts/restore.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { useTestEmulator } from '../support/emulator.ts';
import {
  resetForTombstones,
  storedTombstones,
  TOMBSTONE_TABLE,
  tombstoneMacKey,
  tombstoneSweepHandler,
} from '../support/tombstones.ts';
import { oneTime } from '../sweep/fixtures.ts';

const env = useTestEmulator();
const STATE_TABLE = 'schedule-hygiene-test-restore-gone-state';
const NOW = new Date('2025-06-15T12:00:00Z');

beforeEach(() => resetForTombstones(env, STATE_TABLE, NOW));

const finished = (name: string): SeedDefinition =>
  oneTime({ name, at: '2025-06-01T09:00:00', zone: 'Europe/Paris', flexibleMinutes: 10 });

async function run(argv: string[]) {
  const out: string[] = [];
  const code = await main([...argv, '--table', TOMBSTONE_TABLE, '--state-table', STATE_TABLE], {
    env: { SWEEP_TOMBSTONE_MAC_KEY: tombstoneMacKey(env) },
    kms: env.kms,
    stdout: (text) => out.push(text),
    stderr: () => {},
    interactive: false,
    scheduler: env.scheduler,
    dynamodb: env.dynamodb,
    clock: () => env.emulator.plane.now(),
    sleep: async () => {},
  });
  const summary = JSON.parse(out.at(-1) ?? '{}') as Record<string, number | string>;
  return { code, out, summary };
}

describe('restore and a schedule the application deleted itself', () => {
  it('regression: deleted by the application just before the sweep’s delete (answered 404), it is left alone by restore --run --keep, dry run and --apply', async () => {
    // Prepare
    env.emulator.services.scheduler.seed([finished('raced'), finished('swept')]);
    env.emulator.plane.faults.configure({
      record: true,
      application: [
        { action: 'delete', service: 'scheduler', operation: 'DeleteSchedule', when: 'before', times: 1 },
      ],
    });
    const sweep = await tombstoneSweepHandler(env, {
      stateTable: STATE_TABLE,
      namespace: 'RestoreGoneTest',
      log: createMemoryLogger(),
    })({});
    const runId = String((sweep as { runId?: string }).runId);
    const outcomes = Object.fromEntries((await storedTombstones(env)).map((t) => [t.name, t.outcome]));
    // Which schedule's delete the application came before: the first the sweep sent.
    const [byApplication] = env.emulator.plane.faults
      .applied()
      .filter((entry) => entry.actor === 'application' && entry.operation === 'DeleteSchedule');
    env.emulator.plane.faults.reset();
    const raced = byApplication?.key.includes('/schedules/raced') ? 'raced' : 'swept';
    const swept = raced === 'raced' ? 'swept' : 'raced';

    // Act
    const dry = await run(['--run', runId, '--keep']);
    const applied = await run(['--run', runId, '--keep', '--apply', '--plan', String(dry.summary.plan)]);

    // Assess
    expect(byApplication?.key).toMatch(/\/schedules\/(raced|swept)\b/);
    expect(outcomes).toEqual({ [raced]: 'gone', [swept]: 'deleted' });
    expect(dry.out.find((line) => line.includes(`default/${raced} `))).toMatch(
      new RegExp(
        `^leftAlone +default/${raced}  outcome=gone  apply=nothing  .*why="its delete was answered 404: the schedule was deleted by someone else, not by the sweep; --include-not-deleted restores it"$`,
      ),
    );
    expect(dry.out.find((line) => line.includes(`default/${swept} `))).toMatch(/^wouldRestore /);
    expect(applied).toMatchObject({ code: 0, summary: { restored: 1, leftAlone: 1 } });
    expect(env.emulator.services.scheduler.has('default', raced)).toBe(false);
    expect(env.emulator.services.scheduler.has('default', swept)).toBe(true);
    const protectedItems = (await env.emulator.services.dynamodb.items(STATE_TABLE))
      .map((item) => JSON.stringify(item))
      .filter((text) => text.includes(raced));
    expect(protectedItems).toEqual([]);
  });
});
