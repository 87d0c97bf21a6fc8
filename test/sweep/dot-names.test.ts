// Schedules named '.' or '..' (the API model's name pattern allows both): a name is a path label
// (GET/DELETE /schedules/{Name}), and a dot segment is what URL parsers and SigV4 remove from a path.
// The documented choice (docs/emulator.md, docs/guarantees.md): the sweep sends the label as the SDK
// writes it, the emulator routes the label as sent, and a lookup such a name gets a 404 for is kept
// and counted `unaddressableName`, never `alreadyGone`. Through the real SDK against the emulator.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SeedDefinition } from '../../scripts/emulator/scheduler.ts';
import { main } from '../../scripts/restore.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { type TestEmulator, useTestEmulator } from '../support/emulator.ts';
import { type Front, startFront } from '../support/front.ts';
import {
  resetForTombstones,
  storedTombstones,
  TOMBSTONE_TABLE,
  tombstoneMacKey,
  tombstoneSweepHandler,
} from '../support/tombstones.ts';
import { oneTime } from './fixtures.ts';

const env = useTestEmulator();
const NOW = new Date('2025-06-15T12:00:00Z');
const STATE_TABLE = 'schedule-hygiene-test-dot-state';
const DOT_NAMES = ['.', '..', '...', '.a', 'a..', '..b'];

beforeEach(() => resetForTombstones(env, STATE_TABLE, NOW));

const finished = (name: string, group: string): SeedDefinition =>
  oneTime({ name, group, at: '2025-06-01T09:00:00' });

const present = (group: string, name: string) => env.emulator.services.scheduler.has(group, name);

/**
 * A front between the SDK and the emulator that reads each request's path as a URL parser does, so
 * `/schedules/..` reaches the emulator as `/`: one way AWS might treat a dot segment (undocumented).
 */
let front: Front;
beforeAll(async () => {
  front = await startFront(env, { normalizePath: true });
});
afterAll(() => front.close());

const throughFront = () => front.through;

async function sweepOnce(harness: TestEmulator = env) {
  return tombstoneSweepHandler(harness, {
    stateTable: STATE_TABLE,
    namespace: 'DotNameTest',
    log: createMemoryLogger(),
  })({});
}

/** restore's CLI as an operator runs it: the dry run, then --apply --plan <its digest>. */
async function restore(argv: string[]) {
  const run = async (args: string[]) => {
    const out: string[] = [];
    const code = await main(
      [...args, '--table', TOMBSTONE_TABLE, '--state-table', STATE_TABLE, '--mac-key', tombstoneMacKey(env)],
      {
        env: {},
        stdout: (text) => out.push(text),
        stderr: () => {},
        interactive: false,
        scheduler: env.scheduler,
        dynamodb: env.dynamodb,
        kms: env.kms,
        clock: () => env.emulator.plane.now(),
        sleep: async () => {},
      },
    );
    return { code, out, summary: JSON.parse(out.at(-1) ?? '{}') as Record<string, number> };
  };
  const dry = await run(argv);
  return run([...argv, '--apply', '--plan', String(dry.summary.plan)]);
}

describe("schedules named '.' and '..'", () => {
  it('are looked up, tombstoned and deleted like any finished schedule, in any group', async () => {
    // Prepare: every dot name in the default group and in a group itself named '..'
    env.emulator.services.scheduler.createGroup('..');
    const schedules = ['default', '..'].flatMap((group) => DOT_NAMES.map((name) => finished(name, group)));
    env.emulator.services.scheduler.seed(schedules);

    // Act
    const summary = await sweepOnce();

    // Assess: the emulator's own record, not the sweep's count alone
    expect(summary).toMatchObject({ status: 'finished', deleted: 12, alreadyGone: 0, failed: 0 });
    const skipped = (summary as { skipped?: Record<string, number> }).skipped ?? {};
    expect(Object.values(skipped).every((count) => count === 0)).toBe(true);
    for (const schedule of schedules) expect(present(schedule.GroupName!, schedule.Name!)).toBe(false);
    const tombstoned = (await storedTombstones(env)).map(
      (tombstone) => `${tombstone.group}/${tombstone.name}`,
    );
    expect(tombstoned.sort()).toEqual(
      schedules.map((schedule) => `${schedule.GroupName}/${schedule.Name}`).sort(),
    );
  });

  it("keeps '.' and '..' as unaddressableName where the path loses its dot segment: never counted gone", async () => {
    // Prepare
    const names = ['.', '..', '.a', 'x'];
    env.emulator.services.scheduler.seed(names.map((name) => finished(name, 'default')));

    // Act
    const summary = await sweepOnce(throughFront());

    // Assess: the other names are swept through the same front; the dot names stay, untombstoned
    expect(summary).toMatchObject({ deleted: 2, alreadyGone: 0, failed: 0 });
    expect((summary as { skipped?: Record<string, number> }).skipped?.unaddressableName).toBe(2);
    expect(names.filter((name) => present('default', name))).toEqual(['.', '..']);
    expect((await storedTombstones(env)).map((tombstone) => tombstone.name).sort()).toEqual(['.a', 'x']);
  });

  it("restore brings '.' and '..' back by name, as they were", async () => {
    // Prepare
    env.emulator.services.scheduler.seed([finished('.', 'default'), finished('..', 'default')]);
    const before = env.emulator.services.scheduler.get('default', '..');
    expect(await sweepOnce()).toMatchObject({ deleted: 2 });

    // Act
    const dot = await restore(['--group', 'default', '--name', '.', '--keep']);
    const dotDot = await restore(['--group', 'default', '--name', '..', '--keep']);

    // Assess
    expect([dot.code, dotDot.code]).toEqual([0, 0]);
    expect(dot.summary).toMatchObject({ found: 1, restored: 1 });
    expect(dotDot.summary).toMatchObject({ found: 1, restored: 1 });
    expect(present('default', '.')).toBe(true);
    const after = env.emulator.services.scheduler.get('default', '..');
    expect(after?.ScheduleExpression).toBe(before?.ScheduleExpression);
    expect(after?.Target).toEqual(before?.Target);
  });
});
