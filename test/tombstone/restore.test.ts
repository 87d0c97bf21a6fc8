// Restoring through the CLI and the real SDK against the emulator: sweep → restore --keep → sweep
// leaves the schedule present and identical; --at recreates it at a new time; dry run by default;
// idempotent; never overwrites a schedule that exists again; strict arguments.
import { CreateScheduleCommand, GetScheduleCommand } from '@aws-sdk/client-scheduler';
import { beforeEach, describe, expect, it } from 'vitest';
import type { SeedDefinition } from '../../scripts/emulator/scheduler.ts';
import { main } from '../../scripts/restore.ts';
import type { SweepResponse } from '../../src/handlers/sweep.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { shardOf, TOMBSTONE_SHARDS } from '../../src/tombstone/store.ts';
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
const STATE_TABLE = 'schedule-hygiene-test-restore-state';
const NOW = new Date('2025-06-15T12:00:00Z');
/** The shard default/x hashes to, and one it does not: a key names its tombstone's own shard. */
const X_SHARD = shardOf('default', 'x');
const NOT_X_SHARD = (X_SHARD + 1) % TOMBSTONE_SHARDS;

beforeEach(() => resetForTombstones(env, STATE_TABLE, NOW));

const finished = (name: string, group = 'default'): SeedDefinition => ({
  ...oneTime({ name, group, at: '2025-06-01T09:00:00', zone: 'Europe/Paris', flexibleMinutes: 10 }),
  Target: {
    Arn: 'arn:aws:lambda:us-east-1:123456789012:function:orders',
    RoleArn: 'arn:aws:iam::123456789012:role/scheduler-execution',
    Input: JSON.stringify({ orderId: name, apiKey: 'sk_live_do_not_log' }),
    RetryPolicy: { MaximumEventAgeInSeconds: 600, MaximumRetryAttempts: 2 },
  },
});

async function sweepOnce(): Promise<SweepResponse> {
  return tombstoneSweepHandler(env, {
    stateTable: STATE_TABLE,
    namespace: 'RestoreTest',
    log: createMemoryLogger(),
  })({});
}

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main([...argv, '--table', TOMBSTONE_TABLE, '--state-table', STATE_TABLE], {
    env: { SWEEP_TOMBSTONE_MAC_KEY: tombstoneMacKey(env) },
    kms: env.kms,
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    interactive: false,
    scheduler: env.scheduler,
    dynamodb: env.dynamodb,
    clock: () => env.emulator.plane.now(),
    sleep: async () => {},
  });
  const summary = JSON.parse(out.at(-1) ?? '{}') as Record<string, number>;
  return { code, out, err, summary };
}

/** The two-step flow: with --apply, first the dry run of the same command, then --apply --plan <its digest>. */
async function restore(...argv: string[]) {
  if (!argv.includes('--apply')) return run(...argv);
  const dry = await run(...argv.filter((argument) => argument !== '--apply'));
  return run(...argv, '--plan', String(dry.summary.plan));
}

/** The definition as GetSchedule returns it, without what a recreate necessarily changes. */
async function definitionOf(name: string, group = 'default') {
  const {
    $metadata: _m,
    CreationDate: _c,
    LastModificationDate: _l,
    ...rest
  } = await env.scheduler.send(new GetScheduleCommand({ Name: name, GroupName: group }));
  return rest;
}

const present = (name: string, group = 'default') => env.emulator.services.scheduler.has(group, name);

describe('restore', () => {
  it('sweep → restore --keep → sweep leaves the schedule present and identical to the original', async () => {
    // Prepare
    env.emulator.services.scheduler.seed([finished('order-7')]);
    const original = await definitionOf('order-7');
    expect(await sweepOnce()).toMatchObject({ deleted: 1 });
    expect(present('order-7')).toBe(false);

    // Act
    const restored = await restore('--group', 'default', '--name', 'order-7', '--apply', '--keep');
    const second = await sweepOnce();

    // Assess
    expect(restored).toMatchObject({ code: 0, summary: { found: 1, restored: 1, failed: 0 } });
    expect(restored.out[0]).toMatch(/^restored\s+default\/order-7 .* done=protect\+create /);
    expect(second).toMatchObject({ deleted: 0, protected: 1 });
    expect(await definitionOf('order-7')).toEqual(original);
  });

  it('recreates with --at a one-time schedule whose time has passed at the new time, the rest unchanged', async () => {
    // Prepare
    env.emulator.services.scheduler.seed([finished('order-8')]);
    const original = await definitionOf('order-8');
    await sweepOnce();

    // Act
    const restored = await restore(
      '--group',
      'default',
      '--prefix',
      'order-',
      '--apply',
      '--at',
      '2025-07-01T08:30:00',
      '--zone',
      'America/New_York',
    );

    // Assess
    expect(restored).toMatchObject({ code: 0, summary: { restored: 1 } });
    expect(await definitionOf('order-8')).toEqual({
      ...original,
      ScheduleExpression: 'at(2025-07-01T08:30:00)',
      ScheduleExpressionTimezone: 'America/New_York',
    });
    // Not protected: it is live again, and the sweep judges it as any other.
    expect(await sweepOnce()).toMatchObject({ protected: 0, pending: 1, deleted: 0 });
  });

  it('only shows what it would recreate by default, and asks for a choice for a past one-time schedule', async () => {
    env.emulator.services.scheduler.seed([finished('order-9')]);
    await sweepOnce();

    const dry = await restore('--group', 'default', '--keep');
    const unchosen = await restore('--group', 'default', '--apply');

    expect(dry).toMatchObject({ code: 0, summary: { wouldRestore: 1, restored: 0 } });
    expect(unchosen).toMatchObject({ code: 1, summary: { needsChoice: 1, restored: 0 } });
    expect(unchosen.out[0]).toMatch(/--at <new time> --zone <zone>, or --keep/);
    expect(present('order-9')).toBe(false);
  });

  it('is idempotent, and never overwrites a different schedule that exists again', async () => {
    env.emulator.services.scheduler.seed([finished('a'), finished('b')]);
    await sweepOnce();
    await env.scheduler.send(
      new CreateScheduleCommand({
        Name: 'b',
        ScheduleExpression: 'rate(1 day)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: {
          Arn: 'arn:aws:lambda:us-east-1:123456789012:function:new',
          RoleArn: 'arn:aws:iam::123456789012:role/x',
        },
      }),
    );

    const first = await restore('--group', 'default', '--apply', '--keep');
    const again = await restore('--group', 'default', '--apply', '--keep');

    expect(first).toMatchObject({ code: 1, summary: { restored: 1, exists: 1 } });
    expect(again).toMatchObject({ code: 1, summary: { alreadyRestored: 1, exists: 1, restored: 0 } });
    expect((await definitionOf('b')).ScheduleExpression).toBe('rate(1 day)');
  });

  it('finds tombstones by sweep run and by the key a log line carries', async () => {
    env.emulator.services.scheduler.createGroup('other');
    env.emulator.services.scheduler.seed([finished('x'), finished('y', 'other')]);
    const summary = await sweepOnce();
    const runId = (summary as { runId?: string }).runId ?? '';
    const key = (await storedTombstones(env)).find((tombstone) => tombstone.name === 'y')?.key ?? '';

    const byRun = await restore('--run', runId, '--keep');
    const byKey = await restore('--key', key, '--keep');

    expect(byRun.summary).toMatchObject({ found: 2, wouldRestore: 2 });
    expect(byKey.summary).toMatchObject({ found: 1, wouldRestore: 1 });
    expect(byKey.out[0]).toContain('other/y');
  });

  it.each([
    [['--group', 'default', '--bogus'], /Unknown argument '--bogus'/],
    [['--apply'], /one of --key, --group, --run or --from/],
    [['--group', 'bad group'], /Invalid --group/],
    [['--group', 'default', '--at', '2025-07-01T08:30:00'], /both --at and --zone/],
    [
      ['--group', 'default', '--at', '2025-06-01T08:30:00', '--zone', 'UTC'],
      /a time at least a minute in the future/,
    ],
    [['--group', 'default', '--at', '2025-07-01T08:30:00', '--zone', 'Mars/Olympus'], /Invalid --zone/],
    [
      ['--group', 'default', '--at', '2025-07-01T08:30:00', '--zone', 'UTC', '--keep'],
      /either --at or --keep/,
    ],
    [['--from', 'yesterday'], /Invalid --from: expected an ISO 8601 instant/],
    [['--group', 'default', 'extra'], /Unknown argument 'extra'/],
    [['--group', 'default', '--apply'], /Invalid --plan: expected the plan digest the dry run printed/],
    [['--group', 'default', '--plan', 'a'.repeat(64)], /Invalid --plan: expected --apply as well/],
    [['--group', 'default', '--apply', '--plan', 'abc'], /Invalid --plan: expected the 64 hex characters/],
    [['--group', 'default', '--include-gone'], /Unknown argument '--include-gone'/],
    // Keys no sweep could have logged: a shard out of range or not the name's, a group or name
    // --group and --name refuse, no time, a time that is not an instant as logged.
    [['--key', 'g#default#99|x#2025-06-15T12:00:00.000Z'], /Invalid --key/],
    [['--key', `g#default#${NOT_X_SHARD}|x#2025-06-15T12:00:00.000Z`], /Invalid --key/],
    [['--key', 'g#bad group!#1|x#2025-06-15T12:00:00.000Z'], /Invalid --key/],
    [['--key', `g#default#${X_SHARD}|x`], /Invalid --key/],
    [['--key', 'g#default#1|a b#not-a-time'], /Invalid --key/],
    [['--key', `g#default#${X_SHARD}|x#2025-02-30T12:00:00.000Z`], /Invalid --key/],
    [['--key', `g#default#${X_SHARD}|x#2025-06-15T12:00:00Z`], /Invalid --key/],
  ])('refuses %j with exit 2 before any request', async (argv, message) => {
    const result = await run(...argv);

    expect(result.code).toBe(2);
    expect(result.err.join('\n')).toMatch(message);
    expect(env.emulator.plane.stats.get('Query')?.calls ?? 0).toBe(0);
    expect(env.emulator.plane.stats.get('GetItem')?.calls ?? 0).toBe(0);
  });
});
